"""Image fields given as URLs over HTTP (SPEC §8): an allowed image renders, and each
forbidden place is refused with a 422 naming the field — with nothing fetched from it."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
from aiohttp import web
from PIL import Image

from pixeldrive.http.app import create_app
from tests.remote_images.test_fetch import png_claiming

PROBLEM = "application/problem+json"


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def origin(aiohttp_server: Any) -> Any:
    """An image server on 127.0.0.1 that counts what it serves."""
    hits: list[str] = []

    async def serve(request: web.Request) -> web.StreamResponse:
        hits.append(request.path)
        name = request.match_info["name"]
        if name == "ok.png":
            return web.Response(body=png("#e11d48"), content_type="image/png")
        if name == "huge.png":
            return web.Response(body=png_claiming(20_000, 20_000), content_type="image/png")
        if name == "to-private":
            raise web.HTTPFound("http://10.1.2.3/secret.png")
        if name == "to-metadata":
            raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{name}", serve)
    server = await aiohttp_server(app, host="127.0.0.1")
    server.hits = hits
    return server


async def client_with(aiohttp_client: Any, make_settings: Any, **images: Any) -> Any:
    base = {
        "allow_hosts": ["127.0.0.1", "localhost", "::1", "169.254.169.254", "10.1.2.3"],
        "schemes": ["http", "https"],
        "timeout": 3,
    }
    settings = await asyncio.to_thread(make_settings, images=base | images)
    return await aiohttp_client(create_app(settings))


async def post_avatar(client: Any, url: str) -> Any:
    return await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": {"title": "Remote", "avatar": url}, "width": 600},
    )


async def refused(response: Any, *words: str) -> None:
    assert response.status == 422, await response.text()
    assert response.content_type == PROBLEM
    problem = await response.json()
    assert problem["type"] == "/problems/image-refused"
    assert [e["field"] for e in problem["errors"]] == ["fields.avatar"]
    for word in words:
        assert word in problem["errors"][0]["message"], problem


async def test_an_allowed_image_renders_and_names_its_bytes(
    aiohttp_client: Any, make_settings: Any, origin: Any
) -> None:
    client = await client_with(aiohttp_client, make_settings, allow_networks=["127.0.0.1/32"])
    url = f"http://127.0.0.1:{origin.port}/ok.png"
    first = await post_avatar(client, url)
    assert first.status == 201, await first.text()
    again = await post_avatar(client, url)
    assert (await again.json())["key"] == (await first.json())["key"]
    assert len(origin.hits) == 1  # fetched once, then from the fetcher's cache
    plain = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": {"title": "Remote"}, "width": 600}
    )
    assert (await plain.json())["key"] != (await first.json())["key"]


@pytest.mark.parametrize(
    ("host", "words"),
    [
        ("127.0.0.1", ("loopback",)),
        ("[::1]", ("loopback",)),
        ("localhost", ("loopback",)),
        ("169.254.169.254", ("link-local",)),
        ("10.1.2.3", ("private",)),
    ],
)
async def test_forbidden_addresses_are_refused_without_fetching(
    aiohttp_client: Any, make_settings: Any, origin: Any, host: str, words: tuple[str, ...]
) -> None:
    client = await client_with(aiohttp_client, make_settings)
    await refused(await post_avatar(client, f"http://{host}:{origin.port}/ok.png"), *words)
    assert origin.hits == []


@pytest.mark.parametrize(
    ("target", "words"),
    [("to-private", ("redirect", "private")), ("to-metadata", ("redirect", "link-local"))],
)
async def test_a_redirect_to_a_forbidden_address_is_refused(
    aiohttp_client: Any, make_settings: Any, origin: Any, target: str, words: tuple[str, ...]
) -> None:
    client = await client_with(aiohttp_client, make_settings, allow_networks=["127.0.0.1/32"])
    await refused(await post_avatar(client, f"http://127.0.0.1:{origin.port}/{target}"), *words)
    assert origin.hits == [f"/{target}"]  # the redirect itself, nothing after it


async def test_other_refusals(aiohttp_client: Any, make_settings: Any, origin: Any) -> None:
    client = await client_with(aiohttp_client, make_settings, allow_networks=["127.0.0.1/32"])
    await refused(await post_avatar(client, f"http://127.0.0.1:{origin.port}/huge.png"), "pixels")
    await refused(await post_avatar(client, "http://images.example.org/a.png"), "allow-list")
    response = await post_avatar(client, "file:///etc/passwd")
    assert response.status == 422
    assert (await client.get("/readyz")).status == 200

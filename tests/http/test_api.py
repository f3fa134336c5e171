"""The HTTP API over a running app: shapes of SPEC §3/§9, negotiation, caching headers."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from aiohttp.test_utils import TestClient
from PIL import Image

from pixeldrive.http.app_keys import SERVICES

CHROMIUM_IMG = "image/jxl,image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
Client = TestClient[Any, Any]


async def render(client: Client, **body: Any) -> dict[str, Any]:
    body.setdefault("template", "og-card")
    response = await client.post("/v1/renders", json=body)
    assert response.status == 201, await response.text()
    result: dict[str, Any] = await response.json()
    return result


def pixels(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_list_templates_names_the_bundled_four(client: Client) -> None:
    response = await client.get("/v1/templates")
    assert response.status == 200
    listed = {t["id"]: t for t in (await response.json())["templates"]}
    assert {"og-card", "product", "certificate", "quote"} <= set(listed)
    card = listed["og-card"]
    assert (card["width"], card["height"]) == (1200, 630)
    assert {"title", "subtitle", "author", "avatar", "accent"} <= set(card["fields"])
    assert len(card["version"]) == 16


async def test_describe_template_gives_kinds_and_defaults(client: Client) -> None:
    response = await client.get("/v1/templates/og-card")
    body = await response.json()
    assert set(body) == {"id", "version", "width", "height", "fields", "fonts"}
    assert {"family": "Inter", "source": "bundled"} in body["fonts"]
    kinds = {f["name"]: f["kind"] for f in body["fields"]}
    assert kinds["title"] == "text"
    assert kinds["accent"] == "color"
    assert kinds["avatar"] == "image"
    accent = next(f for f in body["fields"] if f["name"] == "accent")
    assert accent["default"].startswith("#")


async def test_unknown_template_is_a_404_problem(client: Client) -> None:
    for path in ("/v1/templates/nope", "/v1/templates/nope/preview"):
        response = await client.get(path)
        assert response.status == 404
        assert response.content_type == "application/problem+json"
        assert "nope" in (await response.json())["detail"]


async def test_preview_renders_defaults_at_requested_width(client: Client) -> None:
    response = await client.get(
        "/v1/templates/quote/preview?width=540", headers={"Accept": "image/png"}
    )
    assert response.status == 200
    assert response.content_type == "image/png"
    assert response.headers["Vary"] == "Accept"
    assert pixels(await response.read()).size == (540, 675)


async def test_render_then_fetch_gives_a_png_of_the_template_size(client: Client) -> None:
    created = await render(client, fields={"title": "Hello"})
    assert set(created) == {
        *("url", "public_url", "key", "format", "width", "height", "bytes", "cached", "text")
    }
    assert created["url"] == f"/v1/images/{created['key']}.png"
    assert created["public_url"] == created["url"]  # authentication is off
    assert (created["format"], created["width"], created["height"]) == ("png", 1200, 630)
    assert created["cached"] is False
    response = await client.get(created["url"])
    assert response.status == 200
    assert response.content_type == "image/png"
    data = await response.read()
    assert len(data) == created["bytes"]
    assert pixels(data).size == (1200, 630)
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{created["key"]}.png"'
    assert response.headers["X-Cache"] == "hit"


async def test_same_payload_same_url_and_cached(client: Client) -> None:
    first = await render(client, fields={"title": "Same", "author": "Ada"})
    again = await render(client, fields={"author": "Ada", "title": "Same"})
    assert again["url"] == first["url"]
    assert again["cached"] is True


async def test_explicit_default_and_omitted_default_are_one_key(client: Client) -> None:
    described = await (await client.get("/v1/templates/og-card")).json()
    accent = next(f for f in described["fields"] if f["name"] == "accent")["default"]
    omitted = await render(client, fields={"title": "Keys"})
    explicit = await render(client, fields={"title": "Keys", "accent": accent.upper()})
    assert explicit["key"] == omitted["key"]
    different = await render(client, fields={"title": "Keys", "accent": "#123456"})
    assert different["key"] != omitted["key"]


async def test_negotiation_on_the_extensionless_url(client: Client) -> None:
    created = await render(client, fields={"title": "Negotiate"})
    url = f"/v1/images/{created['key']}"
    cases = {
        CHROMIUM_IMG: "image/avif",
        "image/png": "image/png",
        "image/jpeg;q=0.9, image/png;q=0.5": "image/jpeg",
        "image/webp": "image/webp",
    }
    for accept, expected in cases.items():
        response = await client.get(url, headers={"Accept": accept})
        if "X-Fast-First" in response.headers:  # the PNG while the format is encoded
            assert response.headers["X-Fast-First"] == f"{expected[6:]}-pending"
            response = await client.get(url, headers={"Accept": accept})
        assert response.status == 200, accept
        assert response.content_type == expected, accept
        assert response.headers["Vary"] == "Accept"
        assert pixels(await response.read()).size == (1200, 630)
    response = await client.get(url, headers={"Accept": "text/html"})
    assert response.status == 406
    problem = await response.json()
    assert "image/avif" in problem["detail"]
    assert "image/png" in problem["detail"]
    assert response.headers["Vary"] == "Accept"


async def test_extension_urls_do_not_vary(client: Client) -> None:
    created = await render(client, fields={"title": "Ext"})
    for ext, mime in (("jpg", "image/jpeg"), ("webp", "image/webp"), ("avif", "image/avif")):
        response = await client.get(
            f"/v1/images/{created['key']}.{ext}", headers={"Accept": "text/html"}
        )
        assert response.status == 200
        assert response.content_type == mime
        assert "Vary" not in response.headers


async def test_if_none_match_gives_304_with_validators(client: Client) -> None:
    created = await render(client, fields={"title": "Etag"})
    first = await client.get(created["url"])
    etag = first.headers["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = await client.get(created["url"], headers={"If-None-Match": header})
        assert response.status == 304, header
        assert response.headers["ETag"] == etag
        assert await response.read() == b""
    response = await client.get(created["url"], headers={"If-None-Match": '"other"'})
    assert response.status == 200


async def test_x_cache_miss_then_hit(client: Client) -> None:
    created = await render(client, fields={"title": "Tiers"}, format="webp")
    response = await client.get(f"/v1/images/{created['key']}.png")
    assert response.headers["X-Cache"] == "miss"  # webp was drawn; png is new
    response = await client.get(f"/v1/images/{created['key']}.png")
    assert response.headers["X-Cache"] == "hit"


async def test_accept_image_on_post_returns_the_bytes(client: Client) -> None:
    response = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": {"title": "Direct"}},
        headers={"Accept": "image/*"},
    )
    assert response.status == 200
    assert response.content_type == "image/png"  # a wildcard asks for the fallback format
    location = response.headers["Content-Location"]
    assert location.startswith("/v1/images/")
    assert location.endswith(".png")
    again = await client.get(location)
    assert await again.read() == await response.read()


async def test_sizes_scale_and_quality(client: Client) -> None:
    by_width = await render(client, fields={"title": "W"}, width=600)
    assert (by_width["width"], by_width["height"]) == (600, 315)
    by_height = await render(client, fields={"title": "W"}, height=315)
    assert by_height["key"] == by_width["key"]
    scaled = await render(client, fields={"title": "W"}, scale=0.25)
    assert (scaled["width"], scaled["height"]) == (300, 158)
    low = await render(client, fields={"title": "Q"}, format="jpeg", quality=20)
    high = await render(client, fields={"title": "Q"}, format="jpeg", quality=95)
    assert low["bytes"] < high["bytes"]
    assert low["url"].endswith(".jpg")


async def test_concurrent_identical_requests_render_once(client: Client) -> None:
    pool = client.app[SERVICES].pool
    before = pool.completed
    body = {"template": "product", "fields": {"name": "Single flight"}}
    responses = await asyncio.gather(*(client.post("/v1/renders", json=body) for _ in range(6)))
    keys = {(await r.json())["key"] for r in responses}
    assert [r.status for r in responses] == [201] * 6
    assert len(keys) == 1
    assert pool.completed - before == 1


async def test_evicted_bytes_are_rendered_again_from_the_stored_spec(client: Client) -> None:
    created = await render(client, fields={"title": "Evict me"})
    original = await (await client.get(created["url"])).read()
    service = client.app[SERVICES].pipeline
    await service.cache.drain()  # the disk write happens behind the answer
    await service.cache.delete(f"{created['key']}.png")
    response = await client.get(created["url"])
    assert response.status == 200
    assert response.headers["X-Cache"] == "miss"
    assert await response.read() == original


async def test_unknown_key_is_404(client: Client) -> None:
    for name in ("0" * 32, "0" * 32 + ".png", "nothex", "0" * 32 + ".gif"):
        response = await client.get(f"/v1/images/{name}")
        assert response.status == 404, name
        assert response.content_type == "application/problem+json"


async def test_health_and_readiness(client: Client) -> None:
    assert (await client.get("/healthz")).status == 200
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {
        "render_pool": True,
        "database": True,
        "templates": True,
    }


async def test_every_response_has_a_request_id(client: Client) -> None:
    ok = await client.get("/healthz")
    assert len(ok.headers["X-Request-Id"]) == 16
    given = await client.get("/nowhere", headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    assert (await given.json())["request_id"] == "abc-123"


async def test_pdf_only_when_asked_for(client: Client) -> None:
    created = await render(client, template="certificate", fields={"learner": "Ada"}, format="pdf")
    assert created["url"].endswith(".pdf")
    assert created["format"] == "pdf"
    response = await client.get(created["url"])
    assert response.content_type == "application/pdf"
    assert (await response.read()).startswith(b"%PDF-")
    negotiated = await client.get(f"/v1/images/{created['key']}", headers={"Accept": "*/*"})
    assert negotiated.content_type == "image/png"  # the fallback, never a PDF
    refused = await client.get(
        f"/v1/images/{created['key']}", headers={"Accept": "application/pdf"}
    )
    assert refused.status == 406

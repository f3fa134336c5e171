"""Template uploads over HTTP (SPEC §8, uploaded SVG): good ones served at once, hostile
ones refused with a problem listing why, quickly, and the server stays up."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import pytest

from pixeldrive.auth import key_admin
from pixeldrive.auth.scopes import parse_scopes_option
from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES
from tests.svgdoc import NAMESPACES

QUOTE = (PROJECT_ROOT / "svg_templates" / "quote.svg").read_bytes()
SVG = "image/svg+xml"


def doc(body: str, size: str = 'width="200" height="100"') -> bytes:
    return f"<svg {NAMESPACES} {size}>{body}</svg>".encode()


async def put(client: Any, template_id: str, data: bytes) -> Any:
    return await client.put(
        f"/v1/templates/{template_id}", data=data, headers={"Content-Type": SVG}
    )


async def refused(response: Any, *words: str) -> dict[str, Any]:
    assert response.status == 422, await response.text()
    assert response.content_type == "application/problem+json"
    problem: dict[str, Any] = await response.json()
    text = problem["detail"] + " ".join(e["message"] for e in problem.get("errors", []))
    for word in words:
        assert word in text, problem
    return problem


async def test_an_upload_is_served_at_once_and_a_replacement_keeps_old_urls(client: Any) -> None:
    created = await put(client, "my-quote", QUOTE)
    assert created.status == 201, await created.text()
    body = await created.json()
    assert body["replaced"] is False
    assert body["template"]["id"] == "my-quote"
    assert {f["name"] for f in body["template"]["fields"]} == {"quote", "author", "handle"}
    first = await (
        await client.post(
            "/v1/renders", json={"template": "my-quote", "fields": {"quote": "Uploaded."}}
        )
    ).json()
    old_png = await (await client.get(first["url"])).read()

    replacement = QUOTE.replace(b"Dieter Rams", b"Charles Eames")
    replaced = await put(client, "my-quote", replacement)
    assert replaced.status == 200
    assert (await replaced.json())["replaced"] is True
    second = await (
        await client.post(
            "/v1/renders", json={"template": "my-quote", "fields": {"quote": "Uploaded."}}
        )
    ).json()
    assert second["key"] != first["key"]
    service = client.app[SERVICES].pipeline
    await service.cache.drain()
    await service.cache.delete(f"{first['key']}.png")
    again = await client.get(first["url"])
    assert await again.read() == old_png  # the old version's bytes were kept

    assert (await client.delete("/v1/templates/my-quote")).status == 204
    assert (await client.get("/v1/templates/my-quote")).status == 404
    assert (await client.delete("/v1/templates/my-quote")).status == 404
    assert (await client.delete("/v1/templates/og-card")).status == 404  # bundled: a file


async def test_scripts_and_handlers_are_removed_not_served(client: Any) -> None:
    data = doc(
        '<script>alert(1)</script><rect width="10" height="10" onclick="x()" '
        'data-pd-field="bg" style="fill:#123456"/>'
    )
    response = await put(client, "scripted", data)
    assert response.status == 201, await response.text()
    findings = (await response.json())["findings"]
    assert any("script" in f["what"] for f in findings)
    stored = client.app[SERVICES].pipeline.templates.uploads_dir / "scripted.svg"
    text = await asyncio.to_thread(stored.read_bytes)
    assert b"<script" not in text
    assert b"onclick" not in text


HOSTILE = {
    "billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><svg xmlns="http://www.w3.org/'
        b'2000/svg" width="10" height="10"><text>&lol2;</text></svg>',
        ("DOCTYPE",),
    ),
    "external-entity": (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&x;</text></svg>',
        ("DOCTYPE",),
    ),
    "dtd": (
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/'
        b'DTD/svg11.dtd"><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        ("DOCTYPE",),
    ),
    "deep-nesting": (doc("<g>" * 100_000 + "</g>" * 100_000), ()),
    "use-chain": (
        doc(
            "<defs><rect id='l0' width='1' height='1'/>"
            + "".join(
                f"<g id='l{n}'>" + f"<use xlink:href='#l{n - 1}'/>" * 10 + "</g>"
                for n in range(1, 11)
            )
            + "</defs><use xlink:href='#l10'/>"
        ),
        ("use",),
    ),
    "huge-page": (doc("", 'width="30000" height="30000"'), ("30000",)),
    "file-href": (
        doc('<image width="10" height="10" xlink:href="file:///etc/passwd"/>'),
        ("image",),
    ),
    "not-xml": (b"\x89PNG\r\n\x1a\n not an svg at all", ()),
    # A percent opacity no longer chokes it: the worker rewrites it (templates.normalize).
    "cairo-chokes": (
        doc('<rect width="10" height="10" style="stroke:red;stroke-miterlimit:5mm"/>'),
        (),
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_hostile_uploads_are_refused_quickly(client: Any, case: str) -> None:
    data, words = HOSTILE[case]
    started = time.perf_counter()
    await refused(await put(client, f"hostile-{case}", data), *words)
    assert time.perf_counter() - started < 5
    assert (await client.get(f"/v1/templates/hostile-{case}")).status == 404
    assert (await client.get("/readyz")).status == 200


async def test_a_body_over_the_limit_is_413(client: Any) -> None:
    body = io.BytesIO(b"<svg>" + b" " * (60 * 2**20))
    response = await client.put("/v1/templates/too-big", data=body, headers={"Content-Type": SVG})
    assert response.status == 413


async def test_a_refused_replacement_leaves_the_old_version_serving(client: Any) -> None:
    assert (await put(client, "keeper", QUOTE)).status == 201
    before = (await (await client.get("/v1/templates/keeper")).json())["version"]
    await refused(await put(client, "keeper", b"<svg"))
    after = await client.get("/v1/templates/keeper")
    assert after.status == 200
    assert (await after.json())["version"] == before


async def test_uploading_needs_the_templates_write_operation(
    aiohttp_client: Any, make_settings: Any
) -> None:
    settings = await asyncio.to_thread(make_settings, server={"auth": "on"})
    reader = await asyncio.to_thread(
        key_admin.create_key, settings, "reader", parse_scopes_option("render")
    )
    client = await aiohttp_client(create_app(settings))
    response = await client.put(
        "/v1/templates/x", data=QUOTE, headers={"Authorization": f"Bearer {reader.key}"}
    )
    assert response.status == 403
    assert "templates:write" in (await response.json())["detail"]


async def test_a_template_id_in_the_path_names_no_file_outside_the_uploads(
    client: Any, settings: Any
) -> None:
    # The path parameter arrives decoded: %2F is a slash, %0A a line end.
    assert (await put(client, "mine", QUOTE)).status == 201  # the uploads directory exists
    victim = settings.state_dir / "victim.svg"
    victim.write_bytes(QUOTE)
    response = await client.delete("/v1/templates/..%2Fvictim")
    assert response.status == 404, await response.text()
    assert victim.exists()
    await refused(await put(client, "..%2Fvictim", QUOTE), "template id")
    assert victim.read_bytes() == QUOTE
    await refused(await put(client, "line%0A", QUOTE), "template id")
    assert not list((settings.state_dir / "uploads").glob("line*"))

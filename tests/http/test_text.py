"""The text engine seen through the API: what happened per field (JSON and Server-Timing),
dry runs that draw and bill nothing, and characters no font has."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import cairosvg
from aiohttp.test_utils import TestClient
from PIL import Image, ImageChops

from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES

Client = TestClient[Any, Any]
LONG_TITLE = "WWWWWWW MMMMMMM " * 10  # wide letters: 100 characters need a smaller size


async def test_render_reports_size_lines_and_fallbacks_per_text_field(client: Client) -> None:
    body = {
        "template": "og-card",
        "fields": {"title": LONG_TITLE[:100], "author": "Ada Lovelace and שלום"},
    }
    response = await client.post("/v1/renders", json=body)
    assert response.status == 201, await response.text()
    text = (await response.json())["text"]
    title, author = text["title"], text["author"]
    assert title["lines"] == 3
    assert title["size"] < 46
    assert title["truncated"] is False
    assert author["fallbacks"] == ["Noto Sans Hebrew"]
    assert author["lines"] == 1


async def test_a_short_value_keeps_its_designed_size(client: Client) -> None:
    body = {"template": "og-card", "fields": {"title": "Short"}}
    text = (await (await client.post("/v1/renders", json=body)).json())["text"]
    assert text["title"] == {"size": 46.0, "lines": 1, "truncated": False, "fallbacks": []}


async def test_image_answers_carry_server_timing_with_the_text_report(client: Client) -> None:
    body = {"template": "og-card", "fields": {"title": "Timing שלום"}}
    response = await client.post("/v1/renders", json=body, headers={"Accept": "image/png"})
    assert response.status == 200
    timing = response.headers["Server-Timing"]
    assert "text;dur=" in timing
    assert "draw;dur=" in timing
    assert "encode;dur=" in timing
    assert 'text.title;desc="size=46 lines=1 truncated=0 fallbacks=Noto Sans Hebrew"' in timing
    # A repeat is a hit: nothing was drawn, so nothing is timed or reported.
    again = await client.post("/v1/renders", json=body, headers={"Accept": "image/png"})
    assert again.headers["X-Cache"] == "hit"
    assert "Server-Timing" not in again.headers


async def test_a_dry_run_lays_out_without_drawing_caching_or_billing(client: Client) -> None:
    pool = client.app[SERVICES].pool
    before = pool.completed
    body = {"template": "og-card", "fields": {"title": LONG_TITLE}, "dry_run": True}
    response = await client.post("/v1/renders", json=body)
    assert response.status == 422  # longer than max-length: validated like a render
    body["fields"] = {"title": LONG_TITLE[:100]}
    response = await client.post("/v1/renders", json=body)
    assert response.status == 200, await response.text()
    checked = await response.json()
    assert checked["text"]["title"]["lines"] == 3
    assert checked["url"].startswith(f"/v1/images/{checked['key']}.")
    # Nothing drawn: the URL it names is unknown until a real render stores its spec.
    assert (await client.get(checked["url"])).status == 404
    rendered = await client.post("/v1/renders", json={**body, "dry_run": False})
    assert (await rendered.json())["key"] == checked["key"]
    assert pool.completed == before + 2  # the layout and the one real render


async def test_characters_no_font_draws_are_refused_with_their_names(client: Client) -> None:
    # Private use, unassigned, and a script no bundled font draws (Egyptian hieroglyphs).
    body = {"template": "og-card", "fields": {"title": "Hello \ue000 \u0378 and 𓀀"}}
    response = await client.post("/v1/renders", json=body)
    assert response.status == 422
    problem = await response.json()
    assert response.content_type == "application/problem+json"
    detail = problem["detail"]
    assert "U+E000 '\\ue000' (private use)" in detail
    assert "U+0378 '\\u0378' (unassigned)" in detail
    assert "U+13000" in detail
    assert 'missing_glyphs = "replace"' in problem["detail"]  # how to draw U+FFFD instead
    (error,) = problem["errors"]
    assert error["field"] == "fields.title"
    assert "U+E000" in error["message"]
    # The dry run says the same before anything is drawn.
    response = await client.post("/v1/renders", json={**body, "dry_run": True})
    assert response.status == 422


async def test_missing_characters_can_be_replaced_instead(
    aiohttp_client: Any, make_settings: Any
) -> None:
    settings: Settings = await asyncio.to_thread(
        make_settings, render={"missing_glyphs": "replace"}
    )
    client = await aiohttp_client(create_app(settings))
    body = {"template": "og-card", "fields": {"title": "Hello \ue000 🦀"}}
    response = await client.post("/v1/renders", json=body, headers={"Accept": "image/png"})
    assert response.status == 200
    image = Image.open(io.BytesIO(await response.read()))
    assert image.size == (1200, 630)


async def test_svg_output_is_self_contained_with_text_as_paths(client: Client) -> None:
    body = {"template": "og-card", "fields": {"title": "Vector שלום"}, "format": "svg"}
    response = await client.post("/v1/renders", json=body)
    assert response.status == 201, await response.text()
    url = response.headers["Location"]
    assert url.endswith(".svg")
    image = await client.get(url)
    assert image.status == 200
    assert image.content_type == "image/svg+xml"
    assert "default-src 'none'" in image.headers["Content-Security-Policy"]
    document = await image.read()
    assert b"<text" not in document
    assert b"<tspan" not in document
    assert b"pixeldrive.dev/ns" not in document
    assert document.count(b"<path") >= 4  # one path per glyph run at least
    # It draws like the PNG of the same payload (CairoSVG draws both; no fonts needed).
    as_png = cairosvg.svg2png(bytestring=document)
    png = await client.post(
        "/v1/renders", json={**body, "format": "png"}, headers={"Accept": "image/png"}
    )
    reference = Image.open(io.BytesIO(await png.read())).convert("RGB")
    drawn = Image.open(io.BytesIO(as_png)).convert("RGB")
    assert drawn.size == reference.size
    diff = (
        ImageChops.difference(drawn, reference).convert("L").point(lambda v: 255 if v > 48 else 0)
    )
    assert diff.histogram()[255] / (drawn.width * drawn.height) < 0.005


async def test_the_fallback_chain_is_configurable(aiohttp_client: Any, make_settings: Any) -> None:
    settings: Settings = await asyncio.to_thread(
        make_settings, render={"fallback_fonts": ["Inter"]}
    )
    client = await aiohttp_client(create_app(settings))
    # The chain serves what no script's own fonts draw: symbols (Hebrew still comes from
    # Noto Sans Hebrew, its script's family).
    body = {"template": "og-card", "fields": {"title": "Hello שלום ⏚"}}
    response = await client.post("/v1/renders", json=body)
    assert response.status == 422  # Inter alone has no ⏚, and neither has Hebrew's font
    assert "U+23DA" in (await response.json())["detail"]
    latin = await client.post("/v1/renders", json={**body, "fields": {"title": "Hello"}})
    assert latin.status == 201

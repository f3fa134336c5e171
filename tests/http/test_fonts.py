"""Fonts people bring, over HTTP (PUT, GET, DELETE /v1/fonts): a font the project does not
ship is uploaded, a template naming its family is drawn in it (compared with Pillow's own
drawing of the same file), the linter knows it, and the font is part of the render key,
so a URL keeps the pixels of the font it was first drawn in. Hostile files are refused
naming why, and leave nothing behind."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from PIL import Image, ImageDraw, ImageFont

from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES, SETTINGS
from tests.fontmaker import make_font
from tests.hostile_fonts import as_flavor, hostile
from tests.svgdoc import NAMESPACES
from tests.text.test_scripts import agreement

FAMILY = "PD Test Blocks"
WIDTH, HEIGHT, X, BASELINE, SIZE = 600, 120, 20, 90, 60
TEMPLATE = (
    f'<svg {NAMESPACES} width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">'
    f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
    f'<text id="title" x="{X}" y="{BASELINE}" data-pd-field="title" '
    f"style=\"font-family:'{FAMILY}';font-size:{SIZE}px;fill:#000000\">Blocks</text></svg>"
).encode()
# Tolerance (as tests/text/test_scripts.py): ink masks within one pixel of each other for
# at least 98 % of their ink; the same word in Inter, the fallback, scores far less.
AGREEMENT = 0.98


def font_bytes(tmp: Path, name: str = "blocks.ttf", **kwargs: Any) -> bytes:
    return make_font(tmp / name, FAMILY, **kwargs).read_bytes()


async def put_font(
    client: Any, name: str, data: bytes | io.BytesIO, media: str = "font/ttf"
) -> Any:
    return await client.put(f"/v1/fonts/{name}", data=data, headers={"Content-Type": media})


async def put_template(client: Any, template_id: str, data: bytes = TEMPLATE) -> dict[str, Any]:
    response = await client.put(
        f"/v1/templates/{template_id}", data=data, headers={"Content-Type": "image/svg+xml"}
    )
    assert response.status in (200, 201), await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def render(client: Any, template: str, title: str = "Blocks") -> tuple[str, Image.Image]:
    response = await client.post(
        "/v1/renders", json={"template": template, "fields": {"title": title}}
    )
    assert response.status == 201, await response.text()
    created = await response.json()
    image = await client.get(created["url"])
    return created["key"], Image.open(io.BytesIO(await image.read())).convert("L")


def reference(font: Path, text: str = "Blocks") -> Image.Image:
    """`text` drawn by Pillow (FreeType) in the font file `font`, where the template sets it."""
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    loaded = ImageFont.truetype(str(font), SIZE)
    ImageDraw.Draw(image).text((X, BASELINE), text, font=loaded, fill=0, anchor="ls")
    return image


def not_installed(findings: list[dict[str, Any]]) -> list[str]:
    return [f["what"] for f in findings if "not installed" in f["what"]]


async def evict(client: Any, key: str) -> None:
    cache = client.app[SERVICES].pipeline.cache
    await cache.drain()  # the disk write happens behind the answer
    await cache.delete(f"{key}.png")


def stored(settings: Settings) -> tuple[int, int, list[str]]:
    """Font rows, font file rows, and local font files."""
    with sqlite3.connect(settings.database_path) as db:
        names = int(db.execute("SELECT count(*) FROM fonts").fetchone()[0])
        files = int(db.execute("SELECT count(*) FROM font_files").fetchone()[0])
    folder = settings.state_dir / "fonts"
    local = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    return names, files, local


async def test_an_uploaded_font_draws_its_family(client: Any, tmp_path: Path) -> None:
    before = await put_template(client, "blocks")
    assert not_installed(before["findings"]) == [
        f"font '{FAMILY}' is not installed; Inter will be used"
    ]
    _, in_fallback = await render(client, "blocks")

    woff2 = as_flavor(font_bytes(tmp_path), "woff2")
    created = await put_font(client, "blocks", woff2, "font/woff2")
    assert created.status == 201, await created.text()
    body = await created.json()
    assert (body["family"], body["replaced"]) == (FAMILY, False)
    assert body["face"]["uploaded_as"] == "woff2"
    kept = client.app[SETTINGS].state_dir / "fonts" / f"{body['face']['digest']}.ttf"
    assert kept.read_bytes()[:4] == b"\x00\x01\x00\x00"  # the sanitised sfnt, not the WOFF2

    after = await put_template(client, "blocks")
    assert not_installed(after["findings"]) == []
    assert after["template"]["fonts"] == [{"family": FAMILY, "source": "uploaded"}]
    described = await (await client.get("/v1/templates/blocks")).json()
    assert described["fonts"] == [{"family": FAMILY, "source": "uploaded"}]
    og_card = await (await client.get("/v1/templates/og-card")).json()
    assert {"family": "Inter", "source": "bundled"} in og_card["fonts"]

    _, drawn = await render(client, "blocks")
    expected = reference(kept)
    assert agreement(drawn, expected) >= AGREEMENT
    assert agreement(in_fallback, expected) < 0.9  # the comparison tells the fonts apart


async def test_a_glyph_only_the_uploaded_font_has_is_no_longer_an_error(
    client: Any, tmp_path: Path
) -> None:
    # No bundled font draws Egyptian hieroglyphs; a font of one's own may.
    font = TTFont(io.BytesIO(font_bytes(tmp_path)))
    full = CmapSubtable.newSubtable(12)
    full.platformID, full.platEncID, full.language = 3, 10, 0
    full.cmap = {**font.getBestCmap(), 0x13000: "gA"}
    font["cmap"].tables.append(full)
    data = io.BytesIO()
    font.save(data)
    svg = TEMPLATE.replace(b">Blocks<", ">Blocks \U00013000<".encode())
    refused = await client.put(
        "/v1/templates/logo", data=svg, headers={"Content-Type": "image/svg+xml"}
    )
    assert refused.status == 422
    assert "characters no configured font has" in await refused.text()
    assert (await put_font(client, "blocks", data.getvalue())).status == 201
    assert (await put_template(client, "logo", svg))["template"]["id"] == "logo"


async def test_the_font_is_part_of_the_key_and_an_old_url_keeps_its_pixels(
    client: Any, tmp_path: Path
) -> None:
    await put_template(client, "blocks")
    og_card = {"template": "og-card", "fields": {"title": "Same"}, "dry_run": True}
    og_key = (await (await client.post("/v1/renders", json=og_card)).json())["key"]
    no_font_key, _ = await render(client, "blocks")

    assert (await put_font(client, "blocks", font_bytes(tmp_path))).status == 201
    old_key, old_pixels = await render(client, "blocks")
    assert old_key != no_font_key
    short = font_bytes(tmp_path, "short.ttf", height=350)
    replaced = await put_font(client, "blocks", short)
    assert replaced.status == 200
    assert (await replaced.json())["replaced"] is True
    new_key, new_pixels = await render(client, "blocks")
    assert new_key != old_key
    assert new_pixels.tobytes() != old_pixels.tobytes()

    await evict(client, old_key)  # drawn again from its stored spec
    again = await client.get(f"/v1/images/{old_key}.png")
    assert again.headers["X-Cache"] == "miss"
    redrawn = Image.open(io.BytesIO(await again.read())).convert("L")
    assert redrawn.tobytes() == old_pixels.tobytes()  # the old font's pixels

    # A template naming no uploaded family keeps its key through all of it.
    assert (await (await client.post("/v1/renders", json=og_card)).json())["key"] == og_key

    assert (await client.delete("/v1/fonts/blocks")).status == 204
    gone_key, _ = await render(client, "blocks")
    assert gone_key == no_font_key
    await evict(client, new_key)  # the file outlives its name: the URL still draws
    still = await client.get(f"/v1/images/{new_key}.png")
    assert Image.open(io.BytesIO(await still.read())).convert("L").tobytes() == new_pixels.tobytes()


async def test_hostile_fonts_are_refused_naming_why_and_nothing_is_kept(
    client: Any, tmp_path: Path
) -> None:
    settings = client.app[SETTINGS]
    for name, (data, word) in hostile(font_bytes(tmp_path)).items():
        response = await put_font(client, "evil", data, "application/octet-stream")
        assert response.status == 422, (name, await response.text())
        assert response.content_type == "application/problem+json"
        problem = await response.json()
        assert word in problem["detail"], (name, problem)
    huge = await put_font(client, "evil", io.BytesIO(b"\0" * (50 * 2**20)))
    assert huge.status == 413
    good = font_bytes(tmp_path)
    for bad in ("Blocks", "blocks%0A", "blocks%00", "%EF%BD%82locks", "-blocks", "a" * 65):
        response = await put_font(client, bad, good)
        assert response.status == 422, (bad, await response.text())
        assert "font name" in (await response.json())["detail"]
    assert stored(settings) == (0, 0, [])
    listing = await (await client.get("/v1/fonts")).json()
    assert all(f["source"] == "bundled" for f in listing["families"])
    assert (await client.get("/healthz")).status == 200


async def test_the_font_list_says_where_each_family_comes_from_and_its_licence(
    client: Any, tmp_path: Path
) -> None:
    font = TTFont(io.BytesIO(font_bytes(tmp_path)))
    font["OS/2"].fsType = 0x0104  # preview & print, no subsetting
    font["name"].setName("© 2026 Test Foundry", 0, 3, 1, 0x409)
    font["name"].setName("Licensed for tests only.", 13, 3, 1, 0x409)
    font["name"].setName("https://example.com/licence", 14, 3, 1, 0x409)
    data = io.BytesIO()
    font.save(data)
    assert (await put_font(client, "blocks", data.getvalue(), "font/ttf")).status == 201

    listing = await (await client.get("/v1/fonts")).json()
    families = {f["family"]: f for f in listing["families"]}
    blocks = families[FAMILY]
    assert blocks["source"] == "uploaded"
    (face,) = blocks["faces"]
    assert (face["name"], face["style"], face["weight"], face["italic"]) == (
        "blocks",
        "Regular",
        400,
        False,
    )
    assert face["licence"] == {
        "fs_type": 0x0104,
        "embedding": "preview-print",
        "no_subsetting": True,
        "bitmap_only": False,
        "copyright": "© 2026 Test Foundry",
        "description": "Licensed for tests only.",
        "url": "https://example.com/licence",
    }
    inter = families["Inter"]
    assert inter["source"] == "bundled"
    assert {f["weight"] for f in inter["faces"]} >= {400, 700}
    assert "Open Font License" in inter["faces"][0]["licence"]["description"]

    assert (await client.delete("/v1/fonts/blocks")).status == 204
    assert (await client.delete("/v1/fonts/blocks")).status == 404
    listing = await (await client.get("/v1/fonts")).json()
    assert FAMILY not in {f["family"] for f in listing["families"]}


async def test_one_face_under_one_name(client: Any, tmp_path: Path) -> None:
    assert (await put_font(client, "blocks", font_bytes(tmp_path))).status == 201
    twin = await put_font(client, "blocks-again", font_bytes(tmp_path, "b.ttf", height=500))
    assert twin.status == 409
    bold = await put_font(client, "blocks-bold", font_bytes(tmp_path, "c.ttf", weight=700))
    assert bold.status == 201


@pytest.fixture
def small_fonts(make_settings: Any) -> Settings:
    settings: Settings = make_settings(fonts={"max_bytes": 4096})
    return settings


async def test_the_size_limit_is_a_setting(
    small_fonts: Settings, aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(small_fonts))
    response = await put_font(client, "blocks", font_bytes(tmp_path) + b"\0" * 4096)
    assert response.status == 413
    assert (await put_font(client, "blocks", font_bytes(tmp_path))).status == 201

"""Turned and stretched glyphs (text on a path, `rotate`, `textLength`) drawn: as outlines
and colour glyphs inside CairoSVG, in the boxes of objectBoundingBox paints, and as SVG
paths; plain runs keep their two cairo calls a glyph."""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import cairocffi
import cairosvg
import pytest
from lxml import etree
from PIL import Image, ImageChops

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.render.fetcher import make_fetcher
from pixeldrive.render.rasterize import rasterize
from pixeldrive.text import document, draw
from pixeldrive.text.fonts import FontLibrary, library_for
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgout import to_svg
from pixeldrive.text.svgtext import GLYPHS, TextSetter
from tests.svgdoc import svg_document

WIDTH, HEIGHT = 400, 300
FETCH = make_fetcher(2**20, 10**7)
STYLE = "font-family:Inter;font-size:80px;fill:#000"
# An antialiased edge may differ by a level or two where cairo cuts the same outline
# under another matrix; a misplaced or unturned glyph differs in hundreds of pixels.
OFF = 32


@pytest.fixture(scope="module")
def library() -> FontLibrary:
    return library_for(str(PROJECT_ROOT / "conf" / "fonts.conf"))


def prepared(library: FontLibrary, body: str) -> tuple[etree._Element, GlyphRuns]:
    root = etree.fromstring(
        svg_document(f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>{body}', WIDTH, HEIGHT)
    )
    runs = GlyphRuns()
    document.prepare(root, (), TextSetter(library, runs))
    return root, runs


def drawn(library: FontLibrary, body: str) -> Image.Image:
    root, runs = prepared(library, body)
    return rasterize(etree.tostring(root), WIDTH, HEIGHT, FETCH, runs).convert("RGB")


def differing(a: Image.Image, b: Image.Image) -> int:
    delta = ImageChops.difference(a.convert("RGB"), b.convert("RGB")).convert("L")
    return sum(delta.histogram()[OFF + 1 :])


def ink(image: Image.Image) -> int:
    return sum(image.convert("L").histogram()[:200])


@pytest.mark.parametrize("text", ["R", "🔥"], ids=["outline", "colour"])
def test_a_turned_glyph_is_the_glyph_turned_about_its_origin(
    library: FontLibrary, text: str
) -> None:
    turned = drawn(library, f'<text x="200" y="150" rotate="30" style="{STYLE}">{text}</text>')
    moved = f'<text x="200" y="150" transform="rotate(30 200 150)" style="{STYLE}">{text}</text>'
    upright = drawn(library, f'<text x="200" y="150" style="{STYLE}">{text}</text>')
    assert ink(turned) > 500
    assert differing(turned, drawn(library, moved)) < 20
    assert differing(turned, upright) > 500, "it is turned"


@pytest.mark.parametrize("text", ["R", "🔥"], ids=["outline", "colour"])
def test_a_stretched_glyph_is_the_glyph_scaled_across(library: FontLibrary, text: str) -> None:
    root, runs = prepared(library, f'<text x="100" y="150" style="{STYLE}">{text}</text>')
    (run,) = [runs.get(e.get("ref", "")) for e in root.iter(GLYPHS)]
    assert run is not None
    wide = run.font.hb_font.get_glyph_h_advance(run.glyphs[0][0]) * 80 / run.font.upem * 2
    stretched = drawn(
        library,
        f'<text x="100" y="150" textLength="{wide}" lengthAdjust="spacingAndGlyphs"'
        f' style="{STYLE}">{text}</text>',
    )
    scaled = f'<text x="50" y="150" transform="scale(2 1)" style="{STYLE}">{text}</text>'
    assert differing(stretched, drawn(library, scaled)) < 40


def test_plain_runs_take_two_cairo_calls_a_glyph(
    library: FontLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, runs = prepared(library, f'<text x="10" y="100" style="{STYLE}">Plain text</text>')
    (run,) = [runs.get(e.get("ref", "")) for e in root.iter(GLYPHS)]
    assert run is not None
    assert run.plain
    context = cairocffi.Context(cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, WIDTH, HEIGHT))
    draw.draw_run(context, run)  # outlines made and kept by the font
    calls: Counter[str] = Counter()
    real = draw._lib

    class Counting:
        def __getattr__(self, name: str) -> Callable[..., Any]:
            function = getattr(real, name)

            def counted(*arguments: Any) -> Any:
                calls[name] += 1
                return function(*arguments)

            return counted

    monkeypatch.setattr(draw, "_lib", Counting())
    draw.draw_run(context, run)
    glyphs = len(run.glyphs)
    assert calls["cairo_translate"] == calls["cairo_append_path"] == glyphs
    assert sum(calls.values()) <= 2 * glyphs + 6


def test_the_box_of_turned_glyphs_holds_them(library: FontLibrary) -> None:
    root, runs = prepared(library, f'<text x="200" y="150" rotate="90" style="{STYLE}">H</text>')
    (run,) = [runs.get(e.get("ref", "")) for e in root.iter(GLYPHS)]
    assert run is not None
    box = draw.run_box(run)
    assert box is not None
    x, y, width, height = box
    scale = 80 / run.font.upem
    # Turned a quarter clockwise about (200, 150): up is now to the right.
    assert x == pytest.approx(200 + run.font.descender * scale)
    assert x + width == pytest.approx(200 + run.font.ascender * scale)
    assert (y, height) == pytest.approx((150, 0.6 * 80))


CURVE = '<path id="p" d="M40 250C100 40 300 40 360 250" fill="none"/>'
ON_CURVE = f'<text style="{STYLE};font-size:48px"><textPath xlink:href="#p">{{}}</textPath></text>'
CASES = {
    "rotate": f'<text x="40" y="120" rotate="0 15 30 -20" style="{STYLE}">Turn</text>',
    "path": CURVE + ON_CURVE.format("On a curve"),
    "stretch": (
        f'<text x="20" y="200" textLength="360" lengthAdjust="spacingAndGlyphs"'
        f' style="{STYLE};stroke:#c00;stroke-width:2">Wide</text>'
    ),
    "emoji": CURVE + ON_CURVE.format("🔥 fire 🔥"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_svg_output_draws_turned_glyphs_as_the_engine_does(library: FontLibrary, name: str) -> None:
    root, runs = prepared(library, CASES[name])
    engine = rasterize(etree.tostring(root), WIDTH, HEIGHT, FETCH, runs).convert("RGB")
    svg = to_svg(root, runs)
    assert b"pd:glyphs" not in svg
    assert b"<text" not in svg
    plain = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg))).convert("RGB")
    assert ink(engine) > 1000
    assert differing(engine, plain) < 0.005 * WIDTH * HEIGHT


def test_svg_output_of_a_stretched_run_keeps_the_stroke_width(library: FontLibrary) -> None:
    root, runs = prepared(library, CASES["stretch"])
    svg = etree.fromstring(to_svg(root, runs))
    paths = [p for p in svg.iter("{*}path") if p.get("d", "").startswith("M")]
    assert paths
    # Drawn in user space: no transform to scale the inherited stroke.
    assert all(p.get("transform") is None and p.get("stroke-width") is None for p in paths)
    assert math.isfinite(float(paths[0].get("d", "M0")[1:].split()[0]))

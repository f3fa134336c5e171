"""Colour glyphs (COLRv1/COLRv0) are painted as vectors: on cairo (raster and PDF) as
blackrenderer's cairo backend draws them, in colour, through the whole engine, and as SVG.

The reference is blackrenderer (its cairo backend). It is written for pycairo, which
needs cairo's headers to build; the project draws with cairocffi, a binding of the same C
library, so blackrenderer's backend is loaded here over a small adapter of cairocffi (the
few names it uses that cairocffi spells differently). The drawing itself is libcairo's
either way.

Tolerance: at 64 px, at most 1 % of the pixels of the 96 × 96 canvas may differ by more
than 32/255 in any channel (RGBA, on a transparent canvas). Both sides draw with the same
library, so the solid, linear and radial paints agree to the last bit; what may differ
is antialiasing where the two cut the same shape differently: a sweep gradient is
approximated by mesh patches on both sides, cut at different angles, so a hard colour
step of a repeated sweep lands a pixel apart, and source-in is a mask here but an
operator there (rounding). 32/255 lets an edge pixel disagree, 1 % bounds how many may.
Measured: Noto's emoji differ by at most 1/255; the synthetic sweeps by under 0.2 %.
"""

from __future__ import annotations

import importlib
import io
import math
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import cairocffi
import cairosvg
import pytest
import uharfbuzz as hb
from fontTools.colorLib.builder import buildCOLR, buildCPAL
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from lxml import etree
from PIL import Image, ImageChops

from pixeldrive.core.config import PROJECT_ROOT, Settings
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob
from pixeldrive.templates.version import template_version
from pixeldrive.text import color_glyphs as cg
from pixeldrive.text import draw
from pixeldrive.text.fonts import Face, LoadedFont
from pixeldrive.text.layout import Run
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgout import to_svg
from pixeldrive.text.svgtext import GLYPHS, PD_NS
from pixeldrive.wiring import worker_config

SVG = "http://www.w3.org/2000/svg"
EMOJI_FONT = PROJECT_ROOT / "svg_templates" / "fonts" / "noto" / "NotoColorEmoji-COLRv1.ttf"
SIZE, CANVAS, ORIGIN = 64, 96, (8.0, 72.0)
OFF, AT_MOST = 32, 0.01  # the reference tolerance (see the module's docstring)

EMOJI = {
    "rocket": "\U0001f680",
    "grinning": "\U0001f600",
    "thumbs-up-medium": "\U0001f44d\U0001f3fd",
    "family": "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "flag-japan": "\U0001f1ef\U0001f1f5",
    "flag-england": "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "keycap-one": "1\ufe0f\u20e3",
    "rainbow-flag": "\U0001f3f3\ufe0f\u200d\U0001f308",
    # Chosen by scanning the font's COLR with fontTools (Noto has no sweep gradient: the
    # synthetic font below has them): PaintComposite src-in, soft-light (every flag),
    # PaintScaleAroundCenter, PaintTranslate, linear and radial gradients.
    "mx-claus-light": "\U0001f9d1\U0001f3fb\u200d\U0001f384",
    "flag-ascension": "\U0001f1e6\U0001f1e8",
    "man-boy": "\U0001f468\u200d\U0001f466",
    "double-exclamation": "\u203c",
    "santa-light": "\U0001f385\U0001f3fb",
}


# -- the fonts ------------------------------------------------------------------------------


def loaded(path: Path) -> LoadedFont:
    hb_face = hb.Face(hb.Blob.from_file_path(str(path)))
    return LoadedFont(
        Face(str(path), 0, path.stem, 400, False), hb_face, frozenset(hb_face.unicodes)
    )


def gids(font: LoadedFont, text: str) -> list[int]:
    buffer = hb.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()
    hb.shape(font.hb_font, buffer)
    return [info.codepoint for info in buffer.glyph_infos]


@pytest.fixture(scope="module")
def emoji_font() -> LoadedFont:
    return loaded(EMOJI_FONT)


PALETTE = [(1, 0, 0, 1), (0, 0.6, 0, 1), (0, 0, 1, 1), (1, 0.8, 0, 1), (0, 0, 0, 0.5), (1, 1, 1, 1)]
FOREGROUND = 0xFFFF
RGB = ((0, 0, 1), (0.5, 1, 1), (1, 2, 1))


def _line(extend: str, *stops: tuple[float, int, float]) -> dict[str, Any]:
    color_stops = [{"StopOffset": o, "PaletteIndex": i, "Alpha": a} for o, i, a in stops]
    return {"Extend": extend, "ColorStop": color_stops}


def _glyph(name: str, paint: dict[str, Any]) -> dict[str, Any]:
    return {"Format": 10, "Glyph": name, "Paint": paint}


def _solid(index: int, alpha: float = 1.0) -> dict[str, Any]:
    return {"Format": 2, "PaletteIndex": index, "Alpha": alpha}


def _linear(extend: str, stops: Any, *points: int) -> dict[str, Any]:
    x0, y0, x1, y1, x2, y2 = points
    line = _line(extend, *stops)
    return {
        "Format": 4,
        "ColorLine": line,
        "x0": x0,
        "y0": y0,
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
    }


def _radial(extend: str, stops: Any, *circles: int) -> dict[str, Any]:
    x0, y0, r0, x1, y1, r1 = circles
    line = _line(extend, *stops)
    return {
        "Format": 6,
        "ColorLine": line,
        "x0": x0,
        "y0": y0,
        "r0": r0,
        "x1": x1,
        "y1": y1,
        "r1": r1,
    }


def _sweep(extend: str, start: float, end: float, stops: Any = RGB) -> dict[str, Any]:
    sweep = {"Format": 8, "ColorLine": _line(extend, *stops), "centerX": 500, "centerY": 300}
    return _glyph("square", sweep | {"startAngle": start, "endAngle": end})


def _composite(mode: str) -> dict[str, Any]:
    backdrop = _glyph("disc", _solid(2, 0.8))
    source = _glyph("inner", _linear("pad", ((0, 0, 1), (1, 3, 0.6)), 100, 0, 900, 0, 100, 100))
    blend = {"Format": 32, "SourcePaint": source, "CompositeMode": mode, "BackdropPaint": backdrop}
    return {"Format": 1, "Layers": [_glyph("square", _solid(5)), blend]}


SYNTHETIC: dict[str, dict[str, Any]] = {
    "sweep-pad": _sweep("pad", 30, 250),
    "sweep-repeat": _sweep("repeat", 0, 60),
    "sweep-reflect": _sweep("reflect", -20, 70),
    "sweep-reversed": _sweep("pad", 300, 90, ((0, 3, 1), (0.3, 0, 1), (1, 2, 1))),
    "linear-skewed-reflect": _glyph(
        "square", _linear("reflect", ((0, 0, 1), (1, 2, 1)), 300, 200, 500, 300, 400, 600)
    ),
    "linear-repeat-outside-0-1": _glyph(
        "square",
        _linear("repeat", ((-0.5, 0, 1), (0.2, 3, 1), (1.5, 2, 1)), 300, 0, 700, 0, 300, 100),
    ),
    "radial-repeat": _glyph(
        "square", _radial("repeat", ((0, 0, 1), (1, 1, 1)), 500, 300, 50, 500, 300, 200)
    ),
    "radial-two-circles": _glyph(
        "square", _radial("pad", ((0, 3, 1), (0.5, 0, 1), (1, 2, 0.5)), 400, 400, 0, 550, 300, 400)
    ),
    "transformed": {
        "Format": 12,
        "Transform": {"xx": 0.8, "yx": 0.3, "xy": -0.2, "yy": 0.9, "dx": 120, "dy": -40},
        "Paint": _glyph(
            "square", _radial("pad", ((0, 5, 1), (1, 2, 1)), 500, 300, 0, 500, 300, 500)
        ),
    },
    "gradient-transformed": _glyph(
        "square",
        {
            "Format": 12,
            "Transform": {"xx": 0.5, "yx": 0.4, "xy": -0.3, "yy": 1.2, "dx": 200, "dy": 10},
            "Paint": _linear("reflect", ((0, 3, 1), (1, 2, 1)), 300, 200, 500, 200, 300, 300),
        },
    ),
    "clip-box": _glyph(
        "square", _radial("pad", ((0, 0, 1), (1, 2, 1)), 500, 300, 0, 500, 300, 400)
    ),
    "foreground": {
        "Format": 1,
        "Layers": [
            _glyph("disc", _solid(FOREGROUND)),
            _glyph("inner", _solid(FOREGROUND, 0.5)),
            _glyph("tri", _solid(0)),
        ],
    },
    "foreground-gradient": _glyph(
        "square", _linear("pad", ((0, FOREGROUND, 1), (1, 2, 1)), 100, 0, 900, 0, 100, 100)
    ),
    **{
        f"composite-{mode}": _composite(mode)
        for mode in (
            "src_in", "dest_in", "src_out", "dest_out", "src_atop", "dest_atop", "xor",
            "plus", "multiply", "screen", "difference", "hsl_hue", "dest_over", "src",
            "dest", "clear",
        )
    },
}  # fmt: skip


def _polygon(points: list[tuple[int, int]]) -> Any:
    pen = TTGlyphPen(None)
    pen.moveTo(points[0])
    for point in points[1:]:
        pen.lineTo(point)
    pen.closePath()
    return pen.glyph()


def _rect(x0: int, y0: int, x1: int, y1: int) -> Any:
    return _polygon([(x0, y0), (x0, y1), (x1, y1), (x1, y0)])


def build_font(path: Path) -> dict[str, int]:
    """A small COLRv1 font with what Noto Color Emoji lacks: sweep gradients, every extend
    mode, gradients with stops outside [0, 1], a skewed three-point linear gradient, every
    kind of composite, foreground colours. Its glyphs by name, as code points."""
    names = list(SYNTHETIC)
    disc = [
        (
            round(450 + 300 * math.cos(i * math.pi / 16)),
            round(300 + 300 * math.sin(i * math.pi / 16)),
        )
        for i in range(32)
    ]
    outlines = {
        ".notdef": _rect(50, 0, 450, 700),
        "square": _rect(100, -100, 900, 700),
        "inner": _rect(250, 50, 750, 550),
        "disc": _polygon(disc),
        "tri": _polygon([(100, 0), (500, 700), (900, 0)]),
    }
    order = [*outlines, *names]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap({0xE000 + i: name for i, name in enumerate(names)})
    builder.setupGlyf({**outlines, **{n: TTGlyphPen(None).glyph() for n in names}})
    builder.setupHorizontalMetrics(dict.fromkeys(order, (1000, 0)))
    builder.font["glyf"].compile(builder.font)  # bounds, then side bearings = xMin
    for name in outlines:
        builder.font["hmtx"][name] = (1000, builder.font["glyf"][name].xMin)
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    builder.setupNameTable({"familyName": "PD Color Test", "styleName": "Regular"})
    builder.setupPost()
    builder.font["CPAL"] = buildCPAL([PALETTE])
    builder.font["COLR"] = buildCOLR(
        SYNTHETIC, version=1, clipBoxes={"clip-box": (300, 0, 700, 500)}
    )
    builder.save(str(path))
    return {name: 0xE000 + i for i, name in enumerate(names)}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadedFont, dict[str, int]]:
    path = tmp_path_factory.mktemp("fonts") / "pd-color-test.ttf"
    code_points = build_font(path)
    return loaded(path), code_points


# -- drawing one glyph, ours and blackrenderer's ----------------------------------------


def _canvas() -> tuple[cairocffi.ImageSurface, cairocffi.Context]:
    surface = cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, CANVAS, CANVAS)
    return surface, cairocffi.Context(surface)


def _image(surface: cairocffi.ImageSurface) -> Image.Image:
    surface.flush()
    data = bytes(surface.get_data())
    return Image.frombuffer("RGBA", (CANVAS, CANVAS), data, "raw", "BGRa", 0, 1)


def ours(
    font: LoadedFont,
    gid: int,
    foreground: cg.RGBA = (0.0, 0.0, 0.0, 1.0),
    alpha: float = 1.0,
) -> Image.Image:
    surface, context = _canvas()
    run = Run(0, font, SIZE, False, [(gid, *ORIGIN)])
    draw._paint_glyphs(context._pointer, run, foreground, alpha)
    return _image(surface)


def _cairo_for_blackrenderer() -> types.ModuleType:
    """pycairo's names that blackrenderer's cairo backend uses, over cairocffi."""
    lib = cairocffi.cairo
    module = types.ModuleType("cairo")
    module.__dict__.update({k: v for k, v in vars(cairocffi).items() if not k.startswith("__")})
    module.Extend = types.SimpleNamespace(  # type: ignore[attr-defined]
        NONE=cairocffi.EXTEND_NONE,
        REPEAT=cairocffi.EXTEND_REPEAT,
        REFLECT=cairocffi.EXTEND_REFLECT,
        PAD=cairocffi.EXTEND_PAD,
    )

    class MeshPattern(cairocffi.Pattern):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(lib.cairo_pattern_create_mesh())

        def __getattr__(self, name: str) -> Callable[..., None]:
            function = getattr(lib, f"cairo_mesh_pattern_{name}")
            return lambda *args: function(self._pointer, *args)

    module.MeshPattern = MeshPattern  # type: ignore[attr-defined]
    return module


@pytest.fixture(scope="module")
def blackrenderer_cairo() -> Iterator[Any]:
    saved = sys.modules.get("cairo")
    sys.modules["cairo"] = _cairo_for_blackrenderer()
    try:
        backend = importlib.import_module("blackrenderer.backends.cairo")
    finally:
        if saved is None:
            del sys.modules["cairo"]
        else:
            sys.modules["cairo"] = saved
    return backend


def reference(backend: Any, path: Path, gids: list[int]) -> list[Image.Image]:
    from blackrenderer.font import BlackRendererFont

    font = BlackRendererFont(str(path))
    names = font.glyphNames
    images = []
    for gid in gids:
        surface, context = _canvas()
        scale = SIZE / font.unitsPerEm
        context.translate(*ORIGIN)
        context.scale(scale, -scale)  # blackrenderer draws in font units, y up
        font.drawGlyph(names[gid], backend.CairoCanvas(context), palette=font.getPalette(0))
        images.append(_image(surface))
    return images


def off_share(a: Image.Image, b: Image.Image, by: int = OFF) -> float:
    """The share of pixels whose channels differ by more than `by` in any channel."""
    difference = ImageChops.difference(a, b)
    bands = [band.point(lambda v: 255 if v > by else 0) for band in difference.split()]
    mask = bands[0]
    for band in bands[1:]:
        mask = ImageChops.lighter(mask, band)
    return mask.histogram()[255] / (a.width * a.height)


# -- against the reference ------------------------------------------------------------------


def test_noto_emoji_match_blackrenderer(emoji_font: LoadedFont, blackrenderer_cairo: Any) -> None:
    chosen = {name: gids(emoji_font, text) for name, text in EMOJI.items()}
    assert all(len(g) == 1 for g in chosen.values()), chosen  # each sequence is one glyph
    found = _kinds(emoji_font, [g for (g,) in chosen.values()])
    assert {"Linear", "Radial", "src-in", "soft-light", "Transform"} <= found
    refs = reference(blackrenderer_cairo, EMOJI_FONT, [g for (g,) in chosen.values()])
    for (name, (gid,)), ref in zip(chosen.items(), refs, strict=True):
        drawn = ours(emoji_font, gid)
        assert _ink(ref) > 0.1 * CANVAS * CANVAS, name
        assert off_share(drawn, ref) <= AT_MOST, name


def test_gradients_and_composites_match_blackrenderer(
    synthetic: tuple[LoadedFont, dict[str, int]], blackrenderer_cairo: Any
) -> None:
    font, code_points = synthetic
    chosen = {name: gids(font, chr(cp))[0] for name, cp in code_points.items()}
    assert {"Sweep", "Linear", "Radial"} <= _kinds(font, list(chosen.values()))
    refs = reference(blackrenderer_cairo, Path(font.face.path), list(chosen.values()))
    for (name, gid), ref in zip(chosen.items(), refs, strict=True):
        assert off_share(ours(font, gid), ref) <= AT_MOST, name


# CairoSVG draws masks by alpha (so "out" masks, white under black, are all opaque to it),
# has no mix-blend-mode and no SVG 2 `fr` (a radial gradient's start radius): those are
# left out here (the composites' structure is checked on a flag below).
THROUGH_CAIROSVG = [
    name
    for name in SYNTHETIC
    if name != "radial-repeat"  # its start circle has a radius
    and (
        not name.startswith("composite-")
        or name.split("-")[1] in ("src_in", "dest_in", "dest_over", "src", "dest", "clear")
    )
]


@pytest.mark.parametrize("name", THROUGH_CAIROSVG)
def test_svg_output_draws_as_cairo_does(
    synthetic: tuple[LoadedFont, dict[str, int]], name: str
) -> None:
    """The SVG writer's gradients, spread methods, clips, transforms, sweep wedges and
    masks, drawn back by CairoSVG, against our cairo drawing (same tolerance)."""
    font, code_points = synthetic
    (gid,) = gids(font, chr(code_points[name]))
    runs = GlyphRuns()
    ref = runs.add(Run(0, font, SIZE, False, [(gid, *ORIGIN)]))
    root = etree.fromstring(
        f'<svg xmlns="{SVG}" xmlns:pd="{PD_NS}" width="{CANVAS}" height="{CANVAS}">'
        f'<g fill="#00ff00"><pd:glyphs ref="{ref}"/></g></svg>'.encode()
    )
    assert next(root.iter(GLYPHS)) is not None
    svg = to_svg(root, runs)
    back = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg))).convert("RGBA")
    drawn = ours(font, gid, (0.0, 1.0, 0.0, 1.0))
    # A sweep is approximated on both sides: cairo's Coons patches bend the colour by up
    # to about a degree along their arc, SVG's wedges are angular; a hard step of a
    # repeated sweep may land a pixel apart near the rim (measured 1.6 % of the canvas).
    assert off_share(back, drawn) <= (0.025 if name.startswith("sweep") else AT_MOST), name


def _ink(image: Image.Image) -> int:
    return int(sum(image.getchannel("A").histogram()[1:]))


def _kinds(font: LoadedFont, glyphs: list[int]) -> set[str]:
    """The paints and composite modes the glyphs' display lists hold."""
    found: set[str] = set()

    def walk(nodes: tuple[cg.Node, ...]) -> None:
        for node in nodes:
            found.add(type(node).__name__)
            if isinstance(node, cg.Fill | cg.Cover):
                found.add(type(node.paint).__name__)
            elif isinstance(node, cg.Composite):
                found.add(hb.PaintCompositeMode(node.mode).name.lower().replace("_", "-"))
                walk(node.backdrop)
                walk(node.source)
            else:
                walk(node.body)

    for gid in glyphs:
        walk(cg.color_glyph(font, gid).body)
    return found


# -- colour ---------------------------------------------------------------------------------


def test_an_emoji_is_drawn_in_colour_not_black(emoji_font: LoadedFont) -> None:
    (gid,) = gids(emoji_font, EMOJI["flag-japan"])
    image = ours(emoji_font, gid).convert("RGBA")
    disc = image.getpixel((8 + 32, 72 - 27))  # the disc's centre
    field = image.getpixel((8 + 12, 72 - 42))  # the white field left of it
    assert disc[0] > 180, disc
    assert max(disc[1:3]) < 80, disc
    assert min(field[:3]) > 220, field
    assert disc[3] == field[3] == 255


def test_the_text_colour_fills_foreground_paints_only(
    synthetic: tuple[LoadedFont, dict[str, int]], emoji_font: LoadedFont
) -> None:
    font, code_points = synthetic
    (rocket,) = gids(emoji_font, EMOJI["rocket"])
    green = (0.0, 1.0, 0.0, 1.0)
    assert ours(emoji_font, rocket, green).tobytes() == ours(emoji_font, rocket).tobytes()
    (painted,) = gids(font, chr(code_points["foreground"]))
    # Font units (200, 450): in the disc (foreground, alpha 1) only. 1000 units = 64 px.
    assert ours(font, painted, green).getpixel((8 + 13, 72 - 29)) == (0, 255, 0, 255)
    assert ours(font, painted).getpixel((8 + 13, 72 - 29)) == (0, 0, 0, 255)
    (gradient,) = gids(font, chr(code_points["foreground-gradient"]))
    start = ours(font, gradient, green).getpixel((8 + 7, 72 - 19))  # (110, 300)
    assert start[1] > 200, start
    assert start[0] < 40, start


def test_opacity_fades_an_emoji(emoji_font: LoadedFont) -> None:
    (gid,) = gids(emoji_font, EMOJI["flag-japan"])
    full, half = ours(emoji_font, gid), ours(emoji_font, gid, alpha=0.5)
    at = (8 + 32, 72 - 27)
    assert abs(half.getpixel(at)[3] - 128) <= 1
    assert full.getpixel(at)[3] == 255
    assert half.getpixel(at)[:3] == full.getpixel(at)[:3]  # faded, not recoloured


# -- through the engine ---------------------------------------------------------------------

WIDTH, HEIGHT = 200, 100


def card(attributes: str = 'fill="#000"', text: str = EMOJI["rocket"]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
        f'<text x="10" y="75" font-family="Noto Color Emoji" font-size="64" {attributes}>'
        f"{text}</text></svg>"
    )


@pytest.fixture
def render(make_settings: Any, tmp_path: Path) -> Callable[[str, str], bytes]:
    settings: Settings = make_settings()
    worker.init_worker(replace(worker_config(settings), nice=0, backdrop_bytes=0))

    def run(svg: str, format: str = "png") -> bytes:
        source = tmp_path / "card.svg"
        source.write_text(svg)
        job = RenderJob(template_version(svg.encode()), str(source), {}, WIDTH, HEIGHT, format)
        return worker.run(job).data

    return run


def rgb(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def saturated(image: Image.Image) -> int:
    """Pixels of strong colour (the rocket's blue window, red and orange flames…)."""
    hsv = image.convert("HSV")
    return sum(1 for h, s, v in hsv.get_flattened_data() if s > 120 and v > 120)


def test_png_through_the_engine_is_in_colour(render: Callable[..., bytes]) -> None:
    image = rgb(render(card()))
    assert saturated(image) > 400
    red_fill = rgb(render(card('fill="#ff0000"')))
    assert red_fill.tobytes() == image.tobytes(), "the element's fill does not recolour it"


@pytest.mark.parametrize("fade", ['opacity="0.4"', 'fill-opacity="0.4"'])
def test_png_through_the_engine_fades_with_opacity(render: Callable[..., bytes], fade: str) -> None:
    full = rgb(render(card()))
    faded = rgb(render(card(f'fill="#000" {fade}')))
    # Over white: every channel moves 60 % of the way to 255.
    pairs = [
        (f, g)
        for f, g in zip(full.get_flattened_data(), faded.get_flattened_data(), strict=True)
        if f != (255,) * 3
    ]
    assert len(pairs) > 1000
    for f, g in pairs[::37]:
        for a, b in zip(f, g, strict=True):
            assert abs(b - (a + 0.6 * (255 - a))) <= 3, (f, g)


def test_pdf_through_the_engine_is_vector_and_in_colour(
    render: Callable[..., bytes], tmp_path: Path
) -> None:
    # The flag has source-in and soft-light composites: the first would be rasterised
    # by cairo's PDF backend as an operator (it is a soft mask here).
    two = card(text=EMOJI["rocket"] + EMOJI["flag-japan"])
    png, pdf = render(two), render(two, "pdf")
    assert b"/Image" not in pdf, "no image XObject: the emoji are vector"
    assert b"/SMask" in pdf
    assert b"/SoftLight" in pdf
    assert b"/Shading" in pdf, "its gradients are PDF shadings"
    (tmp_path / "card.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "96", "-png", "-singlefile", "card.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    page = Image.open(tmp_path / "page.png").convert("RGB")
    assert page.size == (WIDTH, HEIGHT)  # 96 dpi: a px is a px again
    assert saturated(page) > 300
    assert off_share(page.convert("RGBA"), rgb(png).convert("RGBA"), by=64) < 0.03


def test_svg_through_the_engine_has_colours_and_no_bitmap(render: Callable[..., bytes]) -> None:
    png, svg = render(card()), render(card(), "svg")
    text = svg.decode()
    assert "<image" not in text
    assert "radialGradient" in text
    assert 'fill="#' in text
    assert 'stroke="none"' in text
    back = rgb(cairosvg.svg2png(bytestring=svg, output_width=WIDTH, output_height=HEIGHT))
    assert saturated(back) > 400
    assert off_share(back.convert("RGBA"), rgb(png).convert("RGBA")) < 0.01


def test_svg_composites_and_ids(render: Callable[..., bytes]) -> None:
    # An id of the template's own that the writer's would otherwise take; two flags (one
    # glyph written once, used twice).
    flags = EMOJI["flag-japan"] * 2
    svg = render(card(text=flags).replace("<rect ", '<rect id="pd-c1" ', 1), "svg")
    root = etree.fromstring(svg)
    ids = [e.get("id") for e in root.iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids))
    assert "pd-c1" in ids
    uses = list(root.iter(f"{{{SVG}}}use"))
    assert len(uses) == 2
    assert uses[0].get("href") == uses[1].get("href")
    assert any(e.get("mask") for e in root.iter())  # source-in
    # A mask's content is its operand in white (alpha as luminance), or black on white.
    masks = list(root.iter(f"{{{SVG}}}mask"))
    fills = {e.get("fill") for m in masks for e in m.iter() if e.get("fill")}
    assert masks
    assert fills <= {"#ffffff", "#000000"}, fills
    assert any("mix-blend-mode:soft-light" in (e.get("style") or "") for e in root.iter())

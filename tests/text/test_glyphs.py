"""Glyph outlines as relative path data: exact geometry, compact syntax, same pixels."""

from __future__ import annotations

import io
import re

import cairosvg
import pytest
import uharfbuzz as hb
from fontTools.pens.boundsPen import ControlBoundsPen
from fontTools.pens.recordingPen import RecordingPen
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont
from PIL import Image, ImageChops

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.text.glyphs import GlyphPath, append_glyphs, glyph_path

FONTS = PROJECT_ROOT / "svg_templates" / "fonts"
TOKEN = re.compile(r"[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)")
ARITY = {"m": 2, "l": 2, "q": 4, "c": 6, "z": 0}


def hb_font(name: str, scale: int | None = None) -> hb.Font:
    font = hb.Font(hb.Face(hb.Blob.from_file_path(str(FONTS / name))))
    if scale is not None:
        font.scale = (scale, scale)
    return font


def absolute_points(path: GlyphPath) -> list[tuple[float, float]]:
    """Every point (on- and off-curve) of `path` in absolute coordinates, by walking the
    relative commands as an SVG reader would, implicit repeats included."""
    assert path.first is not None
    x, y = start = path.first
    points = [start]
    letter = ""
    tokens = TOKEN.findall(path.body)
    i = 0
    while i < len(tokens):
        if tokens[i].isalpha():
            letter = tokens[i]
            i += 1
            if letter == "z":
                x, y = start
                continue
        values = [float(t) for t in tokens[i : i + ARITY[letter]]]
        i += ARITY[letter]
        pairs = [(x + values[k], y + values[k + 1]) for k in range(0, len(values), 2)]
        points += pairs
        x, y = pairs[-1]
        if letter == "m":
            start = (x, y)
    assert (x, y) == pytest.approx(path.end)
    return points


def test_h_bounds_match_fonttools() -> None:
    font = hb_font("Inter-Regular.otf")
    path = glyph_path(font, font.get_nominal_glyph(ord("H")))
    points = absolute_points(path)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    reference = TTFont(FONTS / "Inter-Regular.otf")
    bounds = ControlBoundsPen(None)
    reference.getGlyphSet()[reference.getBestCmap()[ord("H")]].draw(bounds)
    x_min, y_min, x_max, y_max = bounds.bounds
    # y down: the font's y_max is our -y_min.
    assert (min(xs), -max(ys), max(xs), -min(ys)) == (x_min, y_min, x_max, y_max)
    assert (x_min, y_min, x_max, y_max) == (248, 0, 1836, 2048)
    assert path.first == (248.0, 0.0)


def test_h_path_text_is_compact() -> None:
    font = hb_font("Inter-Regular.otf")
    path = glyph_path(font, font.get_nominal_glyph(ord("H")))
    # 12 edges, the closing one left to `z`, repeated `l` implicit, no redundant spaces.
    assert path.body == "l248 0 0-916 1092 0 0 916 248 0 0-2048-248 0 0 912-1092 0 0-912-248 0z"
    assert path.end == path.first


def test_points_match_harfbuzz_without_drift() -> None:
    # An odd scale makes every coordinate fractional: relative steps must not accumulate
    # rounding error along the contour.
    font = hb_font("NotoSansArabic-Regular.ttf", scale=777)
    gid = font.get_nominal_glyph(ord("ش"))
    recorded = RecordingPen()
    font.draw_glyph_with_pen(gid, recorded)
    expected = [(p[0], -p[1]) for _, args in recorded.value for p in args if p is not None]
    path = glyph_path(font, gid)
    assert re.search(r"\d\.\d{3}|e", path.body) is None  # at most two decimals, no exponent
    ours = absolute_points(path)
    assert len(ours) <= len(expected)  # closing lines are dropped, nothing else
    for point in ours:
        assert min(abs(point[0] - e[0]) + abs(point[1] - e[1]) for e in expected) < 0.011


def test_empty_glyph_and_append_skips_it() -> None:
    font = hb_font("Inter-Regular.otf")
    space = glyph_path(font, font.get_nominal_glyph(ord(" ")))
    assert space == GlyphPath(None, "", (0.0, 0.0))
    dot = glyph_path(font, font.get_nominal_glyph(ord(".")))
    assert dot.first is not None
    parts: list[str] = []
    assert append_glyphs(parts, (1.0, 2.0), [(space, 0.0, 0.0)]) == (1.0, 2.0)
    assert parts == []
    pen = append_glyphs(parts, (0.0, 0.0), [(space, 0.0, 0.0), (dot, 100.25, -7.0)])
    assert dot.first == (388.0, 16.0)  # the dot's bottom point, y down
    assert parts == ["M488.25 9", dot.body]
    assert pen == (dot.end[0] + 100.25, dot.end[1] - 7.0)


def shaped(font: hb.Font, text: str) -> list[tuple[int, float, float]]:
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf)
    out = []
    x = 0.0
    for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True):
        out.append((info.codepoint, x + pos.x_offset, -float(pos.y_offset)))
        x += pos.x_advance
    return out


def rasterise(paths: str) -> Image.Image:
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="480" height="90">{paths}</svg>'
    png = cairosvg.svg2png(bytestring=svg.encode())
    return Image.open(io.BytesIO(png)).convert("RGBA")


def differing(a: Image.Image, b: Image.Image, level: int) -> float:
    """The share of inked pixels whose coverage differs by `level`/255 or more."""
    diff = ImageChops.difference(a, b).getchannel("A").histogram()
    ink = 90 * 480 - a.getchannel("A").histogram()[0]
    return sum(diff[level:]) / ink


CASES = [
    ("Inter-Regular.otf", "Hamburgefonstiv Ωж fi 1/2", None),  # CFF: cubic curves
    ("NotoSansArabic-Regular.ttf", "بسم الله الرحمن", None),  # TrueType: quadratics
    ("NotoSansDevanagari-Bold.ttf", "क्षत्रिय हिन्दी", 733),  # fractional coordinates
]


@pytest.mark.parametrize(("name", "text", "scale"), CASES)
def test_one_concatenated_path_draws_like_absolute_outlines(
    name: str, text: str, scale: int | None
) -> None:
    """Our single relative path against fontTools' outlines in absolute coordinates, as one
    path and as one path per glyph, all rasterised by CairoSVG."""
    font = hb_font(name, scale)
    size, left, baseline = 40.0, 10.0, 60.0
    s = size / font.scale[0]
    glyphs = shaped(font, text)

    parts: list[str] = []
    append_glyphs(parts, (0.0, 0.0), [(glyph_path(font, g), x, y) for g, x, y in glyphs])
    ours = rasterise(
        f'<path transform="matrix({s} 0 0 {s} {left} {baseline})" d="{"".join(parts)}"/>'
    )

    reference = TTFont(FONTS / name)
    glyph_set, order = reference.getGlyphSet(), reference.getGlyphOrder()
    r = size / reference["head"].unitsPerEm
    joined = SVGPathPen(glyph_set)
    singles = []
    for gid, x, y in glyphs:
        matrix = (r, 0, 0, -r, left + x * s, baseline + y * s)
        glyph_set[order[gid]].draw(TransformPen(joined, matrix))
        single = SVGPathPen(glyph_set)
        glyph_set[order[gid]].draw(TransformPen(single, matrix))
        singles.append(f'<path d="{single.getCommands()}"/>')
    one_path = rasterise(f'<path d="{joined.getCommands()}"/>')
    per_glyph = rasterise("".join(singles))

    assert ours.getbbox() == one_path.getbbox() == per_glyph.getbbox()
    # CairoSVG draws relative commands with cairo's rel_* calls, which round each step to
    # 1/256 px, so coverage may move by a few levels; geometry errors would be far larger.
    assert differing(ours, one_path, 8) < 0.01
    assert differing(ours, one_path, 24) == 0
    # One path per glyph also differs where glyphs touch (two anti-aliased fills overlap).
    assert differing(ours, per_glyph, 8) < 0.03

"""Per-character positions set by the engine: `x`/`y`/`dx`/`dy`/`rotate` lists (each value
for one character, the innermost element's first, a rotate list's last value for the rest),
characters with positions of their own shaped apart (no kerning or ligature across them),
and `textLength` with both `lengthAdjust` values, on a text or a tspan."""

from __future__ import annotations

import math

import pytest
from lxml import etree

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.text import document
from pixeldrive.text.fonts import FontLibrary, library_for
from pixeldrive.text.layout import Run
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.shape import FontStyle, Span, shape
from pixeldrive.text.svgtext import GLYPHS, TextSetter
from tests.svgdoc import svg_document

SIZE = 40.0
STYLE = f"font-family:Inter;font-size:{SIZE:g}px"


@pytest.fixture(scope="module")
def library() -> FontLibrary:
    return library_for(str(PROJECT_ROOT / "conf" / "fonts.conf"))


def runs_of(library: FontLibrary, body: str) -> list[Run]:
    root = etree.fromstring(svg_document(body, 600, 300))
    table = GlyphRuns()
    document.prepare(root, (), TextSetter(library, table))
    runs = [table.get(e.get("ref", "")) for e in root.iter(GLYPHS)]
    return [r for r in runs if r is not None]


def glyphs_of(library: FontLibrary, body: str) -> list[tuple[float, float, float]]:
    """(x, y, angle in degrees) of every glyph, left to right (a tspan's run is drawn
    in its own group, so drawing order is not the text's)."""
    out = []
    for run in runs_of(library, body):
        angles = run.angles or [0.0] * len(run.glyphs)
        for (_, x, y), angle in zip(run.glyphs, angles, strict=True):
            out.append((x, y, math.degrees(angle)))
    return sorted(out)


def advances(library: FontLibrary, text: str, family: str = "Inter") -> list[float]:
    """Each character's advance, shaped alone (no kerning with its neighbours)."""
    style = FontStyle((family,), SIZE)
    return [sum(shape([Span(c, style, 0)], library).advances) for c in text]


def text(body: str, attributes: str = "") -> str:
    return f'<text style="{STYLE}" {attributes}>{body}</text>'


def test_each_x_value_places_one_character(library: FontLibrary) -> None:
    glyphs = glyphs_of(library, text("SPACED", 'x="30 80 130 180 230" y="70"'))
    xs = [x for x, _, _ in glyphs]
    assert xs[:5] == [30, 80, 130, 180, 230]
    assert xs[5] == pytest.approx(230 + advances(library, "E")[0]), "the rest follows on"
    assert {y for _, y, _ in glyphs} == {70}


def test_dx_and_dy_shift_a_character_and_all_after_it(library: FontLibrary) -> None:
    glyphs = glyphs_of(library, text("abcd", 'x="10" y="100" dx="0 5 5" dy="-4 0 8"'))
    widths = advances(library, "abcd")
    assert [x for x, _, _ in glyphs] == pytest.approx(
        [10, 10 + widths[0] + 5, 10 + sum(widths[:2]) + 10, 10 + sum(widths[:3]) + 10]
    )
    assert [y for _, y, _ in glyphs] == pytest.approx([96, 96, 104, 104])


def test_the_innermost_element_with_a_value_wins(library: FontLibrary) -> None:
    body = text('<tspan x="100">ab</tspan>cd', 'x="10 20 30 40" y="50"')
    assert [x for x, _, _ in glyphs_of(library, body)] == [20, 30, 40, 100]  # b c d a


def test_a_rotate_list_repeats_its_last_value(library: FontLibrary) -> None:
    body = text('abc<tspan rotate="5">de</tspan>f', 'x="10" y="100" rotate="10 20"')
    assert [round(a, 6) for _, _, a in glyphs_of(library, body)] == [10, 20, 20, 5, 5, 20]


def test_a_positioned_character_is_shaped_apart(library: FontLibrary) -> None:
    """Kerning: A and V close up in Inter; with a dx on V, V is the dx away from A's own
    advance (as Inkscape shapes it)."""
    (a, _, _), (v, _, _) = glyphs_of(library, text("AV", 'x="10" y="100"'))
    a_width = advances(library, "A")[0]
    assert v - a < a_width - 1, "kerned"
    (a, _, _), (v, _, _) = glyphs_of(library, text("AV", 'x="10" y="100" dx="0 3"'))
    assert v - a == pytest.approx(a_width + 3)


def test_a_ligature_breaks_only_where_a_character_has_a_position(library: FontLibrary) -> None:
    style = "font-family:'EB Garamond';font-style:italic;font-size:40px"
    plain = glyphs_of(library, f'<text x="10" y="100" style="{style}">office</text>')
    assert len(plain) == 4, "o, ffi, c, e"
    turned = f'<text x="10" y="100" rotate="0 0 0 10" style="{style}">office</text>'
    assert len(glyphs_of(library, turned)) == 5, "o, ff, i, c, e: the i is turned alone"
    after = f'<text x="10" y="100" rotate="0 0 0 0 10" style="{style}">office</text>'
    assert len(glyphs_of(library, after)) == 4, "no character of the ligature is positioned"


def test_text_length_with_spacing_spreads_the_characters(library: FontLibrary) -> None:
    glyphs = glyphs_of(library, text("Spread", 'x="30" y="100" textLength="400"'))
    widths = advances(library, "Spread")
    gaps = [b[0] - a[0] - w for a, b, w in zip(glyphs, glyphs[1:], widths, strict=False)]
    natural = sum(shape([Span("Spread", FontStyle(("Inter",), SIZE), 0)], library).advances)
    assert gaps == pytest.approx([(400 - natural) / 5] * 5, abs=1.5)  # kerning kept
    assert glyphs[-1][0] + widths[-1] == pytest.approx(430, abs=0.01), "the ink ends at x + 400"
    assert all(r.stretch == 1.0 for r in runs_of(library, text("S", 'textLength="400"')))


def test_text_length_with_spacing_and_glyphs_scales_them_across(library: FontLibrary) -> None:
    body = text("Wide", 'x="30" y="100" textLength="300" lengthAdjust="spacingAndGlyphs"')
    (run,) = runs_of(library, body)
    natural = sum(shape([Span("Wide", FontStyle(("Inter",), SIZE), 0)], library).advances)
    assert run.stretch == pytest.approx(300 / natural)
    assert not run.plain
    (_, x0, _), (_, x1, _) = run.glyphs[0], run.glyphs[1]
    first = shape([Span("Wide", FontStyle(("Inter",), SIZE), 0)], library).advances[0]
    assert x1 - x0 == pytest.approx(first * 300 / natural)


def test_text_length_on_a_tspan_fits_its_own_characters(library: FontLibrary) -> None:
    body = text('ab<tspan textLength="200">cd</tspan>ef', 'x="10" y="100"')
    glyphs = glyphs_of(library, body)
    widths = advances(library, "abcdef")
    c, d, e = glyphs[2][0], glyphs[3][0], glyphs[4][0]
    assert d + widths[3] - c == pytest.approx(200, abs=1.5)  # kerning inside kept
    assert e == pytest.approx(d + widths[3], abs=1.5), "what follows comes right after"


def test_plain_text_stays_plain(library: FontLibrary) -> None:
    runs = runs_of(library, text("Plain text", 'x="10 " y="100" dx="0" rotate="0"'))
    assert all(run.plain for run in runs)

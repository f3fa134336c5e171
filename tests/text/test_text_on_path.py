"""Text on a path: the path flattened (pathline.py), each glyph cluster placed with its
advance's midpoint on the path at its distance and turned to the path's direction there,
clusters off the path dropped; drawn turned as outlines, colour glyphs and SVG paths."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image, ImageChops

from pixeldrive.cli.file_renders import render_file
from pixeldrive.core.config import PROJECT_ROOT, Settings
from pixeldrive.lint.linter import lint
from pixeldrive.text import document
from pixeldrive.text.fonts import FontLibrary, library_for
from pixeldrive.text.layout import Run
from pixeldrive.text.pathline import TOLERANCE, flatten, parse_transform, polyline_of
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.shape import FontStyle, Span, shape
from pixeldrive.text.svgtext import GLYPHS, TextSetter
from tests.svgdoc import svg_document

SIZE = 40.0
STYLE = f"font-family:Inter;font-size:{SIZE:g}px"


@pytest.fixture(scope="module")
def library() -> FontLibrary:
    return library_for(str(PROJECT_ROOT / "conf" / "fonts.conf"))


def set_document(library: FontLibrary, body: str) -> tuple[etree._Element, GlyphRuns]:
    """The document with its text set (as a template version's static text)."""
    root = etree.fromstring(svg_document(body, 600, 300))
    runs = GlyphRuns()
    document.prepare(root, (), TextSetter(library, runs))
    return root, runs


def runs_of(library: FontLibrary, body: str) -> list[Run]:
    root, table = set_document(library, body)
    runs = [table.get(e.get("ref", "")) for e in root.iter(GLYPHS)]
    return [r for r in runs if r is not None]


def glyphs_of(library: FontLibrary, body: str) -> list[tuple[float, float, float]]:
    """(x, y, angle in degrees) of every glyph drawn, in drawing order."""
    out = []
    for run in runs_of(library, body):
        angles = run.angles or [0.0] * len(run.glyphs)
        out.extend((x, y, math.degrees(a)) for (_, x, y), a in zip(run.glyphs, angles, strict=True))
    return out


def advance(library: FontLibrary, text: str) -> float:
    return sum(shape([Span(text, FontStyle(("Inter",), SIZE), 0)], library).advances)


def on_path(path: str, text: str, attributes: str = "", style: str = STYLE) -> str:
    return (
        f'<path id="p" d="{path}" fill="none"/>'
        f'<text style="{style}"><textPath xlink:href="#p" {attributes}>{text}</textPath></text>'
    )


# -- where glyphs go -------------------------------------------------------------------------


def test_a_glyph_on_a_line_sits_at_its_distance(library: FontLibrary) -> None:
    ((x, y, angle),) = glyphs_of(library, on_path("M100 200H500", "H", 'startOffset="50"'))
    assert (x, y, angle) == pytest.approx((150, 200, 0), abs=1e-6)


def test_glyphs_on_a_slope_are_turned_to_it(library: FontLibrary) -> None:
    # A line at 30° below the horizontal, 400 px long.
    rise = 400 * math.sin(math.radians(30))
    run = 400 * math.cos(math.radians(30))
    glyphs = glyphs_of(library, on_path(f"M100 100l{run} {rise}", "HH", 'startOffset="50"'))
    step = advance(library, "H")
    for n, (x, y, angle) in enumerate(glyphs):
        along = 50 + n * step
        assert x == pytest.approx(100 + along * math.cos(math.radians(30)), abs=1e-6)
        assert y == pytest.approx(100 + along * math.sin(math.radians(30)), abs=1e-6)
        assert angle == pytest.approx(30, abs=1e-6)


def test_a_glyph_on_a_circle_lands_on_it_turned_by_the_tangent(library: FontLibrary) -> None:
    # A circle's path starts at its rightmost point and runs clockwise (on screen).
    body = (
        '<circle id="c" cx="300" cy="150" r="100" fill="none"/>'
        f'<text style="{STYLE}"><textPath xlink:href="#c" startOffset="120">I</textPath></text>'
    )
    ((x, y, angle),) = glyphs_of(library, body)
    width = advance(library, "I")
    theta = (120 + width / 2) / 100  # the midpoint's angle, radians from 3 o'clock
    mid_x, mid_y = 300 + 100 * math.cos(theta), 150 + 100 * math.sin(theta)
    tangent = (-math.sin(theta), math.cos(theta))
    assert x == pytest.approx(mid_x - tangent[0] * width / 2, abs=1.5 * TOLERANCE)
    assert y == pytest.approx(mid_y - tangent[1] * width / 2, abs=1.5 * TOLERANCE)
    assert angle == pytest.approx(math.degrees(theta) + 90, abs=0.15)


def test_glyphs_past_the_end_or_before_the_start_are_not_drawn(library: FontLibrary) -> None:
    step = advance(library, "H")
    # 100 px of path, ten H: those whose midpoint is on the path are drawn.
    kept = glyphs_of(library, on_path("M0 100H100", "H" * 10))
    assert [x for x, _, _ in kept] == pytest.approx(
        [n * step for n in range(10) if n * step + step / 2 <= 100]
    )
    # Starting 60 px before the path's start: the first ones are dropped.
    kept = glyphs_of(library, on_path("M0 100H600", "H" * 10, 'startOffset="-60"'))
    expected = [n * step - 60 for n in range(10) if n * step - 60 + step / 2 >= 0]
    assert [x for x, _, _ in kept] == pytest.approx(expected)
    assert len(expected) < 10


def test_text_anchor_middle_centres_the_text_on_the_start_offset(library: FontLibrary) -> None:
    style = f"{STYLE};text-anchor:middle"
    glyphs = glyphs_of(library, on_path("M100 200H500", "Centred", 'startOffset="50%"', style))
    width = advance(library, "Centred")
    assert glyphs[0][0] == pytest.approx(300 - width / 2, abs=1e-6)
    end = glyphs_of(
        library, on_path("M100 200H500", "Centred", 'startOffset="300"', f"{STYLE};text-anchor:end")
    )
    assert end[0][0] == pytest.approx(400 - width, abs=1e-6)


@pytest.mark.parametrize(
    "text",
    ["AVATAR To WAVE", "مرحبا بالعالم", "שלום עולם", "Go 🔥 now", "ffi office"],
    ids=["kerning", "arabic", "hebrew", "emoji", "ligatures"],
)
def test_on_a_straight_path_text_is_set_as_on_a_line(library: FontLibrary, text: str) -> None:
    """Shaping, joining, bidi, fallback fonts and emoji are the engine's own: on a straight
    path the glyphs are where the same text would be without the path."""
    style = "font-family:Inter, 'Noto Sans Arabic';font-size:40px"
    plain = runs_of(library, f'<text x="50" y="200" style="{style}">{text}</text>')
    bent = runs_of(library, on_path("M50 200H590", text, style=style))
    assert [r.font.face.family for r in bent] == [r.font.face.family for r in plain]
    for curved, straight in zip(bent, plain, strict=True):
        assert [g for g, _, _ in curved.glyphs] == [g for g, _, _ in straight.glyphs]
        assert [v for _, x, y in curved.glyphs for v in (x, y)] == pytest.approx(
            [v for _, x, y in straight.glyphs for v in (x, y)], abs=1e-6
        )


def test_the_paths_own_transform_applies(library: FontLibrary) -> None:
    body = (
        '<path id="p" d="M0 0H400" transform="translate(100,250) rotate(-90)"/>'
        f'<text style="{STYLE}"><textPath xlink:href="#p" startOffset="50">H</textPath></text>'
    )
    ((x, y, angle),) = glyphs_of(library, body)
    assert (x, y, angle) == pytest.approx((100, 200, -90), abs=1e-6)


def test_href_xlink_href_and_path_data_follow_the_same_path(library: FontLibrary) -> None:
    path = "M50 250C150 50 450 50 550 250"
    forms = [
        on_path(path, "Same path", 'startOffset="10%"'),
        on_path(path, "Same path", 'startOffset="10%"').replace("xlink:href", "href"),
        f'<text style="{STYLE}"><textPath path="{path}" startOffset="10%">Same path</textPath>'
        "</text>",
    ]
    drawn = [glyphs_of(library, body) for body in forms]
    assert drawn[0] == drawn[1] == drawn[2]
    assert len({round(angle) for _, _, angle in drawn[0]}) > 3, "turned along the curve"


def test_side_right_walks_the_path_backwards(library: FontLibrary) -> None:
    ((x, y, angle),) = glyphs_of(
        library, on_path("M100 200H500", "H", 'startOffset="50" side="right"')
    )
    assert (x, y, abs(angle)) == pytest.approx((450, 200, 180), abs=1e-6)


def test_no_path_draws_nothing(library: FontLibrary) -> None:
    assert (
        runs_of(
            library, f'<text style="{STYLE}"><textPath xlink:href="#none">Lost</textPath></text>'
        )
        == []
    )
    looping = f'<text id="t" style="{STYLE}"><textPath href="#t">On itself</textPath></text>'
    assert runs_of(library, looping) == []


def test_text_on_a_path_is_set_by_the_engine_not_left_to_cairosvg(library: FontLibrary) -> None:
    body = (
        on_path("M0 100H600", "On a path")
        + f'<text x="1" y="2" rotate="5" textLength="90" style="{STYLE}">A B</text>'
    )
    root = etree.fromstring(svg_document(body, 600, 300))
    assert len(document.texts(root)) == 2
    root, _ = set_document(library, body)
    assert not list(root.iter("{*}text")), "every text became glyph runs"


# -- the path ---------------------------------------------------------------------------------


def test_every_command_is_flattened_within_the_tolerance() -> None:
    data = (
        "m 10,10 l 20,0 h 10 v 10 c 10,0 20,10 20,20 s 10,20 20,20 q 10,0 20,10 t 20,10"
        " a 20,10 30 0 1 30,10 Z"
    )
    line = flatten(data)
    assert line is not None
    assert line.points[0] == line.points[-1] == (10, 10), "Z closes back to the start"
    circle = flatten("M400 150A100 100 0 0 1 200 150A100 100 0 0 1 400 150Z")
    assert circle is not None
    assert circle.length == pytest.approx(2 * math.pi * 100, rel=5e-4)
    for (x0, y0), (x1, y1) in zip(circle.points, circle.points[1:], strict=False):
        middle = math.hypot((x0 + x1) / 2 - 300, (y0 + y1) / 2 - 150)
        assert 100 - middle <= TOLERANCE
    # The direction turns smoothly along the pieces: within a tenth of a degree.
    for n in range(200):
        here = circle.at(circle.length * n / 200)
        assert here is not None
        (x, y), (tx, ty) = here
        theta = math.atan2(y - 150, x - 300)
        assert math.degrees(math.acos(min(1.0, tx * -math.sin(theta) + ty * math.cos(theta)))) < 0.1


def test_subpaths_add_no_length_and_ends_are_the_path() -> None:
    line = flatten("M0 0H100M0 50H50")
    assert line is not None
    assert line.length == 150
    assert line.at(120) == ((20, 50), (1, 0))
    assert line.at(-0.01) is None
    assert line.at(150.01) is None
    assert line.chord(90, 110) is None, "across two subpaths there is no chord"


@pytest.mark.parametrize(
    ("element", "start", "direction"),
    [
        ('<circle cx="50" cy="60" r="10"/>', (60, 60), (0, 1)),
        ('<ellipse cx="50" cy="60" rx="20" ry="10"/>', (70, 60), (0, 1)),
        ('<rect x="5" y="6" width="30" height="20"/>', (5, 6), (1, 0)),
        ('<rect x="5" y="6" width="30" height="20" rx="4"/>', (9, 6), (1, 0)),
        ('<line x1="1" y1="2" x2="1" y2="12"/>', (1, 2), (0, 1)),
        ('<polyline points="0,0 0,-10 10,-10"/>', (0, 0), (0, -1)),
        ('<polygon points="3 4 13 4 13 14"/>', (3, 4), (1, 0)),
    ],
)
def test_basic_shapes_are_the_paths_svg_makes_of_them(
    element: str, start: tuple[float, float], direction: tuple[float, float]
) -> None:
    line = polyline_of(
        etree.fromstring(element.replace("/>", ' xmlns="http://www.w3.org/2000/svg"/>'))
    )
    assert line is not None
    here = line.at(0)
    assert here is not None
    assert here[0] == pytest.approx(start)
    assert here[1] == pytest.approx(direction, abs=0.01)


def test_transforms_compose_in_order() -> None:
    matrix = parse_transform("translate(10 20) rotate(90) scale(2)")
    assert matrix == pytest.approx((0, 2, -2, 0, 10, 20), abs=1e-9)
    assert parse_transform("rotate(180 5 5)") == pytest.approx((-1, 0, 0, -1, 10, 10), abs=1e-9)
    assert parse_transform("nonsense") == (1, 0, 0, 1, 0, 0)


# -- what the linter still says -----------------------------------------------------------------


def _lint(body: str) -> list[str]:
    report = lint(svg_document(body, 600, 300), name="card.svg")
    return [f.what for f in report.findings if f.tag == "textPath"]


def test_text_on_a_path_is_no_longer_a_warning_but_what_is_not_drawn_is() -> None:
    assert _lint(on_path("M0 0H100", "Drawn")) == []
    assert _lint(on_path("M0 0H100", "Bent", 'method="stretch"')) == ['textPath method="stretch"']
    assert "no path" in _lint(on_path("M0 0H100", "Lost").replace("#p", "#gone"))[0]
    assert _lint(on_path("M0 0H100", '<tspan x="5">Placed</tspan>')) == [
        "x or y inside text on a path"
    ]
    underlined = on_path("M0 0H100", "Under", 'style="text-decoration:underline"')
    assert _lint(underlined) == ["text-decoration on text on a path"]


# -- a field on a path ---------------------------------------------------------------------


def test_a_field_on_a_path_is_set_along_it_per_request(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    settings = make_settings(templates_dir=templates)
    ring = '<circle id="ring" cx="300" cy="150" r="100" fill="none"/>'

    def render(name: str, inside: str, fields: dict[str, str]) -> Image.Image:
        body = (
            f'<rect width="600" height="300" fill="#fff"/>{ring}<text style="{STYLE}">'
            f'<textPath xlink:href="#ring" startOffset="50%" {inside}</textPath></text>'
        )
        (templates / f"{name}.svg").write_bytes(svg_document(body, 600, 300))
        render_file(settings, name, fields, tmp_path / f"{name}.png")
        with Image.open(tmp_path / f"{name}.png") as image:
            return image.convert("RGB")

    field = render("field", 'data-pd-field="label">Default', {"label": "Fresh value"})
    static = render("static", ">Fresh value", {})
    assert ImageChops.difference(field, static).getbbox() is None
    # Set from 9 o'clock on, clockwise, outside the circle: over its upper left.
    ink = field.convert("L").point(lambda v: 255 if v < 128 else 0).getbbox()
    assert ink is not None
    left, top, _, bottom = ink
    assert left < 200
    assert top < 100
    assert bottom < 160

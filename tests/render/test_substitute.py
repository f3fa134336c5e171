"""Tests for pixeldrive.render.substitute.fill: values go into a copy of the tree via lxml."""

from __future__ import annotations

import re
from typing import Any

import pytest
from lxml import etree

from pixeldrive.templates.fields import FieldSpec, discover_fields
from pixeldrive.templates.parser import SODIPODI_NS, SVG_NS, XLINK_NS, parse_svg, text_of
from pixeldrive.templates.style import parse_style
from tests.svgdoc import fill

HEAD = (
    '<svg xmlns="http://www.w3.org/2000/svg"'
    ' xmlns:xlink="http://www.w3.org/1999/xlink"'
    ' xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"'
    ' xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"'
    ' width="400" height="300">'
)
NS = {"svg": SVG_NS, "xlink": XLINK_NS, "sodipodi": SODIPODI_NS}
ROLE = f"{{{SODIPODI_NS}}}role"
HREF = f"{{{XLINK_NS}}}href"

# Inkscape's click-to-type text: a <text> holding one sodipodi:role="line" tspan per line.
TITLE = (
    '<text id="title" data-pd-field="title" xml:space="preserve" x="10" y="40"'
    ' style="font-size:20px;line-height:1.5;font-family:sans-serif;fill:#000000">'
    '<tspan sodipodi:role="line" id="title-1" x="10" y="40">First line '
    '<tspan id="bold" style="font-weight:bold">bold</tspan></tspan>'
    '<tspan sodipodi:role="line" id="title-2" x="10" y="70">Second line</tspan>'
    '<tspan sodipodi:role="line" id="title-3" x="10" y="100">Third line</tspan></text>'
)


def template(body: str) -> tuple[etree._Element, tuple[FieldSpec, ...]]:
    root = parse_svg((HEAD + body + "</svg>").encode())
    return root, discover_fields(root)


def filled(body: str, values: dict[str, Any]) -> etree._Element:
    root, fields = template(body)
    return etree.fromstring(fill(root, fields, values))


def by_id(root: etree._Element, ident: str) -> etree._Element:
    found = root.xpath(f'//*[@id="{ident}"]')
    assert len(found) == 1, f"expected one element with id {ident!r}, found {len(found)}"
    element: etree._Element = found[0]
    return element


def line_tspans(element: etree._Element) -> list[etree._Element]:
    return [t for t in element.iter(f"{{{SVG_NS}}}tspan") if t.get(ROLE) == "line"]


def style_of(element: etree._Element) -> dict[str, str]:
    return parse_style(element.get("style"))


# --- text -----------------------------------------------------------------------------------


def test_text_replaces_the_first_line_and_drops_inkscapes_other_lines() -> None:
    out = filled(TITLE, {"title": "Hello"})
    text = by_id(out, "title")
    lines = line_tspans(text)
    assert len(lines) == 1
    assert lines[0].get("id") == "title-1"
    assert lines[0].text == "Hello"
    assert len(lines[0]) == 0, "spans nested in the first line are removed"
    assert text_of(text) == "Hello"
    assert not out.xpath('//*[@id="title-2" or @id="title-3" or @id="bold"]')
    # The line keeps its position and the text element keeps its style.
    assert (lines[0].get("x"), lines[0].get("y")) == ("10", "40")
    assert style_of(text)["font-size"] == "20px"


def test_text_with_newlines_becomes_line_tspans_stepped_by_font_size_times_line_height() -> None:
    out = filled(TITLE, {"title": "one\ntwo\nthree\nfour"})
    text = by_id(out, "title")
    lines = line_tspans(text)
    assert [t.text for t in lines] == ["one", "two", "three", "four"]
    ys = [float(t.get("y", "nan")) for t in lines]
    assert ys == pytest.approx([40, 70, 100, 130])  # 20px × 1.5
    assert all(t.get("x") == "10" for t in lines)
    # The copies must not duplicate the first line's id.
    ids = [t.get("id") for t in lines if t.get("id") is not None]
    assert ids == ["title-1"]


def test_line_step_defaults_to_inkscapes_line_height_of_1_25() -> None:
    body = (
        '<text data-pd-field="t" x="0" y="16" style="font-size:16px">'
        '<tspan sodipodi:role="line" x="0" y="16">x</tspan></text>'
    )
    lines = line_tspans(filled(body, {"t": "a\nb\nc"}))
    assert [float(t.get("y", "nan")) for t in lines] == pytest.approx([16, 36, 56])


@pytest.mark.parametrize("line_height", ["150%", "30px"])
def test_line_step_understands_percent_and_px_line_heights(line_height: str) -> None:
    body = (
        f'<text data-pd-field="t" x="0" y="20" style="font-size:20px;line-height:{line_height}">'
        '<tspan sodipodi:role="line" x="0" y="20">x</tspan></text>'
    )
    lines = line_tspans(filled(body, {"t": "a\nb"}))
    assert [float(t.get("y", "nan")) for t in lines] == pytest.approx([20, 50])


def test_multi_line_value_in_plain_text_keeps_every_line() -> None:
    out = filled('<text id="t" data-pd-field="t" x="0" y="20">plain</text>', {"t": "a\nb"})
    content = text_of(by_id(out, "t"))
    assert "a" in content
    assert "b" in content


# --- placeholders ---------------------------------------------------------------------------


def test_placeholder_replaced_inside_literal_text() -> None:
    body = (
        '<text id="by" x="0" y="20"><tspan sodipodi:role="line" id="by-1">'
        "by {{author}}!</tspan></text>"
    )
    out = filled(body, {"author": "Ann"})
    assert by_id(out, "by-1").text == "by Ann!"


def test_placeholders_several_with_spaces_and_in_tails() -> None:
    body = (
        '<text id="t" x="0" y="20">{{ greeting }}, <tspan id="who">{{name}}</tspan>'
        " from {{place}} and {{name}}</text>"
    )
    out = filled(body, {"greeting": "Hi", "name": "Bo", "place": "Oslo"})
    assert text_of(by_id(out, "t")) == "Hi, Bo from Oslo and Bo"


def test_placeholder_value_is_not_expanded_again() -> None:
    body = '<text id="t" x="0" y="20">{{a}} / {{b}}</text>'
    out = filled(body, {"a": "{{b}}", "b": "B"})
    assert text_of(by_id(out, "t")) == "{{b}} / B"


def test_placeholder_default_is_used_when_no_value_is_given() -> None:
    body = '<text id="t" x="0" y="20" data-pd-default-author="Anonymous">by {{author}}</text>'
    out = filled(body, {})
    assert text_of(by_id(out, "t")) == "by Anonymous"


def test_name_used_as_field_and_as_placeholder_fills_both() -> None:
    body = (
        '<text id="name" data-pd-field="author" x="0" y="20">'
        '<tspan sodipodi:role="line">Ann</tspan></text>'
        '<text id="by" x="0" y="60"><tspan sodipodi:role="line">by {{author}}!</tspan></text>'
    )
    out = filled(body, {"author": "Bob"})
    assert text_of(by_id(out, "name")) == "Bob"
    assert text_of(by_id(out, "by")) == "by Bob!"


# --- values are text, never markup ----------------------------------------------------------

HOSTILE = [
    "<b>bold</b>",
    "Tom & Jerry &amp; &lt;co&gt; &#x41;",
    "\"double\" and 'single' quotes",
    "]]>",
    "<![CDATA[x]]> tail",
    "<!-- comment --><?pi data?>",
    '</tspan></text><image xlink:href="file:///etc/passwd"/><text>',
    "a\tb  c",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_field_value_stays_text(value: str) -> None:
    out = filled(TITLE, {"title": value})
    text = by_id(out, "title")
    assert text_of(text) == value
    assert [local(e) for e in text.iter(etree.Element)] == ["text", "tspan"]
    assert not out.xpath("//svg:image | //svg:b", namespaces=NS)


@pytest.mark.parametrize("value", HOSTILE)
def test_placeholder_value_stays_text(value: str) -> None:
    body = '<text id="t" x="0" y="20">by {{author}}!</text>'
    out = filled(body, {"author": value})
    text = by_id(out, "t")
    assert text_of(text) == f"by {value}!"
    assert len(text) == 0
    assert not out.xpath("//svg:image | //svg:b", namespaces=NS)


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


# --- the source tree ------------------------------------------------------------------------

EVERYTHING = (
    TITLE
    + '<text id="by" x="0" y="200">by {{author}}</text>'
    + '<rect id="box" data-pd-field="accent" fill="#000000" style="stroke-width:2" width="9"'
    ' height="9"/>'
    + '<g id="badge" data-pd-field="badge" data-pd-kind="show"><circle r="3"/></g>'
    + '<rect id="bar" data-pd-field="progress" data-pd-kind="number" data-pd-attr="width"'
    ' width="10" height="4"/>'
    + '<image id="photo" data-pd-field="photo" width="20" height="20" preserveAspectRatio="none"'
    ' xlink:href="data:image/png;base64,AAAA"/>'
    + '<rect id="code" data-pd-field="link" data-pd-kind="qr" x="200" y="0" width="100"'
    ' height="100"/>'
)
EVERYTHING_VALUES: dict[str, Any] = {
    "title": "New\ntitle",
    "author": "Me",
    "accent": "#ff000080",
    "badge": False,
    "progress": 42.5,
    "photo": "data:image/png;base64,BBBB",
    "link": "https://example.com/",
}


def test_source_root_is_never_modified() -> None:
    root, fields = template(EVERYTHING)
    before = etree.tostring(root)
    first = fill(root, fields, EVERYTHING_VALUES)
    assert etree.tostring(root) == before
    # A second fill of the same tree gives the same document: nothing leaked between fills.
    assert fill(root, fields, EVERYTHING_VALUES) == first
    other = fill(root, fields, {"title": "Other", "author": "You", "link": "x"})
    assert etree.tostring(root) == before
    assert other != first


def test_none_keeps_what_the_designer_drew() -> None:
    root, fields = template(
        EVERYTHING.replace('<text id="by" x="0" y="200">by {{author}}</text>', "")
    )
    values = dict.fromkeys((spec.name for spec in fields), None)
    assert fill(root, fields, values) == etree.tostring(root)


# --- colour ---------------------------------------------------------------------------------


def test_color_sets_fill_and_opacity_in_style_and_removes_the_fill_attribute() -> None:
    body = (
        '<rect id="r" data-pd-field="accent" fill="#000000" width="9" height="9"'
        ' style="fill:#00ff00;stroke:#0000ff;stroke-width:2"/>'
    )
    r = by_id(filled(body, {"accent": "#11223380"}), "r")
    style = style_of(r)
    assert style["fill"] == "#112233"
    assert float(style["fill-opacity"]) == pytest.approx(0.5)
    assert style["stroke"] == "#0000ff", "stroke untouched with the default paint"
    assert style["stroke-width"] == "2"
    assert "stroke-opacity" not in style
    assert r.get("fill") is None, "the presentation attribute would be shadowed anyway"


@pytest.mark.parametrize(
    ("value", "hexa", "alpha"),
    [
        ("red", "#ff0000", 1.0),
        ("#0f0", "#00ff00", 1.0),
        ("rgb(0 0 255 / 25%)", "#0000ff", 0.25),
        ("rgba(255, 255, 255, 0.2)", "#ffffff", 0.2),
        ("hsl(120, 100%, 50%)", "#00ff00", 1.0),
        ("transparent", "#000000", 0.0),
    ],
)
def test_color_syntaxes_are_normalised(value: str, hexa: str, alpha: float) -> None:
    body = '<rect id="r" data-pd-field="c" width="9" height="9"/>'
    style = style_of(by_id(filled(body, {"c": value}), "r"))
    assert style["fill"] == hexa
    assert float(style["fill-opacity"]) == pytest.approx(alpha)


def test_color_paint_stroke_leaves_fill_alone() -> None:
    body = (
        '<rect id="r" data-pd-field="c" data-pd-paint="stroke" stroke="#000000" width="9"'
        ' height="9" style="fill:#00ff00"/>'
    )
    r = by_id(filled(body, {"c": "#ff0000cc"}), "r")
    style = style_of(r)
    assert style["fill"] == "#00ff00"
    assert "fill-opacity" not in style
    assert style["stroke"] == "#ff0000"
    assert float(style["stroke-opacity"]) == pytest.approx(0.8)
    assert r.get("stroke") is None


def test_color_paint_both() -> None:
    body = (
        '<path id="p" data-pd-field="c" data-pd-paint="both" fill="red" stroke="blue" d="M0 0h9"/>'
    )
    p = by_id(filled(body, {"c": "#abcdef"}), "p")
    style = style_of(p)
    assert (style["fill"], style["stroke"]) == ("#abcdef", "#abcdef")
    assert float(style["fill-opacity"]) == float(style["stroke-opacity"]) == 1.0
    assert p.get("fill") is None
    assert p.get("stroke") is None


def test_color_on_a_gradient_stop_sets_stop_color_and_opacity() -> None:
    body = (
        '<defs><linearGradient id="g">'
        '<stop id="s" data-pd-field="c" offset="0" style="stop-color:#000000;stop-opacity:1"/>'
        '<stop offset="1" style="stop-color:#ffffff"/></linearGradient></defs>'
    )
    s = by_id(filled(body, {"c": "#33669966"}), "s")
    style = style_of(s)
    assert style["stop-color"] == "#336699"
    assert float(style["stop-opacity"]) == pytest.approx(0.4)
    assert "fill" not in style


# --- show, number, image --------------------------------------------------------------------


def test_show_false_hides_with_display_none() -> None:
    body = '<g id="g" data-pd-field="s" style="opacity:0.5"><rect width="1" height="1"/></g>'
    style = style_of(by_id(filled(body, {"s": False}), "g"))
    assert style == {"opacity": "0.5", "display": "none"}


def test_show_true_removes_display_none() -> None:
    body = (
        '<g id="g" data-pd-field="s" style="display:none;opacity:0.5">'
        '<rect width="1" height="1"/></g>'
    )
    style = style_of(by_id(filled(body, {"s": True}), "g"))
    assert style == {"opacity": "0.5"}


def test_show_true_also_clears_a_display_attribute() -> None:
    body = '<g id="g" data-pd-field="s" display="none"><rect width="1" height="1"/></g>'
    g = by_id(filled(body, {"s": True}), "g")
    assert g.get("display") != "none"
    assert style_of(g).get("display") != "none"


@pytest.mark.parametrize(
    ("value", "written"),
    [(42, "42"), (12.5, "12.5"), (1 / 3, "0.3333"), (2 / 3, "0.6667"), (0, "0"), (-7.25, "-7.25")],
)
def test_number_writes_the_attribute_with_at_most_four_decimals(value: float, written: str) -> None:
    body = (
        '<rect id="bar" data-pd-field="n" data-pd-kind="number" data-pd-attr="width"'
        ' width="10" height="4"/>'
    )
    bar = by_id(filled(body, {"n": value}), "bar")
    assert bar.get("width") == written
    assert re.fullmatch(r"-?\d+(\.\d{1,4})?", written)
    assert bar.get("height") == "4"


@pytest.mark.parametrize(
    ("fit", "aspect"),
    [
        (None, "xMidYMid slice"),
        ("cover", "xMidYMid slice"),
        ("contain", "xMidYMid meet"),
        ("fill", "none"),
    ],
)
def test_image_sets_xlink_href_and_preserve_aspect_ratio(fit: str | None, aspect: str) -> None:
    option = f' data-pd-fit="{fit}"' if fit else ""
    body = (
        f'<image id="i" data-pd-field="photo"{option} width="20" height="10"'
        ' preserveAspectRatio="none" href="old.png" xlink:href="old.png"/>'
    )
    uri = "data:image/png;base64,iVBORw0KGgo="
    image = by_id(filled(body, {"photo": uri}), "i")
    assert image.get(HREF) == uri
    assert image.get("href") is None, "an SVG 2 href would win over xlink:href"
    assert image.get("preserveAspectRatio") == aspect


# --- qr -------------------------------------------------------------------------------------


def test_qr_replaces_the_rect_by_a_group_with_a_white_rect_and_a_path() -> None:
    body = (
        '<g id="layer"><rect id="code" data-pd-field="link" data-pd-kind="qr"'
        ' x="20" y="30" width="100" height="100" style="fill:#cccccc"/></g>'
    )
    out = filled(body, {"link": "https://example.com/x"})
    group = by_id(out, "code")
    assert local(group) == "g"
    assert group.getparent() is not None
    assert group.getparent().get("id") == "layer"
    children = list(group)
    assert [local(c) for c in children] == ["rect", "path"]
    background, path = children
    assert {k: background.get(k) for k in ("x", "y", "width", "height")} == {
        "x": "20",
        "y": "30",
        "width": "100",
        "height": "100",
    }
    assert background.get("fill") == "#ffffff"
    assert path.get("d", "").startswith("M")
    assert path.get("fill") == "#000000"
    assert not out.xpath("//svg:rect[@data-pd-field]", namespaces=NS)

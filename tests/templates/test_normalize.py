"""normalize: the syntaxes CairoSVG 2.9.1 misreads, rewritten where that is sound."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from pixeldrive.templates.normalize import normalize
from pixeldrive.templates.parser import parse_svg
from tests.svgdoc import svg_document


def normalized(body: str) -> tuple[etree._Element, list[str]]:
    root = parse_svg(svg_document(body))
    findings = normalize(root)
    assert all(f.severity == "info" for f in findings)
    return root, [f.what for f in findings]


def by_id(root: etree._Element, ident: str) -> etree._Element:
    (element,) = [e for e in root.iter(etree.Element) if e.get("id") == ident]
    return element


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hsl(120, 100%, 25%)", "#008000"),
        ("hsla(120, 100%, 25%, 1)", "#008000"),
        ("hsl(120deg 100% 25%)", "#008000"),
        ("rgb(100%, 0%, 0%)", "#ff0000"),
        ("rgb(0 128 0)", "#008000"),
        ("rgb(0 128 0 / 100%)", "#008000"),
        ("RGB(0 128 0)", "#008000"),
        ("rgba(0, 128, 0, 1)", "#008000"),
        ("#0f0f", "#00ff00"),
        ("#00ff00ff", "#00ff00"),
    ],
)
@pytest.mark.parametrize("prop", ["fill", "stroke", "stop-color", "flood-color", "color"])
def test_opaque_colours_become_hex(prop: str, value: str, expected: str) -> None:
    root, what = normalized(f'<rect id="a" {prop}="{value}" style="{prop}:{value}"/>')
    element = by_id(root, "a")
    assert element.get(prop) == expected
    assert element.get("style") == f"{prop}:{expected}"
    assert len(what) == 2
    # An opaque colour needs no opacity.
    assert element.get(prop.removesuffix("-color") + "-opacity") is None


@pytest.mark.parametrize(
    ("value", "alpha"),
    [
        ("#ff000080", "0.5"),
        ("#f008", "0.533"),
        ("rgba(255, 0, 0, 0.5)", "0.5"),
        ("rgba(255, 0, 0, 50%)", "0.5"),
        ("rgb(255 0 0 / 0.25)", "0.25"),
        ("rgb(255, 0, 0, 0.5)", "0.5"),
        ("hsla(0, 100%, 50%, 0.5)", "0.5"),
        ("hsl(0 100% 50% / 25%)", "0.25"),
    ],
)
def test_an_alpha_moves_into_the_opacity(value: str, alpha: str) -> None:
    root, what = normalized(f'<rect id="a" fill="{value}"/>')
    element = by_id(root, "a")
    assert (element.get("fill"), element.get("fill-opacity")) == ("#ff0000", alpha)
    assert what == [f"fill:{value} → fill:#ff0000; fill-opacity:{alpha}"]


def test_a_lighting_colour_loses_its_alpha() -> None:
    """Lighting uses no alpha of its colour (resvg, Inkscape and Chrome light with the
    RGB only); CairoSVG painted hsla() black, so the light was black."""
    body = '<filter><feDiffuseLighting id="a" lighting-color="hsla(120, 100%, 25%, 0.5)"/></filter>'
    root, what = normalized(body)
    assert by_id(root, "a").get("lighting-color") == "#008000"
    assert what == ["lighting-color:hsla(120, 100%, 25%, 0.5) → #008000"]


def test_the_alpha_multiplies_the_opacity_the_element_draws_with() -> None:
    root, _ = normalized(
        '<g fill-opacity="0.5">'
        '<rect id="own" fill="#ff000080" style="fill-opacity:0.5" fill-opacity="0.9"/>'
        '<rect id="inherited" style="stroke:#0000ff80"/>'
        '<rect id="from-parent" fill="#00ff0080"/>'
        "</g>"
        '<linearGradient id="lg"><stop id="s" stop-color="#00f8" stop-opacity="0.5"/>'
        "</linearGradient>"
        '<filter id="f"><feFlood id="fl" flood-color="rgb(0 0 255 / 50%)"/></filter>'
    )
    own = by_id(root, "own")
    assert own.get("style") == "fill-opacity:0.25"  # the declaration that wins
    assert own.get("fill") == "#ff0000"
    assert by_id(root, "inherited").get("stroke-opacity") == "0.5"
    assert by_id(root, "inherited").get("style") == "stroke:#0000ff"
    assert by_id(root, "from-parent").get("fill-opacity") == "0.25"
    stop = by_id(root, "s")
    assert (stop.get("stop-color"), stop.get("stop-opacity")) == ("#0000ff", "0.2665")
    flood = by_id(root, "fl")
    assert (flood.get("flood-color"), flood.get("flood-opacity")) == ("#0000ff", "0.5")


def test_descendants_that_set_their_own_opacity_keep_the_alpha() -> None:
    root, _ = normalized(
        '<g id="g" fill="#ff000080">'
        '<rect id="plain"/><rect id="own" fill-opacity="0.8"/>'
        '<g id="other" fill="blue"><rect id="blue" fill-opacity="0.8"/></g>'
        '<g id="inner" style="fill:hsla(0,100%,50%,0.5)"><rect id="deep"/></g>'
        "</g>"
    )
    assert by_id(root, "g").get("fill-opacity") == "0.5"
    assert by_id(root, "plain").get("fill-opacity") is None  # inherits 0.5
    assert by_id(root, "own").get("fill-opacity") == "0.4"
    assert by_id(root, "blue").get("fill-opacity") == "0.8"
    # The inner colour is moved first: it does not inherit the outer alpha.
    assert by_id(root, "inner").get("fill-opacity") == "0.5"
    assert by_id(root, "deep").get("fill-opacity") is None


@pytest.mark.parametrize(
    "body",
    [
        # Drawn again through <use> (there, with the <use>'s inherited opacity).
        '<defs><rect id="a" fill="#ff000080"/></defs><use href="#a" fill-opacity="0.5"/>',
        # The colour reaches what a <use> inside draws, which may set its own opacity.
        '<g id="a" fill="#ff000080"><use xlink:href="#r"/></g><rect id="r" fill-opacity="0.5"/>',
        # A sheet may set the opacity: the cascade is not modelled.
        '<style>.x { fill-opacity: 0.5 }</style><rect id="a" class="x" fill="#ff000080"/>',
        # !important is not modelled.
        '<rect id="a" style="fill:#ff000080 !important"/>',
        '<rect id="a" fill="#ff000080" style="fill-opacity:0.5 !important"/>',
        # Overridden by the style: not drawn, left as written.
        '<rect id="a" fill="#ff000080" style="fill:blue"/>',
        # No opacity property to move the alpha into.
        '<rect id="a" color="#ff000080" fill="currentColor"/>',
        # An opacity that cannot be read.
        '<rect id="a" fill="#ff000080" fill-opacity="half"/>',
    ],
)
def test_alpha_colours_are_left_where_the_context_is_unknown(body: str) -> None:
    root = parse_svg(svg_document(body))
    before = etree.tostring(root)
    normalize(root)
    assert etree.tostring(root) == before


@pytest.mark.parametrize(
    "value",
    [
        "none",
        "currentColor",
        "url(#g)",
        "url(#g) hsl(0, 0%, 0%)",
        "inherit",
        "red",
        "#abc",
        "#aabbcc",
        "rgb(1, 2, 3)",
        "transparent",
        "icc-color(x)",
        "hsl(nonsense)",
    ],
)
def test_other_values_are_untouched(value: str) -> None:
    body = f'<rect id="a" fill="{value}" stroke="{value}" style="fill:{value}" opacity="0.5"/>'
    root = parse_svg(svg_document(body))
    before = etree.tostring(root)
    assert normalize(root) == []
    assert etree.tostring(root) == before


@pytest.mark.parametrize(
    ("value", "expected"),
    [("50%", "0.5"), ("100%", "1"), ("150%", "1"), ("-5%", "0"), ("33.333%", "0.3333")],
)
@pytest.mark.parametrize(
    "prop", ["opacity", "fill-opacity", "stroke-opacity", "stop-opacity", "flood-opacity"]
)
def test_percent_opacities_become_numbers(prop: str, value: str, expected: str) -> None:
    root, what = normalized(f'<rect id="a" {prop}="{value}" style="{prop}:{value}"/>')
    element = by_id(root, "a")
    assert element.get(prop) == expected
    assert element.get("style") == f"{prop}:{expected}"
    assert len(what) == 2


def test_percent_opacity_and_alpha_combine() -> None:
    root, _ = normalized('<rect id="a" fill="#ff000080" fill-opacity="50%"/>')
    assert by_id(root, "a").get("fill-opacity") == "0.25"


def test_relative_font_sizes_become_px_of_the_parent() -> None:
    root, what = normalized(
        '<g id="g" font-size="150%">'
        '<text id="t" style="font-size:2em">x<tspan id="ts" font-size="50%">y</tspan></text>'
        "</g>"
        '<g style="font-size:12pt"><text id="pt" font-size="50%">z</text></g>'
        '<g font-size="10mm"><text id="mm" font-size="100%">z</text></g>'
    )
    assert by_id(root, "g").get("font-size") == "24px"
    assert by_id(root, "t").get("style") == "font-size:48px"
    assert by_id(root, "ts").get("font-size") == "24px"
    assert by_id(root, "pt").get("font-size") == "8px"
    assert by_id(root, "mm").get("font-size") == "37.7953px"
    assert what[0] == "font-size:150% → 24px"


@pytest.mark.parametrize(
    "body",
    [
        '<g font-size="larger"><text id="a" font-size="50%">x</text></g>',
        '<g style="font:bold 20px serif"><text id="a" font-size="50%">x</text></g>',
        '<defs><text id="a" font-size="50%">x</text></defs><use href="#a" font-size="40"/>',
        '<style>text { font-size: 20px }</style><text id="a" font-size="50%">x</text>',
        '<text id="a" font-size="20px">x</text>',
    ],
)
def test_font_sizes_are_left_where_the_parent_size_is_unknown(body: str) -> None:
    root = parse_svg(svg_document(body))
    before = etree.tostring(root)
    normalize(root)
    assert etree.tostring(root) == before


def test_stylesheets_get_the_context_free_rewrites() -> None:
    root, what = normalized(
        "<style>/* kept */ .a { fill : hsl(120, 100%, 25%) ; opacity: 50% }"
        " .b { stroke: #ff000080; stop-color: rgb(0 128 0) }"
        " @media print { .c { fill: hsl(0,0%,0%) } }"
        "</style>"
    )
    (sheet,) = [e for e in root.iter(etree.Element) if etree.QName(e).localname == "style"]
    assert sheet.text == (
        "/* kept */ .a { fill: #008000; opacity: 0.5;} .b { stroke: #ff000080; stop-color: "
        "#008000;} @media print { .c { fill: hsl(0,0%,0%) } }"
    )
    assert what == [
        "<style> fill:hsl(120, 100%, 25%) → #008000",
        "<style> opacity:50% → 0.5",
        "<style> stop-color:rgb(0 128 0) → #008000",
    ]


def test_normalize_is_idempotent() -> None:
    body = (
        "<style>.a { fill: hsl(120, 100%, 25%) }</style>"
        '<g fill="#ff000080" font-size="150%"><rect fill-opacity="80%"/>'
        '<text style="font-size:2em;stroke:rgb(0 0 255 / 50%)">x</text></g>'
        '<stop stop-color="hsla(0, 100%, 50%, .5)"/>'
    )
    root = parse_svg(svg_document(body))
    assert normalize(root)
    once = etree.tostring(root)
    again = copy.deepcopy(root)
    assert normalize(again) == []
    assert etree.tostring(again) == once


def test_findings_name_the_element_and_line() -> None:
    root = parse_svg(svg_document('<rect/>\n<rect id="r" fill="hsl(0, 100%, 50%)"/>'))
    (item,) = normalize(root)
    assert (item.severity, item.element_id, item.line, item.tag) == ("info", "r", 3, "rect")
    assert "rewritten for CairoSVG" in item.why


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("center", "50% 50%"),
        ("left", "0% 50%"),
        ("top", "50% 0%"),
        ("bottom right", "100% 100%"),
        ("25% top", "25% 0%"),
        ("10px", "10px 50%"),
        ("center center 5px", "50% 50%"),
    ],
)
def test_transform_origin_keywords_become_percentages(value: str, expected: str) -> None:
    """CairoSVG places `center` at half the output image's pixel width, not the user
    space's: at 300 px wide for a 200-unit viewBox a rotation went around x=150."""
    root, what = normalized(f'<rect id="a" transform="rotate(45)" transform-origin="{value}"/>')
    assert by_id(root, "a").get("transform-origin") == expected
    assert what == [f"transform-origin:{value} → {expected}"]


@pytest.mark.parametrize("value", ["50% 50%", "10 20", "inherit", "left left", "a b c d"])
def test_transform_origins_cairosvg_reads_or_that_do_not_read_are_left(value: str) -> None:
    root, what = normalized(f'<rect id="a" transform-origin="{value}"/>')
    assert by_id(root, "a").get("transform-origin") == value
    assert what == []

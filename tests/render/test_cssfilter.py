"""CSS filter functions in `filter:` read as Filter Effects 1 reads them: lengths in any
absolute unit or in ems, angles in any unit, arguments separated by spaces only, and
drop-shadow's colour before or after its lengths (currentColor without one)."""

from __future__ import annotations

import math

import pytest

from pixeldrive.render.effects import cssfilter
from pixeldrive.render.effects.color import hue_matrix


def only(value: str, font_size: float = 16.0) -> cssfilter.FakeNode:
    items = cssfilter.parse(value, font_size)
    assert items is not None
    assert len(items) == 1
    functions = items[0]
    assert isinstance(functions, cssfilter.Functions)
    assert len(functions.primitives) == 1
    return functions.primitives[0]


@pytest.mark.parametrize(
    ("value", "deviation"),
    [
        ("blur(4px)", 4.0),
        ("blur(4)", 4.0),
        ("blur()", 0.0),
        ("blur(1in)", 96.0),
        ("blur(2.54cm)", 96.0),
        ("blur(3pt)", 4.0),
        ("blur(1pc)", 16.0),
        ("blur(0.5em)", 10.0),  # at a font size of 20 px
        ("blur(1ex)", 10.0),
        ("blur(1e1px)", 10.0),
    ],
)
def test_blur_lengths_in_every_unit(value: str, deviation: float) -> None:
    node = only(value, font_size=20.0)
    assert node.tag == "feGaussianBlur"
    assert float(node["stdDeviation"]) == pytest.approx(deviation)


@pytest.mark.parametrize(
    "value",
    ["blur(-1px)", "blur(10%)", "blur(1px 2px)", "blur(1px,)", "blur(4vw)", "blur(red)"],
)
def test_invalid_blurs_make_the_whole_value_invalid(value: str) -> None:
    assert cssfilter.parse(value) is None
    assert cssfilter.parse(f"grayscale(1) {value}") is None


@pytest.mark.parametrize(
    ("value", "degrees"),
    [("90deg", 90.0), ("90", 90.0), ("0.25turn", 90.0), ("100grad", 90.0)],
)
def test_hue_rotate_angles(value: str, degrees: float) -> None:
    node = only(f"hue-rotate({value})")
    assert node.tag == "feColorMatrix"
    assert node["values"] == cssfilter._matrix(hue_matrix(degrees))["values"]


def test_hue_rotate_in_radians() -> None:
    assert only(f"hue-rotate({math.pi / 2}rad)")["values"] == only("hue-rotate(90deg)")["values"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("drop-shadow(2px 3px)", ("2.0", "3.0", "0.0", "currentColor")),
        ("drop-shadow(2px 3px 4px red)", ("2.0", "3.0", "4.0", "red")),
        ("drop-shadow(red 2px 3px 4px)", ("2.0", "3.0", "4.0", "red")),
        ("drop-shadow(rgb(0, 0, 0) 1em 0 0)", ("16.0", "0.0", "0.0", "rgb(0, 0, 0)")),
        ("drop-shadow(#0008 1mm 1mm)", (str(96 / 25.4), str(96 / 25.4), "0.0", "#0008")),
    ],
)
def test_drop_shadow(value: str, expected: tuple[str, str, str, str]) -> None:
    node = only(value)
    assert node.tag == "feDropShadow"
    assert (node["dx"], node["dy"], node["stdDeviation"], node["flood-color"]) == expected


@pytest.mark.parametrize(
    "value",
    [
        "drop-shadow(2px)",  # one length
        "drop-shadow(1px 2px 3px 4px)",  # four lengths
        "drop-shadow(2px 3px -1px)",  # negative blur
        "drop-shadow(2px, 3px)",  # commas
        "drop-shadow(2px red 3px)",  # colour between lengths
        "drop-shadow(red 2px 3px blue)",  # two colours
        "drop-shadow()",
    ],
)
def test_invalid_drop_shadows(value: str) -> None:
    assert cssfilter.parse(value) is None


def test_reach_covers_blur_and_offset() -> None:
    items = cssfilter.parse("blur(2px) drop-shadow(5px -8px 1px)")
    assert items is not None
    functions = items[0]
    assert isinstance(functions, cssfilter.Functions)
    assert functions.reach == pytest.approx(3 * 2 + 3 * 1 + 8)


def test_urls_and_functions_keep_their_order() -> None:
    items = cssfilter.parse("url(#a) blur(1px) url('#b')")
    assert items is not None
    assert [i if isinstance(i, str) else "functions" for i in items] == ["a", "functions", "b"]

"""Tests for SVG lengths and document sizes in pixeldrive.templates.sizes."""

from __future__ import annotations

import pytest

from pixeldrive.core.errors import TemplateInvalid
from pixeldrive.templates.parser import parse_svg
from pixeldrive.templates.sizes import document_size, parse_length
from tests.svgdoc import NAMESPACES


def size_of(attributes: str) -> tuple[int, int]:
    return document_size(parse_svg(f"<svg {NAMESPACES} {attributes}><rect/></svg>".encode()))


# --------------------------------------------------------------------------- parse_length


@pytest.mark.parametrize(
    ("value", "px"),
    [
        ("10", 10.0),
        ("10px", 10.0),
        ("10PX", 10.0),
        (" 12.5px ", 12.5),
        ("1in", 96.0),
        ("72pt", 96.0),
        ("1pc", 16.0),
        ("2.54cm", 96.0),
        ("25.4mm", 96.0),
        ("297mm", 297 * 96 / 25.4),
        ("101.6q", 96.0),
        (".5", 0.5),
        ("+3px", 3.0),
        ("-5", -5.0),
        ("1e2", 100.0),
        ("1.5E1px", 15.0),
    ],
)
def test_parse_length_units(value: str, px: float) -> None:
    assert parse_length(value) == pytest.approx(px, rel=1e-12)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "50%",
        "100%",
        "2em",
        "1ex",
        "1rem",
        "10vw",
        "abc",
        "px",
        "1..2",
        "NaN",
        "inf",
    ],
)
def test_parse_length_relative_or_invalid_is_none(value: str | None) -> None:
    assert parse_length(value) is None


# --------------------------------------------------------------------------- document_size


@pytest.mark.parametrize(
    ("attributes", "size"),
    [
        ('width="1200" height="630"', (1200, 630)),
        ('width="1200px" height="630px" viewBox="0 0 600 315"', (1200, 630)),
        ('width="297mm" height="210mm"', (1123, 794)),  # Inkscape's A4 landscape
        ('width="297mm" height="210mm" viewBox="0 0 297 210"', (1123, 794)),
        ('width="210mm" height="297mm" viewBox="0 0 210 297"', (794, 1123)),
        ('width="8.5in" height="11in"', (816, 1056)),
        ('width="10.4" height="10.6"', (10, 11)),
        ('width="0.2" height="0.2"', (1, 1)),  # never a zero-pixel image
    ],
)
def test_width_and_height(attributes: str, size: tuple[int, int]) -> None:
    assert size_of(attributes) == size


@pytest.mark.parametrize(
    ("attributes", "size"),
    [
        ('viewBox="0 0 800 600"', (800, 600)),
        ('viewBox="-50 -50 800 600"', (800, 600)),
        ('viewBox="0,0,800,600"', (800, 600)),
        ('viewBox=" 0, 0  1080 1350 "', (1080, 1350)),
        ('width="100%" height="100%" viewBox="0 0 640 480"', (640, 480)),
        ('width="auto" height="2em" viewBox="0 0 640 480"', (640, 480)),
    ],
)
def test_view_box_only(attributes: str, size: tuple[int, int]) -> None:
    assert size_of(attributes) == size


@pytest.mark.parametrize(
    ("attributes", "size"),
    [
        ('width="400" viewBox="0 0 800 600"', (400, 300)),
        ('height="300" viewBox="0 0 800 600"', (400, 300)),
        ('width="100mm" viewBox="0 0 200 100"', (378, 189)),
        ('width="50%" height="1200" viewBox="0 0 100 200"', (600, 1200)),
    ],
)
def test_one_dimension_and_view_box_keep_the_aspect_ratio(
    attributes: str, size: tuple[int, int]
) -> None:
    assert size_of(attributes) == size


@pytest.mark.parametrize(
    "attributes",
    [
        "",
        'width="100"',
        'height="100"',
        'width="100%" height="100%"',
        'viewBox="0 0 0 10"',
        'viewBox="0 0 10 -10"',
        'viewBox="0 0 10"',
        'viewBox="a b c d"',
        'width="0" height="10"',
        'width="-10" height="10"',
        'width="10" height="0mm"',
        'width="400" viewBox="0 0 0 600"',
    ],
)
def test_missing_or_unusable_size_is_refused(attributes: str) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        size_of(attributes)
    assert "width/height" in caught.value.detail


@pytest.mark.parametrize(
    "attributes",
    [
        'width="1e400" height="10"',
        'viewBox="0 0 nan 10"',
        'viewBox="0 0 inf 10"',
        'width="1e10" viewBox="0 0 1e-300 1e300"',
    ],
)
def test_non_finite_size_is_refused(attributes: str) -> None:
    with pytest.raises(TemplateInvalid):
        size_of(attributes)

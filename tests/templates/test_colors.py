"""Tests for CSS colour parsing in pixeldrive.templates.colors."""

from __future__ import annotations

import colorsys
import dataclasses
import math
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixeldrive.templates import colors
from pixeldrive.templates.colors import Color, ColorError, parse_color


def rgba(value: str) -> tuple[int, int, int, float]:
    c = parse_color(value)
    return (c.r, c.g, c.b, c.alpha)


# --- hex ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("#f00", (255, 0, 0, 1.0)),
        ("#0f08", (0, 255, 0, 0.533)),
        ("#abc", (0xAA, 0xBB, 0xCC, 1.0)),
        ("#abcf", (0xAA, 0xBB, 0xCC, 1.0)),
        ("#000f", (0, 0, 0, 1.0)),
        ("#0000", (0, 0, 0, 0.0)),
        ("#123456", (0x12, 0x34, 0x56, 1.0)),
        ("#ff000080", (255, 0, 0, 0.5)),
        ("#ff000040", (255, 0, 0, 0.25)),
        ("#00000001", (0, 0, 0, 0.004)),
        ("#000000fe", (0, 0, 0, 0.996)),
        ("#000000ff", (0, 0, 0, 1.0)),
        ("#00000000", (0, 0, 0, 0.0)),
        ("#12345678", (0x12, 0x34, 0x56, 0.47)),
    ],
)
def test_hex(value: str, expected: tuple[int, int, int, float]) -> None:
    assert rgba(value) == expected


# --- rgb() ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rgb(255, 0, 0)", (255, 0, 0, 1.0)),
        ("rgb(255,0,0)", (255, 0, 0, 1.0)),
        ("rgba(255,0,0,0.5)", (255, 0, 0, 0.5)),
        ("rgba(1, 2, 3)", (1, 2, 3, 1.0)),
        ("rgb(1, 2, 3, 0.25)", (1, 2, 3, 0.25)),
        ("rgba(0, 0, 255, 25%)", (0, 0, 255, 0.25)),
        ("rgb(100%, 0%, 0%)", (255, 0, 0, 1.0)),
        ("rgb(50%, 50%, 50%)", (128, 128, 128, 1.0)),
        ("rgb(10%, 20.5%, 99.9%)", (26, 52, 255, 1.0)),
        ("rgb( 10 ,\t20 ,\n30 )", (10, 20, 30, 1.0)),
        ("rgb(255 0 0 / 50%)", (255, 0, 0, 0.5)),
        ("rgb(255 0 0 / .5)", (255, 0, 0, 0.5)),
        ("rgb(255 0 0)", (255, 0, 0, 1.0)),
        ("rgba(0 0 0 / 0)", (0, 0, 0, 0.0)),
        ("rgb(  10   20\t30  /  0.1  )", (10, 20, 30, 0.1)),
        ("rgb(10 20 30/0.3)", (10, 20, 30, 0.3)),
        ("rgb(100% 0% 50% / 75%)", (255, 0, 128, 0.75)),
        ("rgb(1.4 1.5 254.5)", (1, 2, 255, 1.0)),
        ("rgb(+10 0.0 00012)", (10, 0, 12, 1.0)),
        ("rgb(1e2 0 0)", (100, 0, 0, 1.0)),
        ("rgb(1.5e1 2E1 3e+1 / 5e-1)", (15, 20, 30, 0.5)),
        ("rgb(0 0 0 / 0.333)", (0, 0, 0, 0.333)),
        ("rgb(0 0 0 / 0.001)", (0, 0, 0, 0.0)),
        ("rgb(0 0 0 / 0.999)", (0, 0, 0, 1.0)),
    ],
)
def test_rgb(value: str, expected: tuple[int, int, int, float]) -> None:
    assert rgba(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rgb(300, -20, 0)", (255, 0, 0, 1.0)),
        ("rgb(256 255.6 -0.4)", (255, 255, 0, 1.0)),
        ("rgb(1e5 -1e5 0)", (255, 0, 0, 1.0)),
        ("rgb(150%, -5%, 0%)", (255, 0, 0, 1.0)),
        ("rgba(0, 0, 0, 2)", (0, 0, 0, 1.0)),
        ("rgba(0, 0, 0, -1)", (0, 0, 0, 0.0)),
        ("rgb(0 0 0 / 150%)", (0, 0, 0, 1.0)),
        ("rgb(0 0 0 / -50%)", (0, 0, 0, 0.0)),
        ("hsl(0 150% 50%)", (255, 0, 0, 1.0)),
        ("hsl(0, -10%, 50%)", (128, 128, 128, 1.0)),
        ("hsl(0 100% 120%)", (255, 255, 255, 1.0)),
        ("hsl(0 100% -5%)", (0, 0, 0, 1.0)),
        ("hsl(0 100 50 / 7)", (255, 0, 0, 1.0)),
    ],
)
def test_out_of_range_values_are_clamped(value: str, expected: tuple[int, int, int, float]) -> None:
    assert rgba(value) == expected


# --- hsl() ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hsl(120, 100%, 25%)", (0, 128, 0, 1.0)),
        ("hsl(0.5turn 100% 50% / 0.25)", (0, 255, 255, 0.25)),
        ("hsl(0, 100%, 50%)", (255, 0, 0, 1.0)),
        ("hsl(30, 100%, 50%)", (255, 128, 0, 1.0)),
        ("hsl(60 100% 50%)", (255, 255, 0, 1.0)),
        ("hsla(240, 100%, 50%, 0.5)", (0, 0, 255, 0.5)),
        ("hsla(240, 100%, 50%)", (0, 0, 255, 1.0)),
        ("hsl(240, 100%, 50%, 20%)", (0, 0, 255, 0.2)),
        ("hsl(270 60% 40%)", (102, 41, 163, 1.0)),
        ("hsl(210, 50%, 40%)", (51, 102, 153, 1.0)),
        ("hsl(0 0% 100%)", (255, 255, 255, 1.0)),
        ("hsl(123 0% 50%)", (128, 128, 128, 1.0)),
        ("hsl(120 100 25)", (0, 128, 0, 1.0)),
        ("hsl(120 100% 25)", (0, 128, 0, 1.0)),
        ("hsl(120deg 100% 25%)", (0, 128, 0, 1.0)),
        ("hsl(120deg, 100%, 25%)", (0, 128, 0, 1.0)),
        ("hsl(200grad 100% 50%)", (0, 255, 255, 1.0)),
        ("hsl(3.14159265rad 100% 50%)", (0, 255, 255, 1.0)),
        ("hsl(0.25turn, 100%, 50%)", (128, 255, 0, 1.0)),
        ("hsl(-120deg 100% 50%)", (0, 0, 255, 1.0)),
        ("hsl(480 100% 50%)", (0, 255, 0, 1.0)),
        ("hsl(-1turn 100% 50%)", (255, 0, 0, 1.0)),
        ("hsl(1e3 100% 50%)", (170, 0, 255, 1.0)),  # 1000deg is 280deg
        ("hsl(359.9 100% 50%)", (255, 0, 0, 1.0)),
        ("hsl(120 100% 25% / 50%)", (0, 128, 0, 0.5)),
    ],
)
def test_hsl(value: str, expected: tuple[int, int, int, float]) -> None:
    assert rgba(value) == expected


def test_huge_hue_is_reduced_before_conversion() -> None:
    # 1e17 is exactly 10**17, which is 280 modulo 360; without reducing it first the
    # float hue/30 swamps the per-channel offsets and every channel comes out equal.
    assert rgba("hsl(1e17 100% 50%)") == rgba("hsl(280 100% 50%)") == (170, 0, 255, 1.0)


@given(
    hue=st.integers(0, 359),
    sat=st.integers(0, 100),
    light=st.integers(0, 100),
)
def test_hsl_matches_colorsys(hue: int, sat: int, light: int) -> None:
    # colorsys implements the same HSL model by a different algorithm: an independent oracle.
    expected = colorsys.hls_to_rgb(hue / 360, light / 100, sat / 100)
    actual = parse_color(f"hsl({hue}, {sat}%, {light}%)")
    for got, want in zip((actual.r, actual.g, actual.b), expected, strict=True):
        assert abs(got - want * 255) <= 0.5 + 1e-9


# --- named colours --------------------------------------------------------------------------


def _cairosvg_css_names() -> dict[str, tuple[int, int, int]]:
    from cairosvg.colors import COLORS  # test-only reference; the module must not import it

    names = list(COLORS)
    # CairoSVG lists the CSS 3 names first, then system colours, none and transparent.
    css = names[: names.index("yellowgreen") + 1]
    return {
        n: (round(COLORS[n][0] * 255), round(COLORS[n][1] * 255), round(COLORS[n][2] * 255))
        for n in css
    }


def test_named_colours_match_cairosvg_reference() -> None:
    reference = _cairosvg_css_names()
    assert len(reference) == 147
    for name, rgb in reference.items():
        assert rgba(name) == (*rgb, 1.0), name


def test_named_colour_table_is_css_color_4() -> None:
    expected = set(_cairosvg_css_names()) | {"rebeccapurple"}
    assert set(colors._NAMED_COLORS) == expected
    assert len(colors._NAMED_COLORS) == 148


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rebeccapurple", (0x66, 0x33, 0x99, 1.0)),
        ("red", (255, 0, 0, 1.0)),
        ("green", (0, 128, 0, 1.0)),
        ("gray", (128, 128, 128, 1.0)),
        ("grey", (128, 128, 128, 1.0)),
        ("darkslategrey", (47, 79, 79, 1.0)),
        ("lightgoldenrodyellow", (250, 250, 210, 1.0)),
        ("transparent", (0, 0, 0, 0.0)),
    ],
)
def test_named(value: str, expected: tuple[int, int, int, float]) -> None:
    assert rgba(value) == expected


# --- case and whitespace --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "same_as"),
    [
        ("#ABCDEF", "#abcdef"),
        ("#AbC", "#abc"),
        ("RED", "red"),
        ("RebeccaPurple", "rebeccapurple"),
        ("TRANSPARENT", "transparent"),
        ("RGB(255, 0, 0)", "rgb(255, 0, 0)"),
        ("RgBa(1 2 3 / 50%)", "rgba(1 2 3 / 50%)"),
        ("HsLa(120, 100%, 25%, .5)", "hsla(120, 100%, 25%, .5)"),
        ("hsl(0.5TURN 100% 50%)", "hsl(0.5turn 100% 50%)"),
        ("hsl(3RAD 100% 50%)", "hsl(3rad 100% 50%)"),
        ("hsl(100GRAD 100% 50%)", "hsl(100grad 100% 50%)"),
        ("hsl(90DEG 100% 50%)", "hsl(90deg 100% 50%)"),
        ("rgb(1E2 0 0)", "rgb(100 0 0)"),
        ("  red\n", "red"),
        ("\t#fff ", "#fff"),
        ("\r\f rgb(1 2 3) \n", "rgb(1 2 3)"),
    ],
)
def test_case_insensitive_and_trimmed(value: str, same_as: str) -> None:
    assert parse_color(value) == parse_color(same_as)


# --- rejections -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("currentColor", "keyword 'currentcolor' is not supported"),
        ("inherit", "keyword 'inherit' is not supported"),
        ("initial", "not supported"),
        ("none", "keyword 'none' is not supported"),
        ("url(#x)", "url() is not supported"),
        ("var(--x)", "var() is not supported"),
        ("hwb(0 0% 0%)", "hwb() is not supported"),
        ("lab(50% 40 59)", "lab() is not supported"),
        ("lch(50% 40 59)", "lch() is not supported"),
        ("oklch(0.5 0.1 30)", "oklch() is not supported"),
        ("color(srgb 1 0 0)", "color() is not supported"),
        ("color-mix(in srgb, red, blue)", "color-mix() is not supported"),
        ("", "empty"),
        ("   ", "empty"),
        ("#", "3, 4, 6 or 8 digits"),
        ("#12", "3, 4, 6 or 8 digits"),
        ("#12345", "3, 4, 6 or 8 digits"),
        ("#1234567", "3, 4, 6 or 8 digits"),
        ("#123456789", "3, 4, 6 or 8 digits"),
        ("#ggg", "hex digits only"),
        ("#12 34 56", "hex digits only"),
        ("#+12", "hex digits only"),
        ("rgb(1,2)", "rgb() takes 3 values and an optional alpha"),
        ("rgb(1 2)", "rgb() takes 3 values and an optional alpha"),
        ("rgb()", "rgb() takes 3 values and an optional alpha"),
        ("rgb(1,2,3,4,5)", "rgb() takes 3 values and an optional alpha"),
        ("rgb(1 2 3 4)", "rgb() takes 3 values and an optional alpha"),
        ("rgb(1,2,3,)", "rgb() takes 3 values and an optional alpha"),
        ("rgb(,1,2,3)", "rgb() takes 3 values and an optional alpha"),
        ("rgb(1 2 3 /)", "rgb() takes 3 values and an optional alpha"),
        ("rgb(/ 1)", "rgb() takes 3 values and an optional alpha"),
        ("rgb(1 2 3 / 0.5 / 1)", "rgb() takes 3 values and an optional alpha"),
        ("rgb(1 2 3 / 0.5 1)", "rgb() takes 3 values and an optional alpha"),
        ("rgba(1, 2, 3 / 0.5)", "rgba() cannot mix commas with '/'"),
        ("rgb(1, 2 3)", "cannot mix commas and spaces"),
        ("rgb(1 2 3, 0.5)", "cannot mix commas and spaces"),
        ("rgb(255, 0%, 0)", "cannot mix numbers and percentages"),
        ("rgb(255 0% 0)", "cannot mix numbers and percentages"),
        ("rgb(100% 0% 0 / 1)", "cannot mix numbers and percentages"),
        ("rgb(1deg 2 3)", "rgb() values must be numbers or percentages"),
        ("rgb(1 2 3 / 1deg)", "alpha must be a number or a percentage"),
        ("rgb(1px 2px 3px)", "'1px' is not a number"),
        ("rgb(one 2 3)", "'one' is not a number"),
        ("rgb(1. 2 3)", "'1.' is not a number"),
        ("rgb(1 2 3 / .)", "'.' is not a number"),
        ("rgb(--1 2 3)", "'--1' is not a number"),
        ("rgb(1e 2 3)", "'1e' is not a number"),
        ("rgb(none 0 0)", "'none' is not a number"),
        ("rgb(inf 0 0)", "'inf' is not a number"),
        ("rgb(nan 0 0)", "'nan' is not a number"),
        ("rgb(0x10 0 0)", "'0x10' is not a number"),
        ("rgb(1_0 0 0)", "'1_0' is not a number"),
        ("rgb(calc(1) 0 0)", "is not a number"),
        ("rgb(1e999 0 0)", "'1e999' is out of range"),
        ("hsl(1e308rad 50% 50%)", "'1e308rad' is out of range"),
        ("hsl(1e307turn 50% 50%)", "'1e307turn' is out of range"),
        ("hsl(10, 20%)", "hsl() takes 3 values and an optional alpha"),
        ("hsl(10, 20, 30)", "hsl() saturation and lightness must be percentages"),
        ("hsla(10, 20%, 30)", "hsla() saturation and lightness must be percentages"),
        ("hsl(10 20deg 30%)", "hsl() saturation and lightness must be percentages or numbers"),
        ("hsl(10% 20% 30%)", "hue must be a number or an angle"),
        ("hsl(10px 20% 30%)", "'10px' is not a number"),
        ("hsl(1 2% 3% / 1turn)", "alpha must be a number or a percentage"),
        ("rgb (1 2 3)", "malformed function call"),
        ("rgb(1 2 3", "malformed function call"),
        ("rgb(1 2 3))", "'3)' is not a number"),
        ("red blue", "unknown colour name or syntax"),
        ("reed", "unknown colour name or syntax"),
        ("red;", "unknown colour name or syntax"),
        ("buttonface", "unknown colour name or syntax"),
        ("123", "unknown colour name or syntax"),
        ("blac\u212a", "non-ASCII"),  # KELVIN SIGN lower-cases to ASCII 'k'
        ("rgb(\u0661, 2, 3)", "non-ASCII"),  # ARABIC-INDIC DIGIT ONE, which float() accepts
        ("red\u00a0", "non-ASCII"),
        ("\vred", "unknown colour name or syntax"),  # only space, tab, LF, CR, FF are trimmed
        ("red\x1f", "unknown colour name or syntax"),
        ("rgb(1\v2 3 4)", "'1\\x0b2' is not a number"),  # \v is not CSS whitespace
    ],
)
def test_rejected(value: str, reason: str) -> None:
    with pytest.raises(ColorError) as info:
        parse_color(value)
    message = str(info.value)
    assert message.startswith(f"{value!r} is not a CSS colour: ")
    assert reason in message


def test_error_message_has_exact_wording() -> None:
    with pytest.raises(ColorError) as info:
        parse_color("hsl(10, 20%)")
    assert str(info.value) == (
        "'hsl(10, 20%)' is not a CSS colour: hsl() takes 3 values and an optional alpha"
    )


def test_length_limit() -> None:
    at_limit = "rgb(" + " " * 52 + "1, 2, 3)"
    assert len(at_limit) == 64
    assert rgba(at_limit) == (1, 2, 3, 1.0)
    over = " " + at_limit
    with pytest.raises(ColorError, match="longer than 64 characters"):
        parse_color(over)


def test_long_value_is_truncated_in_message() -> None:
    value = "#" + "a" * 10_000
    with pytest.raises(ColorError) as info:
        parse_color(value)
    message = str(info.value)
    assert message.startswith(repr(value[:64]) + "... is not a CSS colour")
    assert len(message) < 200


def test_color_error_is_value_error_and_pickles() -> None:
    with pytest.raises(ValueError) as info:
        parse_color("nope")
    assert isinstance(info.value, ColorError)
    copy = pickle.loads(pickle.dumps(info.value))  # crosses process-pool boundaries
    assert type(copy) is ColorError
    assert str(copy) == str(info.value)


# --- Color ----------------------------------------------------------------------------------


def test_hex_and_canonical() -> None:
    opaque = Color(171, 205, 239, 1.0)
    assert opaque.hex == "#abcdef"
    assert opaque.canonical == "#abcdef"
    translucent = Color(1, 2, 3, 0.5)
    assert translucent.hex == "#010203"
    assert translucent.canonical == "#01020380"
    assert Color(0, 0, 0, 0.0).canonical == "#00000000"
    # alpha that is 1 at 8-bit precision has no alpha digits, so canonical stays unique
    assert Color(0, 0, 0, 0.999).canonical == "#000000"


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("red", "#ff0000"),
        ("transparent", "#00000000"),
        ("#0F08", "#00ff0088"),
        ("rgb(255 0 0 / 50%)", "#ff000080"),
        ("hsl(0.5turn 100% 50% / 0.25)", "#00ffff40"),
        ("hsl(120, 100%, 25%)", "#008000"),
    ],
)
def test_canonical_of_parsed(value: str, canonical: str) -> None:
    assert parse_color(value).canonical == canonical


def test_color_is_frozen_slotted_and_hashable() -> None:
    c = Color(1, 2, 3, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.r = 4  # type: ignore[misc]
    assert not hasattr(c, "__dict__")
    assert {c, Color(1, 2, 3, 1.0)} == {c}


@pytest.mark.parametrize(
    ("r", "g", "b", "alpha"),
    [
        (256, 0, 0, 1.0),
        (0, -1, 0, 1.0),
        (0, 0, 1.5, 1.0),
        (0, 0, 0, 1.01),
        (0, 0, 0, -0.1),
        (0, 0, 0, math.nan),
    ],
)
def test_color_rejects_out_of_range(r: int, g: int, b: int, alpha: float) -> None:
    with pytest.raises(ValueError):
        Color(r, g, b, alpha)


# --- alpha precision and round trips --------------------------------------------------------


@pytest.mark.parametrize("a8", range(256))
def test_every_8_bit_alpha_round_trips(a8: int) -> None:
    c = parse_color(f"#102030{a8:02x}")
    assert c.alpha == round(c.alpha, 3)
    assert abs(c.alpha * 255 - a8) <= 0.5
    assert c.canonical == ("#102030" if a8 == 255 else f"#102030{a8:02x}")
    assert parse_color(c.canonical) == c


def test_distinct_8_bit_alphas_stay_distinct() -> None:
    alphas = {parse_color(f"#000000{a8:02x}").alpha for a8 in range(256)}
    assert len(alphas) == 256


@given(
    r=st.integers(0, 255),
    g=st.integers(0, 255),
    b=st.integers(0, 255),
    a8=st.integers(0, 255),
)
def test_canonical_round_trips(r: int, g: int, b: int, a8: int) -> None:
    c = parse_color(f"#{r:02x}{g:02x}{b:02x}{a8:02x}")
    assert (c.r, c.g, c.b) == (r, g, b)
    assert parse_color(c.canonical) == c
    assert parse_color(c.canonical.upper()) == c
    assert parse_color(f"rgb({r} {g} {b} / {c.alpha})") == c


@given(
    r=st.floats(-300, 600, allow_nan=False),
    g=st.floats(-300, 600, allow_nan=False),
    b=st.floats(-300, 600, allow_nan=False),
    alpha=st.floats(-1, 2, allow_nan=False),
)
def test_rgb_with_any_alpha_round_trips(r: float, g: float, b: float, alpha: float) -> None:
    c = parse_color(f"rgb({r:.3f} {g:.3f} {b:.3f} / {alpha:.6f})")
    assert 0 <= c.r <= 255
    assert 0 <= c.g <= 255
    assert 0 <= c.b <= 255
    # 8-bit quantisation (≤ 0.5/255) plus the short decimal that names the same 8-bit value
    # (≤ 0.5/255 again): within 1/255 of the input.
    assert abs(c.alpha - min(max(alpha, 0.0), 1.0)) <= 1 / 255 + 1e-9
    assert parse_color(c.canonical) == c


@given(st.text())
def test_arbitrary_text_raises_only_color_error(value: str) -> None:
    try:
        c = parse_color(value)
    except ColorError as exc:
        message = str(exc)
    else:
        assert parse_color(c.canonical) == c
        return
    assert repr(value[:64]) in message


_CSSISH = st.text(alphabet="rgbahsl()#,/%. \t0123456789abcdef+-eEdgturn", max_size=40)


@given(_CSSISH)
def test_css_like_text_raises_only_color_error(value: str) -> None:
    try:
        c = parse_color(value)
    except ColorError:
        return
    assert parse_color(c.canonical) == c

"""Parse CSS colour values into 8-bit sRGB channels and an alpha that CairoSVG draws correctly."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["Color", "ColorError", "parse_color"]

_MAX_LENGTH: Final = 64
# CSS whitespace only: str.strip()/split() would also accept \v and \x1c-\x1f.
_CSS_WS: Final = " \t\n\r\f"
_WS_RE: Final = re.compile(r"[ \t\n\r\f]+")
_HEX_RE: Final = re.compile(r"[0-9a-f]*", re.ASCII)
_FUNCTION_RE: Final = re.compile(r"([a-z][a-z0-9-]*)\((.*)\)", re.ASCII | re.DOTALL)
_TOKEN_RE: Final = re.compile(
    r"([+-]?(?:[0-9]+|[0-9]*\.[0-9]+)(?:e[+-]?[0-9]+)?)(%|deg|grad|rad|turn)?", re.ASCII
)
_UNSUPPORTED_KEYWORDS: Final = frozenset(
    {"currentcolor", "inherit", "initial", "unset", "revert", "revert-layer", "none"}
)


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _clamp(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


def _alpha_for_a8(a8: int) -> float:
    """Shortest 2- or 3-decimal alpha that maps back to ``a8`` (CSS Color 4 serialisation)."""
    short = round(a8 / 255, 2)
    if _round_half_up(short * 255) == a8:
        return short
    return round(a8 / 255, 3)


# Every alpha a Color gets from parsing is one of these 256 values, so canonical (#rrggbbaa)
# and parse_color round-trip exactly; CairoSVG rasterises to 8-bit alpha anyway.
_ALPHA_BY_A8: Final = tuple(_alpha_for_a8(a8) for a8 in range(256))


@dataclass(frozen=True, slots=True)
class Color:
    """An sRGB colour: 8-bit channels and an alpha in 0..1 rounded to at most 3 decimals.

    ``parse_color`` quantises alpha to 8 bits (the precision of ``canonical`` and of the
    rasteriser) and stores the shortest decimal of 2 or 3 places that maps back to the same
    8-bit value, so ``/ 0.5`` stays 0.5 and ``#0f08`` becomes 0.533. Hence
    ``parse_color(c.canonical) == c`` for every parsed ``c``.
    """

    r: int  # 0..255
    g: int
    b: int
    alpha: float  # 0..1, rounded to 3 decimals

    def __post_init__(self) -> None:
        for channel in (self.r, self.g, self.b):
            if not isinstance(channel, int) or not 0 <= channel <= 255:
                raise ValueError(f"colour channel must be an int in 0..255, got {channel!r}")
        if not 0.0 <= self.alpha <= 1.0:  # also rejects NaN
            raise ValueError(f"alpha must be in 0..1, got {self.alpha!r}")

    @property
    def hex(self) -> str:
        """The colour without alpha as ``#rrggbb`` in lower case."""
        return f"#{self.r:02x}{self.g:02x}{self.b:02x}"

    @property
    def canonical(self) -> str:
        """``#rrggbb`` when alpha is 1 (in 8 bits), else ``#rrggbbaa``; parses back to ``self``."""
        a8 = _round_half_up(self.alpha * 255)
        return self.hex if a8 == 255 else f"{self.hex}{a8:02x}"


class ColorError(ValueError):
    """A value is not a CSS colour PixelDrive accepts; the message names the value and why."""


class _Rejected(Exception):
    """Internal: carries the reason; parse_color adds the offending value."""


def _message(value: str, reason: str) -> str:
    shown = repr(value[:_MAX_LENGTH]) + ("..." if len(value) > _MAX_LENGTH else "")
    return f"{shown} is not a CSS colour: {reason}"


def parse_color(value: str) -> Color:
    """Parse a CSS Color 4 value (hex, rgb[a](), hsl[a](), a named colour or ``transparent``).

    Raises ColorError for anything else, including values longer than 64 characters.
    """
    try:
        return _parse(value)
    except _Rejected as exc:
        raise ColorError(_message(value, str(exc))) from None


def _parse(value: str) -> Color:
    if len(value) > _MAX_LENGTH:
        raise _Rejected(f"longer than {_MAX_LENGTH} characters")
    # Checked before lower(), which maps some non-ASCII letters (e.g. the Kelvin sign) to ASCII.
    if not value.isascii():
        raise _Rejected("contains non-ASCII characters")
    text = value.strip(_CSS_WS).lower()
    if not text:
        raise _Rejected("the value is empty")
    if text.startswith("#"):
        return _parse_hex(text[1:])
    call = _FUNCTION_RE.fullmatch(text)
    if call is not None:
        return _parse_function(call.group(1), call.group(2))
    return _parse_name(text)


def _parse_hex(digits: str) -> Color:
    if not _HEX_RE.fullmatch(digits):
        raise _Rejected("'#' must be followed by hex digits only")
    if len(digits) not in (3, 4, 6, 8):
        raise _Rejected("a hex colour takes 3, 4, 6 or 8 digits")
    if len(digits) <= 4:
        digits = "".join(digit * 2 for digit in digits)
    values = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
    a8 = values[3] if len(values) == 4 else 255
    return Color(values[0], values[1], values[2], _ALPHA_BY_A8[a8])


def _parse_name(name: str) -> Color:
    if name == "transparent":
        return Color(0, 0, 0, 0.0)
    rgb = _NAMED_COLORS.get(name)
    if rgb is not None:
        return Color(*rgb, 1.0)
    if name in _UNSUPPORTED_KEYWORDS:
        raise _Rejected(f"the keyword {name!r} is not supported; give an explicit colour")
    if "(" in name or ")" in name:
        raise _Rejected("malformed function call")
    raise _Rejected("unknown colour name or syntax")


def _parse_function(name: str, args: str) -> Color:
    parser = _FUNCTIONS.get(name)
    if parser is None:
        raise _Rejected(f"{name}() is not supported; use #hex, rgb(), hsl() or a colour name")
    return parser(name, args)


def _split_args(name: str, args: str) -> tuple[list[str], str | None, bool]:
    """Split function arguments into (three components, alpha token or None, legacy?)."""
    arity = f"{name}() takes 3 values and an optional alpha"
    if "," in args:
        if "/" in args:
            raise _Rejected(f"{name}() cannot mix commas with '/'")
        parts = [part.strip(_CSS_WS) for part in args.split(",")]
        if any(_WS_RE.search(part) for part in parts):
            raise _Rejected(f"{name}() cannot mix commas and spaces between values")
        if len(parts) not in (3, 4) or not all(parts):
            raise _Rejected(arity)
        return parts[:3], (parts[3] if len(parts) == 4 else None), True
    main, slash, alpha = args.partition("/")
    stripped = main.strip(_CSS_WS)
    components = _WS_RE.split(stripped) if stripped else []
    alpha = alpha.strip(_CSS_WS)
    if len(components) != 3 or (slash and (not alpha or _WS_RE.search(alpha))):
        raise _Rejected(arity)
    return components, (alpha if slash else None), False


def _number(token: str) -> tuple[float, str]:
    """Parse a CSS number with an optional unit into (value, unit or '')."""
    match = _TOKEN_RE.fullmatch(token)
    if match is None:
        raise _Rejected(f"{token!r} is not a number")
    number = float(match.group(1))
    if not math.isfinite(number):
        raise _Rejected(f"{token!r} is out of range")
    return number, match.group(2) or ""


def _alpha(token: str | None) -> float:
    if token is None:
        return 1.0
    number, unit = _number(token)
    if unit == "%":
        a8 = _round_half_up(_clamp(number, 0.0, 100.0) * 255 / 100)
    elif unit == "":
        a8 = _round_half_up(_clamp(number, 0.0, 1.0) * 255)
    else:
        raise _Rejected("alpha must be a number or a percentage")
    return _ALPHA_BY_A8[a8]


def _parse_rgb(name: str, args: str) -> Color:
    components, alpha_token, _legacy = _split_args(name, args)
    values = [_number(token) for token in components]
    units = {unit for _, unit in values}
    if not units <= {"", "%"}:
        raise _Rejected(f"{name}() values must be numbers or percentages")
    if len(units) > 1:
        raise _Rejected(f"{name}() cannot mix numbers and percentages in r, g and b")
    if units == {"%"}:
        channels = [_round_half_up(_clamp(v, 0.0, 100.0) * 255 / 100) for v, _ in values]
    else:
        channels = [_round_half_up(_clamp(v, 0.0, 255.0)) for v, _ in values]
    return Color(channels[0], channels[1], channels[2], _alpha(alpha_token))


_DEGREES_PER_UNIT: Final = {"": 1.0, "deg": 1.0, "grad": 0.9, "turn": 360.0}


def _hue(token: str) -> float:
    number, unit = _number(token)
    if unit == "rad":
        degrees = math.degrees(number)
    elif unit in _DEGREES_PER_UNIT:
        degrees = number * _DEGREES_PER_UNIT[unit]
    else:
        raise _Rejected("hue must be a number or an angle (deg, rad, grad, turn)")
    if not math.isfinite(degrees):
        raise _Rejected(f"{token!r} is out of range")
    return degrees % 360.0


def _percentage(name: str, token: str, *, legacy: bool) -> float:
    number, unit = _number(token)
    if unit != "%" and (legacy or unit != ""):
        allowed = "percentages" if legacy else "percentages or numbers"
        raise _Rejected(f"{name}() saturation and lightness must be {allowed}")
    return _clamp(number, 0.0, 100.0) / 100


def _hsl_to_rgb(hue: float, sat: float, light: float) -> tuple[int, int, int]:
    """CSS Color 4 hslToRgb: hue in degrees, saturation and lightness in 0..1."""
    chroma = sat * min(light, 1 - light)

    def channel(n: int) -> int:
        k = (n + hue / 30) % 12
        return _round_half_up((light - chroma * max(-1, min(k - 3, 9 - k, 1))) * 255)

    return channel(0), channel(8), channel(4)


def _parse_hsl(name: str, args: str) -> Color:
    components, alpha_token, legacy = _split_args(name, args)
    hue = _hue(components[0])
    sat = _percentage(name, components[1], legacy=legacy)
    light = _percentage(name, components[2], legacy=legacy)
    return Color(*_hsl_to_rgb(hue, sat, light), _alpha(alpha_token))


_FUNCTIONS: Final[dict[str, Callable[[str, str], Color]]] = {
    "rgb": _parse_rgb,
    "rgba": _parse_rgb,
    "hsl": _parse_hsl,
    "hsla": _parse_hsl,
}

# The 148 named colours of CSS Color 4 (transparent is handled separately).
_NAMED_COLORS: Final[dict[str, tuple[int, int, int]]] = {
    "aliceblue": (240, 248, 255),
    "antiquewhite": (250, 235, 215),
    "aqua": (0, 255, 255),
    "aquamarine": (127, 255, 212),
    "azure": (240, 255, 255),
    "beige": (245, 245, 220),
    "bisque": (255, 228, 196),
    "black": (0, 0, 0),
    "blanchedalmond": (255, 235, 205),
    "blue": (0, 0, 255),
    "blueviolet": (138, 43, 226),
    "brown": (165, 42, 42),
    "burlywood": (222, 184, 135),
    "cadetblue": (95, 158, 160),
    "chartreuse": (127, 255, 0),
    "chocolate": (210, 105, 30),
    "coral": (255, 127, 80),
    "cornflowerblue": (100, 149, 237),
    "cornsilk": (255, 248, 220),
    "crimson": (220, 20, 60),
    "cyan": (0, 255, 255),
    "darkblue": (0, 0, 139),
    "darkcyan": (0, 139, 139),
    "darkgoldenrod": (184, 134, 11),
    "darkgray": (169, 169, 169),
    "darkgreen": (0, 100, 0),
    "darkgrey": (169, 169, 169),
    "darkkhaki": (189, 183, 107),
    "darkmagenta": (139, 0, 139),
    "darkolivegreen": (85, 107, 47),
    "darkorange": (255, 140, 0),
    "darkorchid": (153, 50, 204),
    "darkred": (139, 0, 0),
    "darksalmon": (233, 150, 122),
    "darkseagreen": (143, 188, 143),
    "darkslateblue": (72, 61, 139),
    "darkslategray": (47, 79, 79),
    "darkslategrey": (47, 79, 79),
    "darkturquoise": (0, 206, 209),
    "darkviolet": (148, 0, 211),
    "deeppink": (255, 20, 147),
    "deepskyblue": (0, 191, 255),
    "dimgray": (105, 105, 105),
    "dimgrey": (105, 105, 105),
    "dodgerblue": (30, 144, 255),
    "firebrick": (178, 34, 34),
    "floralwhite": (255, 250, 240),
    "forestgreen": (34, 139, 34),
    "fuchsia": (255, 0, 255),
    "gainsboro": (220, 220, 220),
    "ghostwhite": (248, 248, 255),
    "gold": (255, 215, 0),
    "goldenrod": (218, 165, 32),
    "gray": (128, 128, 128),
    "green": (0, 128, 0),
    "greenyellow": (173, 255, 47),
    "grey": (128, 128, 128),
    "honeydew": (240, 255, 240),
    "hotpink": (255, 105, 180),
    "indianred": (205, 92, 92),
    "indigo": (75, 0, 130),
    "ivory": (255, 255, 240),
    "khaki": (240, 230, 140),
    "lavender": (230, 230, 250),
    "lavenderblush": (255, 240, 245),
    "lawngreen": (124, 252, 0),
    "lemonchiffon": (255, 250, 205),
    "lightblue": (173, 216, 230),
    "lightcoral": (240, 128, 128),
    "lightcyan": (224, 255, 255),
    "lightgoldenrodyellow": (250, 250, 210),
    "lightgray": (211, 211, 211),
    "lightgreen": (144, 238, 144),
    "lightgrey": (211, 211, 211),
    "lightpink": (255, 182, 193),
    "lightsalmon": (255, 160, 122),
    "lightseagreen": (32, 178, 170),
    "lightskyblue": (135, 206, 250),
    "lightslategray": (119, 136, 153),
    "lightslategrey": (119, 136, 153),
    "lightsteelblue": (176, 196, 222),
    "lightyellow": (255, 255, 224),
    "lime": (0, 255, 0),
    "limegreen": (50, 205, 50),
    "linen": (250, 240, 230),
    "magenta": (255, 0, 255),
    "maroon": (128, 0, 0),
    "mediumaquamarine": (102, 205, 170),
    "mediumblue": (0, 0, 205),
    "mediumorchid": (186, 85, 211),
    "mediumpurple": (147, 112, 219),
    "mediumseagreen": (60, 179, 113),
    "mediumslateblue": (123, 104, 238),
    "mediumspringgreen": (0, 250, 154),
    "mediumturquoise": (72, 209, 204),
    "mediumvioletred": (199, 21, 133),
    "midnightblue": (25, 25, 112),
    "mintcream": (245, 255, 250),
    "mistyrose": (255, 228, 225),
    "moccasin": (255, 228, 181),
    "navajowhite": (255, 222, 173),
    "navy": (0, 0, 128),
    "oldlace": (253, 245, 230),
    "olive": (128, 128, 0),
    "olivedrab": (107, 142, 35),
    "orange": (255, 165, 0),
    "orangered": (255, 69, 0),
    "orchid": (218, 112, 214),
    "palegoldenrod": (238, 232, 170),
    "palegreen": (152, 251, 152),
    "paleturquoise": (175, 238, 238),
    "palevioletred": (219, 112, 147),
    "papayawhip": (255, 239, 213),
    "peachpuff": (255, 218, 185),
    "peru": (205, 133, 63),
    "pink": (255, 192, 203),
    "plum": (221, 160, 221),
    "powderblue": (176, 224, 230),
    "purple": (128, 0, 128),
    "rebeccapurple": (102, 51, 153),
    "red": (255, 0, 0),
    "rosybrown": (188, 143, 143),
    "royalblue": (65, 105, 225),
    "saddlebrown": (139, 69, 19),
    "salmon": (250, 128, 114),
    "sandybrown": (244, 164, 96),
    "seagreen": (46, 139, 87),
    "seashell": (255, 245, 238),
    "sienna": (160, 82, 45),
    "silver": (192, 192, 192),
    "skyblue": (135, 206, 235),
    "slateblue": (106, 90, 205),
    "slategray": (112, 128, 144),
    "slategrey": (112, 128, 144),
    "snow": (255, 250, 250),
    "springgreen": (0, 255, 127),
    "steelblue": (70, 130, 180),
    "tan": (210, 180, 140),
    "teal": (0, 128, 128),
    "thistle": (216, 191, 216),
    "tomato": (255, 99, 71),
    "turquoise": (64, 224, 208),
    "violet": (238, 130, 238),
    "wheat": (245, 222, 179),
    "white": (255, 255, 255),
    "whitesmoke": (245, 245, 245),
    "yellow": (255, 255, 0),
    "yellowgreen": (154, 205, 50),
}

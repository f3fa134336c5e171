"""A `filter` property's value: url() references and CSS filter functions (blur(),
drop-shadow(), brightness() …), each function as the primitives Filter Effects 1 defines
it with."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

ITEM_RE = re.compile(r"([a-zA-Z-]+)\(((?:[^()]|\([^()]*\))*)\)")
URL_RE = re.compile(r"""url\(\s*['"]?#([^'")\s]+)['"]?\s*\)""")
ANGLES = {"": 1.0, "deg": 1.0, "rad": 180 / math.pi, "grad": 0.9, "turn": 360.0}
LENGTH_RE = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)([a-zA-Z%]*)")
LENGTH_UNITS = {"": 1.0, "px": 1.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "q": 96 / 101.6}
LENGTH_UNITS |= {"in": 96.0, "pt": 96 / 72, "pc": 16.0}
DEFAULT_FONT_SIZE = 16.0  # CairoSVG's 12pt


class FakeNode(dict[str, Any]):
    """A primitive made for a filter function: CairoSVG's node interface (get, tag,
    children)."""

    def __init__(self, tag: str, children: list[FakeNode] | None = None, **attrs: Any) -> None:
        super().__init__(attrs)
        self["color-interpolation-filters"] = "sRGB"  # filter functions work in sRGB
        self.tag = tag
        self.children = children or []


@dataclass(slots=True)
class Functions:
    """The primitives of a run of filter functions, and how far they reach beyond the
    element (user units), for the region."""

    primitives: list[FakeNode] = field(default_factory=list)
    reach: float = 0.0


Item = str | Functions  # a filter's id, or filter functions


def parse(value: str, font_size: float = DEFAULT_FONT_SIZE) -> list[Item] | None:
    """The items of a filter value in order; None when it is invalid (then ignored).
    `font_size` (px) is what an em is in the functions' lengths."""
    items: list[Item] = []
    rest = value.strip()
    position = 0
    for match in ITEM_RE.finditer(rest):
        if rest[position : match.start()].strip():
            return None
        position = match.end()
        name, args = match.group(1).lower(), match.group(2)
        if name == "url":
            found = URL_RE.match(match.group(0))
            if found is None:
                return None
            items.append(found.group(1))
            continue
        if not items or not isinstance(items[-1], Functions):
            items.append(Functions())
        last = items[-1]
        assert isinstance(last, Functions)
        if not _function(name, args, last, font_size):
            return None
    return items if items and not rest[position:].strip() else None


def _amount(args: str, default: float = 1.0) -> float | None:
    text = args.strip()
    if not text:
        return default
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return None


def _transfer(slope: float, intercept: float = 0.0, alpha: bool = False) -> FakeNode:
    funcs = ("feFuncA",) if alpha else ("feFuncR", "feFuncG", "feFuncB")
    return FakeNode(
        "feComponentTransfer",
        [FakeNode(f, type="linear", slope=str(slope), intercept=str(intercept)) for f in funcs],
    )


def _matrix(rows: Any) -> FakeNode:
    values = []
    for row in rows:
        values += [*(f"{v:.6f}" for v in row), "0", "0"]
    values += ["0", "0", "0", "1", "0"]
    return FakeNode("feColorMatrix", type="matrix", values=" ".join(values))


def _function(name: str, args: str, out: Functions, font_size: float) -> bool:
    if name == "blur":
        tokens = _tokens(args)
        if tokens is None or len(tokens) > 1:
            return False
        deviation = _length(tokens[0], font_size) if tokens else 0.0
        if deviation is None or deviation < 0:
            return False
        out.primitives.append(FakeNode("feGaussianBlur", stdDeviation=str(deviation)))
        out.reach += 3 * deviation
        return True
    if name == "drop-shadow":
        return _drop_shadow(args, out, font_size)
    if name == "hue-rotate":
        tokens = _tokens(args)
        if tokens is None or len(tokens) > 1:
            return False
        angle = _angle(tokens[0]) if tokens else 0.0
        if angle is None:
            return False
        from pixeldrive.render.effects.color import hue_matrix  # numpy: only when used

        out.primitives.append(_matrix(hue_matrix(angle)))
        return True
    amount = _amount(args)
    if amount is None or amount < 0:
        return False
    if name in ("grayscale", "sepia", "invert", "opacity"):
        amount = min(amount, 1.0)
    primitive = _amount_function(name, amount)
    if primitive is None:
        return False
    out.primitives.append(primitive)
    return True


def _amount_function(name: str, amount: float) -> FakeNode | None:
    keep = 1 - amount
    if name == "brightness":
        return _transfer(amount)
    if name == "contrast":
        return _transfer(amount, -0.5 * amount + 0.5)
    if name == "saturate":
        from pixeldrive.render.effects.color import saturate_matrix  # numpy: only when used

        return _matrix(saturate_matrix(amount))
    if name == "opacity":
        return _transfer(amount, 0.0, alpha=True)
    if name == "invert":
        return _transfer(1 - 2 * amount, amount)
    if name == "grayscale":
        return _matrix(
            [
                (0.2126 + 0.7874 * keep, 0.7152 - 0.7152 * keep, 0.0722 - 0.0722 * keep),
                (0.2126 - 0.2126 * keep, 0.7152 + 0.2848 * keep, 0.0722 - 0.0722 * keep),
                (0.2126 - 0.2126 * keep, 0.7152 - 0.7152 * keep, 0.0722 + 0.9278 * keep),
            ]
        )
    if name == "sepia":
        return _matrix(
            [
                (0.393 + 0.607 * keep, 0.769 - 0.769 * keep, 0.189 - 0.189 * keep),
                (0.349 - 0.349 * keep, 0.686 + 0.314 * keep, 0.168 - 0.168 * keep),
                (0.272 - 0.272 * keep, 0.534 - 0.534 * keep, 0.131 + 0.869 * keep),
            ]
        )
    return None


def _drop_shadow(args: str, out: Functions, font_size: float) -> bool:
    """drop-shadow(<color>? <dx> <dy> <blur>?), the colour before or after the lengths;
    without one, currentColor."""
    tokens = _tokens(args)
    if not tokens:
        return False
    values = [_length(token, font_size) for token in tokens]
    colors = [i for i, v in enumerate(values) if v is None]
    if len(colors) > 1 or (colors and colors[0] not in (0, len(tokens) - 1)):
        return False
    color = tokens[colors[0]] if colors else "currentColor"
    lengths = [v for v in values if v is not None]
    if len(lengths) not in (2, 3) or (len(lengths) == 3 and lengths[2] < 0):
        return False
    dx, dy = lengths[0], lengths[1]
    deviation = lengths[2] if len(lengths) == 3 else 0.0
    shadow = FakeNode("feDropShadow", dx=str(dx), dy=str(dy), stdDeviation=str(deviation))
    shadow["flood-color"] = color
    out.primitives.append(shadow)
    out.reach += 3 * deviation + max(abs(dx), abs(dy))
    return True


def _tokens(args: str) -> list[str] | None:
    """The arguments split at white space, a parenthesised colour kept whole; None when
    they are separated by commas (not allowed in filter functions)."""
    tokens: list[str] = []
    depth = 0
    current = ""
    for char in args:
        depth += (char == "(") - (char == ")")
        if depth == 0 and char == ",":
            return None
        if depth == 0 and char.isspace():
            tokens += [current] if current else []
            current = ""
        else:
            current += char
    return tokens + ([current] if current else [])


def _length(token: str, font_size: float) -> float | None:
    """A CSS length in px (a bare number is px, as in SVG attributes); None when the token
    is no length (a percentage is none: filter functions do not take them)."""
    match = LENGTH_RE.fullmatch(token)
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit in ("em", "ex"):
        return number * font_size * (1.0 if unit == "em" else 0.5)
    scale = LENGTH_UNITS.get(unit)
    return None if scale is None else number * scale


def _angle(token: str) -> float | None:
    """A CSS angle in degrees (a bare number is degrees); None when the token is none."""
    match = LENGTH_RE.fullmatch(token)
    if match is None or match.group(2).lower() not in ANGLES:
        return None
    return float(match.group(1)) * ANGLES[match.group(2).lower()]

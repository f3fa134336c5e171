"""A `filter` property's value: url() references and CSS filter functions (blur(),
drop-shadow(), brightness() …), each function as the primitives Filter Effects 1 defines
it with."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from pixeldrive.render.effects.color import hue_matrix, saturate_matrix
from pixeldrive.render.effects.frame import numbers

ITEM_RE = re.compile(r"([a-zA-Z-]+)\(((?:[^()]|\([^()]*\))*)\)")
URL_RE = re.compile(r"""url\(\s*['"]?#([^'")\s]+)['"]?\s*\)""")
ANGLES = {"deg": 1.0, "rad": 180 / math.pi, "grad": 0.9, "turn": 360.0}


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


def parse(value: str) -> list[Item] | None:
    """The items of a filter value in order; None when it is invalid (then ignored)."""
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
        if not _function(name, args, last):
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


def _function(name: str, args: str, out: Functions) -> bool:
    if name == "blur":
        found = numbers(args) or [0.0]
        if found[0] < 0:
            return False
        out.primitives.append(FakeNode("feGaussianBlur", stdDeviation=str(found[0])))
        out.reach += 3 * found[0]
        return True
    if name == "drop-shadow":
        return _drop_shadow(args, out)
    if name == "hue-rotate":
        match = re.fullmatch(r"\s*([-+\d.eE]+)\s*([a-z]*)\s*", args)
        angle = float(match.group(1)) * ANGLES.get(match.group(2) or "deg", 1.0) if match else 0.0
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


def _drop_shadow(args: str, out: Functions) -> bool:
    """drop-shadow(<color>? <dx> <dy> <blur>?), the colour before or after the lengths."""
    lengths = re.findall(r"(?<![\w#(,.])[-+]?(?:\d+\.?\d*|\.\d+)(?:px)?(?![\w%(])", args)
    color = args
    for length in lengths:
        color = color.replace(length, " ", 1)
    color = color.strip() or "black"
    values = [float(v.removesuffix("px")) for v in lengths]
    if len(values) not in (2, 3) or (len(values) == 3 and values[2] < 0):
        return False
    dx, dy = values[0], values[1]
    deviation = values[2] if len(values) == 3 else 0.0
    shadow = FakeNode("feDropShadow", dx=str(dx), dy=str(dy), stdDeviation=str(deviation))
    shadow["flood-color"] = color
    out.primitives.append(shadow)
    out.reach += 3 * deviation + max(abs(dx), abs(dy))
    return True

"""SVG lengths and the pixel size of a document."""

from __future__ import annotations

import math
import re

from lxml import etree

from pixeldrive.core.errors import TemplateInvalid

# CSS absolute units at 96 px per inch, as Inkscape and CairoSVG both assume.
UNITS = {
    "": 1.0,
    "px": 1.0,
    "pt": 96 / 72,
    "pc": 16.0,
    "in": 96.0,
    "cm": 96 / 2.54,
    "mm": 96 / 25.4,
    "q": 96 / 101.6,
}
MAX_SIDE = 100_000
_LENGTH = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*")


def parse_length(value: str | None) -> float | None:
    """A length in px, or None when absent, relative (%, em) or unparseable."""
    if value is None:
        return None
    match = _LENGTH.fullmatch(value)
    if not match or match.group(2).lower() not in UNITS:
        return None
    length = float(match.group(1)) * UNITS[match.group(2).lower()]
    return length if math.isfinite(length) else None


def document_size(root: etree._Element) -> tuple[int, int]:
    """The intrinsic size in whole px: width/height attributes, else the viewBox."""
    width = parse_length(root.get("width"))
    height = parse_length(root.get("height"))
    box = view_box_size(root.get("viewBox"))
    if (width is None or height is None) and box is not None:
        bw, bh = box
        if width is None and height is None:
            width, height = bw, bh
        elif width is None:
            width = bw * (height or bh) / bh
        else:
            height = bh * width / bw
    if not width or not height or not math.isfinite(width * height) or min(width, height) <= 0:
        raise TemplateInvalid("the template has no usable width/height or viewBox")
    if max(width, height) > MAX_SIDE:
        raise TemplateInvalid(f"the template is larger than {MAX_SIDE} px on a side")
    return max(1, round(width)), max(1, round(height))


def view_box_size(value: str | None) -> tuple[float, float] | None:
    """The width and height of a viewBox attribute, or None when it is absent or unusable."""
    if not value:
        return None
    parts = value.replace(",", " ").split()
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)):
        return None
    if numbers[2] <= 0 or numbers[3] <= 0:
        return None
    return numbers[2], numbers[3]

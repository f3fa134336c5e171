"""The text properties of SVG elements, computed as CSS does: inherited down the tree,
presentation attributes under the `style` attribute, lengths and keywords in px."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from lxml import etree

from pixeldrive.templates.style import parse_families, parse_style

XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PX_PER = {
    "px": 1.0,
    "pt": 96 / 72,
    "pc": 16.0,
    "mm": 96 / 25.4,
    "cm": 96 / 2.54,
    "in": 96.0,
    "q": 96 / 101.6,
}
SIZE_KEYWORDS = {
    "xx-small": 9.0,
    "x-small": 10.0,
    "small": 13.0,
    "medium": 16.0,
    "large": 18.0,
    "x-large": 24.0,
    "xx-large": 32.0,
    "xxx-large": 48.0,
}
_LENGTH = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([a-z%]*)\s*", re.I)
TEXT_PROPERTIES = (
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "letter-spacing",
    "word-spacing",
    "text-anchor",
    "text-align",
    "line-height",
    "direction",
    "white-space",
    "text-decoration",
    "text-decoration-line",
    "baseline-shift",
    "shape-inside",
    "shape-padding",
    "inline-size",
)


@dataclass(frozen=True, slots=True)
class TextStyle:
    """Computed text properties of one element."""

    families: tuple[str, ...] = ("sans-serif",)
    size: float = 16.0
    weight: int = 400
    italic: bool = False
    letter_spacing: float = 0.0
    word_spacing: float = 0.0
    anchor: str = "start"
    line_height: float = 1.25  # a factor of the font size
    direction: str = ""  # "ltr" or "rtl" when declared; "" (SVG's ltr, or a field's auto)
    lang: str = ""  # BCP 47, from xml:lang or lang
    preserve: bool = False
    decoration: frozenset[str] = frozenset()
    baseline_shift: float = 0.0  # px up; not inherited


def declared(element: etree._Element) -> dict[str, str]:
    """The element's own text declarations: attributes, then its style (which wins)."""
    out = {name: element.get(name, "") for name in TEXT_PROPERTIES if element.get(name) is not None}
    style = parse_style(element.get("style"))
    for name in TEXT_PROPERTIES:
        if name in style:
            out[name] = style[name]
    space = element.get(XML_SPACE)
    if space is not None:
        out["xml:space"] = space
    lang = element.get(XML_LANG, element.get("lang"))
    if lang is not None:
        out["lang"] = lang
    return out


def computed(element: etree._Element, parent: TextStyle) -> TextStyle:
    props = declared(element)
    changes: dict[str, object] = {"baseline_shift": 0.0}
    size = parent.size
    if "font-size" in props:
        size = changes["size"] = font_size(props["font-size"], parent.size)
    for name, raw in props.items():
        reader = _READERS.get(name)
        if reader is not None:
            changes.update(reader(raw, size, parent))
    line = props.get("text-decoration-line", props.get("text-decoration"))
    if line is not None:
        changes["decoration"] = frozenset(line.split()) & {"underline", "line-through", "overline"}
    return replace(parent, **changes)  # type: ignore[arg-type]  # keys are TextStyle fields


def _families(raw: str, size: float, parent: TextStyle) -> dict[str, object]:
    families = parse_families(raw)
    return {"families": families} if families else {}


def _keyword(field: str, allowed: tuple[str, ...]) -> Reader:
    def read(raw: str, size: float, parent: TextStyle) -> dict[str, object]:
        value = raw.strip()
        return {field: value} if value in allowed else {}

    return read


Reader = Callable[[str, float, TextStyle], dict[str, object]]
_READERS: dict[str, Reader] = {
    "font-family": _families,
    "font-weight": lambda raw, size, parent: {"weight": font_weight(raw, parent.weight)},
    "font-style": lambda raw, size, parent: {"italic": raw.strip() in ("italic", "oblique")},
    "letter-spacing": lambda raw, size, parent: {"letter_spacing": spacing(raw, size)},
    "word-spacing": lambda raw, size, parent: {"word_spacing": spacing(raw, size)},
    "text-anchor": _keyword("anchor", ("start", "middle", "end")),
    "direction": _keyword("direction", ("ltr", "rtl")),
    "lang": lambda raw, size, parent: {"lang": raw.strip()},
    "line-height": lambda raw, size, parent: {"line_height": line_height(raw, size)},
    "xml:space": lambda raw, size, parent: {"preserve": raw.strip() == "preserve"},
    "white-space": lambda raw, size, parent: (
        {"preserve": True} if raw.strip().startswith("pre") else {}
    ),
    "baseline-shift": lambda raw, size, parent: {
        "baseline_shift": baseline_shift(raw, parent.size)
    },
}


def inherited(element: etree._Element) -> TextStyle:
    """The style an element inherits from its ancestors (root first)."""
    chain = [a for a in element.iterancestors() if isinstance(a.tag, str)]
    style = TextStyle()
    for ancestor in reversed(chain):
        style = computed(ancestor, style)
    return replace(style, baseline_shift=0.0)


def length(value: str, font_size: float, percent_of: float | None = None) -> float | None:
    match = _LENGTH.fullmatch(value)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit in ("", "px"):
        return number
    if unit in PX_PER:
        return number * PX_PER[unit]
    if unit == "em":
        return number * font_size
    if unit == "ex":
        return number * font_size / 2
    if unit == "%":
        return number / 100 * (font_size if percent_of is None else percent_of)
    return None


def font_size(value: str, parent: float) -> float:
    value = value.strip().lower()
    if value in SIZE_KEYWORDS:
        return SIZE_KEYWORDS[value]
    if value == "larger":
        return parent * 1.2
    if value == "smaller":
        return parent / 1.2
    size = length(value, parent)
    return size if size is not None and size >= 0 else parent


def font_weight(value: str, parent: int) -> int:
    value = value.strip().lower()
    if value == "normal":
        return 400
    if value == "bold":
        return 700
    if value == "bolder":
        return 400 if parent < 350 else 700 if parent < 550 else 900
    if value == "lighter":
        return 100 if parent < 550 else 400 if parent < 750 else 700
    try:
        return max(1, min(1000, round(float(value))))
    except ValueError:
        return parent


def spacing(value: str, size: float) -> float:
    if value.strip() == "normal":
        return 0.0
    return length(value, size) or 0.0


def line_height(value: str, size: float) -> float:
    value = value.strip()
    if value == "normal" or not size:
        return 1.25
    try:
        return float(value)
    except ValueError:
        pass
    px = length(value, size, percent_of=size)
    return px / size if px is not None else 1.25


def baseline_shift(value: str, parent_size: float) -> float:
    value = value.strip()
    # Inkscape's shifts, measured against its exports: 0.4 em up, 0.2 em down.
    if value == "super":
        return parent_size * 0.4
    if value == "sub":
        return -parent_size * 0.2
    if value == "baseline":
        return 0.0
    return length(value, parent_size) or 0.0

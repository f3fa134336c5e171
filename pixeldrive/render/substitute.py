"""Fill a copy of a parsed template with validated values, through lxml only."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from lxml import etree

from pixeldrive.render.qr import qr_group
from pixeldrive.templates.colors import parse_color
from pixeldrive.templates.fields import PLACEHOLDER_RE, ROLE, FieldSpec
from pixeldrive.templates.parser import SVG_NS, XLINK_NS, drop_attribute, local_name
from pixeldrive.templates.sizes import parse_length
from pixeldrive.templates.style import format_style, parse_style

IMAGE_FITS = {"cover": "xMidYMid slice", "contain": "xMidYMid meet", "fill": "none"}
XLINK_HREF = f"{{{XLINK_NS}}}href"


def fill_tree(
    root: etree._Element,
    fields: tuple[FieldSpec, ...],
    values: Mapping[str, Any],
    pick: tuple[int, ...] = (),
) -> tuple[etree._Element, list[etree._Element]]:
    """A filled copy of the document, and its elements at the indexes `pick` (taken
    before anything is filled: a QR code replaces its element by a group, which moves
    the indexes of everything after it). `root` is never modified; values must already
    be validated (the template's model); a None value keeps what the designer drew."""
    tree = copy.deepcopy(root)
    elements = list(tree.iter(etree.Element))
    picked = [elements[i] for i in pick]
    texts: dict[str, str] = {}
    holders: set[int] = set()
    for spec in fields:
        value = values.get(spec.name, spec.default)
        if spec.placeholders:
            texts[spec.name] = "" if value is None else str(value)
            holders.update(spec.placeholders)
        if value is not None:
            for index in spec.targets:
                SETTERS[spec.kind](elements[index], value, spec)
    if holders:
        _fill_placeholders([elements[i] for i in sorted(holders)], texts)
    return tree, picked


def _fill_placeholders(holders: list[etree._Element], values: dict[str, str]) -> None:
    # One pass per string: a value that itself contains "{{x}}" is never expanded again.
    def swap(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    for element in holders:
        if element.text:
            element.text = PLACEHOLDER_RE.sub(swap, element.text)
        if element.tail:
            element.tail = PLACEHOLDER_RE.sub(swap, element.tail)


def set_text(element: etree._Element, value: Any, spec: FieldSpec) -> None:
    """Replace the element's text; Inkscape's pre-wrapped lines are removed, and each line
    of the value becomes one line tspan placed the way Inkscape places them."""
    lines = [t for t in element.iter(etree.Element) if t.get(ROLE) == "line"]
    for extra in lines[1:]:
        parent = extra.getparent()
        if parent is not None:
            parent.remove(extra)
    parts = str(value).split("\n")
    if lines:
        target = lines[0]
    elif len(parts) > 1 and local_name(element) == "text":
        target = _first_line(element)
    else:
        target = element
    for child in list(target):
        target.remove(child)
    target.text = parts[0]
    if len(parts) > 1 and target is not element:
        _add_lines(element, target, parts[1:])


def _first_line(text: etree._Element) -> etree._Element:
    """Turn a plain <text> into one Inkscape line tspan, so more lines can follow it."""
    for child in list(text):
        text.remove(child)
    text.text = None
    line = etree.SubElement(text, f"{{{SVG_NS}}}tspan")
    line.set(ROLE, "line")
    for attr in ("x", "y"):
        if text.get(attr) is not None:
            line.set(attr, text.get(attr, ""))
    return line


def _add_lines(text: etree._Element, first: etree._Element, rest: list[str]) -> None:
    step = _line_step(text, first)
    y = parse_length(first.get("y") or text.get("y")) or 0.0
    anchor = first
    for line in rest:
        y += step
        tspan = etree.Element(first.tag, attrib={str(k): str(v) for k, v in first.attrib.items()})
        drop_attribute(tspan, "id")
        tspan.set("y", f"{y:g}")
        tspan.text = line
        anchor.addnext(tspan)
        anchor = tspan


def _line_step(text: etree._Element, first: etree._Element) -> float:
    """font-size × line-height, as Inkscape spaces lines: the line's own style first,
    then the text's; line-height unitless, in %, or a length."""
    style = parse_style(text.get("style")) | parse_style(first.get("style"))
    size = parse_length(style.get("font-size")) or parse_length(text.get("font-size")) or 16.0
    raw = style.get("line-height", "1.25").strip()
    if raw.endswith("%"):
        factor = _float(raw[:-1])
        return size * (factor / 100 if factor is not None else 1.25)
    factor = _float(raw)
    if factor is not None:
        return size * factor
    return parse_length(raw) or size * 1.25


def _float(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def set_color(element: etree._Element, value: Any, spec: FieldSpec) -> None:
    """Paint with the colour. Its alpha multiplies the opacity the designer gave that
    paint (a glow drawn at 8 % stays a glow in any accent colour)."""
    color = parse_color(str(value))
    style = parse_style(element.get("style"))
    if local_name(element) == "stop":
        paints = ["stop-color"]
    elif spec.paint == "both":
        paints = ["fill", "stroke"]
    else:
        paints = [spec.paint]
    for paint in paints:
        opacity = paint.removesuffix("-color") + "-opacity"
        authored = _opacity(style.get(opacity) or element.get(opacity))
        style[paint] = color.hex
        style[opacity] = f"{authored * color.alpha:.4g}"
        drop_attribute(element, paint)
        drop_attribute(element, opacity)
    element.set("style", format_style(style))


def _opacity(raw: str | None) -> float:
    if raw is None:
        return 1.0
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        return 1.0
    return min(1.0, max(0.0, value))


def set_show(element: etree._Element, value: Any, spec: FieldSpec) -> None:
    style = parse_style(element.get("style"))
    if value:
        style.pop("display", None)
        if element.get("display") == "none":
            drop_attribute(element, "display")
    else:
        style["display"] = "none"
    if style:
        element.set("style", format_style(style))
    else:
        drop_attribute(element, "style")


def set_number(element: etree._Element, value: Any, spec: FieldSpec) -> None:
    if spec.attr:
        element.set(spec.attr, f"{float(value):.4f}".rstrip("0").rstrip("."))


def set_image(element: etree._Element, value: Any, spec: FieldSpec) -> None:
    drop_attribute(element, "href")
    element.set(XLINK_HREF, str(value))
    element.set("preserveAspectRatio", IMAGE_FITS[spec.fit or "cover"])


def set_qr(element: etree._Element, value: Any, spec: FieldSpec) -> None:
    parent = element.getparent()
    if parent is None:
        return
    group = qr_group(element, str(value))
    group.tail = element.tail
    parent.replace(element, group)


SETTERS: dict[str, Callable[[etree._Element, Any, FieldSpec], None]] = {
    "text": set_text,
    "color": set_color,
    "show": set_show,
    "number": set_number,
    "image": set_image,
    "qr": set_qr,
}

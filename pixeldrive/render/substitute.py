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
from pixeldrive.templates.parser import XLINK_NS, drop_attribute, local_name
from pixeldrive.templates.sizes import parse_length
from pixeldrive.templates.style import format_style, parse_style

IMAGE_FITS = {"cover": "xMidYMid slice", "contain": "xMidYMid meet", "fill": "none"}
XLINK_HREF = f"{{{XLINK_NS}}}href"
_PX = re.compile(r"^\s*([0-9.]+)\s*px\s*$")


def fill(root: etree._Element, fields: tuple[FieldSpec, ...], values: Mapping[str, Any]) -> bytes:
    """The filled document as bytes. `root` is never modified; values must already be
    validated (the template's model); a None value keeps what the designer drew."""
    tree = copy.deepcopy(root)
    elements = list(tree.iter(etree.Element))
    placeholders: dict[str, str] = {}
    for spec in fields:
        value = values.get(spec.name, spec.default)
        if spec.marking == "placeholder":
            placeholders[spec.name] = "" if value is None else str(value)
        elif value is not None:
            for index in spec.targets:
                SETTERS[spec.kind](elements[index], value, spec)
    if placeholders:
        _fill_placeholders(elements, fields, placeholders)
    return etree.tostring(tree)


def _fill_placeholders(
    elements: list[etree._Element], fields: tuple[FieldSpec, ...], values: dict[str, str]
) -> None:
    def swap(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    indices = {i for spec in fields if spec.marking == "placeholder" for i in spec.targets}
    for index in indices:
        element = elements[index]
        if element.text:
            element.text = PLACEHOLDER_RE.sub(swap, element.text)
        if element.tail:
            element.tail = PLACEHOLDER_RE.sub(swap, element.tail)


def set_text(element: etree._Element, value: Any, spec: FieldSpec) -> None:
    """Replace the element's text; Inkscape's pre-wrapped lines are removed, and each line
    of the value becomes one line tspan placed the way Inkscape places them."""
    lines = [t for t in element.iter(etree.Element) if t.get(ROLE) == "line"]
    target = lines[0] if lines else element
    for extra in lines[1:]:
        parent = extra.getparent()
        if parent is not None:
            parent.remove(extra)
    for child in list(target):
        target.remove(child)
    parts = str(value).split("\n")
    target.text = parts[0]
    if len(parts) > 1 and lines:
        _add_lines(element, target, parts[1:])


def _add_lines(text: etree._Element, first: etree._Element, rest: list[str]) -> None:
    step = _line_step(text)
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


def _line_step(element: etree._Element) -> float:
    style = parse_style(element.get("style"))
    match = _PX.match(style.get("font-size", ""))
    size = float(match.group(1)) if match else 16.0
    try:
        height = float(style.get("line-height", "1.25"))
    except ValueError:
        height = 1.25
    return size * height


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
        if style.get("display") == "none":
            del style["display"]
    else:
        style["display"] = "none"
    element.set("style", format_style(style))


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

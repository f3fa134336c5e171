"""The `data-pd-*` options of a marked element, and the value a field shows by default."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from pixeldrive.core.errors import FieldProblem
from pixeldrive.templates.colors import ColorError, parse_color
from pixeldrive.templates.parser import SODIPODI_NS, XLINK_NS, local_name, text_of
from pixeldrive.templates.style import parse_style
from pixeldrive.templates.values import FLAGS

TEXT_FITS = ("none", "shrink", "wrap", "ellipsis")
IMAGE_FITS = ("cover", "contain", "fill")
PAINTS = ("fill", "stroke", "both")
ATTR_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]{0,63}")
FORBIDDEN_ATTRS = frozenset({"href", "style", "id", "class", "transform"})
ROLE = f"{{{SODIPODI_NS}}}role"


TEXT_DIRECTIONS = ("auto", "ltr", "rtl")


def int_option(raw: str | None) -> int | None:
    """A non-negative integer option, or None when absent or malformed."""
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw)


def _float(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def read(
    element: etree._Element, kind: str, problems: list[FieldProblem], where: str
) -> dict[str, Any]:
    """The options that apply to `kind`, checked; each bad one appends a problem."""
    out: dict[str, Any] = {}

    def take(name: str, key: str, parse: Any, allowed: tuple[str, ...] | None = None) -> None:
        raw = element.get(f"data-pd-{name}")
        if raw is None:
            return
        value = parse(raw)
        if value is None or (allowed is not None and value not in allowed):
            hint = f"; one of {', '.join(allowed)}" if allowed else ""
            problems.append(FieldProblem(where, f"data-pd-{name}={raw!r} is not valid{hint}"))
            return
        out[key] = value

    take("required", "required", lambda r: {"true": True, "false": False}.get(r.lower()))
    take("default", "default", str)
    if kind in ("text", "qr"):
        take("max-length", "max_length", int_option)
        take("pattern", "pattern", _regex)
    if kind == "text":
        take("fit", "fit", str, TEXT_FITS)
        take("max-lines", "max_lines", int_option)
        take("min-size", "min_size", _float)
        take("box", "box", lambda r: r if r.startswith("#") and len(r) > 1 else None)
        take("dir", "direction", str, TEXT_DIRECTIONS)
    if kind == "image":
        take("fit", "fit", str, IMAGE_FITS)
    if kind == "color":
        take("paint", "paint", str, PAINTS)
    if kind == "number":
        take("min", "minimum", _float)
        take("max", "maximum", _float)
        take("attr", "attr", _attribute_name)
        if "attr" not in out:
            problems.append(FieldProblem(where, "a number field needs data-pd-attr"))
        low, high = out.get("minimum"), out.get("maximum")
        if low is not None and high is not None and low > high:
            problems.append(
                FieldProblem(where, f"data-pd-min {low:g} is above data-pd-max {high:g}")
            )
    return out


def _regex(raw: str) -> str | None:
    try:
        re.compile(raw)
    except re.error:
        return None
    return raw


def _attribute_name(raw: str) -> str | None:
    # Never an event handler, a link or style: a number must not become script or a fetch.
    lowered = raw.lower()
    if not ATTR_RE.fullmatch(raw) or lowered.startswith("on") or lowered in FORBIDDEN_ATTRS:
        return None
    return raw


def authored_default(element: etree._Element, kind: str, declared: str | None) -> Any:
    """The declared `data-pd-default` (as written: the field's validator checks it when
    the template compiles), else what the designer drew (None: keep it as drawn)."""
    if kind == "show":
        if declared is None:
            style = parse_style(element.get("style"))
            return "none" not in (style.get("display"), element.get("display"))
        flag = declared.strip().lower()
        return FLAGS.get(flag, declared)
    if declared is not None:
        return declared
    if kind == "text":
        return authored_text(element)
    if kind == "color":
        return _color_default(_paint_of(element))
    return None  # number, image, qr: as drawn, or required


def authored_text(element: etree._Element) -> str:
    """The text as drawn: Inkscape lines (sodipodi:role="line" tspans) joined by newlines."""
    lines = [t for t in element.iter(etree.Element) if t.get(ROLE) == "line"]
    if lines:
        return "\n".join(text_of(t) for t in lines)
    return text_of(element)


def _paint_of(element: etree._Element) -> str | None:
    prop = "stop-color" if local_name(element) == "stop" else "fill"
    return parse_style(element.get("style")).get(prop) or element.get(prop)


def _color_default(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return parse_color(raw).canonical
    except ColorError:
        return None  # a gradient or `none`: the drawing stays as authored


def href_of(element: etree._Element) -> str | None:
    """An element's link, SVG 2 `href` first, then `xlink:href`."""
    return element.get("href") or element.get(f"{{{XLINK_NS}}}href")

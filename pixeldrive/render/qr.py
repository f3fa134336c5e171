"""QR codes as vector paths (segno), drawn into a placeholder element's box."""

from __future__ import annotations

import segno
from lxml import etree

from pixeldrive.render.job import JobError
from pixeldrive.templates.parser import SVG_NS
from pixeldrive.templates.sizes import parse_length

QUIET_ZONE = 2  # modules of light border inside the box; enough for phone scanners


def qr_group(element: etree._Element, value: str, dark: str = "#000000") -> etree._Element:
    """A `<g>` replacing `element` (a rect, or anything with x/y/width/height): a light
    background and one path of the dark modules, scaled to fit the box."""
    x, y, w, h = (parse_length(element.get(a)) or 0.0 for a in ("x", "y", "width", "height"))
    if w <= 0 or h <= 0:
        raise JobError(f"the QR placeholder {element.get('id')!r} has no width/height")
    try:
        code = segno.make(value, error="m", micro=False)
    except (segno.DataOverflowError, ValueError) as exc:
        raise JobError("the value does not fit in a QR code") from exc
    rows = [list(row) for row in code.matrix]
    count = len(rows) + 2 * QUIET_ZONE
    size = min(w, h)
    module = size / count
    left = x + (w - size) / 2 + QUIET_ZONE * module
    top = y + (h - size) / 2 + QUIET_ZONE * module
    group = etree.Element(f"{{{SVG_NS}}}g")
    for attr in ("id", "transform"):
        if element.get(attr) is not None:
            group.set(attr, element.get(attr, ""))
    background = etree.SubElement(group, f"{{{SVG_NS}}}rect")
    for attr, val in (("x", x), ("y", y), ("width", w), ("height", h)):
        background.set(attr, _num(val))
    background.set("fill", "#ffffff")
    path = etree.SubElement(group, f"{{{SVG_NS}}}path")
    path.set("d", _path_data(rows, left, top, module))
    path.set("fill", dark)
    path.set("shape-rendering", "crispEdges")
    return group


def _path_data(rows: list[list[int]], left: float, top: float, module: float) -> str:
    # One subpath per horizontal run of dark modules keeps the path short.
    parts: list[str] = []
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            parts.append(
                f"M{_num(left + start * module)} {_num(top + r * module)}"
                f"h{_num((c - start) * module)}v{_num(module)}h{_num(-(c - start) * module)}z"
            )
    return "".join(parts)


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")

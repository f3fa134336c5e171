"""Markers drawn by PixelDrive: CairoSVG's placement (vertices and angles), without its
faults. A marker without a viewBox is not scaled to its box (CairoSVG divides by its
content's bounding box, and raises when there is none), context-fill and context-stroke
take the marked shape's paint, and the shape's dashes do not carry into the marker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from math import pi, radians
from typing import Any

import cairocffi
from cairosvg.helpers import clip_marker_box, node_format, preserve_ratio, size
from cairosvg.surface import TAGS
from cairosvg.url import parse_url

MARKERS = ("marker", "marker-start", "marker-mid", "marker-end")
MARKED = frozenset({"path", "line", "polyline", "polygon"})
CONTEXT = {"context-fill": "fill", "context-stroke": "stroke"}


def marker_names(surface: Any, node: Any) -> dict[str, Any] | None:
    """The marker nodes for start, mid and end, or None when the shape has none."""
    if node.tag not in MARKED:
        return None
    common = parse_url(node.get("marker", "")).fragment
    found = {}
    for position in ("start", "mid", "end"):
        name = (
            parse_url(node.get(f"marker-{position}", "")).fragment
            if f"marker-{position}" in node
            else common
        )
        found[position] = surface.markers.get(name) if name else None
    return found if any(found.values()) else None


def _vertices(surface: Any, node: Any) -> list[Any]:
    """The shape's vertices and angles, as CairoSVG's shape handler records them."""
    scratch = cairocffi.Context(cairocffi.RecordingSurface(cairocffi.CONTENT_ALPHA, None))
    scratch.set_matrix(surface.context.get_matrix())
    outer = surface.context
    surface.context = scratch
    try:
        TAGS[node.tag](surface, node)
    finally:
        surface.context = outer
    return list(getattr(node, "vertices", None) or ())


def placements(vertices: list[Any]) -> Iterator[tuple[str, tuple[float, float], float]]:
    """(position, point, angle) of each vertex: CairoSVG's reading of the marker algorithm."""
    queue = list(vertices)
    angle2 = 0.0
    position = "start"
    while queue:
        point = queue.pop(0)
        angles = queue.pop(0) if queue else None
        if angles:
            angle = pi - angles[0] if position == "start" else (angle2 + pi - angles[0]) / 2
            angle2 = angles[1]
        else:
            angle = angle2
            position = "end"
        yield position, point, angle
        position = "mid" if angles else "start"


def draw_markers(
    surface: Any, node: Any, markers: dict[str, Any], draw: Callable[[Any], None]
) -> None:
    for position, point, angle in placements(_vertices(surface, node)):
        marker = markers[position]
        if marker is None:
            continue
        orient = str(marker.get("orient", "0")).strip()
        if orient == "auto-start-reverse" and position == "start":
            angle += pi
        elif orient not in ("auto", "auto-start-reverse"):
            try:
                angle = radians(float(orient.removesuffix("deg")))
            except ValueError:
                angle = 0.0
        _draw_one(surface, node, marker, point, angle, draw)


def _draw_one(
    surface: Any, node: Any, marker: Any, point: Any, angle: float, draw: Callable[[Any], None]
) -> None:
    context = surface.context
    context.save()
    context.set_dash([])
    context.translate(*point)
    context.rotate(angle)
    if marker.get("markerUnits") != "userSpaceOnUse":
        context.scale(size(surface, node.get("stroke-width", "1")))
    if node_format(surface, marker)[2]:
        scale_x, scale_y, translate_x, translate_y = preserve_ratio(surface, marker)
        clip = clip_marker_box(surface, marker, scale_x, scale_y)
        context.scale(scale_x, scale_y)
        context.translate(translate_x, translate_y)
    else:
        context.translate(
            -size(surface, marker.get("refX", "0"), "x"),
            -size(surface, marker.get("refY", "0"), "y"),
        )
        clip = (
            0.0,
            0.0,
            size(surface, marker.get("markerWidth", "3"), "x"),
            size(surface, marker.get("markerHeight", "3"), "y"),
        )
    if marker.get("overflow", "hidden") in ("hidden", "scroll"):
        context.rectangle(*clip)
        context.clip()
    with _context_paint(marker, node):
        for child in marker.children:
            draw(child)
    context.restore()


@contextmanager
def _context_paint(marker: Any, node: Any) -> Iterator[None]:
    """context-fill / context-stroke in the marker's content: the marked shape's paint."""
    with ExitStack() as stack:
        pending = list(marker.children)
        while pending:
            child = pending.pop()
            pending.extend(getattr(child, "children", ()))
            for prop in ("fill", "stroke"):
                source = CONTEXT.get(str(child.get(prop, "")).strip())
                if source is not None:
                    stack.enter_context(_set(child, prop, str(node.get(source, "none"))))
        yield


@contextmanager
def _set(node: Any, prop: str, value: str) -> Iterator[None]:
    old = node.get(prop)
    node[prop] = value
    try:
        yield
    finally:
        node[prop] = old

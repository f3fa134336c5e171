"""A `filter` property applied: its region, its sources, its filters run in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cairocffi
import numpy as np

from pixeldrive.render.effects import chain, cssfilter, drawing
from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.frame import Frame, Step
from pixeldrive.render.effects.geometry import Box, Placement, unit_rect
from pixeldrive.templates import effect_limits as limits

DEFAULT_REGION = (-0.1, -0.1, 1.2, 1.2)
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
INHERITED = ("x", "y", "width", "height", "filterUnits", "primitiveUnits")


def _linked(surface: Any, node: Any, name: str) -> Any:
    href = str(node.get(XLINK_HREF) or node.get("href") or "").strip()
    return surface.filters.get(href[1:]) if href.startswith("#") and href[1:] != name else None


def attribute(surface: Any, name: str, attr: str) -> Any:
    """A filter element's attribute, or the one of the filter it links to (href)."""
    node = surface.filters.get(name)
    for _ in range(8):
        if node is None:
            return None
        if node.get(attr) is not None:
            return node.get(attr)
        node = _linked(surface, node, name)
    return None


def primitives(surface: Any, name: str) -> list[Any]:
    node = surface.filters.get(name)
    for _ in range(8):
        if node is None:
            return []
        found = chain.primitives_of(node)
        if found:
            return found
        node = _linked(surface, node, name)
    return []


class _View(dict[str, Any]):
    """A filter's region attributes, the linked ones filled in."""


def region(surface: Any, items: list[cssfilter.Item], bbox: Box | None) -> Box | None:
    """The union of the items' filter regions in user space; None when one cannot be
    drawn (an unknown filter, a bounding box that is empty)."""
    rects: list[Box] = []
    for item in items:
        rect = item_region(surface, item, bbox)
        if rect is None:
            return None
        rects.append(rect)
    x0 = min(r[0] for r in rects)
    y0 = min(r[1] for r in rects)
    x1 = max(r[0] + r[2] for r in rects)
    y1 = max(r[1] + r[3] for r in rects)
    return x0, y0, x1 - x0, y1 - y0


def item_region(surface: Any, item: cssfilter.Item, bbox: Box | None) -> Box | None:
    """One filter's region in user space: a filter element's x/y/width/height (in
    bounding-box units by default), or around the box for filter functions."""
    if isinstance(item, str):
        if item not in surface.filters:
            return None
        view = _View({a: attribute(surface, item, a) for a in INHERITED})
        by_box = str(view.get("filterUnits") or "") != "userSpaceOnUse"
        rect = unit_rect(
            surface,
            {k: v for k, v in view.items() if v is not None},
            bbox,
            by_box,
            DEFAULT_REGION,
        )
    elif bbox is None:
        return None
    else:
        x, y, w, h = bbox
        reach = item.reach + 0.1 * max(w, h)
        rect = (x - reach, y - reach, w + 2 * reach, h + 2 * reach)
    if rect is None or not (rect[2] > 0 and rect[3] > 0):
        return None
    return rect


def apply(
    surface: Any,
    node: Any,
    items: list[cssfilter.Item],
    px: im.Array,
    placement: Placement,
    bbox: Box | None,
    draw: Callable[[Any], None],
) -> im.Array | None:
    """The element's pixels through its filters, or None when it is not drawn."""
    for item in items:
        if isinstance(item, str):
            prims = primitives(surface, item)
            by_box = str(attribute(surface, item, "primitiveUnits") or "") == "objectBoundingBox"
        else:
            prims, by_box = list(item.primitives), False
        if not prims:
            return None
        frame = _frame(surface, node, px, placement, bbox, by_box)
        frame.region = item_region(surface, item, bbox)
        result = chain.run(prims, frame, {"feImage": _fe_image(surface, placement, draw)})
        if result is None:
            return None
        px = result.px
    return px


def _frame(
    surface: Any, node: Any, px: im.Array, placement: Placement, bbox: Box | None, by_box: bool
) -> Frame:
    source = im.Img(px, False)

    def alpha() -> im.Img:
        out = np.zeros_like(px)
        out[..., 3] = px[..., 3]
        return im.Img(out, False)

    def back() -> im.Img:
        return im.Img(drawing.background(surface, placement), False)

    def back_alpha() -> im.Img:
        found = drawing.background(surface, placement)
        found[..., :3] = 0
        return im.Img(found, False)

    sources = {
        "SourceGraphic": lambda: source,
        "SourceAlpha": alpha,
        "BackgroundImage": back,
        "BackgroundAlpha": back_alpha,
        # Drawn by no renderer as SVG 1.1 defined them (Inkscape leaves them empty, its
        # code says to do); resvg, whose suite PixelDrive is measured on, reads the source.
        "FillPaint": lambda: source,
        "StrokePaint": lambda: source,
    }
    matrix = placement.user_to_pixels()
    return Frame(
        surface,
        node,
        placement.width,
        placement.height,
        matrix,
        bbox,
        by_box,
        surface.effect_budget,
        sources,
        surface.effect_depth,
    )


def _fe_image(surface: Any, placement: Placement, draw: Callable[[Any], None]) -> chain.Handler:
    """feImage of an element of the document (`href="#id"`), drawn as resvg and Chrome
    draw it: its user space scaled as the filtered element's and its origin at the
    subregion's corner. Other images are not read: transparent."""

    def handler(step: Step) -> im.Img:
        out = im.Img(im.blank(placement.height, placement.width), step.linear)
        href = str(step.prim.get(XLINK_HREF) or step.prim.get("href") or "").strip()
        if href[:5].lower() == "data:":
            px = drawing.draw_into(surface, placement, lambda: _picture(surface, step))
            return im.Img(im.in_space(im.Img(px, False), step.linear), step.linear)
        target = _element(step.prim, href[1:]) if href.startswith("#") else None
        if target is None or surface.effect_depth >= limits.MAX_FILTER_DEPTH:
            return out
        sx, sy = step.frame.scale
        matrix = cairocffi.Matrix(sx, 0, 0, sy, step.box[0], step.box[1])
        surface.effect_depth += 1
        try:
            px = drawing.draw_into(surface, placement, lambda: draw(target), matrix)
        finally:
            surface.effect_depth -= 1
        return im.Img(im.in_space(im.Img(px, False), step.linear), step.linear)

    return handler


def _picture(surface: Any, step: Step) -> None:
    """An embedded image (a data: URI, read by the template's fetcher and its limits)
    drawn by CairoSVG's <image> code into the primitive's subregion, with its
    preserveAspectRatio and image-rendering, as resvg and Chrome draw it."""
    from cairosvg.image import image

    prim = step.prim
    rect = step.frame.user_rect(prim)
    names = ("x", "y", "width", "height")
    saved = {name: prim[name] for name in names if name in prim}
    prim.update({name: repr(value) for name, value in zip(names, rect, strict=True)})
    prim.tag = "image"  # CairoSVG's aspect-ratio code reads it
    try:
        if rect[2] > 0 and rect[3] > 0:
            image(surface, prim)
    finally:
        prim.tag = "feImage"
        for name in names:
            prim.pop(name, None)
        prim.update(saved)


def _element(node: Any, ident: str) -> Any:
    root = node
    while getattr(root, "parent", None) is not None:
        root = root.parent
    stack = [root]
    while stack:
        current = stack.pop()
        if current.get("id") == ident:
            return current
        stack.extend(getattr(current, "children", ()))
    return None


def drop_recursive_filters(surface: Any) -> None:
    """An element a filter's feImage draws loses that same filter, on itself and on what it
    holds, as resvg resolves the loop: it is drawn plainly inside the image (and a filter
    whose feImage draws its own element leaves that element unfiltered)."""
    for name, filter_node in surface.filters.items():
        for prim in chain.primitives_of(filter_node):
            href = str(prim.get(XLINK_HREF) or prim.get("href") or "").strip()
            target = _element(prim, href[1:]) if prim.tag == "feImage" and href[:1] == "#" else None
            stack = [target] if target is not None else []
            while stack:
                node = stack.pop()
                if name in _filter_names(node):
                    node.pop("filter", None)
                stack.extend(getattr(node, "children", ()))


def _filter_names(node: Any) -> list[cssfilter.Item]:
    raw = str(node.get("filter") or "").strip()
    return (cssfilter.parse(raw) or []) if raw and raw != "none" else []

"""Which effects of an element PixelDrive draws itself: read from CairoSVG's node."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cairocffi
from cairosvg.helpers import size
from cairosvg.url import parse_url

from pixeldrive.render.effects import cssfilter
from pixeldrive.render.effects.blend import BLEND_MODES
from pixeldrive.render.effects.geometry import own
from pixeldrive.templates.style import parse_style

# CairoSVG hands every property but a few down to the children in its nodes: a blend
# mode or an isolation read from a child may be its parent's.
OWN_ONLY = ("mix-blend-mode", "isolation")
# Drawn by CairoSVG as definitions, or not at all: never an effect of their own.
PASSIVE = frozenset(
    {"defs", "clipPath", "mask", "marker", "pattern", "linearGradient", "radialGradient"}
    | {"filter", "symbol", "style", "title", "desc", "metadata"}
)
PARTS = ("fill", "stroke", "markers")


@dataclass(frozen=True, slots=True)
class Effects:
    """An element's filter items (None: no filter), mask node, blend operator, whether
    it isolates, and its opacity."""

    filters: list[cssfilter.Item] | None
    mask: Any
    operator: int
    isolate: bool
    opacity: float

    @property
    def raster(self) -> bool:
        return self.filters is not None or self.mask is not None


def styled(node: Any, name: str) -> str | None:
    """The node's own value of a CSS-only property (mix-blend-mode, isolation: no
    presentation attribute, so `mix-blend-mode="multiply"` is ignored as resvg and
    browsers ignore it)."""
    element = getattr(node, "xml_tree", None)
    if element is None:
        return own(node, name)  # a node made by PixelDrive
    if element.get(name) is not None and name not in parse_style(element.get("style")):
        return None
    return own(node, name)


def _opacity(node: Any) -> float:
    try:
        return max(0.0, min(1.0, float(node.get("opacity", 1))))
    except ValueError:
        return 1.0


def effects_of(surface: Any, node: Any) -> Effects | None:
    """The effects PixelDrive draws for `node`, or None to leave it all to CairoSVG."""
    if node.tag in PASSIVE:
        return None
    filters = _filters(surface, node)
    mask_name = parse_url(node.get("mask")).fragment
    mask = surface.masks.get(mask_name) if mask_name else None
    blend = (styled(node, "mix-blend-mode") or "normal").strip()
    operator = BLEND_MODES.get(blend, cairocffi.OPERATOR_OVER)
    isolate = (styled(node, "isolation") or "auto").strip() == "isolate" and bool(node.children)
    if filters is None and mask is None and operator == cairocffi.OPERATOR_OVER and not isolate:
        return None
    return Effects(filters, mask, operator, isolate, _opacity(node))


def _filters(surface: Any, node: Any) -> list[cssfilter.Item] | None:
    """The element's filter items; a url() naming no filter is skipped when others remain
    (as resvg and browsers draw `grayscale() url(#missing)`), and alone leaves the item
    that makes the element not drawn."""
    raw = str(node.get("filter") or "").strip()
    if not raw or raw == "none":
        return None
    items = cssfilter.parse(raw, size(surface, node.get("font-size", "12pt")))
    if items is None:
        return None
    known = [i for i in items if not isinstance(i, str) or i in surface.filters]
    return known or items


def paint_order(node: Any, drawable: bool) -> list[str] | None:
    """The order of a shape's fill, stroke and markers when it is not the usual one."""
    value = str(node.get("paint-order") or "").strip()
    if not value or value == "normal" or node.children or not drawable:
        return None
    tokens = value.split()
    if any(t not in PARTS for t in tokens) or len(set(tokens)) != len(tokens):
        return None  # invalid (an unknown or repeated part): the normal order, as CSS reads it
    order = tokens + [p for p in PARTS if p not in tokens]
    return None if order == list(PARTS) else order

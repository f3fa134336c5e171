"""Masks as SVG and CSS Masking 1 define them: luminance (the default) or alpha, in user
space or bounding-box units, a mask's own mask included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.drawing import draw_into
from pixeldrive.render.effects.geometry import Box, Placement, unit_rect

DEFAULT_RECT = (-0.1, -0.1, 1.2, 1.2)
MAX_NESTING = 8


def mask_type(mask_node: Any) -> str:
    return str(mask_node.get("mask-type") or "luminance").strip().lower()


def mask_rect(surface: Any, mask_node: Any, bbox: Box | None) -> Box | None:
    """The mask's rectangle in user space; None when it is empty."""
    by_box = str(mask_node.get("maskUnits") or "").strip() != "userSpaceOnUse"
    rect = unit_rect(surface, mask_node, bbox, by_box, DEFAULT_RECT)
    return rect if rect is not None and rect[2] > 0 and rect[3] > 0 else None


def coverage(
    surface: Any,
    mask_node: Any,
    bbox: Box | None,
    placement: Placement,
    draw: Callable[[Any], None],
    depth: int = 0,
) -> im.Array:
    """The mask's value (0…1) at every pixel of the placement: (height, width, 1)."""
    rect = mask_rect(surface, mask_node, bbox)
    zero = np.zeros((placement.height, placement.width, 1), np.float32)
    if rect is None:
        return zero
    content_by_box = str(mask_node.get("maskContentUnits") or "").strip() == "objectBoundingBox"
    if content_by_box and (bbox is None or bbox[2] <= 0 or bbox[3] <= 0):
        return zero

    def content() -> None:
        context = surface.context
        context.rectangle(*rect)
        context.clip()
        if content_by_box and bbox is not None:
            context.translate(bbox[0], bbox[1])
            context.scale(bbox[2], bbox[3])
        for child in mask_node.children:
            draw(child)

    px = draw_into(surface, placement, content)
    if mask_type(mask_node) == "alpha":
        value = px[..., 3:4]
    else:
        if str(mask_node.get("color-interpolation") or "").strip() == "linearRGB":
            px = im.in_space(im.Img(px, False), True)
        value = px[..., 0:1] * 0.2125 + px[..., 1:2] * 0.7154 + px[..., 2:3] * 0.0721
    inner = _own_mask(surface, mask_node)
    if inner is not None and depth < MAX_NESTING:
        value = value * coverage(surface, inner, bbox, placement, draw, depth + 1)
    return np.clip(value, 0.0, 1.0)


def _own_mask(surface: Any, mask_node: Any) -> Any:
    """A mask element's own mask (mask="url(#…)" on the <mask>), if it names one."""
    from cairosvg.url import parse_url

    name = parse_url(mask_node.get("mask")).fragment
    found = surface.masks.get(name) if name else None
    return found if found is not None and found is not mask_node else None

"""Drawing part of a document onto pixels of its own, and those pixels back into the
cairo drawing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cairocffi
import numpy as np

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.geometry import PixelBox, Placement
from pixeldrive.templates import effect_limits as limits

MARGIN = 256  # device pixels beyond the visible area a filter may read (offsets, tiles)


def raster_scale(surface: Any) -> float:
    """Pixels per device unit: 1 on an image surface; a vector surface (PDF) has its
    filtered elements rasterised at 2 pixels per point (144 dpi)."""
    target = surface.context.get_target()
    return 1.0 if isinstance(target, cairocffi.ImageSurface) else 2.0


def scaled(matrix: cairocffi.Matrix, k: float) -> cairocffi.Matrix:
    return cairocffi.Matrix(*(v * k for v in matrix.as_tuple()))


def visible(surface: Any, k: float) -> tuple[PixelBox, PixelBox]:
    """The device box that can show (the clip's extents, in pixels at scale k), and the
    same box with the margin a filter may read beyond it."""
    context = surface.context
    context.save()
    context.identity_matrix()
    x0, y0, x1, y1 = context.clip_extents()
    context.restore()
    box = (int(np.floor(x0 * k)), int(np.floor(y0 * k)), int(np.ceil(x1 * k)), int(np.ceil(y1 * k)))
    wide = (box[0] - MARGIN, box[1] - MARGIN, box[2] + MARGIN, box[3] + MARGIN)
    return box, wide


def fits(placement: Placement) -> bool:
    return placement.width * placement.height <= limits.MAX_REGION_PIXELS


def draw_into(
    surface: Any,
    placement: Placement,
    draw: Callable[[], None],
    matrix: cairocffi.Matrix | None = None,
) -> im.Array:
    """Run `draw` (CairoSVG drawing on `surface.context`) onto new pixels covering the
    placement, the user space as the placement's matrix has it (or as `matrix` maps it
    to those pixels); their premultiplied RGBA."""
    target = cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, placement.width, placement.height)
    context = cairocffi.Context(target)
    context.set_matrix(matrix or placement.user_to_pixels())
    outer = surface.context
    surface.context = context
    try:
        draw()
    finally:
        surface.context = outer
    return im.from_cairo(target)


def composite(surface: Any, px: im.Array, placement: Placement, operator: int, k: float) -> None:
    """Paint premultiplied pixels at the placement onto the drawing, with a cairo
    operator (a blend mode or over), inside the drawing's current clip."""
    source = im.to_cairo(px)
    context = surface.context
    context.save()
    context.identity_matrix()
    x0, y0 = placement.box[0], placement.box[1]
    pattern = cairocffi.SurfacePattern(source)
    pattern.set_matrix(cairocffi.Matrix(k, 0, 0, k, -x0, -y0))
    context.set_source(pattern)
    context.set_operator(operator)
    context.rectangle(x0 / k, y0 / k, placement.width / k, placement.height / k)
    context.fill()
    context.restore()


def background(surface: Any, placement: Placement) -> im.Array:
    """What is drawn so far under the placement (BackgroundImage): the pixels of the
    current drawing target; transparent where there are none (a vector surface)."""
    out = im.blank(placement.height, placement.width)
    target = surface.context.get_group_target()
    if not isinstance(target, cairocffi.ImageSurface):
        return out
    ox, oy = target.get_device_offset()
    pixels = im.from_cairo(target)
    x0, y0, x1, y1 = placement.box
    sx0, sy0 = int(x0 + ox), int(y0 + oy)
    height, width = pixels.shape[:2]
    cx0, cy0 = max(0, sx0), max(0, sy0)
    cx1, cy1 = min(width, sx0 + (x1 - x0)), min(height, sy0 + (y1 - y0))
    if cx1 > cx0 and cy1 > cy0:
        out[cy0 - sy0 : cy1 - sy0, cx0 - sx0 : cx1 - sx0] = pixels[cy0:cy1, cx0:cx1]
    return out

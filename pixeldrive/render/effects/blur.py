"""feGaussianBlur and feMorphology: three box blurs (Pillow, in C) and separable min/max."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageFilter

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.frame import Step
from pixeldrive.templates import effect_limits as limits

# The box size for a deviation s (Filter Effects 1, feGaussianBlur): three boxes of
# d = floor(s · 3·√(2π)/4 + 0.5) pixels approximate the Gaussian within 3 %.
BOX_FACTOR = 3 * math.sqrt(2 * math.pi) / 4
SMALL = 2.0  # below this deviation the boxes are too coarse: Pillow's extended boxes


def gaussian_blur(step: Step) -> im.Img:
    sx, sy = step.pair("stdDeviation", 0.0)
    source = step.pixels()
    if sx < 0 or sy < 0 or (sx == 0 and sy == 0):
        return im.Img(source.copy(), step.linear)
    dx, dy = step.frame.length(sx, "x"), step.frame.length(sy, "y")
    return im.Img(blur(source, abs(dx), abs(dy)), step.linear)


def blur(px: im.Array, sx: float, sy: float) -> im.Array:
    """`px` blurred with deviations sx, sy (pixels), as browsers do: three box blurs, so
    the cost does not grow with the radius. Transparent outside the image."""
    if sx <= 0 and sy <= 0:
        return px.copy()
    pad_x, pad_y = _reach(sx), _reach(sy)
    height, width = px.shape[:2]
    # A black shadow (Inkscape's Drop Shadow: black flood in the source's alpha) has
    # nothing but alpha: one channel blurred instead of four.
    alpha_only = not px[..., :3].any()
    channels = px[..., 3] if alpha_only else px
    padded = np.zeros((height + 2 * pad_y, width + 2 * pad_x, *channels.shape[2:]), np.uint8)
    padded[pad_y : pad_y + height, pad_x : pad_x + width] = im.to_bytes(channels)
    picture = Image.fromarray(padded, "L" if alpha_only else "RGBA")
    if max(sx, sy) < SMALL:
        picture = picture.filter(ImageFilter.GaussianBlur((sx, sy)))
    else:
        radius = (_box_radius(sx), _box_radius(sy))
        for _ in range(3):
            picture = picture.filter(ImageFilter.BoxBlur(radius))
    out = im.from_bytes(np.asarray(picture)[pad_y : pad_y + height, pad_x : pad_x + width])
    if not alpha_only:
        return out
    full = np.zeros_like(px)
    full[..., 3] = out
    return full


def _box_radius(s: float) -> float:
    """Pillow's box radius for the spec's box of d pixels (d even: half-weight ends)."""
    if s <= 0:
        return 0.0
    d = math.floor(s * BOX_FACTOR + 0.5)
    return max(0.0, (d - 1) / 2)


def _reach(s: float) -> int:
    return 0 if s <= 0 else math.ceil(3 * (_box_radius(s) + 1)) if s >= SMALL else math.ceil(3 * s)


def morphology(step: Step) -> im.Img:
    rx, ry = step.pair("radius", 0.0)
    source = step.pixels()
    if rx < 0 or ry < 0 or (rx == 0 and ry == 0):
        return im.Img(np.zeros_like(source) if rx < 0 or ry < 0 else source.copy(), step.linear)
    px_x = min(limits.MAX_MORPHOLOGY_RADIUS, step.frame.length(rx, "x"))
    px_y = min(limits.MAX_MORPHOLOGY_RADIUS, step.frame.length(ry, "y"))
    dilate = str(step.prim.get("operator", "erode")).strip() == "dilate"
    out = _min_max(source, round(px_x), axis=1, dilate=dilate)
    return im.Img(_min_max(out, round(px_y), axis=0, dilate=dilate), step.linear)


def _min_max(px: im.Array, radius: int, axis: int, dilate: bool) -> im.Array:
    """The min (erode) or max (dilate) over a window of 2·radius+1 along `axis`, with
    transparent black outside."""
    if radius <= 0:
        return px
    widths = [(0, 0)] * 3
    widths[axis] = (radius, radius)
    padded = np.pad(px, widths)
    windows = sliding_window_view(padded, 2 * radius + 1, axis=axis)
    reduced = windows.max(axis=-1) if dilate else windows.min(axis=-1)
    return np.ascontiguousarray(reduced, np.float32)

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
REDUCE_FROM = 32.0  # deviations (px) past this are blurred on a reduced copy …
REDUCED_DEVIATION = 16.0  # … where they are about this many pixels
# A 1-D Gaussian of deviation s peaks at most at extent/(√(2π)·s) of full intensity: past
# this many extents no output pixel reaches half a level of 255.
NOTHING_LEFT = 256


def gaussian_blur(step: Step) -> im.Img:
    sx, sy = step.pair("stdDeviation", 0.0, strict=True)
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
    # A black shadow (Inkscape's Drop Shadow: black flood in the source's alpha) has
    # nothing but alpha: one channel blurred instead of four.
    alpha_only = not px[..., :3].any()
    channels = im.to_bytes(px[..., 3] if alpha_only else px)
    height, width = channels.shape[:2]
    # "RGBa": Pillow's premultiplied mode, which it reduces and resizes as it is (as
    # "RGBA" it would premultiply what already is).
    mode = "L" if alpha_only else "RGBa"
    picture = Image.frombuffer(mode, (width, height), channels.tobytes(), "raw", mode, 0, 1)
    out = im.from_bytes(np.asarray(_blurred(picture, sx, sy)))
    if not alpha_only:
        return out
    full = np.zeros_like(px)
    full[..., 3] = out
    return full


def _blurred(picture: Image.Image, sx: float, sy: float) -> Image.Image:
    """A premultiplied picture blurred, transparent outside. A deviation past REDUCE_FROM
    pixels is blurred on a copy reduced to about REDUCED_DEVIATION pixels of it and scaled
    back: a wide blur is smooth, so nothing is lost, and the padding the boxes need stays
    small (a deviation of 1000 once padded a 200 px region to 5900 px square)."""
    width, height = picture.size
    if sx > NOTHING_LEFT * width or sy > NOTHING_LEFT * height:
        # Spread this wide, no pixel keeps 1/255 of anything: transparent (and bounded).
        return Image.new(picture.mode, picture.size)
    kx, ky = min(_reduction(sx), width), min(_reduction(sy), height)
    if kx > 1 or ky > 1:
        # Transparent outside: the last partial block is averaged with zeros.
        whole = Image.new(picture.mode, (-(-width // kx) * kx, -(-height // ky) * ky))
        whole.paste(picture)
        small = _blurred(whole.reduce((kx, ky)), sx / kx, sy / ky)
        return small.resize(whole.size, Image.Resampling.BILINEAR).crop((0, 0, width, height))
    pad_x, pad_y = _reach(sx), _reach(sy)
    padded = Image.new(picture.mode, (width + 2 * pad_x, height + 2 * pad_y))
    padded.paste(picture, (pad_x, pad_y))
    if max(sx, sy) < SMALL:
        padded = padded.filter(ImageFilter.GaussianBlur((sx, sy)))
    else:
        radius = (_box_radius(sx), _box_radius(sy))
        for _ in range(3):
            padded = padded.filter(ImageFilter.BoxBlur(radius))
    return padded.crop((pad_x, pad_y, pad_x + width, pad_y + height))


def _reduction(s: float) -> int:
    """The whole factor a blur of deviation s is reduced by (1: none)."""
    return max(1, int(s // REDUCED_DEVIATION)) if s > REDUCE_FROM else 1


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
        # Filter Effects 1: a negative or zero radius passes the input through.
        return im.Img(source.copy(), step.linear)
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

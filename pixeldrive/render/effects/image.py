"""Pixels of the filter pipeline: premultiplied RGBA in float32, and their colour spaces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cairocffi
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]
_LUT_SIZE = 4096


def _srgb_to_linear(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


_STEPS = np.linspace(0.0, 1.0, _LUT_SIZE)
# Tables of 4096 steps: a power per pixel would cost more than the rest of a filter.
TO_LINEAR = _srgb_to_linear(_STEPS).astype(np.float32)
TO_SRGB = _linear_to_srgb(_STEPS).astype(np.float32)


@dataclass(slots=True)
class Img:
    """A filter image: `px` is (height, width, 4) premultiplied RGBA in 0…1, in linearRGB
    when `linear`, else sRGB."""

    px: Array
    linear: bool = False


def blank(height: int, width: int) -> Array:
    return np.zeros((height, width, 4), np.float32)


def unpremultiply(px: Array) -> Array:
    """Straight RGBA (a new array)."""
    out = px.copy()
    alpha = px[..., 3:4]
    np.divide(px[..., :3], alpha, out=out[..., :3], where=alpha > 0)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def premultiply(straight: Array) -> Array:
    """Premultiplied RGBA, in place."""
    straight[..., :3] *= straight[..., 3:4]
    return straight


def _convert(px: Array, table: Array) -> Array:
    straight = unpremultiply(px)
    index = (straight[..., :3] * (_LUT_SIZE - 1) + 0.5).astype(np.intp)
    straight[..., :3] = table[index]
    return premultiply(straight)


def in_space(image: Img, linear: bool) -> Array:
    """The image's pixels in linearRGB (`linear`) or sRGB."""
    if image.linear == linear:
        return image.px
    return _convert(image.px, TO_LINEAR if linear else TO_SRGB)


def color_in_space(rgba: tuple[float, float, float, float], linear: bool) -> Array:
    """A straight sRGB colour as a premultiplied pixel of the given space."""
    r, g, b, a = rgba
    rgb = np.array([r, g, b], np.float64)
    if linear:
        rgb = _srgb_to_linear(rgb)
    return np.array([*(rgb * a), a], np.float32)


def from_cairo(surface: Any) -> Array:
    """A cairo ARGB32 image surface (premultiplied BGRA in memory) as float RGBA."""
    surface.flush()
    height, width, stride = surface.get_height(), surface.get_width(), surface.get_stride()
    raw = np.frombuffer(surface.get_data(), np.uint8).reshape(height, stride)
    bgra = raw[:, : width * 4].reshape(height, width, 4)
    out = np.empty((height, width, 4), np.float32)
    out[..., 0] = bgra[..., 2]
    out[..., 1] = bgra[..., 1]
    out[..., 2] = bgra[..., 0]
    out[..., 3] = bgra[..., 3]
    out *= np.float32(1 / 255)
    return out


def to_cairo(px: Array) -> Any:
    """Premultiplied float RGBA as a new cairo ARGB32 image surface."""
    height, width = px.shape[:2]
    surface = cairocffi.ImageSurface(cairocffi.FORMAT_ARGB32, width, height)
    stride = surface.get_stride()
    raw = np.frombuffer(surface.get_data(), np.uint8).reshape(height, stride)
    bgra = raw[:, : width * 4].reshape(height, width, 4)
    clean = np.clip(px, 0.0, 1.0)
    np.minimum(clean[..., :3], clean[..., 3:4], out=clean[..., :3])
    bytes_ = (clean * 255 + 0.5).astype(np.uint8)
    bgra[..., 0] = bytes_[..., 2]
    bgra[..., 1] = bytes_[..., 1]
    bgra[..., 2] = bytes_[..., 0]
    bgra[..., 3] = bytes_[..., 3]
    surface.mark_dirty()
    return surface


def to_bytes(px: Array) -> npt.NDArray[np.uint8]:
    """Premultiplied float RGBA → uint8 RGBA (for Pillow)."""
    return (np.clip(px, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)


def from_bytes(data: npt.NDArray[np.uint8]) -> Array:
    return data.astype(np.float32) * np.float32(1 / 255)

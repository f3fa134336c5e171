"""The output formats: name, file extension and media type (no encoder imports here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FormatName = Literal["png", "jpeg", "webp", "avif", "pdf", "svg"]


@dataclass(frozen=True, slots=True)
class ImageFormat:
    name: FormatName
    ext: str
    mime: str
    lossy: bool
    raster: bool = True  # PDF and SVG are vector: given only when asked for, never negotiated


FORMATS: dict[str, ImageFormat] = {
    "png": ImageFormat("png", "png", "image/png", lossy=False),
    "jpeg": ImageFormat("jpeg", "jpg", "image/jpeg", lossy=True),
    "webp": ImageFormat("webp", "webp", "image/webp", lossy=True),
    "avif": ImageFormat("avif", "avif", "image/avif", lossy=True),
    "pdf": ImageFormat("pdf", "pdf", "application/pdf", lossy=False, raster=False),
    "svg": ImageFormat("svg", "svg", "image/svg+xml", lossy=False, raster=False),
}
NEGOTIABLE: tuple[str, ...] = tuple(name for name, f in FORMATS.items() if f.raster)
BY_EXT: dict[str, ImageFormat] = {f.ext: f for f in FORMATS.values()} | {"jpeg": FORMATS["jpeg"]}
BY_MIME: dict[str, ImageFormat] = {f.mime: f for f in FORMATS.values()}

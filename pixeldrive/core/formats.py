"""The output formats: name, file extension and media type (no encoder imports here), and
the one way a request names a format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator

FormatName = Literal["png", "jpeg", "webp", "avif", "pdf", "svg"]


@dataclass(frozen=True, slots=True)
class ImageFormat:
    name: FormatName
    ext: str
    mime: str
    raster: bool = True  # PDF and SVG are vector: given only when asked for, never negotiated


FORMATS: dict[str, ImageFormat] = {
    "png": ImageFormat("png", "png", "image/png"),
    "jpeg": ImageFormat("jpeg", "jpg", "image/jpeg"),
    "webp": ImageFormat("webp", "webp", "image/webp"),
    "avif": ImageFormat("avif", "avif", "image/avif"),
    "pdf": ImageFormat("pdf", "pdf", "application/pdf", raster=False),
    "svg": ImageFormat("svg", "svg", "image/svg+xml", raster=False),
}
NEGOTIABLE: tuple[str, ...] = tuple(name for name, f in FORMATS.items() if f.raster)
# The negotiable formats from the most widely decoded to the least: what a wildcard in
# Accept stands for when the fallback format is not allowed or not wanted.
WIDEST_FIRST: tuple[str, ...] = ("png", "jpeg", "webp", "avif")
# A format is named by its name or its extension ("jpg" is JPEG's extension).
BY_EXT: dict[str, ImageFormat] = {f.ext: f for f in FORMATS.values()} | {"jpeg": FORMATS["jpeg"]}
BY_MIME: dict[str, ImageFormat] = {f.mime: f for f in FORMATS.values()}
EXTENSIONS = ", ".join(f".{f.ext}" for f in FORMATS.values())


def format_name(named: str) -> str:
    """The format a request names by name or extension ("jpg" → "jpeg"); other text as is."""
    fmt = BY_EXT.get(named)
    return fmt.name if fmt is not None else named


RequestedFormat = Annotated[
    Literal["png", "jpeg", "jpg", "webp", "avif", "pdf", "svg"], AfterValidator(format_name)
]
"""A format in a request body or query: a name or an extension, validated to the name."""

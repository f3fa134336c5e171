"""The only way CairoSVG may read a resource: size-checked `data:` URIs, nothing else."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image, ImageOps

from pixeldrive.render.job import JobError
from pixeldrive.templates.data_uri import DataUriError, kind_of, parse_data_uri, raster_size

Fetcher = Callable[[str, str], bytes]


def make_fetcher(max_bytes: int, max_pixels: int) -> Fetcher:
    """A CairoSVG `url_fetcher`. Passing any fetcher turns CairoSVG's own `safe_fetch` off,
    so this one must be at least as strict: no file:, no http(s):, no relative paths (they
    arrive as file:// URLs), only data: URIs within `max_bytes` (read by the one parser the
    upload check and field validation use), and images judged by their bytes: raster
    images within `max_pixels` (from the header, before anything is decoded), or SVG."""

    def fetch(url: str, resource_type: str) -> bytes:
        try:
            data = parse_data_uri(url, max_bytes).data
        except DataUriError as exc:
            raise JobError(f"the template links to {url[:60]!r}: {exc}") from exc
        return _image(data, max_pixels) if resource_type.startswith("image/") else data

    return fetch


def _image(data: bytes, max_pixels: int) -> bytes:
    """An image as CairoSVG should take it. CairoSVG picks SVG or raster by looking for
    `<svg` anywhere in the bytes; a JPEG, WebP or GIF is therefore handed over as the PNG
    CairoSVG would have converted it to itself, so nothing raster is read as SVG."""
    kind = kind_of(data)
    if kind == "svg":  # the template's own, sanitised at upload; field values are raster
        return data
    if kind is None:
        raise JobError("an embedded image is no PNG, JPEG, WebP, GIF or SVG image")
    try:
        width, height = raster_size(data, kind)
    except DataUriError as exc:
        raise JobError(f"an embedded image cannot be read: {exc}") from exc
    if width * height > max_pixels:
        raise JobError(f"an embedded image has {width}×{height} pixels, over {max_pixels}")
    if kind == "png":
        return data
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened)
            out = io.BytesIO()
            (image.convert("RGB") if image.mode == "CMYK" else image).save(out, "PNG")
    except (OSError, ValueError) as exc:
        raise JobError("an embedded image cannot be decoded") from exc
    return out.getvalue()

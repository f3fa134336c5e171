"""The only way CairoSVG may read a resource: size-checked `data:` URIs, nothing else."""

from __future__ import annotations

import io
import math
from collections.abc import Callable

from PIL import Image, ImageOps

from pixeldrive.render.footprint import Footprint, Footprints
from pixeldrive.render.job import JobError
from pixeldrive.templates.data_uri import (
    DataUriError,
    Kind,
    kind_of,
    parse_data_uri,
    raster_size,
)

Fetcher = Callable[[str, str], bytes]
# What decoding may cost, in pixels: any image this size may be drawn anywhere, and larger
# ones up to OVERSAMPLE × the output pixels they cover (4× each way). A JPEG is decoded
# at reduced size (1/2, 1/4 or 1/8 each way) first; other formats cannot be.
FLOOR_PIXELS = 4_000_000
OVERSAMPLE = 16
# An image decoded far larger than its box is reduced to about SHARP × the pixels it
# covers (2× each way: sharp at any resampling) before CairoSVG scales it.
SHARP = 4
_NO_FOOTPRINTS = Footprints({}, math.inf)


def make_fetcher(max_bytes: int, max_pixels: int, drawn: Footprints = _NO_FOOTPRINTS) -> Fetcher:
    """A CairoSVG `url_fetcher`. Passing any fetcher turns CairoSVG's own `safe_fetch` off,
    so this one must be at least as strict: no file:, no http(s):, no relative paths (they
    arrive as file:// URLs), only data: URIs within `max_bytes` (read by the one parser the
    upload check and field validation use), and images judged by their bytes: raster
    images within `max_pixels` and the decoding budget of the box they are drawn in
    (`drawn`: see render/footprint.py), or SVG."""

    def fetch(url: str, resource_type: str) -> bytes:
        try:
            data = parse_data_uri(url, max_bytes).data
        except DataUriError as exc:
            raise JobError(f"the template links to {url[:60]!r}: {exc}") from exc
        if not resource_type.startswith("image/"):
            return data
        return _image(data, max_pixels, drawn.of(url))

    return fetch


def _image(data: bytes, max_pixels: int, where: Footprint) -> bytes:
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
    budget = max(FLOOR_PIXELS, OVERSAMPLE * where.pixels)
    if kind != "jpeg" and width * height > budget:
        raise _too_large(where, kind, width, height, budget)
    if kind == "png" and width * height <= SHARP * 4 * where.pixels:
        return data  # cairo reads PNG itself
    try:
        with Image.open(io.BytesIO(data), formats=[kind.upper()]) as opened:
            if kind == "jpeg" and where.exact:
                opened.draft(opened.mode, _size_for(width, height, SHARP * where.pixels))
            if opened.width * opened.height > budget:
                raise _too_large(where, kind, width, height, budget)
            image = _reduced(ImageOps.exif_transpose(opened), where)
            out = io.BytesIO()
            (image.convert("RGB") if image.mode == "CMYK" else image).save(out, "PNG")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise JobError("an embedded image cannot be decoded") from exc
    return out.getvalue()


def _size_for(width: int, height: int, pixels: float) -> tuple[int, int]:
    """width×height scaled to about `pixels` (never up)."""
    scale = min(1.0, math.sqrt(pixels / (width * height)))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _reduced(image: Image.Image, where: Footprint) -> Image.Image:
    """The image reduced by a whole factor to no less than SHARP × its footprint, when it
    is drawn into a known box (a box-filter average: no aliasing, aspect ratio kept)."""
    if not where.exact:
        return image
    factor = math.isqrt(int(image.width * image.height / (SHARP * where.pixels)))
    if factor < 2:
        return image
    if image.mode not in ("L", "LA", "RGB", "RGBA"):  # a GIF's palette, CMYK, 16-bit …
        alpha = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if alpha else "RGB")
    return image.reduce(factor)


def _too_large(where: Footprint, kind: Kind, width: int, height: int, budget: float) -> JobError:
    side = round(math.sqrt(where.pixels))
    what = f"the image of field {where.field!r}" if where.field else "an embedded image"
    message = (
        f"{what} is {width}×{height} pixels but covers about {side}×{side} px of the output; "
        f"a {kind.upper()} drawn there may have at most {int(budget):,} pixels (a JPEG is "
        "decoded at reduced size): send it scaled down"
    )
    problems = ((f"fields.{where.field}", message),) if where.field else ()
    return JobError(message, problems)

"""Pixels → bytes, one encoder per format, each with its own tuned settings."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image

from pixeldrive.render.job import EncodeOptions
from pixeldrive.render.png import encode_unfiltered
from pixeldrive.render.png_bands import Reuse

Encoder = Callable[[Image.Image, int | None, EncodeOptions], bytes]


def _opaque(image: Image.Image) -> bool:
    low, _high = image.getchannel("A").getextrema()
    return bool(low == 255)


def _flatten(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    if image.mode != "RGBA" or _opaque(image):
        return image.convert("RGB")
    base = Image.new("RGBA", image.size, (*background, 255))
    return Image.alpha_composite(base, image).convert("RGB")


def _drop_opaque_alpha(image: Image.Image) -> Image.Image:
    # An alpha channel that is 255 everywhere costs encode time and bytes for nothing.
    return image.convert("RGB") if image.mode == "RGBA" and _opaque(image) else image


def _save(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def encode_png(
    image: Image.Image, quality: int | None, o: EncodeOptions, reuse: Reuse | None = None
) -> bytes:
    image = _drop_opaque_alpha(image)
    if o.png_filter == "none":
        return encode_unfiltered(image, o.png_compress_level, reuse)
    return _save(image, "PNG", compress_level=o.png_compress_level)


def encode_jpeg(image: Image.Image, quality: int | None, o: EncodeOptions) -> bytes:
    return _save(_flatten(image), "JPEG", quality=quality or o.jpeg_quality, optimize=False)


def encode_webp(image: Image.Image, quality: int | None, o: EncodeOptions) -> bytes:
    return _save(
        _drop_opaque_alpha(image), "WEBP", quality=quality or o.webp_quality, method=o.webp_method
    )


def encode_avif(image: Image.Image, quality: int | None, o: EncodeOptions) -> bytes:
    # One thread: workers already use every core, so a second thread is no faster under
    # load; and libaom's bytes depend on the thread count (each count is deterministic),
    # so a fixed count keeps the bytes the same on every machine.
    return _save(
        _drop_opaque_alpha(image),
        "AVIF",
        quality=quality or o.avif_quality,
        speed=o.avif_speed,
        max_threads=1,
        advanced={"tune": o.avif_tune},
    )


# PNG is not here: it alone takes what a backdrop's render left to reuse (`encode`).
ENCODERS: dict[str, Encoder] = {
    "jpeg": encode_jpeg,
    "webp": encode_webp,
    "avif": encode_avif,
}


def encode(
    image: Image.Image,
    fmt: str,
    quality: int | None,
    options: EncodeOptions,
    reuse: Reuse | None = None,
) -> bytes:
    """Encode with the format's own settings; `quality` (1–100) overrides lossy defaults.
    `reuse` lets the PNG writer take the bands of the backdrop `image` was drawn on; the
    other formats cannot reuse part of an image (bench/README.md, *PNG bands*)."""
    if fmt == "png":
        return encode_png(image, quality, options, reuse)
    return ENCODERS[fmt](image, quality, options)

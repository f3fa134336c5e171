"""The only way CairoSVG may read a resource: size-checked `data:` URIs, nothing else."""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from PIL import Image

from pixeldrive.render.job import JobError

Fetcher = Callable[[str, str], bytes]


def make_fetcher(max_bytes: int, max_pixels: int) -> Fetcher:
    """A CairoSVG `url_fetcher`. Passing any fetcher turns CairoSVG's own `safe_fetch` off,
    so this one must be at least as strict: no file:, no http(s):, no relative paths (they
    arrive as file:// URLs), only data: URIs within `max_bytes`, and raster images within
    `max_pixels` (checked from the header, before anything is decoded)."""

    def fetch(url: str, resource_type: str) -> bytes:
        if not url.startswith("data:"):
            raise JobError(f"the template links to {url[:60]!r}; only embedded data is allowed")
        data = _decode(url, max_bytes)
        if resource_type.startswith("image/") and not data.lstrip().startswith(b"<"):
            _check_pixels(data, max_pixels)
        return data

    return fetch


def _decode(url: str, max_bytes: int) -> bytes:
    header, sep, payload = url.partition(",")
    if not sep:
        raise JobError("a data: URI without a comma")
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise JobError(f"an embedded resource is larger than {max_bytes} bytes")
    try:
        if header.endswith(";base64"):
            data = base64.b64decode(payload)
        else:
            data = unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise JobError("an embedded resource does not decode") from exc
    if len(data) > max_bytes:
        raise JobError(f"an embedded resource is larger than {max_bytes} bytes")
    return data


def _check_pixels(data: bytes, max_pixels: int) -> None:
    # Only the header is read. Pillow's own bomb guard fires first for absurd sizes; both
    # cases are reported as what they are, a pixel count over the limit.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        raise JobError(f"an embedded image has more than {max_pixels} pixels") from exc
    except (OSError, ValueError) as exc:
        raise JobError("an embedded image cannot be read") from exc
    if width * height > max_pixels:
        raise JobError(f"an embedded image has {width}×{height} pixels, over {max_pixels}")

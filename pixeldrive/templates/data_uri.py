"""`data:` URIs read one way everywhere (RFC 2397): the upload check, a field's validation
and the render's fetcher decode the same URI to the same bytes, and what those bytes are
is judged from the bytes, never from the label.

`data:[<media type>][;param]*[;base64],<data>`: the scheme, the type, its parameters and
the `base64` label in any case; the data percent-encoded (RFC 3986) either way; a base64
body may carry the whitespace Inkscape wraps it with, and nothing else that is not base64.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_to_bytes

from PIL import Image

Kind = Literal["png", "jpeg", "webp", "gif", "svg"]
RASTER_KINDS: tuple[Kind, ...] = ("png", "jpeg", "webp", "gif")
_WHITESPACE = re.compile(rb"[ \t\n\r\f]+")
_ALPHABET = re.compile(rb"[A-Za-z0-9+/]*={0,2}")
_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF"}


class DataUriError(ValueError):
    """A `data:` URI that is malformed, too large, or not what it must be; says which."""


@dataclass(frozen=True, slots=True)
class DataUri:
    media_type: str  # as labelled, lower case ("text/plain" when none is given)
    data: bytes


def parse_data_uri(uri: str, max_bytes: int) -> DataUri:
    """The label and the decoded bytes of `uri`; DataUriError when it is not a data: URI,
    has no comma, is labelled base64 but is not, or decodes to more than `max_bytes`."""
    if uri[:5].lower() != "data:":
        raise DataUriError("not a data: URI")
    header, comma, body = uri[5:].partition(",")
    if not comma:
        raise DataUriError("a data: URI without a comma")
    labels = [part.strip().lower() for part in header.split(";")]
    media_type = labels[0] or "text/plain"
    if len(body) > 3 * (max_bytes * 4 // 3 + 4) + 16:  # percent-encoded base64 at most
        raise DataUriError(f"larger than {max_bytes} bytes")
    data = unquote_to_bytes(body)
    if len(labels) > 1 and labels[-1] == "base64":
        data = _base64(_WHITESPACE.sub(b"", data))
    if len(data) > max_bytes:
        raise DataUriError(f"larger than {max_bytes} bytes")
    return DataUri(media_type, data)


def _base64(data: bytes) -> bytes:
    if not _ALPHABET.fullmatch(data):
        raise DataUriError("a data: URI labelled base64 whose data is not base64")
    try:
        return base64.b64decode(data, validate=True)
    except binascii.Error as exc:  # the right characters, a wrong length or padding
        raise DataUriError("the base64 data does not decode") from exc


def kind_of(data: bytes) -> Kind | None:
    """What the bytes are, by their magic numbers: a raster format, an SVG document (as
    CairoSVG would take it: XML, gzip, or anything holding `<svg`), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith((b"<", b"\x1f\x8b")) or b"<svg" in data:
        return "svg"
    return None


def raster_size(data: bytes, kind: Kind) -> tuple[int, int]:
    """The pixel size in a raster image's header, read by Pillow as that format only
    (nothing is decoded); DataUriError when the header does not read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[kind]]) as image:
                return image.size
    except Image.DecompressionBombError as exc:  # Pillow's guard: over 2 × MAX_IMAGE_PIXELS
        raise DataUriError(
            f"an image of more than {2 * (Image.MAX_IMAGE_PIXELS or 0)} pixels"
        ) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise DataUriError(f"its {kind.upper()} header does not read") from exc


def raster_image(uri: str, max_bytes: int) -> tuple[Kind, bytes, tuple[int, int]]:
    """(kind, bytes, size) of a data: URI holding a PNG, JPEG, WebP or GIF image, judged
    by its bytes whatever its label says; DataUriError for anything else."""
    data = parse_data_uri(uri, max_bytes).data
    kind = kind_of(data)
    if kind is None or kind == "svg":
        what = "an SVG document" if kind == "svg" else "no image"
        raise DataUriError(
            f"must be a data: URI of a PNG, JPEG, WebP or GIF image; its bytes are {what}"
        )
    return kind, data, raster_size(data, kind)

"""Validators for field values: what a text, colour, image or QR value may contain."""

from __future__ import annotations

import re
import unicodedata

import regex

from pixeldrive.templates.colors import parse_color
from pixeldrive.templates.data_uri import DataUriError, raster_image

_GRAPHEME = regex.compile(r"\X")
# A user-perceived character may carry many combining marks; past this many code points
# per allowed character a value is refused before anything counts or draws it.
CODE_POINTS_PER_CHARACTER = 16

# XML 1.0 cannot carry C0 controls (except tab and newline), lone surrogates or U+FFFE/F;
# lxml would raise on them deep in the render. C1 controls (U+0080-U+009F: terminal escapes,
# mis-decoded Windows-1252) and the other non-characters (U+FDD0-U+FDEF, the last two code
# points of every plane) draw nothing meaningful. All are refused up front, by name.
_NONCHARACTERS = "".join(chr(plane << 16 | end) for plane in range(17) for end in (0xFFFE, 0xFFFF))
_FORBIDDEN = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]")
# How a boolean may be written as text (a default attribute, a query string, the CLI).
FLAGS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}


def graphemes(text: str) -> list[str]:
    """The extended grapheme clusters of `text` (UAX #29): what people count as one
    character; a ZWJ family, a flag, a letter with its marks are one each."""
    return list(_GRAPHEME.findall(text))


def at_most(limit: int, value: str) -> str:
    """`value` when it has at most `limit` characters (grapheme clusters); ValueError
    saying how many it has."""
    if len(value) > limit * CODE_POINTS_PER_CHARACTER:
        raise ValueError(f"should have at most {limit} characters, not {len(value)} code points")
    count = len(graphemes(value)) if len(value) > limit else len(value)
    if count > limit:
        raise ValueError(f"should have at most {limit} characters (graphemes), not {count}")
    return value


def clean_text(value: str) -> str:
    """NFC-normalised text with \\n line breaks; ValueError names the first forbidden
    character."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = _FORBIDDEN.search(value)
    if bad:
        char = bad.group()
        raise ValueError(
            f"contains the control or non-character U+{ord(char):04X} at position {bad.start()}"
        )
    return unicodedata.normalize("NFC", value)


def clean_color(value: str) -> str:
    """The canonical `#rrggbb[aa]` form of any CSS colour; ValueError explains a bad one."""
    return parse_color(value).canonical


def decode_data_uri(value: str, max_bytes: int) -> tuple[str, bytes]:
    """(media type, bytes) of an image field's value: a data: URI whose bytes are a PNG,
    JPEG, WebP or GIF image with a header that reads, whatever its label says; ValueError
    naming what is wrong."""
    if value.startswith(("http://", "https://")):
        raise ValueError("remote images are not fetched: the host is not on the image allow-list")
    try:
        kind, data, _size = raster_image(value, max_bytes)
    except DataUriError as exc:
        detail = str(exc)
        raise ValueError(
            f"the image is {detail}" if detail.startswith("larger") else detail
        ) from exc
    return f"image/{kind}", data

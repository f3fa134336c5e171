"""A fast PNG writer: rows unfiltered, deflated by zlib-ng in bands, nothing else.

Pillow's encoder tries the PNG row filters on every row, which costs about two thirds of
its time; on the flat colours and gradients of designed templates, unfiltered rows at a
higher level come out both faster and smaller (bench/README.md has the figures). The
stream is written by zlib-ng rather than the system zlib: the same DEFLATE format, read
by every PNG decoder: zlib-ng's level 7 writes about the bytes of zlib's level 6 in about
half the time (og-card 5.4 ms against 9.9; product 10.7 against 16.3). It is written in
bands of rows that can be reused from the backdrop a render was drawn on
(render/png_bands.py): a new title costs the bands of the title.
Photographic templates compress better with Pillow's adaptive filters:
`encode.png_filter = "adaptive"` picks that encoder instead.
"""

from __future__ import annotations

import struct
import zlib

from PIL import Image

from pixeldrive.render.png_bands import Reuse, zlib_stream

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {"L": (0, 1), "RGB": (2, 3), "LA": (4, 2), "RGBA": (6, 4)}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_unfiltered(image: Image.Image, level: int, reuse: Reuse | None = None) -> bytes:
    """8-bit L, LA, RGB or RGBA → PNG bytes, the same for the same pixels and level (and
    zlib-ng) whether bands came from `reuse` or not."""
    color_type, channels = COLOR_TYPES[image.mode]
    width, height = image.size
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    data = zlib_stream(image, channels, level, reuse)
    return b"".join(
        (SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", data), _chunk(b"IEND", b""))
    )

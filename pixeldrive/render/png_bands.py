"""A PNG's image data written band by band, so that a band's compressed bytes can be kept
and put back into the next image that has the same rows.

The rows are unfiltered (filter byte 0), so a row's bytes depend on that row alone. Each
band of `BAND_ROWS` rows is compressed by a fresh raw-deflate compressor that starts from
the `CONTEXT_ROWS` rows above it as its dictionary (so the band's first rows still find
their match in the row above, as in one long stream) and ends with a full flush (byte
aligned). A band's bytes are thus a function of its own rows, the rows of its context and
the level, and nothing else: reused or compressed afresh, the stream comes out the same to
the byte. One zlib header, the bands in order, an empty final block and the Adler-32 of
all the rows (combined from the bands') make a zlib stream every decoder reads.

Measured on the bundled templates (bench/README.md, *PNG bands*): 32 rows with 2 rows of
context write within −2.1 … +0.5 % of one unbroken stream's bytes, in about 1.1× its time
from scratch. Without the context, the full flushes cost +2.5 … +7.4 %.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image
from zlib_ng import zlib_ng

BAND_ROWS = 32
CONTEXT_ROWS = 2
WINDOW = 32768  # deflate reaches back at most this far: a longer dictionary is cut to it
ADLER_BASE = 65521
FINAL_EMPTY_BLOCK = b"\x03\x00"  # BFINAL=1, fixed Huffman codes, end of block
SEGMENT_OVERHEAD = 64  # what a kept segment costs beyond its bytes, roughly

KeptRows = Sequence[bool]  # per row: the same bytes as the image under it


@dataclass(frozen=True, slots=True)
class Segment:
    """One band compressed: raw deflate ending in a full flush, the Adler-32 of its
    filtered rows and their length."""

    data: bytes
    adler: int
    length: int


@dataclass(slots=True)
class Segments:
    """Compressed bands kept for reuse (a backdrop's), by image mode, level and band.
    Whoever keeps one must drop it with the pixels it was learnt from."""

    kept: dict[tuple[str, int, int], Segment] = field(default_factory=dict)
    nbytes: int = 0

    def get(self, mode: str, level: int, band: int) -> Segment | None:
        return self.kept.get((mode, level, band))

    def add(self, mode: str, level: int, band: int, segment: Segment) -> None:
        if (mode, level, band) not in self.kept:
            self.kept[mode, level, band] = segment
            self.nbytes += len(segment.data) + SEGMENT_OVERHEAD


@dataclass(frozen=True, slots=True)
class Reuse:
    """What an image may take from the one under it: that image's segments, and per row
    of this image whether it is that image's row, byte for byte (True) or not."""

    segments: Segments
    kept_rows: KeptRows


def zlib_stream(image: Image.Image, channels: int, level: int, reuse: Reuse | None) -> bytes:
    """The image's rows, each led by filter byte 0, as one zlib stream. Bands whose rows and
    context are kept from the image under it are taken from `reuse`; bands whose rows are
    kept but were not yet known are added to it."""
    height = image.height
    parts = [_zlib_header(level)]
    adler = 1
    for band in range(-(-height // BAND_ROWS)):
        top, bottom = band * BAND_ROWS, min((band + 1) * BAND_ROWS, height)
        reusable = reuse is not None and all(reuse.kept_rows[max(0, top - CONTEXT_ROWS) : bottom])
        segment = reuse.segments.get(image.mode, level, band) if reuse and reusable else None
        if segment is None:
            segment = compress_band(image, channels, level, top, bottom)
            if reuse is not None and reusable:
                reuse.segments.add(image.mode, level, band, segment)
        parts.append(segment.data)
        adler = adler32_combine(adler, segment.adler, segment.length)
    parts += [FINAL_EMPTY_BLOCK, struct.pack(">I", adler)]
    return b"".join(parts)


def compress_band(image: Image.Image, channels: int, level: int, top: int, bottom: int) -> Segment:
    """Rows top…bottom−1, filtered, compressed with the rows above them as dictionary."""
    first = max(0, top - CONTEXT_ROWS)
    rows = _filtered(image, channels, first, bottom)
    split = (top - first) * (image.width * channels + 1)
    data = rows[split:]
    if split:
        context = rows[max(0, split - WINDOW) : split]
        compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -15, zdict=context)
    else:
        compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -15)
    compressed = compressor.compress(data) + compressor.flush(zlib_ng.Z_FULL_FLUSH)
    return Segment(compressed, zlib_ng.adler32(data), len(data))


def _filtered(image: Image.Image, channels: int, top: int, bottom: int) -> bytes:
    """Rows top…bottom−1 as PNG scanlines: each led by its filter type, 0 (none)."""
    stride = image.width * channels
    # Pillow's raw encoder pads each row to the stride it is given with zeros: row, 0,
    # row, 0 … is the scanlines shifted by one byte, in one pass over the pixels.
    band = image.crop((0, top, image.width, bottom))
    padded = band.tobytes("raw", (image.mode, stride + 1))
    return b"\0" + padded[:-1]


def _zlib_header(level: int) -> bytes:
    """CMF (deflate, 32 KiB window) and FLG with zlib's level hint and the check bits."""
    hint = 0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3
    cmf, flg = 0x78, hint << 6
    flg |= 31 - ((cmf << 8) | flg) % 31
    return bytes((cmf, flg))


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of A followed by B, from A's, B's and B's length (as zlib's own)."""
    low = ((first & 0xFFFF) + (second & 0xFFFF) - 1) % ADLER_BASE
    high = (
        (first >> 16) + (second >> 16) + second_length % ADLER_BASE * ((first & 0xFFFF) - 1)
    ) % ADLER_BASE
    return (high << 16) | low

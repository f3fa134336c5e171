"""Font files that must be refused, made for tests: broken, hostile, forbidden or not fonts
at all. Each maker takes a good font's bytes (tests/fontmaker.py) where it needs one."""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable

import brotli
from fontTools.ttLib import TTFont

GIB = 2**30


def _tables(data: bytes) -> dict[bytes, tuple[int, int]]:
    """An sfnt's table directory: tag → (offset, length)."""
    (count,) = struct.unpack_from(">H", data, 4)
    out = {}
    for n in range(count):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * n)
        out[tag] = (offset, length)
    return out


def fuzzed(data: bytes, tag: bytes, *, seed: int = 7, flips: int = 40) -> bytes:
    """`data` with bytes of table `tag` overwritten at random (the same ones each run)."""
    offset, length = _tables(data)[tag]
    out = bytearray(data)
    rng = random.Random(seed)
    for _ in range(flips):
        out[offset + rng.randrange(length)] ^= 0xFF
    return bytes(out)


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def with_fs_type(data: bytes, fs_type: int) -> bytes:
    font = TTFont(io.BytesIO(data))
    font["OS/2"].fsType = fs_type
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def as_flavor(data: bytes, flavor: str) -> bytes:
    """The font as WOFF or WOFF2."""
    font = TTFont(io.BytesIO(data))
    font.flavor = flavor
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def collection(data: bytes) -> bytes:
    """A TrueType collection of the font twice."""
    from fontTools.ttLib import TTCollection

    ttc = TTCollection()
    ttc.fonts = [TTFont(io.BytesIO(data)), TTFont(io.BytesIO(data))]
    out = io.BytesIO()
    ttc.save(out)
    return out.getvalue()


def _uint_base128(value: int) -> bytes:
    groups = []
    while True:
        groups.insert(0, value & 0x7F)
        value >>= 7
        if not value:
            break
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


def woff2_bomb(*, declared: int, actual: int) -> bytes:
    """A WOFF2 file whose header says it decompresses to `declared` bytes, holding one
    table (cmap, untransformed) of `declared` bytes, compressed as a real brotli stream
    of `actual` zero bytes."""
    payload = brotli.compress(b"\0" * actual, quality=5)
    directory = bytes([0]) + _uint_base128(min(declared, 2**32 - 1))  # flags 0: cmap
    length = 48 + len(directory) + len(payload)
    header = struct.pack(
        ">4sIIHHIIHHIIIII",
        b"wOF2",
        0x00010000,
        length,
        1,
        0,
        min(declared, 2**32 - 1),
        len(payload),
        1,
        0,
        0,
        0,
        0,
        0,
        0,
    )
    return header + directory + payload


PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def hostile(good: bytes) -> dict[str, tuple[bytes, str]]:
    """name → (bytes, a word the refusal must contain), from one good TTF."""
    makers: dict[str, tuple[Callable[[], bytes], str]] = {
        "empty": (lambda: b"", "empty"),
        "truncated": (lambda: truncated(good), "Sanitizer"),
        "fuzzed glyf": (lambda: fuzzed(good, b"glyf"), "Sanitizer"),
        "fuzzed cmap": (lambda: fuzzed(good, b"cmap"), "Sanitizer"),
        "fuzzed head": (lambda: fuzzed(good, b"head"), "Sanitizer"),
        "woff2 declaring 1 GiB": (lambda: woff2_bomb(declared=GIB, actual=2**20), "decompresses"),
        "woff2 holding 64 MiB of zeros": (
            lambda: woff2_bomb(declared=1000, actual=64 * 2**20),
            "Sanitizer",
        ),
        "collection": (lambda: collection(good), "collections"),
        "restricted licence": (lambda: with_fs_type(good, 0x0002), "Restricted"),
        "bitmap embedding only": (lambda: with_fs_type(good, 0x0200), "bitmap"),
        "svg": (lambda: SVG, "markup"),
        "png": (lambda: PNG, "PNG"),
        "random bytes": (lambda: random.Random(3).randbytes(4096), "not a TrueType"),
    }
    return {name: (make(), word) for name, (make, word) in makers.items()}

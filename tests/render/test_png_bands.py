"""The banded PNG stream: a valid zlib stream of the filtered rows, decoded to the same
pixels, and the same bytes whether a band was reused from the image under it or not."""

from __future__ import annotations

import io
import random
import zlib

import numpy as np
import pytest
from PIL import Image

from pixeldrive.render import png_bands
from pixeldrive.render.png import encode_unfiltered
from pixeldrive.render.png_bands import BAND_ROWS, Reuse, Segments, adler32_combine

CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
# Heights around the band: one row, one short, exact, one over, several with a remainder.
HEIGHTS = [1, BAND_ROWS - 1, BAND_ROWS, BAND_ROWS + 1, 3 * BAND_ROWS + 7]


def art(mode: str, width: int, height: int, seed: int = 0) -> Image.Image:
    """A designed-looking image: a gradient in steps of a few rows (so a row's best match is
    often the row above), a little noise."""
    rng = np.random.default_rng(seed)
    channels = CHANNELS[mode]
    ys = np.arange(height, dtype=np.int32)[:, None, None] // 5
    xs = np.arange(width, dtype=np.int32)[None, :, None]
    base = (ys * 3 + xs // 7 + np.arange(channels)[None, None, :] * 40) % 256
    noise = rng.integers(0, 4, size=(height, width, channels)) * (xs % 50 < 5)
    pixels = ((base + noise) % 256).astype(np.uint8)
    return Image.frombytes(mode, (width, height), pixels.tobytes())


def drawn_over(backdrop: Image.Image, rows: list[int], seed: int = 1) -> Image.Image:
    """`backdrop` with a run of pixels changed in each of `rows`: what an overlay does."""
    pixels = np.asarray(backdrop).copy()
    rng = random.Random(seed)
    for row in rows:
        x = rng.randrange(backdrop.width // 2)
        pixels[row, x : x + backdrop.width // 2] = 255 - pixels[row, x : x + backdrop.width // 2]
    return Image.frombytes(backdrop.mode, backdrop.size, pixels.tobytes())


def kept(under: Image.Image, image: Image.Image) -> png_bands.KeptRows:
    old = np.asarray(under).reshape(under.height, -1)
    new = np.asarray(image).reshape(image.height, -1)
    rows: list[bool] = (~(old != new).any(axis=1)).tolist()
    return rows


def learnt(under: Image.Image, level: int = 7) -> Segments:
    """The segments of `under`, as a first render on it (none of it drawn over) leaves."""
    segments = Segments()
    encode_unfiltered(under, level, Reuse(segments, np.ones(under.height, dtype=np.bool_)))
    return segments


def idat(png: bytes) -> bytes:
    """The concatenated IDAT data of a PNG."""
    out, at = [], 8
    while at < len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        if png[at + 4 : at + 8] == b"IDAT":
            out.append(png[at + 8 : at + 8 + length])
        at += 12 + length
    return b"".join(out)


def filtered(image: Image.Image) -> bytes:
    stride = image.width * CHANNELS[image.mode]
    raw = image.tobytes()
    return b"".join(b"\0" + raw[y * stride : (y + 1) * stride] for y in range(image.height))


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.mark.parametrize("mode", list(CHANNELS))
@pytest.mark.parametrize("height", HEIGHTS)
def test_the_stream_is_zlib_of_the_filtered_rows(mode: str, height: int) -> None:
    image = art(mode, 37, height)
    png = encode_unfiltered(image, 7)
    assert zlib.decompress(idat(png)) == filtered(image)
    out = decoded(png)
    assert (out.mode, out.size) == (mode, image.size)
    assert out.tobytes() == image.tobytes()


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("height", HEIGHTS)
@pytest.mark.parametrize(
    "where",
    ["none", "first row", "last row", "every row", "middle row", "last row of each band"],
)
def test_reused_bands_give_the_bytes_of_a_fresh_encode(mode: str, height: int, where: str) -> None:
    under = art(mode, 53, height)
    rows = {
        "none": [],
        "first row": [0],
        "last row": [height - 1],
        "every row": list(range(height)),
        "middle row": [height // 2],
        "last row of each band": [y for y in range(height) if y % BAND_ROWS == BAND_ROWS - 1],
    }[where]
    image = drawn_over(under, rows)
    segments = learnt(under)
    reused = encode_unfiltered(image, 7, Reuse(segments, kept(under, image)))
    fresh = encode_unfiltered(image, 7)
    assert reused == fresh
    assert decoded(reused).tobytes() == image.tobytes()
    assert zlib.decompress(idat(reused)) == filtered(image)


def test_only_the_bands_drawn_over_and_below_them_are_compressed(compressed: list[int]) -> None:
    height = 6 * BAND_ROWS
    under = art("RGB", 80, height)
    segments = learnt(under)
    assert compressed == [band * BAND_ROWS for band in range(6)]
    compressed.clear()
    # A change in band 2; band 3 starts below it and takes band 2's last rows as context,
    # so its bytes hold only while those rows do.
    image = drawn_over(under, [3 * BAND_ROWS - 1])
    encode_unfiltered(image, 7, Reuse(segments, kept(under, image)))
    assert compressed == [2 * BAND_ROWS, 3 * BAND_ROWS]


def test_bands_kept_only_where_the_rows_are_the_backdrops(compressed: list[int]) -> None:
    under = art("RGB", 40, 4 * BAND_ROWS)
    segments = Segments()
    image = drawn_over(under, [5])  # the first render on this backdrop changes band 0
    encode_unfiltered(image, 7, Reuse(segments, kept(under, image)))
    assert sorted(band for _mode, _level, band in segments.kept) == [1, 2, 3]
    assert segments.nbytes > sum(len(s.data) for s in segments.kept.values())
    fresh = encode_unfiltered(under, 7)
    compressed.clear()
    assert encode_unfiltered(under, 7, Reuse(segments, kept(under, under))) == fresh
    assert compressed == [0], "band 0 was never seen undrawn: compressed, then kept"
    assert sorted(band for _mode, _level, band in segments.kept) == [0, 1, 2, 3]


def test_segments_of_another_mode_or_level_are_not_used() -> None:
    rgb = art("RGB", 30, 2 * BAND_ROWS)
    segments = learnt(rgb, level=7)
    rgba = rgb.convert("RGBA")
    everything = np.ones(rgb.height, dtype=np.bool_)
    assert encode_unfiltered(rgba, 7, Reuse(segments, everything)) == encode_unfiltered(rgba, 7)
    assert encode_unfiltered(rgb, 1, Reuse(segments, everything)) == encode_unfiltered(rgb, 1)


def test_adler32_combines_as_zlib_computes_it() -> None:
    rng = random.Random(7)
    for length in (0, 1, 5, 65520, 65521, 65522, 200_000):
        head, tail = rng.randbytes(rng.randrange(3000)), rng.randbytes(length)
        combined = adler32_combine(zlib.adler32(head), zlib.adler32(tail), len(tail))
        assert combined == zlib.adler32(head + tail)
    ones = b"\xff" * 100_000
    assert adler32_combine(zlib.adler32(ones), zlib.adler32(ones), len(ones)) == zlib.adler32(
        ones + ones
    )

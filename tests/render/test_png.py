"""The unfiltered PNG writer: lossless in every mode it takes, and deterministic."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from pixeldrive.render.png import encode_unfiltered


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (7, 3), (64, 40)])
def test_round_trip_is_lossless(mode: str, size: tuple[int, int]) -> None:
    rng = random.Random(f"{mode}{size}")
    channels = len(mode)
    image = Image.frombytes(mode, size, rng.randbytes(size[0] * size[1] * channels))
    data = encode_unfiltered(image, 6)
    decoded = Image.open(io.BytesIO(data))
    decoded.load()
    assert decoded.format == "PNG"
    assert decoded.mode == mode
    assert decoded.tobytes() == image.tobytes()
    assert encode_unfiltered(image, 6) == data


def test_level_trades_time_for_size_on_flat_art() -> None:
    image = Image.new("RGB", (300, 200), "#224488")
    image.paste((255, 204, 0), (50, 50, 250, 150))
    assert len(encode_unfiltered(image, 9)) <= len(encode_unfiltered(image, 1))


def test_unsupported_mode_is_refused() -> None:
    with pytest.raises(KeyError):
        encode_unfiltered(Image.new("P", (2, 2)), 6)

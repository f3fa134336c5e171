"""Fixtures shared by the render tests."""

from __future__ import annotations

import pytest
from PIL import Image

from pixeldrive.render import png_bands
from pixeldrive.render.png_bands import Segment


@pytest.fixture
def compressed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The first row of each PNG band the encoder compresses rather than reuses."""
    tops: list[int] = []
    real = png_bands.compress_band

    def counting(image: Image.Image, channels: int, level: int, top: int, bottom: int) -> Segment:
        tops.append(top)
        return real(image, channels, level, top, bottom)

    monkeypatch.setattr(png_bands, "compress_band", counting)
    return tops

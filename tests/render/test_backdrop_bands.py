"""A backdrop's PNG bands: kept with its pixels, counted in its bound, dropped with them,
and reused by renders on it without changing a byte."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from pixeldrive.core.config import PROJECT_ROOT, Settings
from pixeldrive.render import png_bands, worker
from pixeldrive.render.backdrop_cache import BackdropCache
from pixeldrive.render.job import RenderJob
from pixeldrive.render.png_bands import BAND_ROWS, Segment
from pixeldrive.render.rasterize import kept_rows
from pixeldrive.templates.model import Template, compile_template
from pixeldrive.wiring import worker_config

OG_CARD = PROJECT_ROOT / "svg_templates" / "og-card.svg"
KEPT = 32 * 2**20


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return worker_config(Settings(state_dir=tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="module")
def og_card() -> Template:
    return compile_template("og-card", OG_CARD.read_bytes(), max_image_bytes=10**7)


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[Image.Image]:
    """Every image the worker hands to its encoder, as a copy."""
    images: list[Image.Image] = []
    real = worker.encode

    def keeping(image: Image.Image, *args: Any) -> bytes:
        images.append(image.copy())
        return real(image, *args)

    monkeypatch.setattr(worker, "encode", keeping)
    return images


def render(template: Template, title: str) -> bytes:
    fields = template.validate({"title": title})
    job = RenderJob(template.version, str(OG_CARD), fields, 1200, 630, "png")
    return worker.run(job).data


def pixels_of(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.tobytes()


def test_a_new_backdrop_under_a_key_starts_without_bands() -> None:
    cache = BackdropCache(1000)
    first = cache.put(b"k", bytes(100))
    first.bands.add("RGB", 7, 0, Segment(b"x" * 10, 1, 1))
    second = cache.put(b"k", bytes([1]) * 100)
    assert second.bands.kept == {}
    found = cache.get(b"k")
    assert found is second
    assert cache.bytes == 100


def test_bands_count_toward_the_bound() -> None:
    cache = BackdropCache(320)
    older = cache.put(b"older", bytes(100))
    newer = cache.put(b"newer", bytes(100))
    newer.bands.add("RGB", 7, 0, Segment(bytes(50), 1, 1))
    assert cache.bytes == 200 + 50 + png_bands.SEGMENT_OVERHEAD
    cache.trim()
    assert cache.get(b"older") is older
    newer.bands.add("RGB", 7, 1, Segment(bytes(50), 1, 1))  # 428 bytes now: over the bound
    cache.trim()
    assert cache.get(b"newer") is None, "the least recently used went first"
    assert cache.get(b"older") is older
    assert cache.bytes == 100


def test_a_title_costs_the_bands_of_the_title(
    config: Any, og_card: Template, compressed: list[int]
) -> None:
    worker.init_worker(replace(config, backdrop_bytes=KEPT))
    render(og_card, "A first title")
    render(og_card, "A second title")
    compressed.clear()
    render(og_card, "A third title")
    bands = -(-630 // BAND_ROWS)
    assert 0 < len(compressed) <= bands // 3, compressed
    (backdrop,) = worker._State.backdrops._kept.values()
    assert len(backdrop.bands.kept) >= bands - len(compressed)
    assert worker._State.backdrops.bytes == len(backdrop.pixels) + backdrop.bands.nbytes


def test_the_same_render_gives_the_same_bytes_in_a_fresh_worker(
    config: Any, og_card: Template
) -> None:
    worker.init_worker(replace(config, backdrop_bytes=KEPT))
    fresh = render(og_card, "Same title")  # the backdrop's first render: nothing to reuse
    render(og_card, "Another title")
    reused = render(og_card, "Same title")
    worker.init_worker(replace(config, backdrop_bytes=0))
    whole = render(og_card, "Same title")  # no backdrop at all
    assert fresh == reused == whole


def test_a_backdrop_changed_under_its_key_is_not_reused(
    config: Any, og_card: Template, encoded: list[Image.Image]
) -> None:
    worker.init_worker(replace(config, backdrop_bytes=KEPT))
    render(og_card, "Learn the bands")
    render(og_card, "And more of them")
    cache = worker._State.backdrops
    ((key, backdrop),) = cache._kept.items()
    assert backdrop.bands.kept, "the renders kept the backdrop's bands"
    # New pixels under the same key: every opaque pixel's colour inverted, alpha kept.
    changed = bytearray(backdrop.pixels)
    for channel in range(3):
        changed[channel::4] = bytes(255 - v for v in changed[channel::4])
    cache.put(key, bytes(changed))
    encoded.clear()
    data = render(og_card, "Drawn on the new pixels")
    assert pixels_of(data) == encoded[0].tobytes()


def test_kept_rows_sees_one_changed_byte_in_a_row() -> None:
    before = bytes(range(256)) * 3  # 3 rows of 256 bytes: 64 ARGB32 pixels each
    after = bytearray(before)
    after[256 + 7] ^= 1  # the alpha byte of one pixel in the middle row
    assert kept_rows(before, bytes(after), 3) == [True, False, True]

"""What is made of glyphs is kept within a byte budget (text/glyph_cache.py): least
recently used out first, never more than the budget, and a glyph made again after its
eviction draws the same pixels."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from pixeldrive.core.config import Settings
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob
from pixeldrive.templates.model import compile_template
from pixeldrive.text import glyph_cache
from pixeldrive.text.glyph_cache import ENTRY_OVERHEAD, GlyphCache
from pixeldrive.wiring import worker_config

HAN = "".join(chr(0x4E00 + 37 * i) for i in range(240))  # 240 distinct ideographs
EMOJI = "😀🎉🚀🌍🍕🐱🎨📚"


def made(cache: GlyphCache, key: str, size: int, log: list[str]) -> str:
    def make() -> str:
        log.append(key)
        return key.upper()

    return cache.get_or_make(key, make, lambda _: size)


def test_the_least_recently_used_go_first_and_the_budget_holds() -> None:
    cost = 100 + ENTRY_OVERHEAD
    cache, log = GlyphCache(3 * cost), []
    for key in "abc":
        assert made(cache, key, 100, log) == key.upper()
    made(cache, "a", 100, log)  # used again: "b" is now the oldest
    made(cache, "d", 100, log)
    assert cache.nbytes == 3 * cost
    made(cache, "a", 100, log)
    made(cache, "b", 100, log)  # gone, so made again
    assert log == ["a", "b", "c", "d", "b"]
    assert cache.nbytes <= cache.max_bytes


def test_an_entry_larger_than_the_budget_is_made_but_not_kept() -> None:
    cache, log = GlyphCache(1000), []
    made(cache, "huge", 5000, log)
    made(cache, "huge", 5000, log)
    assert log == ["huge", "huge"]
    assert len(cache) == 0
    assert cache.nbytes == 0


def test_a_smaller_budget_evicts_down_to_it() -> None:
    cache, log = GlyphCache(10_000), []
    for key in "abcdef":
        made(cache, key, 1000, log)
    cache.resize(2500)
    assert cache.nbytes <= 2500
    assert len(cache) == 2
    cache.resize(0)
    assert len(cache) == 0


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(state_dir=tmp_path_factory.mktemp("state"))


def draw(settings: Settings, tmp: Path, glyph_bytes: int) -> bytes:
    """Han and colour emoji, in an in-process worker whose glyph budget is `glyph_bytes`."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="400">'
        '<rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="10" y="60" font-size="20" xml:lang="zh-Hans">{HAN[:60]}</text>'
        f'<text x="10" y="120" font-size="20" xml:lang="zh-Hans">{HAN[60:120]}</text>'
        f'<text x="10" y="180" font-size="20" xml:lang="zh-Hans">{HAN[120:180]}</text>'
        f'<text x="10" y="240" font-size="20" xml:lang="zh-Hans">{HAN[180:]}</text>'
        f'<text x="10" y="320" font-size="48">{EMOJI}</text></svg>'
    ).encode()
    template = compile_template("t", svg, max_image_bytes=10**6)
    source = tmp / f"{template.version}.svg"
    source.write_bytes(svg)
    worker.init_worker(replace(worker_config(settings), glyph_bytes=glyph_bytes))
    job = RenderJob(template.version, str(source), {}, 1200, 400, "png")
    return worker.run(job).data


def test_text_of_many_glyphs_stays_within_a_small_budget_and_draws_the_same(
    settings: Settings, tmp_path: Path
) -> None:
    roomy = draw(settings, tmp_path, 16 * 2**20)
    kept_roomy = len(glyph_cache.GLYPHS)
    assert kept_roomy >= len(HAN)  # every ideograph kept, in one form or more
    budget = 64 * 1024
    tight = draw(settings, tmp_path, budget)
    assert glyph_cache.GLYPHS.nbytes <= budget
    assert 0 < len(glyph_cache.GLYPHS) < kept_roomy / 2, "the budget evicted nothing"
    before, after = (Image.open(io.BytesIO(data)).convert("RGB") for data in (roomy, tight))
    assert before.tobytes() == after.tobytes()
    assert before.getextrema() != ((255, 255),) * 3  # something was drawn

"""The check of uploaded fonts (text/font_files.py): real OTS, real fontTools, real files.
A good font in any of the four kinds is accepted as the sfnt OTS writes; every hostile or
forbidden one is refused naming why, quickly."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.core.errors import TooLarge
from pixeldrive.text.font_files import Embedding, FontRefused, check_font, describe_file
from tests.fontmaker import make_font
from tests.hostile_fonts import as_flavor, hostile, with_fs_type

LIMITS = {"max_bytes": 20 * 2**20, "max_sfnt_bytes": 64 * 2**20, "timeout": 20.0}


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_font(tmp_path_factory.mktemp("font") / "blocks.ttf").read_bytes()


@pytest.mark.parametrize("flavor", [None, "woff", "woff2"])
def test_a_good_font_is_kept_as_the_sfnt_ots_wrote(good: bytes, flavor: str | None) -> None:
    data = as_flavor(good, flavor) if flavor else good
    checked = check_font(data, **LIMITS)
    assert checked.kind == (flavor or "ttf")
    assert checked.data[:4] == b"\x00\x01\x00\x00"  # an sfnt, decompressed
    assert checked.digest == hashlib.sha256(checked.data).hexdigest()
    facts = checked.facts
    assert (facts.family, facts.style, facts.weight, facts.italic) == (
        "PD Test Blocks",
        "Regular",
        400,
        False,
    )
    assert facts.glyphs == 54
    assert facts.ext == "ttf"
    assert facts.embedding.usage == "installable"


def test_a_variable_cff_font_says_its_weight_range(tmp_path: Path) -> None:
    inter = PROJECT_ROOT / "svg_templates" / "fonts" / "Inter-Regular.otf"
    checked = check_font(inter.read_bytes(), **LIMITS)
    assert checked.facts.ext == "otf"
    assert checked.facts.copyright.startswith("Copyright")
    assert "Open Font License" in checked.facts.licence
    variable = next((PROJECT_ROOT / "svg_templates" / "fonts" / "noto").glob("NotoSansThai*"))
    facts = check_font(variable.read_bytes(), **LIMITS).facts
    assert (facts.weight, facts.weight_max) == (100, 900)


def test_every_hostile_font_is_refused_naming_why(good: bytes) -> None:
    for name, (data, word) in hostile(good).items():
        started = time.monotonic()
        with pytest.raises(FontRefused) as refused:
            check_font(data, **LIMITS)
        assert word in refused.value.detail, (name, refused.value.detail)
        assert refused.value.status == 422
        assert time.monotonic() - started < 10, name


def test_a_font_over_the_size_limit_is_413(good: bytes) -> None:
    with pytest.raises(TooLarge):
        check_font(good, **(LIMITS | {"max_bytes": 1000}))


def test_a_woff_bigger_than_the_limit_once_decompressed_is_refused(good: bytes) -> None:
    with pytest.raises(FontRefused, match="decompresses"):
        check_font(as_flavor(good, "woff2"), **(LIMITS | {"max_sfnt_bytes": 2000}))
    with pytest.raises(FontRefused, match="decompresses"):
        check_font(as_flavor(good, "woff"), **(LIMITS | {"max_sfnt_bytes": 2000}))


def test_fs_type_is_decoded_least_restrictive_first(good: bytes) -> None:
    assert Embedding.of(0).usage == "installable"
    assert Embedding.of(0x0002).usage == "restricted"
    assert Embedding.of(0x0004).usage == "preview-print"
    assert Embedding.of(0x000A).usage == "editable"  # several bits: the least restrictive
    preview = check_font(with_fs_type(good, 0x0104), **LIMITS).facts.embedding
    assert (preview.usage, preview.no_subsetting, preview.bitmap_only) == (
        "preview-print",
        True,
        False,
    )


def test_the_bundled_fonts_are_described_collections_included() -> None:
    cjk = next((PROJECT_ROOT / "svg_templates" / "fonts" / "noto").glob("NotoSansCJK*.ttc"))
    faces = describe_file(cjk)
    assert len(faces) >= 5  # JP, KR, SC, TC, HK (and their Mono forms)
    assert all("CJK" in f.family for f in faces)


def test_what_is_kept_opens_in_fonttools(good: bytes, tmp_path: Path) -> None:
    kept = tmp_path / "kept.ttf"
    kept.write_bytes(check_font(as_flavor(good, "woff2"), **LIMITS).data)
    with TTFont(str(kept)) as font:
        assert font["name"].getDebugName(1) == "PD Test Blocks"

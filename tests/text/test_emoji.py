"""Emoji: which clusters are colour emoji, that each sequence is shaped into one glyph of
the colour font (a ZWJ family, a flag, a keycap, a skin tone), that U+FE0E keeps the text
form, and that a field's length counts them as people do."""

from __future__ import annotations

import pytest

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.core.errors import InvalidInput
from pixeldrive.templates.model import compile_template
from pixeldrive.text.emoji import presentation, presentations
from pixeldrive.text.fonts import EMOJI_FAMILY, FontLibrary, library_for
from pixeldrive.text.shape import FontStyle, Span, shape
from tests.svgdoc import svg_document

SEQUENCES = {
    "rocket": "🚀",
    "family (ZWJ)": "👨‍👩‍👧‍👦",
    "profession with skin tone": "👩🏽‍💻",
    "skin tone": "👋🏽",
    "flag (regional indicators)": "🇯🇵",
    "flag (tag sequence)": "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "keycap": "1️⃣",
    "rainbow flag (VS + ZWJ)": "🏳️‍🌈",
    "heart asked as emoji": "❤️",
}


@pytest.fixture(scope="module")
def library() -> FontLibrary:
    return library_for(str(PROJECT_ROOT / "conf" / "fonts.conf"))


def glyphs_of(library: FontLibrary, text: str) -> list[tuple[str, int]]:
    """(family, glyph id) of every glyph `text` is shaped into, in Inter at 40 px."""
    shaped = shape([Span(text, FontStyle(("Inter",), 40.0), 0)], library)
    return [(item.font.face.family, gid) for item in shaped.items for gid in item.gids]


@pytest.mark.parametrize("name", list(SEQUENCES))
def test_each_sequence_is_one_colour_glyph(library: FontLibrary, name: str) -> None:
    text = SEQUENCES[name]
    assert set(presentations(text)) == {"emoji"}
    ((family, gid),) = glyphs_of(library, text)
    assert family == EMOJI_FAMILY
    assert gid != 0  # not .notdef


def test_emoji_sit_among_text_in_the_texts_font(library: FontLibrary) -> None:
    families = [family for family, _ in glyphs_of(library, "Go 🚀 now")]
    assert families == ["Inter"] * 3 + [EMOJI_FAMILY] + ["Inter"] * 4


def test_plain_symbols_stay_text_unless_asked(library: FontLibrary) -> None:
    for text in ("#", "1", "©", "❤", "☺"):
        assert presentation(text) is None, text
        assert EMOJI_FAMILY not in {f for f, _ in glyphs_of(library, text)}, text
    assert presentation("☺\ufe0f") == "emoji"
    assert presentation("☺\ufe0e") == "text"
    (family, _), *_ = glyphs_of(library, "☺\ufe0e")  # the monochrome form, from a text font
    assert family != EMOJI_FAMILY
    ((family, _),) = glyphs_of(library, "☺\ufe0f")
    assert family == EMOJI_FAMILY


def test_a_length_limit_counts_grapheme_clusters() -> None:
    body = '<text data-pd-field="t" data-pd-max-length="3">x</text>'
    template = compile_template("t", svg_document(body), max_image_bytes=10**6)
    three = "👨‍👩‍👧‍👦🇯🇵1️⃣"  # 14 code points, three characters
    assert template.validate({"t": three}) == {"t": three}
    with pytest.raises(InvalidInput) as refused:
        template.validate({"t": three + "é"})
    (problem,) = refused.value.errors
    assert "at most 3 characters" in problem.message
    assert "not 4" in problem.message
    described = template.describe()["fields"][0]
    assert described["max_length"] == 3

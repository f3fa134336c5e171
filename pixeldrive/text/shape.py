"""Shaping: a paragraph of styled spans becomes items of positioned glyphs.

A paragraph is cut into items, each one font, one span, one script and one bidi level;
every item is shaped by HarfBuzz in its script and language, with kerning and standard
ligatures (ligatures off where letters are spaced, as CSS says). Fonts come from the
library: the span's own family list first, then the families of the character's script,
then the fallback chain. Marks and spaces stay in the font of the text around them, as
Pango does, so a space between two Arabic words is an Arabic space. Emoji clusters (a ZWJ
family, a flag, a keycap) go to the colour emoji font whole (text/emoji.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace

import uharfbuzz as hb

from pixeldrive.text import bidi
from pixeldrive.text.emoji import presentations
from pixeldrive.text.fonts import EMOJI_FAMILY, Face, FontLibrary, LoadedFont, drawable
from pixeldrive.text.scripts import han_language, hb_language, scripts_of


@dataclass(frozen=True, slots=True)
class FontStyle:
    """What picks and sizes a font for a span; sizes in px."""

    families: tuple[str, ...]
    size: float
    weight: int = 400
    italic: bool = False
    letter_spacing: float = 0.0
    word_spacing: float = 0.0
    lang: str = ""  # BCP 47, from xml:lang / lang: picks Han's forms and HarfBuzz's language

    def scaled(self, factor: float) -> FontStyle:
        spacing = (self.letter_spacing * factor, self.word_spacing * factor)
        return replace(
            self, size=self.size * factor, letter_spacing=spacing[0], word_spacing=spacing[1]
        )


@dataclass(slots=True)
class Span:
    """A piece of text with one style, drawn into one output group (`owner`)."""

    text: str
    style: FontStyle
    owner: int
    baseline_shift: float = 0.0  # px, up is positive (as CSS); scaled with the size
    decoration: frozenset[str] = frozenset()


@dataclass(slots=True)
class Item:
    """Glyphs of one font, one span and one bidi level, in visual order. Advances and
    offsets are in font units; `clusters` index the paragraph's characters."""

    start: int
    end: int
    span: int
    font: LoadedFont
    level: int
    size: float
    gids: list[int] = field(default_factory=list)
    clusters: list[int] = field(default_factory=list)
    advances: list[float] = field(default_factory=list)  # px, spacing included
    offsets: list[tuple[float, float]] = field(default_factory=list)  # px, y down

    @property
    def scale(self) -> float:
        return self.size / self.font.upem


@dataclass(slots=True)
class Shaped:
    """A shaped paragraph: its text, its spans, per-character advances (logical order,
    the whole cluster's advance on its first character) and its items."""

    text: str
    spans: list[Span]
    items: list[Item]
    advances: list[float]
    span_of: list[int]
    fallbacks: set[str]
    missing: set[str]


# Characters that keep the font of the text before them when it has them: Pango lets
# spaces and invisible characters continue a run, and marks stay with their base.
_NEUTRAL_CATEGORIES = frozenset({"Zs", "Mn", "Mc", "Me", "Cf"})


def _is_variation_selector(char: str) -> bool:
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


_LIGATURES_OFF = {"liga": False, "clig": False, "dlig": False, "calt": False}


def shape(spans: list[Span], library: FontLibrary, base_level: int = 0) -> Shaped:
    text = "".join(s.text for s in spans)
    span_of: list[int] = []
    for index, span in enumerate(spans):
        span_of.extend([index] * len(span.text))
    levels = bidi.levels(text, base_level)
    scripts = scripts_of(text)
    lang = next((s.style.lang for s in spans if s.style.lang), "")
    han = han_language(lang, scripts, library.han)
    faces, fallbacks, missing = _faces(text, spans, span_of, library, scripts, han)
    items: list[Item] = []
    advances = [0.0] * len(text)
    start = 0
    n = len(text)
    while start < n:
        end = start + 1
        while (
            end < n
            and span_of[end] == span_of[start]
            and faces[end] == faces[start]
            and levels[end] == levels[start]
            and scripts[end] == scripts[start]
        ):
            end += 1
        span = spans[span_of[start]]
        font = library.font(faces[start])
        language = hb_language(span.style.lang, scripts[start], han)
        item = _shape_item(text, start, end, span_of[start], span, font, levels[start], language)
        items.append(item)
        for cluster, advance in zip(item.clusters, item.advances, strict=True):
            advances[cluster] += advance
        start = end
    return Shaped(text, spans, items, advances, span_of, fallbacks, missing)


def _faces(
    text: str,
    spans: list[Span],
    span_of: list[int],
    library: FontLibrary,
    scripts: list[str],
    han: str,
) -> tuple[list[Face], set[str], set[str]]:
    """The face of every character: an emoji cluster's is the colour emoji font's; else the
    span's own, else the first of its script's families and the fallback chain that has
    it; neutral characters (spaces, punctuation, marks) keep the face before them if it
    can."""
    primary: dict[int, Face] = {}
    faces: list[Face] = []
    fallbacks: set[str] = set()
    missing: set[str] = set()
    category = unicodedata.category
    shown = presentations(text)
    for i, char in enumerate(text):
        index = span_of[i]
        face = primary.get(index)
        if face is None:
            style = spans[index].style
            face = primary[index] = library.match(style.families, style.weight, style.italic)
        if shown[i] == "emoji" and face.family != EMOJI_FAMILY:
            emoji = library.similar(EMOJI_FAMILY, face)
            if emoji is not None:
                fallbacks.add(emoji.family)
                faces.append(emoji)
                continue
        if not drawable(char):  # no font may stand in for it: refused or replaced
            missing.add(char)
            faces.append(face)
            continue
        previous = faces[-1] if faces and span_of[i - 1] == index else None
        if previous is not None and _is_variation_selector(char):  # shaped with its base
            faces.append(previous)
            continue
        if (
            previous is not None
            and previous != face
            and previous.family != EMOJI_FAMILY
            and category(char) in _NEUTRAL_CATEGORIES
            and library.covers(previous, char)
        ):
            faces.append(previous)
            continue
        if library.covers(face, char) or category(char) in ("Cc", "Cf", "Zl", "Zp"):
            faces.append(face)
            continue
        other = library.fallback_for(face, char, scripts[i], han)
        if other is None:
            missing.add(char)
            faces.append(face)
        else:
            fallbacks.add(other.family)
            faces.append(other)
    return faces, fallbacks, missing


def _shape_item(
    text: str,
    start: int,
    end: int,
    index: int,
    span: Span,
    font: LoadedFont,
    level: int,
    language: str | None,
) -> Item:
    style = span.style
    buffer = hb.Buffer()
    buffer.add_str(text[start:end])
    buffer.guess_segment_properties()
    buffer.direction = "rtl" if level % 2 else "ltr"
    if language:
        buffer.language = language
    features: dict[str, bool] = {"kern": True, "liga": True}
    if style.letter_spacing:
        features |= _LIGATURES_OFF
    hb.shape(font.hb_font, buffer, features)
    scale = style.size / font.upem
    item = Item(start, end, index, font, level, style.size)
    spacing = bool(style.letter_spacing or style.word_spacing)
    seen: set[int] = set()
    for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True):
        cluster = start + info.cluster
        advance = pos.x_advance * scale
        if spacing and cluster not in seen:
            # Once per cluster: a ligature or a mark is one letter to space.
            seen.add(cluster)
            advance += style.letter_spacing
            if text[cluster] == " ":
                advance += style.word_spacing
        item.gids.append(info.codepoint)
        item.clusters.append(cluster)
        item.advances.append(advance)
        item.offsets.append((pos.x_offset * scale, -pos.y_offset * scale))
    return item

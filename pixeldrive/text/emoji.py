"""Emoji presentation: which user-perceived characters (grapheme clusters) are emoji to
draw in colour, and which ask for the plain text form.

A cluster is colour emoji when Unicode says it is presented as one: it has the emoji
variation selector U+FE0F, or is a keycap, a flag (a regional-indicator pair or a tag
sequence), a ZWJ sequence or a skin-toned emoji, or starts with a character whose default
presentation is emoji (Emoji_Presentation). U+FE0E asks for the text form. Everything else
is text, drawn by the text's own fonts (a plain ❤ or © stays text, as in browsers).
"""

from __future__ import annotations

from typing import Literal

import regex

from pixeldrive.templates.values import graphemes

Presentation = Literal["emoji", "text"] | None

_DEFAULT_EMOJI = regex.compile(r"\p{Emoji_Presentation}")
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")
VS_TEXT, VS_EMOJI, ZWJ, KEYCAP = "\ufe0e", "\ufe0f", "\u200d", "\u20e3"
_MODIFIERS = range(0x1F3FB, 0x1F400)
_TAGS = range(0xE0020, 0xE0080)
_REGIONAL = range(0x1F1E6, 0x1F200)


def presentation(cluster: str) -> Presentation:
    """How one grapheme cluster is presented: "emoji", "text" (asked for with U+FE0E), or
    None for ordinary text."""
    if VS_TEXT in cluster:
        return "text" if _PICTOGRAPHIC.match(cluster) or cluster[0].isdigit() else None
    codes = [ord(c) for c in cluster]
    if (
        VS_EMOJI in cluster
        or KEYCAP in cluster
        or any(c in _TAGS or c in _MODIFIERS for c in codes)
        or (codes[0] in _REGIONAL)
        or (ZWJ in cluster and _PICTOGRAPHIC.search(cluster) is not None)
        or _DEFAULT_EMOJI.match(cluster) is not None
    ):
        return "emoji"
    return None


def presentations(text: str) -> list[Presentation]:
    """The presentation of every character of `text` (its cluster's)."""
    out: list[Presentation] = []
    for cluster in graphemes(text):
        out.extend([presentation(cluster)] * len(cluster))
    return out

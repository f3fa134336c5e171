"""Bidirectional text (UAX #9): embedding levels per character, and visual order of runs.

python-bidi's pure-Python algorithm resolves the levels; it is only asked when the text
holds a right-to-left character, so Latin text pays one scan of its characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from bidi import algorithm

RTL_TYPES = frozenset({"R", "AL", "AN", "RLE", "RLO", "RLI"})
# Explicit formatting characters that the algorithm drops (rule X9): they draw nothing and
# would shift its per-character storage out of step with the text.
REMOVED = frozenset({"RLE", "LRE", "RLO", "LRO", "PDF", "BN"})


def has_rtl(text: str) -> bool:
    bidirectional = unicodedata.bidirectional
    return any(bidirectional(ch) in RTL_TYPES for ch in text)


def levels(text: str, base_level: int = 0) -> list[int]:
    """The resolved embedding level of every character of one paragraph (even = left to
    right). Characters the algorithm removes (X9) take the level before them."""
    if not has_rtl(text) and base_level == 0:
        return [0] * len(text)
    bidirectional = unicodedata.bidirectional
    kept = [i for i, ch in enumerate(text) if bidirectional(ch) not in REMOVED]
    storage: dict[str, Any] = algorithm.get_empty_storage()
    storage["base_level"] = base_level
    storage["base_dir"] = ("L", "R")[base_level % 2]
    algorithm.get_embedding_levels("".join(text[i] for i in kept), storage)
    algorithm.explicit_embed_and_overrides(storage, False)
    algorithm.resolve_weak_types(storage, False)
    algorithm.resolve_neutral_types(storage, False)
    algorithm.resolve_implicit_levels(storage, False)
    resolved = [base_level] * len(text)
    for index, char in zip(kept, storage["chars"], strict=True):
        resolved[index] = int(char["level"])
    previous = base_level
    kept_set = set(kept)
    for i in range(len(text)):
        if i in kept_set:
            previous = resolved[i]
        else:
            resolved[i] = previous
    return resolved


def base_level(direction: str | None) -> int:
    return 1 if direction == "rtl" else 0


def first_strong(text: str) -> str | None:
    """ "rtl" or "ltr" by the first strongly directional character (UAX #9 P2-P3, as
    HTML's dir=auto), None when there is none."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


def visual_order(run_levels: Sequence[int]) -> list[int]:
    """Indexes of runs in display order (rule L2): from the highest level down to the
    lowest odd level, reverse every maximal sequence at that level or higher."""
    order = list(range(len(run_levels)))
    if not run_levels:
        return order
    highest = max(run_levels)
    lowest_odd = min((lv for lv in run_levels if lv % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if run_levels[order[i]] >= level:
                j = i
                while j < len(order) and run_levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order

"""What fonts make of their glyphs (outlines as SVG path data and as cairo paths, colour
glyphs' display lists and what cairo makes of them), kept for the next render within one
byte budget for the whole process, least recently used out first.

Kept per font and glyph with no bound, these grew with every distinct glyph a worker
ever drew: text in a script of thousands of glyphs (Han, Hangul), or many faces, would
keep all of it until the worker was recycled. Sizes are estimates by whoever makes the
entry (a cairo path's points, a string's length, a display list's nodes), close enough to
bound the total, not an accounting of Python's overhead.
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
DEFAULT_BYTES = 16 * 2**20
ENTRY_OVERHEAD = 200  # the key, the entry and the LRU's own link, roughly
# The kinds of entry, the second part of a key (font token, kind, glyph):
OUTLINE = 0  # SVG path data (text/glyphs.py)
CAIRO_PATH = 1  # a cairo path (text/draw.py)
COLOR_GLYPH = 2  # a colour glyph's display list (text/color_glyphs.py)
CAIRO_COLOR = 3  # what text/draw.py makes of one for cairo


class GlyphCache:
    """Entries by key, least recently used out first once their sizes pass `max_bytes`
    (0 keeps nothing)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_make(self, key: Hashable, make: Callable[[], T], size: Callable[[T], int]) -> T:
        """The entry at `key`, made (and sized) by the callables when it is not kept."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            value: T = entry[0]
            return value
        value = make()
        cost = size(value) + ENTRY_OVERHEAD
        if cost <= self.max_bytes:
            self._entries[key] = (value, cost)
            self.nbytes += cost
            while self.nbytes > self.max_bytes:
                _, (_, gone) = self._entries.popitem(last=False)
                self.nbytes -= gone
        return value

    def resize(self, max_bytes: int) -> None:
        """A new budget, evicting down to it."""
        self.max_bytes = max_bytes
        while self.nbytes > max_bytes and self._entries:
            _, (_, gone) = self._entries.popitem(last=False)
            self.nbytes -= gone


GLYPHS = GlyphCache(DEFAULT_BYTES)  # the process's: a worker sizes it at start
_FONTS = itertools.count()


def font_token() -> int:
    """A number naming one loaded font in the keys for as long as the process lives
    (unlike id(), never given to another font after this one is gone)."""
    return next(_FONTS)


def estimate(value: object, depth: int = 0) -> int:
    """Bytes a tree of frozen dataclasses, tuples, lists and scalars takes, roughly."""
    size = sys.getsizeof(value)
    if depth > 32:
        return size
    if isinstance(value, tuple | list):
        return size + sum(estimate(item, depth + 1) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return size + sum(
            estimate(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        )
    return size

"""A worker's backdrops: their pixels, and the PNG bands learnt from renders drawn on them."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from pixeldrive.render.png_bands import Segments


@dataclass(frozen=True, slots=True)
class Backdrop:
    """A backdrop's pixels (cairo ARGB32), and the compressed PNG bands of those pixels
    that renders drawn on them have left as they were (render/png_bands.py). The bands
    belong to these pixels: a new backdrop under the same key starts with none."""

    pixels: bytes
    bands: Segments = field(default_factory=Segments)

    @property
    def nbytes(self) -> int:
        return len(self.pixels) + self.bands.nbytes


class BackdropCache:
    """A worker's backdrops, least recently used out first, bounded by their total size
    in bytes: pixels and bands."""

    def __init__(self, max_bytes: int) -> None:
        self._kept: OrderedDict[bytes, Backdrop] = OrderedDict()
        self.max_bytes = max_bytes
        self.enabled = max_bytes > 0
        self.hits = 0
        self.misses = 0

    def get(self, key: bytes) -> Backdrop | None:
        found = self._kept.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._kept.move_to_end(key)
        return found

    def put(self, key: bytes, pixels: bytes) -> Backdrop:
        """A new backdrop for `key`, kept if it fits the bound; it replaces any other."""
        backdrop = Backdrop(pixels)
        self._kept.pop(key, None)
        if len(pixels) <= self.max_bytes:
            self._kept[key] = backdrop
            self.trim()
        return backdrop

    def trim(self) -> None:
        """Drop the least recently used until the rest fit the bound: after a put, and
        after an encoder added bands to a backdrop."""
        total = self.bytes
        while total > self.max_bytes and self._kept:
            _key, dropped = self._kept.popitem(last=False)
            total -= dropped.nbytes

    @property
    def bytes(self) -> int:
        return sum(backdrop.nbytes for backdrop in self._kept.values())

"""How a render worker may write a cache entry itself: the cache decides whether a tier
takes such entries (`TieredCache.fill`); the worker only writes what it is handed."""

from __future__ import annotations

from typing import Protocol


class EntryWriter(Protocol):
    """Writes one tier entry from another process (a render worker): picklable."""

    def write(self, data: bytes) -> int | None:
        """Store `data`; the bytes the entry takes, or None when it declined or could not
        (the cache then stores them itself, and reports any error). Never raises OSError."""
        ...


class Drawn(Protocol):
    """What a draw hands back to the cache: the bytes, and the size of the entry its
    writer stored (None when it stored none)."""

    @property
    def data(self) -> bytes: ...

    @property
    def stored(self) -> int | None: ...

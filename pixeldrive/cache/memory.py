"""In-process LRU cache tier bounded by the total size of the stored bytes."""

from __future__ import annotations

from cachetools import LRUCache

from pixeldrive.cache.tier import TierStats


class MemoryTier:
    """LRU tier holding at most ``max_bytes`` of payload; larger items are not stored.

    All operations are synchronous underneath; the async methods exist to satisfy
    ``CacheTier`` and ``peek`` serves the hottest path without an await.
    """

    name: str = "memory"

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self._lru: LRUCache[str, bytes] = LRUCache(maxsize=max_bytes, getsizeof=len)

    def peek(self, variant: str) -> bytes | None:
        """Return the cached bytes (marking them most recently used) or ``None``."""
        return self._lru.get(variant)

    async def get(self, variant: str) -> bytes | None:
        """See ``CacheTier.get``."""
        return self.peek(variant)

    async def put(self, variant: str, data: bytes) -> None:
        """See ``CacheTier.put``; an item larger than ``max_bytes`` is not stored."""
        if len(data) > self._lru.maxsize:
            # Drop any older value so a declined overwrite never serves stale bytes.
            self._lru.pop(variant, None)
            return
        self._lru[variant] = data

    async def delete(self, variant: str) -> None:
        """See ``CacheTier.delete``."""
        self._lru.pop(variant, None)

    def stats(self) -> TierStats:
        """Entries and payload bytes currently held."""
        return TierStats(entries=len(self._lru), bytes=int(self._lru.currsize))

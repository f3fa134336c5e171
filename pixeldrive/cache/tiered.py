"""Read-through composition of cache tiers, fastest first, with promotion on lower-tier hits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from pixeldrive.cache.tier import Adopting, CacheTier, Peekable, TierStats
from pixeldrive.core.entry_writer import Drawn, EntryWriter

D = TypeVar("D", bound=Drawn)

LookupObserver = Callable[[str, bool], None]
"""Told `(tier name, hit)` for each tier consulted; must not raise or block."""


def _ignore(_tier: str, _hit: bool) -> None:
    return None


class TieredCache:
    """Looks tiers up in order and copies a lower-tier hit into every tier above it.

    `on_lookup` (optional) is told about every tier consulted, hit or miss, so an
    observer (the metrics) can count per tier without the cache knowing about it.
    """

    def __init__(
        self, tiers: Sequence[CacheTier], *, on_lookup: LookupObserver | None = None
    ) -> None:
        if not tiers:
            raise ValueError("TieredCache needs at least one tier")
        names = [tier.name for tier in tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique, got {names}")
        self._tiers: tuple[CacheTier, ...] = tuple(tiers)
        self._behind: set[asyncio.Future[list[None]]] = set()
        self._on_lookup = on_lookup or _ignore
        first = self._tiers[0]
        self._peek: Callable[[str], bytes | None] | None = (
            first.peek if isinstance(first, Peekable) else None
        )
        # The slower tier (if any) whose entries a render worker may write itself.
        self._adopting: Adopting | None = next(
            (t for t in self._tiers[1:] if isinstance(t, Adopting)), None
        )

    @property
    def tiers(self) -> tuple[CacheTier, ...]:
        """The tiers, fastest first."""
        return self._tiers

    def peek_memory(self, variant: str) -> bytes | None:
        """Synchronous lookup in the first tier if it supports ``peek``; else ``None``.

        Only a hit is reported to ``on_lookup``: a caller follows a miss with ``get()``,
        which reports it, so one lookup is counted once.
        """
        data = self._peek(variant) if self._peek is not None else None
        if data is not None:
            self._on_lookup(self._tiers[0].name, True)
        return data

    async def get(self, variant: str) -> tuple[bytes, str] | None:
        """Return ``(data, tier name)`` from the first tier that hits, or ``None``.

        A hit below the first tier is written into all tiers above it before returning.
        """
        for depth, tier in enumerate(self._tiers):
            data = await tier.get(variant)
            self._on_lookup(tier.name, data is not None)
            if data is not None:
                if depth:
                    await asyncio.gather(*(t.put(variant, data) for t in self._tiers[:depth]))
                return data, tier.name
        return None

    async def put(self, variant: str, data: bytes) -> None:
        """Store ``data`` in every tier concurrently (each tier is best effort)."""
        await asyncio.gather(*(tier.put(variant, data) for tier in self._tiers))

    async def fill(self, variant: str, draw: Callable[[EntryWriter | None], Awaitable[D]]) -> D:
        """Draw `variant` and keep its bytes: in the first tier at once, in the slower ones
        in the background. Where a tier lets the drawing process write its entry itself
        (the disk tier, to a render worker), `draw` is handed that writer and the tier only
        indexes what was written; otherwise `draw` gets None."""
        drawn = await draw(self.writer(variant))
        await self.put_behind(variant, drawn.data, written=drawn.stored)
        return drawn

    def writer(self, variant: str) -> EntryWriter | None:
        """What lets another process (the render worker that draws `variant`) write its
        entry of the slower tier that takes such entries (the disk); None when no tier
        does. Pass what it stored to `put_behind(..., written=)`."""
        return self._adopting.writer(variant) if self._adopting is not None else None

    async def put_behind(self, variant: str, data: bytes, *, written: int | None = None) -> None:
        """Store in the first tier now and in the slower tiers in the background: the
        caller already holds the bytes, so nothing needs to wait for the disk. `written`:
        the size of the entry `writer(variant)` wrote, which that tier then only indexes.
        `drain()` waits for what is still being written."""
        await self._tiers[0].put(variant, data)
        adopted = self._adopting if written is not None else None
        behind = [tier.put(variant, data) for tier in self._tiers[1:] if tier is not adopted]
        if adopted is not None and written is not None and adopted.adopt(variant, written):
            behind.append(adopted.trim(keep=variant))
        if behind:
            task = asyncio.gather(*behind)
            self._behind.add(task)
            task.add_done_callback(self._behind.discard)

    async def drain(self) -> None:
        """Wait for every background write (before shutdown, and in tests)."""
        while self._behind:
            await asyncio.gather(*self._behind)

    async def delete(self, variant: str) -> None:
        """Remove ``variant`` from every tier."""
        await asyncio.gather(*(tier.delete(variant) for tier in self._tiers))

    def stats(self) -> dict[str, TierStats]:
        """Per-tier statistics keyed by tier name, in lookup order."""
        return {tier.name: tier.stats() for tier in self._tiers}

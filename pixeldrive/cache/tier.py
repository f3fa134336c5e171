"""The contract every cache tier fulfils: variant names, statistics and the CacheTier Protocol."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pixeldrive.core.entry_writer import EntryWriter

VARIANT_RE = re.compile(r"[a-z0-9]{8,64}\.[a-z0-9]{2,5}")


def is_valid_variant(variant: str) -> bool:
    """Return True if ``variant`` is a well-formed variant name.

    Uses ``fullmatch`` because ``$`` alone would also accept a trailing newline.
    """
    return VARIANT_RE.fullmatch(variant) is not None


@dataclass(frozen=True, slots=True)
class TierStats:
    """Point-in-time size of a tier: number of entries and the bytes they occupy."""

    entries: int
    bytes: int


class CacheTier(Protocol):
    """One storage level of the render cache, keyed by variant name (e.g. ``"3f2a…c9.png"``).

    Callers validate variants against ``VARIANT_RE``; tiers may assume they are well formed.
    """

    name: str

    async def get(self, variant: str) -> bytes | None:
        """Return the cached bytes for ``variant``.

        Returns ``None`` on a miss, and also when the tier cannot read (I/O trouble,
        corrupt data): never raises for those, so the caller simply re-renders.
        """
        ...

    async def put(self, variant: str, data: bytes) -> None:
        """Store ``data`` under ``variant``, replacing any previous value.

        Best effort: the tier may decline (e.g. ``data`` exceeds its capacity) or fail to
        write; it never raises for I/O trouble. It may evict other entries to stay bounded.
        """
        ...

    async def delete(self, variant: str) -> None:
        """Remove ``variant`` if present; deleting a missing entry is not an error."""
        ...

    def stats(self) -> TierStats:
        """Return current entry count and bytes held (tier-specific accounting)."""
        ...


@runtime_checkable
class Peekable(Protocol):
    """A tier that can answer synchronously, without an await or a thread hop."""

    def peek(self, variant: str) -> bytes | None:
        """Return cached bytes (refreshing recency) or ``None``; never raises for misses."""
        ...


@runtime_checkable
class Adopting(CacheTier, Protocol):
    """A tier whose entries another process can write (`writer`), the tier then only
    indexing them (`adopt`): the disk tier, written by the render worker that has the
    bytes first."""

    def writer(self, variant: str) -> EntryWriter | None:
        """What writes `variant`'s entry where this tier will look for it; None when the
        tier would keep nothing."""
        ...

    def adopt(self, variant: str, size: int) -> bool:
        """Index an entry of `size` bytes that `writer(variant)` wrote; True when the tier
        is now over its bound and `trim(variant)` is due. No I/O."""
        ...

    async def trim(self, keep: str | None) -> None:
        """Evict down below the bound, sparing `keep`."""
        ...

"""The ledger's writer: straight to the ledger database or, in cluster mode while
PostgreSQL is unreachable, into the node's own SQLite file, replayed when it is back."""

from __future__ import annotations

import logging
import time

from pixeldrive.core.errors import DatabaseUnavailable
from pixeldrive.storage.database import Database
from pixeldrive.storage.ledger import (
    HitCount,
    RenderEntry,
    forget,
    record_hits,
    record_render,
    spooled,
    take_in,
)

log = logging.getLogger("pixeldrive.metering")


class LedgerWriter:
    """Writes render rows and hit counts to `primary`. With a `spool` (the node's SQLite
    file; its own `renders` and `hits` tables serve as the spool, unused otherwise in
    cluster mode), a write that finds `primary` unreachable goes there instead, in a
    transaction of the local file: a render accepted while PostgreSQL is down is billed
    all the same, and survives a crash of the node. `replay()` moves spooled rows into
    `primary` (renders keep their primary key, so a replay repeated after a crash bills
    nothing twice) and is called periodically by the meter.

    Spooled rows found at start-up are replayed too; that is also how a node switched
    from the embedded database to PostgreSQL carries its ledger over.
    """

    def __init__(
        self, primary: Database, spool: Database | None = None, *, replay_seconds: float = 2.0
    ) -> None:
        self._primary = primary
        self._spool = spool
        self._replay_seconds = replay_seconds
        self._pending = spool is not None  # rows may be waiting from before a restart
        self._next_replay = 0.0

    async def record_render(self, entry: RenderEntry) -> bool:
        """Record a render durably; True when it was not recorded before."""
        try:
            return await self._primary.run(record_render, entry)
        except DatabaseUnavailable:
            if self._spool is None:
                raise
            self._pending = True
            return await self._spool.run(record_render, entry)

    async def record_hits(self, counts: list[HitCount]) -> None:
        try:
            await self._primary.run(record_hits, counts)
        except DatabaseUnavailable:
            if self._spool is None:
                raise
            self._pending = True
            await self._spool.run(record_hits, counts)

    async def replay(self) -> int:
        """Move spooled rows into the primary database, at most every `replay_seconds`;
        returns how many rows moved. DatabaseUnavailable leaves them."""
        if self._spool is None or not self._pending:
            return 0
        now = time.monotonic()
        if now < self._next_replay:
            return 0
        self._next_replay = now + self._replay_seconds
        moved = 0
        while True:
            renders, hits = await self._spool.run(spooled)
            if not renders and not hits:
                self._pending = False
                break
            await self._primary.run(take_in, renders, hits)
            await self._spool.run(forget, renders, hits)
            moved += len(renders) + len(hits)
        if moved:
            log.warning("replayed %d spooled ledger rows into the database", moved)
        return moved

    @property
    def pending(self) -> bool:
        """Whether spooled rows may be waiting for the primary database."""
        return self._pending

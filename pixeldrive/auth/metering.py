"""Metering and quotas: every render billed once to its key, every hit counted free."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from pixeldrive.auth.principal import Principal
from pixeldrive.core.errors import DatabaseUnavailable, QuotaExceeded
from pixeldrive.storage.database import Database
from pixeldrive.storage.ledger import (
    HitCount,
    RenderEntry,
    UsageRow,
    billed_before,
    renders_in_month,
    usage,
)
from pixeldrive.storage.spool import LedgerWriter

log = logging.getLogger("pixeldrive.metering")


def _day_and_month(at: float) -> tuple[str, str]:
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%Y-%m")


def seconds_to_next_month(at: float) -> int:
    moment = datetime.fromtimestamp(at, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return max(1, int(datetime(year, month, 1, tzinfo=UTC).timestamp() - at))


class Meter:
    """The ledger's front: renders are written before the answer (a crash loses none;
    the (key, image) primary key means none is recorded twice); hits are free and summed
    in memory, written every `flush_seconds` and on close. Quotas count the distinct
    images a key rendered this calendar month (UTC), plus renders under way.

    In cluster mode `db` is PostgreSQL and `spool` the node's SQLite file: writes that
    find PostgreSQL away are kept there and replayed (`LedgerWriter`); reads that need it
    (a quota not yet counted on this node, /v1/usage) answer 503 meanwhile. With other
    nodes rendering on the same ledger, `recount_seconds` re-reads a key's monthly count
    that often, so a quota holds across nodes within what they render in that time."""

    def __init__(
        self,
        db: Database,
        *,
        spool: Database | None = None,
        flush_seconds: float = 1.0,
        recount_seconds: float | None = None,
    ) -> None:
        self._db = db
        self.ledger = LedgerWriter(db, spool)
        self._flush_seconds = flush_seconds
        self._hits: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
        self._used: dict[tuple[str, str], int] = {}
        self._counted_at: dict[tuple[str, str], float] = {}
        self._recount = recount_seconds
        self._reserved: dict[str, int] = defaultdict(int)
        self._flusher: asyncio.Task[None] | None = None
        self._day_second, self._day = -1, ""

    async def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_forever())

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self.flush()

    @contextlib.asynccontextmanager
    async def admission(self, principal: Principal, variant: str) -> AsyncIterator[None]:
        """Hold a place under the key's quota while a render runs; QuotaExceeded (429,
        Retry-After: the start of next month) when the key has none left. An image this
        key was already billed for (evicted since) is drawn again freely: a URL handed
        out stays valid."""
        if principal.quota is None:
            yield
            return
        key_id = principal.key_id
        used = await self._used_this_month(key_id)
        if used + self._reserved[key_id] >= principal.quota:
            if await self._db.run(billed_before, key_id, variant):
                yield
                return
            raise QuotaExceeded(
                f"this key's quota of {principal.quota} renders this month is used up; "
                "cached images are still served",
                headers={"Retry-After": str(seconds_to_next_month(time.time()))},
            )
        self._reserved[key_id] += 1
        try:
            yield
        finally:
            self._reserved[key_id] -= 1

    async def _used_this_month(self, key_id: str) -> int:
        now = time.time()
        where = (key_id, _day_and_month(now)[1])
        counted = self._counted_at.get(where)
        stale = self._recount is not None and counted is not None and now - counted >= self._recount
        if counted is None or stale:
            try:
                self._used[where] = await self._db.run(renders_in_month, *where)
            except DatabaseUnavailable:
                if counted is None:
                    raise
            else:
                self._counted_at[where] = now
        return self._used[where]

    async def render(
        self,
        principal: Principal,
        variant: str,
        template: str,
        fmt: str,
        *,
        pixels: int,
        ms: float,
        size: int,
    ) -> None:
        """Record a render durably, before the caller answers."""
        at = time.time()
        day, month = _day_and_month(at)
        entry = RenderEntry(
            principal.key_id, variant, template, fmt, pixels, ms, size, at, day, month
        )
        if await self.ledger.record_render(entry) and (principal.key_id, month) in self._used:
            self._used[(principal.key_id, month)] += 1

    def hit(self, principal: Principal, template: str, size: int) -> None:
        """Count a cache hit (free); written with the next flush."""
        counter = self._hits[(principal.key_id, self._today(), template)]
        counter[0] += 1
        counter[1] += size

    def _today(self) -> str:
        # Hits are counted per day: the date string is computed once a second, not per hit.
        second = int(time.time())
        if second != self._day_second:
            self._day_second, self._day = second, _day_and_month(second)[0]
        return self._day

    async def flush(self) -> None:
        if not self._hits:
            return
        batch, self._hits = self._hits, defaultdict(lambda: [0, 0])
        counts = [HitCount(k, d, t, c[0], c[1]) for (k, d, t), c in batch.items()]
        try:
            await self.ledger.record_hits(counts)
        except BaseException:
            for where, (count, size) in batch.items():  # keep them for the next flush
                self._hits[where][0] += count
                self._hits[where][1] += size
            raise

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._flush_seconds)
            try:
                await self.flush()
                await self.ledger.replay()
            except DatabaseUnavailable as exc:  # spooled; replayed once it is back
                log.debug("ledger replay waits: %s", exc.detail)
            except Exception:  # the next flush retries; hits are free, renders are not here
                log.exception("writing hit counts failed")

    async def usage(self, principal: Principal) -> dict[str, Any]:
        """The principal's key's totals per day and per template: renders, cache_hits,
        bytes. Only templates within the principal's scopes count: a token narrowed to
        `og-*` does not see what its key rendered of other templates."""
        await self.flush()
        rows = [
            row
            for row in await self._db.run(usage, principal.key_id)
            if principal.scopes.allows_template(row[1])
        ]
        return {
            "key": principal.key_id,
            "days": _totals_by(rows, "day", lambda row: row[0]),
            "templates": _totals_by(rows, "template", lambda row: row[1]),
            "totals": _sums(rows),
        }


def _sums(rows: list[UsageRow]) -> dict[str, int]:
    return {
        "renders": sum(r[2] for r in rows),
        "cache_hits": sum(r[3] for r in rows),
        "bytes": sum(r[4] for r in rows),
    }


def _totals_by(rows: list[UsageRow], name: str, of: Callable[[UsageRow], str]) -> list[Any]:
    """Per value of `of(row)` (its day or its template), in order: renders, hits, bytes."""
    groups: dict[str, list[UsageRow]] = defaultdict(list)
    for row in rows:
        groups[of(row)].append(row)
    return [{name: value} | _sums(groups[value]) for value in sorted(groups)]

"""The batch queue in the embedded database (no Redis): batches and their items are rows
of the state directory's SQLite file, so a restart, a crash or a SIGKILL loses none."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from typing import Any

from pixeldrive.batch.queue import Batch, Delivery, Progress, QueueStats
from pixeldrive.storage import batch_rows
from pixeldrive.storage.database import Database

WAIT_SECONDS = 1.0
FORGET_EVERY = 60.0  # seconds between sweeps of batches past `keep_seconds`

log = logging.getLogger("pixeldrive.batch.sqlite_queue")


def holder_name() -> str:
    """Unique per process start, and says where it runs: `host/pid/token`."""
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(4)}"


def holder_gone(holder: str, me: str) -> bool:
    """Whether `holder` is a process of this host that has stopped: its pid is not
    running, or is this process's own under an earlier start (a container's server is
    pid 1 every time). A holder of another host is never known gone: its items wait out
    the claim timeout."""
    host, _, rest = holder.partition("/")
    pid_text, _, _token = rest.partition("/")
    my_host, my_pid, _ = me.split("/")
    if host != my_host or not pid_text.isdigit() or holder == me:
        return False
    pid = int(pid_text)
    if pid == int(my_pid):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # running, as another user
        return False
    return False


class SQLiteQueue:
    """A `BatchQueue` on the embedded database (`storage/batch_rows.py` holds its SQL).

    `submit` returns once the batch and its items are committed. `take` holds items in
    one atomic statement, waking at once for a batch submitted in this process and
    otherwise looking again every second. The first `take` of a process start frees the
    items that a process of this host held when it died, so a server restarted after a
    crash resumes its batches at once; items held longer than `claim_timeout` by anyone
    are handed out again as well, as the Redis queue does. Finished batches are kept
    `keep_seconds`. Every call runs in the database's thread, never on the event loop.
    """

    def __init__(self, database: Database, *, claim_timeout: float, keep_seconds: int) -> None:
        self._db = database
        self._claim_timeout = claim_timeout
        self._keep = keep_seconds
        self._me = holder_name()
        self._wake = asyncio.Event()
        self._recovered = False
        self._next_forget = 0.0

    async def submit(self, batch: Batch, items: Sequence[dict[str, Any]]) -> None:
        fields = [json.dumps(item, separators=(",", ":")) for item in items]
        await self._db.run(batch_rows.insert_batch, batch.id, batch.to_json(), fields, time.time())
        self._wake.set()

    async def batch(self, batch_id: str) -> Batch | None:
        raw = await self._db.run(batch_rows.batch_json, batch_id)
        return None if raw is None else Batch.from_json(raw)

    async def progress(self, batch_id: str) -> Progress | None:
        row = await self._db.run(batch_rows.progress, batch_id)
        if row is None:
            return None
        batch = Batch.from_json(row.batch)
        results: list[dict[str, Any] | None] = [None] * batch.total
        for index, result in row.results.items():
            results[index] = json.loads(result)
        return Progress(batch, row.done, row.failed, row.started, results)

    async def take(self, limit: int) -> list[Delivery]:
        if not self._recovered:
            await self._recover()
        await self._forget_old()
        self._wake.clear()  # before looking: a submit from now on wakes the wait below
        taken = await self._claim(limit)
        if not taken:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), WAIT_SECONDS)
            taken = await self._claim(limit)
        return taken

    async def finish(self, delivery: Delivery, result: dict[str, Any]) -> None:
        await self._db.run(
            batch_rows.record,
            delivery.batch_id,
            delivery.index,
            json.dumps(result, separators=(",", ":")),
            "error" in result,  # failed
            time.time(),
        )

    async def hand_back(self, deliveries: Sequence[Delivery]) -> None:
        items = [(d.batch_id, d.index) for d in deliveries]
        await self._db.run(batch_rows.hand_back, self._me, items)

    async def stats(self) -> QueueStats:
        waiting, held = await self._db.run(batch_rows.open_counts)
        return QueueStats("sqlite", waiting, held)

    async def close(self) -> None:
        return None

    async def _claim(self, limit: int) -> list[Delivery]:
        now = time.time()
        rows = await self._db.run(batch_rows.claim, self._me, now, now - self._claim_timeout, limit)
        return [
            Delivery(r.batch_id, r.item, json.loads(r.fields), f"{r.batch_id}/{r.item}")
            for r in rows
        ]

    async def _recover(self) -> None:
        freed = await self._db.run(batch_rows.release, lambda h: holder_gone(h, self._me))
        self._recovered = False
        if freed:
            log.info("resuming %d batch items held by a server that stopped", freed)

    async def _forget_old(self) -> None:
        if time.monotonic() < self._next_forget:
            return
        self._next_forget = time.monotonic() + FORGET_EVERY
        await self._db.run(batch_rows.forget_finished, time.time() - self._keep)

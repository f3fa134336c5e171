"""The embedded batch queue on a real SQLite file: atomic claims across connections, a
queue opened again after its process died, results recorded once."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pixeldrive.auth.principal import LOCAL
from pixeldrive.batch.queue import Batch, Delivery
from pixeldrive.batch.sqlite_queue import SQLiteQueue, holder_gone, holder_name
from pixeldrive.storage import batch_rows
from pixeldrive.storage.sqlite import SQLiteDatabase, connect


def new_batch(total: int) -> Batch:
    return Batch(Batch.new_id(), "quote", "png", {"width": 100}, LOCAL, total)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "pixeldrive.sqlite3"


@pytest.fixture
async def database(path: Path) -> AsyncIterator[SQLiteDatabase]:
    database = SQLiteDatabase(path)
    await database.open()
    yield database
    await database.close()


async def take_all(queue: SQLiteQueue, count: int) -> list[Delivery]:
    taken: list[Delivery] = []
    for _ in range(5):
        taken += await queue.take(count - len(taken))
        if len(taken) >= count:
            break
    return taken


def claim_until_empty(
    path: Path, holder: str, start: threading.Barrier, got: list[tuple[str, int]]
) -> None:
    """One item at a time on a connection of its own, as another process would."""
    db = connect(path)
    start.wait()
    try:
        while rows := batch_rows.claim(db, holder, 1.0, 0.0, 1):
            got.extend((row.batch_id, row.item) for row in rows)
            time.sleep(0.001)  # a worker's turn: the others get the lock in between
    finally:
        db.close()


def test_every_item_is_claimed_by_exactly_one_of_many_connections(path: Path) -> None:
    db = connect(path)
    batch = new_batch(400)
    batch_rows.insert_batch(db, batch.id, batch.to_json(), ["{}"] * 400, 1.0)
    db.close()
    got: list[list[tuple[str, int]]] = [[] for _ in range(6)]
    start = threading.Barrier(6)
    threads = [
        threading.Thread(target=claim_until_empty, args=(path, f"h/{n}/t", start, got[n]))
        for n in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    claims = Counter(item for one in got for item in one)
    assert sorted(index for _, index in claims) == list(range(400))
    assert set(claims.values()) == {1}, "an item was handed to two takers"
    assert sum(1 for one in got if one) >= 2  # they really took turns


async def test_a_restarted_queue_resumes_what_the_dead_one_held(
    path: Path, database: SQLiteDatabase
) -> None:
    first = SQLiteQueue(database, claim_timeout=30, keep_seconds=3600)
    batch = new_batch(5)
    await first.submit(batch, [{"n": n} for n in range(5)])
    held = await take_all(first, 3)
    await first.finish(held[0], {"url": "/0"})
    await database.close()  # the process dies holding items 1 and 2

    again = SQLiteDatabase(path)
    await again.open()
    try:
        # Another start of this process (a container's server is pid 1 each time).
        second = SQLiteQueue(again, claim_timeout=30, keep_seconds=3600)
        progress = await second.progress(batch.id)
        assert progress is not None
        assert (progress.status, progress.done, progress.results[0]) == (
            "running",
            1,
            {"url": "/0"},
        )
        resumed = await take_all(second, 4)
        assert [d.index for d in resumed] == [1, 2, 3, 4]  # at once, not after 30 s
        assert [d.fields for d in resumed] == [{"n": n} for n in range(1, 5)]
        for delivery in resumed:
            await second.finish(delivery, {"url": f"/{delivery.index}"})
        done = await second.progress(batch.id)
        assert done is not None
        assert (done.status, done.done, done.failed) == ("done", 5, 0)
        assert done.results == [{"url": f"/{n}"} for n in range(5)]
        assert await second.take(5) == []
    finally:
        await again.close()


async def test_a_live_holders_items_wait_out_the_claim_timeout(
    database: SQLiteDatabase,
) -> None:
    elsewhere = "other-host/1/abcd"  # not known to be gone: only the timeout frees it
    batch = new_batch(2)
    queue = SQLiteQueue(database, claim_timeout=0.3, keep_seconds=3600)
    await queue.submit(batch, [{"n": 0}, {"n": 1}])
    await database.run(batch_rows.claim, elsewhere, time.time(), 0.0, 1)  # holds item 0
    first = await queue.take(5)
    assert [d.index for d in first] == [1]
    await asyncio.sleep(0.4)
    late = await queue.take(5)
    assert [d.index for d in late] == [0, 1]  # item 1 too: this queue went silent on it
    await queue.finish(late[0], {"url": "/taken-over"})
    await queue.finish(Delivery(batch.id, 0, {}, "late"), {"url": "/late"})  # ignored
    progress = await queue.progress(batch.id)
    assert progress is not None
    assert (progress.done, progress.results[0]) == (1, {"url": "/taken-over"})


async def test_a_result_is_recorded_once_whatever_repeats(database: SQLiteDatabase) -> None:
    queue = SQLiteQueue(database, claim_timeout=30, keep_seconds=3600)
    batch = new_batch(2)
    await queue.submit(batch, [{"n": 0}, {"n": 1}])
    taken = await take_all(queue, 2)
    await queue.finish(taken[0], {"error": {"status": 422}})
    await asyncio.gather(*(queue.finish(taken[0], {"url": "/again"}) for _ in range(5)))
    await queue.finish(taken[1], {"url": "/1"})
    await queue.finish(taken[1], {"error": {"status": 500}})
    progress = await queue.progress(batch.id)
    assert progress is not None
    assert (progress.status, progress.done, progress.failed) == ("done", 1, 1)
    assert progress.results == [{"error": {"status": 422}}, {"url": "/1"}]


async def test_finished_batches_are_forgotten_after_keep_seconds(
    path: Path, database: SQLiteDatabase
) -> None:
    queue = SQLiteQueue(database, claim_timeout=30, keep_seconds=0)
    finished, waiting = new_batch(1), new_batch(1)
    await queue.submit(finished, [{}])
    (delivery,) = await take_all(queue, 1)
    await queue.finish(delivery, {"url": "/x"})
    await queue.submit(waiting, [{}])
    await SQLiteQueue(database, claim_timeout=30, keep_seconds=0).take(0)
    assert await queue.progress(finished.id) is None
    assert await queue.batch(finished.id) is None
    assert await queue.batch(waiting.id) == waiting

    def item_rows() -> int:
        with sqlite3.connect(path) as db:
            return int(db.execute("SELECT count(*) FROM batch_items").fetchone()[0])

    assert await asyncio.to_thread(item_rows) == 1  # the finished batch's items went too


def test_which_holders_are_known_to_be_gone() -> None:
    me = holder_name()
    host, pid, _ = me.split("/")
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    dead_pid = int(ended.stdout)
    assert holder_gone(f"{host}/{dead_pid}/t", me)
    assert holder_gone(f"{host}/{pid}/earlier", me)  # this pid, an earlier start
    assert not holder_gone(me, me)
    assert not holder_gone(f"{host}/{os.getppid()}/t", me)  # running
    assert not holder_gone(f"not-{socket.gethostname()}/{dead_pid}/t", me)
    assert not holder_gone("garbage", me)


def test_a_claim_reads_the_open_items_in_order_without_sorting_them(path: Path) -> None:
    """With thousands of items queued, a claim must not sort them all for each one taken."""
    db = connect(path)
    try:
        plan = db.execute("EXPLAIN QUERY PLAN " + batch_rows.CLAIM, ("h", 1.0, 0.0, 1)).fetchall()
        steps = " | ".join(str(row[-1]) for row in plan)
        assert "batch_items_open" in steps
        assert "TEMP B-TREE" not in steps, steps
    finally:
        db.close()

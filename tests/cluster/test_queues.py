"""The BatchQueue contract, passed by both implementations (the embedded SQLite file and
Redis Streams), and what only Redis does: take-over of a silent consumer's items, a Redis
that lost its data."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.auth.principal import LOCAL
from pixeldrive.batch.queue import Batch, BatchQueue, Delivery, QueueStats
from pixeldrive.batch.redis_queue import RedisQueue
from pixeldrive.batch.runner import BatchRunner
from pixeldrive.batch.sqlite_queue import SQLiteQueue
from pixeldrive.storage.redis_link import RedisLink
from pixeldrive.storage.sqlite import SQLiteDatabase
from tests.cluster.redis_server import RedisServer


def new_batch(total: int) -> Batch:
    return Batch(Batch.new_id(), "quote", "png", {"width": 100}, LOCAL, total)


async def take_all(queue: BatchQueue, count: int) -> list[Delivery]:
    taken: list[Delivery] = []
    for _ in range(20):
        taken += await queue.take(count - len(taken))
        if len(taken) >= count:
            break
    return taken


@pytest.fixture
async def link(redis_server: RedisServer) -> AsyncIterator[RedisLink]:
    link = RedisLink(redis_server.url)
    await link.open()
    yield link
    await link.close()


@pytest.fixture(params=["sqlite", "redis"])
async def queue(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BatchQueue]:
    if request.param == "sqlite":
        database = SQLiteDatabase(tmp_path / "state" / "pixeldrive.sqlite3")
        await database.open()
        yield SQLiteQueue(database, claim_timeout=30, keep_seconds=3600)
        await database.close()
        return
    redis_server: RedisServer = request.getfixturevalue("redis_server")
    link = RedisLink(redis_server.url)
    await link.open()
    yield RedisQueue(link, claim_timeout=30, keep_seconds=3600)
    await link.close()


async def test_items_come_out_and_results_gather_in_order(queue: BatchQueue) -> None:
    batch = new_batch(3)
    items = [{"quote": str(i)} for i in range(3)]
    await queue.submit(batch, items)
    progress = await queue.progress(batch.id)
    assert progress is not None
    assert (progress.status, progress.results) == ("queued", [None, None, None])
    assert (await queue.batch(batch.id)) == batch
    taken = await take_all(queue, 3)
    assert sorted((d.index, d.fields["quote"]) for d in taken) == [(0, "0"), (1, "1"), (2, "2")]
    assert (await queue.progress(batch.id)).status == "running"  # type: ignore[union-attr]
    for delivery in reversed(taken):
        result: dict[str, Any] = (
            {"error": {"status": 422}} if delivery.index == 1 else {"url": f"/{delivery.index}"}
        )
        await queue.finish(delivery, result)
    await queue.finish(taken[0], {"url": "/again"})  # a repeat changes nothing
    done = await queue.progress(batch.id)
    assert done is not None
    assert (done.status, done.done, done.failed) == ("done", 2, 1)
    assert done.results == [{"url": "/0"}, {"error": {"status": 422}}, {"url": "/2"}]
    assert await queue.take(5) == []


async def test_stats_count_open_and_held_items(queue: BatchQueue) -> None:
    kind = "sqlite" if isinstance(queue, SQLiteQueue) else "redis"
    assert await queue.stats() == QueueStats(kind, 0, 0)
    batch = new_batch(3)
    await queue.submit(batch, [{"quote": str(i)} for i in range(3)])
    assert await queue.stats() == QueueStats(kind, 3, 0)
    taken = await take_all(queue, 2)
    assert len(taken) == 2
    assert await queue.stats() == QueueStats(kind, 3, 2)
    await queue.finish(taken[0], {"url": "/0"})
    assert await queue.stats() == QueueStats(kind, 2, 1)


async def test_handed_back_items_go_to_another_taker_at_once(
    queue: BatchQueue, tmp_path: Path
) -> None:
    """With a 30 s claim timeout, only the hand back can give them to the other taker."""
    async with second_taker(queue, tmp_path) as other:
        await _hand_back_to(queue, other)


async def _hand_back_to(queue: BatchQueue, other: BatchQueue) -> None:
    assert await other.take(5) == []  # (the SQLite one frees dead holders' items here)
    batch = new_batch(3)
    await queue.submit(batch, [{"quote": str(i)} for i in range(3)])
    taken = await take_all(queue, 3)
    await queue.finish(taken[0], {"url": "/0"})
    await queue.hand_back(taken)  # the finished one is left alone
    kind = "sqlite" if isinstance(queue, SQLiteQueue) else "redis"
    assert await queue.stats() == QueueStats(kind, 2, 0)
    again = await take_all(other, 2)
    assert sorted((d.index, d.fields["quote"]) for d in again) == [(1, "1"), (2, "2")]
    await queue.hand_back(taken[1:])  # no longer ours: nothing happens
    assert await queue.stats() == QueueStats(kind, 2, 2)
    for delivery in again:
        await other.finish(delivery, {"url": f"/{delivery.index}"})
    done = await queue.progress(batch.id)
    assert done is not None
    assert (done.status, done.results) == ("done", [{"url": "/0"}, {"url": "/1"}, {"url": "/2"}])


@contextlib.asynccontextmanager
async def second_taker(queue: BatchQueue, tmp_path: Path) -> AsyncIterator[BatchQueue]:
    """Another node's queue on the same store."""
    if isinstance(queue, SQLiteQueue):
        database = SQLiteDatabase(tmp_path / "state" / "pixeldrive.sqlite3")
        await database.open()
        try:
            yield SQLiteQueue(database, claim_timeout=30, keep_seconds=3600)
        finally:
            await database.close()
        return
    assert isinstance(queue, RedisQueue)
    yield RedisQueue(queue._link, claim_timeout=30, keep_seconds=3600)


async def test_a_stopping_runner_hands_back_what_it_cannot_finish(
    queue: BatchQueue, tmp_path: Path
) -> None:
    started = asyncio.Event()

    async def render(batch: Batch, fields: dict[str, Any]) -> dict[str, Any]:
        if fields["quote"] == "slow":
            started.set()
            await asyncio.sleep(3600)
        return {"url": "/" + fields["quote"]}

    async with second_taker(queue, tmp_path) as other:
        assert await other.take(5) == []
        runner = BatchRunner(queue, render, concurrency=2, finish_seconds=0.2)
        await runner.start()
        batch = new_batch(2)
        await queue.submit(batch, [{"quote": "fast"}, {"quote": "slow"}])
        await asyncio.wait_for(started.wait(), 10)
        await runner.close()
        await runner.close()  # twice is once
        progress = await queue.progress(batch.id)
        assert progress is not None
        assert progress.results == [{"url": "/fast"}, None]
        taken = await take_all(other, 1)  # at once, though the claim timeout is 30 s
        assert [(d.index, d.fields) for d in taken] == [(1, {"quote": "slow"})]


async def test_unknown_batches_are_none(queue: BatchQueue) -> None:
    assert await queue.progress("nope") is None
    assert await queue.batch("nope") is None


async def test_a_silent_consumers_items_are_taken_over(link: RedisLink) -> None:
    dead = RedisQueue(link, claim_timeout=0.3, keep_seconds=3600)
    alive = RedisQueue(link, claim_timeout=0.3, keep_seconds=3600)
    batch = new_batch(4)
    await dead.submit(batch, [{"n": i} for i in range(4)])
    held = await take_all(dead, 2)  # and then it never finishes them
    assert len(held) == 2
    await asyncio.sleep(0.4)
    rest = await take_all(alive, 4)
    assert sorted(d.index for d in rest) == [0, 1, 2, 3]
    for delivery in rest:
        await alive.finish(delivery, {"url": str(delivery.index)})
    await dead.finish(held[0], {"url": "late"})  # the dead node wakes up: ignored
    progress = await alive.progress(batch.id)
    assert progress is not None
    assert (progress.done, progress.results[held[0].index]) == (4, {"url": str(held[0].index)})
    ttl = await link.client.ttl(f"pd:batch:{batch.id}")
    assert 3500 < ttl <= 3600  # finished batches expire; running ones do not


async def test_a_redis_that_lost_everything_gets_its_group_back(
    link: RedisLink, redis_server: RedisServer
) -> None:
    queue = RedisQueue(link, claim_timeout=30, keep_seconds=3600)
    assert await queue.take(1) == []
    await link.client.flushall()
    with pytest.raises(Exception, match="NOGROUP"):
        await queue.take(1)
    batch = new_batch(1)
    await queue.submit(batch, [{}])
    assert len(await take_all(queue, 1)) == 1


async def test_a_late_result_or_start_does_not_bring_a_gone_batch_back(link: RedisLink) -> None:
    """A batch's hashes live `keep_seconds` after its last result. A repeated delivery
    finished after that (a slow node whose item was claimed by another), or a start marked
    then, once made a hash of counters alone: progress answered 500 and the keys never
    expired."""
    queue = RedisQueue(link, claim_timeout=30, keep_seconds=3600)
    batch = new_batch(2)
    await queue.submit(batch, [{"quote": "a"}, {"quote": "b"}])
    taken = await take_all(queue, 2)
    for delivery in taken:
        await queue.finish(delivery, {"url": "/x"})
    gone = [f"pd:batch:{batch.id}", f"pd:batch:{batch.id}:results"]
    await link.run(lambda r: r.delete(*gone))  # its lifetime is over
    await queue.finish(taken[0], {"url": "/late"})
    await queue._mark_started({batch.id})
    assert await link.run(lambda r: r.exists(*gone)) == 0
    assert await queue.progress(batch.id) is None
    assert await queue.batch(batch.id) is None


async def test_a_hash_without_its_batch_is_an_unknown_batch(link: RedisLink) -> None:
    queue = RedisQueue(link, claim_timeout=30, keep_seconds=3600)
    await link.run(lambda r: r.hset("pd:batch:stray", mapping={"started": "1", "done": "1"}))
    assert await queue.progress("stray") is None

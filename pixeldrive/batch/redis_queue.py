"""The batch queue in Redis Streams: every node's consumer reads one consumer group;
items a dead node had taken are claimed by another after `claim_timeout`."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from pixeldrive.batch.queue import Batch, Delivery, Progress, QueueStats
from pixeldrive.storage.redis_link import RedisLink

STREAM = "pd:batches"
GROUP = "pd-workers"
BLOCK_MS = 1000

log = logging.getLogger("pixeldrive.batch.redis_queue")

# The first result for an item wins (HSETNX), and only it moves the counters: a repeated
# delivery changes nothing. The last one gives the batch its lifetime (batches in flight
# have none, so `volatile-lru` never evicts them). The entry is acknowledged and deleted
# in the same step, so a recorded item is never handed out again.
# A batch already gone (its lifetime over) is not made again by a late repeat: its entry
# is only acknowledged.
FINISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('XACK', KEYS[3], ARGV[4], ARGV[5])
    redis.call('XDEL', KEYS[3], ARGV[5])
    return 0
end
local fresh = redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2])
if fresh == 1 then
    redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
    local finished = tonumber(redis.call('HGET', KEYS[1], 'done'))
        + tonumber(redis.call('HGET', KEYS[1], 'failed'))
    if finished >= tonumber(redis.call('HGET', KEYS[1], 'total')) then
        redis.call('EXPIRE', KEYS[1], ARGV[6])
        redis.call('EXPIRE', KEYS[2], ARGV[6])
    end
end
redis.call('XACK', KEYS[3], ARGV[4], ARGV[5])
redis.call('XDEL', KEYS[3], ARGV[5])
return fresh
"""
# Gives an entry this consumer holds back to the stream at once: acknowledged, deleted and
# added again at the end, in one step, so any consumer reads it next. An entry this
# consumer no longer holds (taken over, or finished) is left alone.
HAND_BACK = """
local mine = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #mine == 0 then
    return 0
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
redis.call('XADD', KEYS[1], '*', 'b', ARGV[4], 'i', ARGV[5], 'f', ARGV[6])
return 1
"""
# Marks a batch started, unless it is gone.
STARTED = """
for _, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then
        redis.call('HSETNX', key, 'started', '1')
    end
end
return 0
"""


def _meta(batch_id: str) -> str:
    return f"pd:batch:{batch_id}"


def _results(batch_id: str) -> str:
    return f"pd:batch:{batch_id}:results"


def consumer_name() -> str:
    """Unique per process start: a restarted node does not inherit its old claims (they
    are taken over like any dead node's)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class RedisQueue:
    """A `BatchQueue` on a Redis stream (`pd:batches`, group `pd-workers`).

    A batch is a hash `pd:batch:<id>` (its JSON, total, done, failed, started) and a
    hash `pd:batch:<id>:results` (item index → result JSON); each item is a stream entry
    `{b: id, i: index, f: fields JSON}`. `take` first claims (XAUTOCLAIM) entries that
    another consumer has held for `claim_timeout` seconds without finishing, then reads
    new ones (XREADGROUP, blocking up to a second). Finished batches live
    `keep_seconds` more.
    """

    def __init__(self, link: RedisLink, *, claim_timeout: float, keep_seconds: int) -> None:
        self._link = link
        self._claim_ms = int(claim_timeout * 1000)
        self._keep = keep_seconds
        self._consumer = consumer_name()
        self._next_claim = 0.0
        self._claim_cursor = "0-0"
        self._group_ready = False
        link.on_reconnect(self._forget_group)

    async def submit(self, batch: Batch, items: Sequence[dict[str, Any]]) -> None:
        meta = {"batch": batch.to_json(), "total": batch.total, "done": 0, "failed": 0}
        entries = [
            {"b": batch.id, "i": index, "f": json.dumps(fields, separators=(",", ":"))}
            for index, fields in enumerate(items)
        ]

        async def write(r: Redis) -> None:
            async with r.pipeline(transaction=True) as pipe:
                pipe.hset(_meta(batch.id), mapping=meta)
                for entry in entries:
                    pipe.xadd(STREAM, entry)  # type: ignore[arg-type]
                await pipe.execute()

        await self._link.run(write)

    async def batch(self, batch_id: str) -> Batch | None:
        raw = await self._link.run(lambda r: r.hget(_meta(batch_id), "batch"))
        return Batch.from_json(raw) if raw else None

    async def progress(self, batch_id: str) -> Progress | None:
        async def read(r: Redis) -> list[Any]:
            async with r.pipeline(transaction=True) as pipe:
                pipe.hgetall(_meta(batch_id))
                pipe.hgetall(_results(batch_id))
                return await pipe.execute()

        meta, results = await self._link.run(read)
        if b"batch" not in meta:  # unknown, or gone
            return None
        batch = Batch.from_json(meta[b"batch"])
        listed: list[dict[str, Any] | None] = [None] * batch.total
        for index, result in results.items():
            listed[int(index)] = json.loads(result)
        return Progress(
            batch,
            int(meta[b"done"]),
            int(meta[b"failed"]),
            b"started" in meta,
            listed,
        )

    async def take(self, limit: int) -> list[Delivery]:
        await self._ensure_group()
        try:
            taken = await self._claim(limit) if time.monotonic() >= self._next_claim else []
            if len(taken) < limit:
                taken += await self._read(limit - len(taken), block=not taken)
        except ResponseError:
            # NOGROUP: Redis restarted empty between two calls (the client reconnected
            # without the link noticing); the group is made again on the next take.
            self._group_ready = False
            raise
        if taken:
            await self._mark_started({d.batch_id for d in taken})
        return taken

    async def _mark_started(self, batch_ids: set[str]) -> None:
        keys = [_meta(batch_id) for batch_id in sorted(batch_ids)]
        await self._link.run(lambda r: r.eval(STARTED, len(keys), *keys))

    async def finish(self, delivery: Delivery, result: dict[str, Any]) -> None:
        outcome = "failed" if "error" in result else "done"
        await self._link.run(
            lambda r: r.eval(
                FINISH,
                3,
                _meta(delivery.batch_id),
                _results(delivery.batch_id),
                STREAM,
                delivery.index,
                json.dumps(result, separators=(",", ":")),
                outcome,
                GROUP,
                delivery.ref,
                self._keep,
            )
        )

    async def hand_back(self, deliveries: Sequence[Delivery]) -> None:
        async def give(r: Redis) -> None:
            async with r.pipeline(transaction=False) as pipe:
                for d in deliveries:
                    fields = json.dumps(d.fields, separators=(",", ":"))
                    pipe.eval(
                        HAND_BACK,
                        1,
                        STREAM,
                        GROUP,
                        self._consumer,
                        d.ref,
                        d.batch_id,
                        d.index,
                        fields,
                    )
                await pipe.execute()

        await self._link.run(give)

    async def stats(self) -> QueueStats:
        stats: QueueStats = await self._link.run(stream_stats)
        return stats

    async def close(self) -> None:
        return None

    async def _claim(self, limit: int) -> list[Delivery]:
        self._next_claim = time.monotonic() + self._claim_ms / 2000

        async def claim(r: Redis) -> Any:
            return await r.xautoclaim(
                STREAM,
                GROUP,
                self._consumer,
                self._claim_ms,
                start_id=self._claim_cursor,
                count=limit,
            )

        answer = await self._link.run(claim)
        # The cursor walks the pending entries across calls; "0-0" means it went round.
        cursor, entries = answer[0], answer[1]
        self._claim_cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        if entries:
            log.info("took over %d batch items from a consumer that stopped", len(entries))
        return self._deliveries(entries)

    async def _read(self, limit: int, *, block: bool) -> list[Delivery]:
        async def read(r: Redis) -> Any:
            return await r.xreadgroup(
                GROUP, self._consumer, {STREAM: ">"}, count=limit, block=BLOCK_MS if block else None
            )

        answer = await self._link.run(read)
        return [d for _stream, entries in answer or [] for d in self._deliveries(entries)]

    @staticmethod
    def _deliveries(entries: list[Any]) -> list[Delivery]:
        return [
            Delivery(v[b"b"].decode(), int(v[b"i"]), json.loads(v[b"f"]), ref.decode())
            for ref, v in entries
            if v  # else deleted while pending: nothing left to do
        ]

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return

        async def create(r: Redis) -> None:
            try:
                await r.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
            except ResponseError:  # BUSYGROUP: another node made it first
                return

        await self._link.run(create)
        self._group_ready = True

    async def _forget_group(self) -> None:
        # A Redis that came back empty (no persistence) has lost the group: make it again.
        self._group_ready = False


async def stream_stats(r: Redis) -> QueueStats:
    """The queue in Redis `r`: the stream's length (a finished item is deleted from it)
    and the items the group's consumers hold (XPENDING)."""
    length = int(await r.xlen(STREAM))
    if not length:
        return QueueStats("redis", 0, 0)
    try:
        pending = await r.xpending(STREAM, GROUP)
    except ResponseError:  # no group yet: nothing was ever taken
        return QueueStats("redis", length, 0)
    return QueueStats("redis", length, int(pending["pending"]))

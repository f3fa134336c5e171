"""What operators see of the cluster: each node says every few seconds what it is and
holds (in Redis, with an expiry, in cluster mode); `status()` gathers the nodes seen in
the last minute and the batch queue's state. Embedded, the one node is the cluster."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

from pixeldrive import __version__
from pixeldrive.batch.queue import BatchQueue, QueueStats
from pixeldrive.core.periodic import every
from pixeldrive.render.pool import RenderPool
from pixeldrive.storage.redis_link import RedisLink, SharedStoreDown
from pixeldrive.templates.store import TemplateStore

log = logging.getLogger("pixeldrive.cluster")

PREFIX = "pd:node:"
SEEN_SECONDS = 60  # a node not heard from for this long is not listed (its key expires)
MAX_NODES = 1000  # read at most this many node reports


@dataclass(frozen=True, slots=True)
class NodeReport:
    """One node, as it last said: its software, its render pool, its templates."""

    node: str
    version: str
    started_at: float
    seen_at: float
    workers: int
    in_flight: int  # renders running or waiting for a worker
    capacity: int  # in_flight at which new renders are refused (503)
    templates: dict[str, str]  # id → the version it serves
    versions_held: int  # template versions whose bytes it keeps on disk

    @classmethod
    def from_json(cls, raw: bytes | str) -> NodeReport:
        return cls(**json.loads(raw))


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    mode: str  # "cluster" (nodes share Redis) or "embedded"
    node: str  # the node that answered
    nodes: list[NodeReport]  # sorted by name; this one included
    queue: QueueStats | None  # None when the queue could not be read


def node_name() -> str:
    """This process, unique across restarts: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class ClusterView:
    """This node's report, published to Redis when there is one, and the cluster's."""

    def __init__(
        self,
        *,
        pool: RenderPool,
        templates: TemplateStore,
        queue: BatchQueue,
        workers: int,
        redis: RedisLink | None,
    ) -> None:
        self.name = node_name()
        self._pool = pool
        self._templates = templates
        self._queue = queue
        self._workers = workers
        self._redis = redis
        self._started = time.time()

    async def here(self) -> NodeReport:
        """This node now (its versions on disk counted off the event loop)."""
        held = await asyncio.to_thread(self._versions_held)
        return NodeReport(
            node=self.name,
            version=__version__,
            started_at=self._started,
            seen_at=time.time(),
            workers=self._workers,
            in_flight=self._pool.in_flight,
            capacity=self._pool.capacity,
            templates={t.id: t.version for t in self._templates.all()},
            versions_held=held,
        )

    def _versions_held(self) -> int:
        try:
            return sum(1 for _ in self._templates.versions_dir.glob("*.svg"))
        except OSError:
            return 0

    async def publish(self) -> None:
        """Say what this node is, for `SEEN_SECONDS` (cluster mode only)."""
        if self._redis is None:
            return
        report = json.dumps(asdict(await self.here()), separators=(",", ":"))
        await self._redis.run(lambda r: r.set(PREFIX + self.name, report, ex=SEEN_SECONDS))

    async def withdraw(self) -> None:
        """Leave the list at once (a clean stop)."""
        if self._redis is not None:
            with contextlib.suppress(SharedStoreDown):
                await self._redis.run(lambda r: r.delete(PREFIX + self.name))

    async def watch(self, interval: float) -> None:
        """Publish now and forever, every `interval` seconds; a failure is logged, never
        fatal (Redis away is logged by the link: the report expires and comes back)."""
        await every(
            interval,
            self.publish,
            what="publishing this node's report",
            log=log,
            expected=(SharedStoreDown,),
            at_once=True,
        )

    async def status(self) -> ClusterStatus:
        """The nodes heard from in the last minute (this one always, as it is now) and
        the batch queue."""
        here = await self.here()
        nodes = {here.node: here}
        if self._redis is not None:
            with contextlib.suppress(SharedStoreDown):
                for report in await self._redis.run(node_reports):
                    nodes.setdefault(report.node, report)
        try:
            queue: QueueStats | None = await self._queue.stats()
        except SharedStoreDown:
            queue = None
        mode = "embedded" if self._redis is None else "cluster"
        return ClusterStatus(mode, here.node, [nodes[k] for k in sorted(nodes)], queue)


async def node_reports(r: Redis) -> list[NodeReport]:
    """The reports in Redis `r` (the nodes heard from in the last minute), by node name;
    an unreadable one is skipped. Raises what redis-py raises when `r` is unreachable."""
    keys: list[Any] = []
    async for key in r.scan_iter(match=PREFIX + "*", count=100):
        keys.append(key)
        if len(keys) >= MAX_NODES:
            break
    if not keys:
        return []
    reports = []
    for raw in await r.mget(keys):
        if raw is None:  # expired between the scan and the read
            continue
        try:
            reports.append(NodeReport.from_json(raw))
        except (ValueError, TypeError):
            log.warning("an unreadable node report in Redis was skipped")
    return sorted(reports, key=lambda report: report.node)

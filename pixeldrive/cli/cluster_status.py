"""`pixeldrive cluster status`: the nodes sharing this node's Redis and the batch queue,
read from Redis itself with this node's settings (no server, no key), as a table or as
the JSON of GET /v1/cluster."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict

import redis
from redis.asyncio import Redis
from redis.driver_info import DriverInfo

from pixeldrive.batch.queue import QueueStats
from pixeldrive.batch.redis_queue import stream_stats
from pixeldrive.cli.mistakes import FAILED, CommandError
from pixeldrive.core.config import Settings
from pixeldrive.service.cluster import SEEN_SECONDS, NodeReport, node_reports
from pixeldrive.storage.redis_link import UNREACHABLE

NO_CLUSTER = (
    "no cluster: redis_url is not set, so this node runs alone (embedded mode); set "
    "PIXELDRIVE_REDIS_URL to the Redis the nodes share, or ask a running node: "
    "GET /v1/cluster with an admin key"
)


def cluster_status(settings: Settings, *, as_json: bool) -> str:
    """What `pixeldrive cluster status` prints. CommandError (exit 1) in embedded mode
    or when Redis cannot be reached."""
    if not settings.redis_url:
        raise CommandError(NO_CLUSTER, status=FAILED)
    nodes, queue = asyncio.run(_read(settings.redis_url, settings.redis.timeout))
    if as_json:
        body = {"mode": "cluster", "nodes": [asdict(n) for n in nodes], "queue": asdict(queue)}
        return json.dumps(body)
    return describe(nodes, queue, now=time.time())


async def _read(url: str, seconds: float) -> tuple[list[NodeReport], QueueStats]:
    try:
        client = Redis.from_url(
            url,
            socket_timeout=seconds,
            socket_connect_timeout=seconds,
            driver_info=DriverInfo(name="pixeldrive", lib_version=redis.__version__),
        )
    except ValueError as exc:  # its message names the problem, never the URL's password
        raise CommandError(
            f"bad setting: redis_url: {exc} (fix conf/pixeldrive.toml, the file "
            "PIXELDRIVE_CONFIG names, or PIXELDRIVE_REDIS_URL)"
        ) from exc
    try:
        return await node_reports(client), await stream_stats(client)
    except UNREACHABLE as exc:
        # redis-py names the host and port, never the password of the URL.
        raise CommandError(
            f"cannot reach the cluster's Redis ({type(exc).__name__}: {exc}); check "
            "redis_url (PIXELDRIVE_REDIS_URL) and that redis-server runs",
            status=FAILED,
        ) from exc
    finally:
        await client.aclose()


def describe(nodes: list[NodeReport], queue: QueueStats, *, now: float) -> str:
    """The nodes, the queue and the template versions each node serves, as text."""
    lines = [f"{_count(len(nodes), 'node')} seen in the last {SEEN_SECONDS} s"]
    if nodes:
        lines += ["", *_node_table(nodes, now)]
    lines += [
        "",
        f"batch queue: {_count(queue.open_items, 'item')} in the stream, "
        f"{queue.held_items} of them held by a worker",
    ]
    if nodes:
        lines += ["", "the template version each node serves (-: not served):", ""]
        lines += _template_table(nodes)
    return "\n".join(lines)


def _node_table(nodes: list[NodeReport], now: float) -> list[str]:
    header = ["#", "NODE", "VERSION", "UP", "SEEN", "WORKERS", "IN FLIGHT", "TEMPLATES"]
    rows = [
        [
            str(number),
            node.node,
            node.version,
            _duration(now - node.started_at),
            f"{_duration(now - node.seen_at)} ago",
            str(node.workers),
            f"{node.in_flight}/{node.capacity}",
            f"{len(node.templates)} ({node.versions_held} versions held)",
        ]
        for number, node in enumerate(nodes, start=1)
    ]
    return _table([header, *rows], right={0, 5, 6})


def _template_table(nodes: list[NodeReport]) -> list[str]:
    names = sorted({name for node in nodes for name in node.templates})
    rows = []
    for name in names:
        versions = [node.templates.get(name, "-") for node in nodes]
        differs = len(set(versions)) > 1
        rows.append([name, *versions, "differs" if differs else ""])
    header = ["TEMPLATE", *(f"#{n}" for n in range(1, len(nodes) + 1)), ""]
    return _table([header, *rows], right=set())


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _duration(seconds: float) -> str:
    """`seconds` rounded for a person: 4 s, 12 min, 5 h, 3 d."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"

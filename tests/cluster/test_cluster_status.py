"""GET /v1/cluster on two nodes sharing one real Redis: each lists both (each node
reports itself there on start and every few seconds), the batch queue is the shared
stream, and a node that stops leaves the list at once. `pixeldrive cluster status` reads
the same from Redis, with no server: the nodes, the queue's waiting and held items, the
template versions; without Redis, or with Redis away, one line says so."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from aiohttp.test_utils import TestClient

from pixeldrive.auth.principal import LOCAL
from pixeldrive.batch.queue import Batch
from pixeldrive.batch.redis_queue import RedisQueue
from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES
from pixeldrive.storage.redis_link import RedisLink
from tests.auth.conftest import run_cli
from tests.cluster.redis_server import RedisServer, free_port
from tests.waiting import eventually

Client = TestClient[Any, Any]


async def node(aiohttp_client: Any, node_settings: Callable[..., Settings], name: str) -> Client:
    settings = await asyncio.to_thread(node_settings, name)
    client: Client = await aiohttp_client(create_app(settings))
    return client


async def status(client: Client) -> dict[str, Any]:
    answer = await client.get("/v1/cluster")
    assert answer.status == 200, await answer.text()
    result: dict[str, Any] = await answer.json()
    return result


async def test_every_node_sees_every_node_and_a_stopped_one_leaves(
    node_settings: Callable[..., Settings], aiohttp_client: Any
) -> None:
    a = await node(aiohttp_client, node_settings, "a")
    b = await node(aiohttp_client, node_settings, "b")
    seen: dict[str, Any] = {}

    async def both_listed() -> bool:
        seen.update(await status(a))
        return len(seen["nodes"]) == 2

    await eventually(both_listed, lambda: f"two nodes listed (last: {seen})", within=10)
    on_b = await status(b)
    assert seen["mode"] == on_b["mode"] == "cluster"
    assert {n["node"] for n in seen["nodes"]} == {n["node"] for n in on_b["nodes"]}
    assert seen["node"] != on_b["node"]
    assert seen["queue"]["kind"] == "redis"
    for reported in seen["nodes"]:
        assert "quote" in reported["templates"]
    await b.close()  # a clean stop withdraws its report
    left = await status(a)
    assert [n["node"] for n in left["nodes"]] == [seen["node"]]


def cluster_status(redis_server: RedisServer, tmp_path: Path, *args: str) -> CompletedProcess[str]:
    """`pixeldrive cluster status ARGS` with the nodes' Redis in its settings."""
    return run_cli(
        tmp_path / "cli", "cluster", "status", *args, PIXELDRIVE_REDIS_URL=redis_server.url
    )


async def test_the_command_lists_the_nodes_from_redis_without_a_server(
    node_settings: Callable[..., Settings],
    aiohttp_client: Any,
    redis_server: RedisServer,
    tmp_path: Path,
) -> None:
    a = await node(aiohttp_client, node_settings, "a")
    b = await node(aiohttp_client, node_settings, "b")
    names = {a.app[SERVICES].cluster.name, b.app[SERVICES].cluster.name}
    listed: dict[str, Any] = {}

    async def both_listed() -> bool:
        said = await asyncio.to_thread(cluster_status, redis_server, tmp_path, "--json")
        assert said.returncode == 0, said.stderr
        listed.update(json.loads(said.stdout))
        return {n["node"] for n in listed["nodes"]} == names

    await eventually(both_listed, lambda: f"both nodes listed (last: {listed})", within=10)
    assert listed["mode"] == "cluster"
    assert listed["queue"] == {"kind": "redis", "open_items": 0, "held_items": 0}
    for reported in listed["nodes"]:
        assert reported["workers"] == 1
        assert reported["capacity"] == 9  # 1 worker + a queue of 8 (node_settings)
        assert "quote" in reported["templates"]

    said = await asyncio.to_thread(cluster_status, redis_server, tmp_path)
    assert said.returncode == 0, said.stderr
    text = said.stdout
    assert "2 nodes seen in the last 60 s" in text
    assert all(name in text for name in names)
    assert "batch queue: 0 items in the stream, 0 of them held by a worker" in text
    version = listed["nodes"][0]["templates"]["quote"]
    row = next(line for line in text.splitlines() if line.startswith("quote "))
    assert row.split() == ["quote", version, version]  # both serve it; none differs
    print(text)


async def test_the_command_counts_the_batch_items_waiting_and_held(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    link = RedisLink(redis_server.url)
    await link.open()
    try:
        queue = RedisQueue(link, claim_timeout=30, keep_seconds=3600)
        batch = Batch(Batch.new_id(), "quote", "png", {}, LOCAL, 3)
        await queue.submit(batch, [{"quote": str(n)} for n in range(3)])
        assert len(await queue.take(1)) == 1  # a worker holds one
        said = await asyncio.to_thread(cluster_status, redis_server, tmp_path, "--json")
    finally:
        await link.close()
    assert said.returncode == 0, said.stderr
    assert json.loads(said.stdout) == {
        "mode": "cluster",
        "nodes": [],
        "queue": {"kind": "redis", "open_items": 3, "held_items": 1},
    }


async def test_without_redis_the_command_says_there_is_no_cluster(tmp_path: Path) -> None:
    said = await asyncio.to_thread(run_cli, tmp_path / "cli", "cluster", "status")
    assert said.returncode == 1
    assert said.stdout == ""
    assert said.stderr.startswith("pixeldrive: no cluster: redis_url is not set")
    assert said.stderr.count("\n") == 1


async def test_an_unreachable_redis_is_one_line(tmp_path: Path) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    said = await asyncio.to_thread(
        run_cli, tmp_path / "cli", "cluster", "status", PIXELDRIVE_REDIS_URL=url
    )
    assert said.returncode == 1
    assert said.stderr.startswith("pixeldrive: cannot reach the cluster's Redis (")
    assert "PIXELDRIVE_REDIS_URL" in said.stderr
    assert "hunter2" not in said.stderr
    assert said.stderr.count("\n") == 1

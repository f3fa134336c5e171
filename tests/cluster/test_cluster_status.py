"""GET /v1/cluster on two nodes sharing one real Redis: each lists both (each node
reports itself there on start and every few seconds), the batch queue is the shared
stream, and a node that stops leaves the list at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
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

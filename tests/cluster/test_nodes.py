"""Two nodes (two apps, each with its own state directory) sharing one real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import METRICS, SERVICES
from tests.cluster.redis_server import RedisServer
from tests.waiting import eventually

Client = TestClient[Any, Any]
BODY = {"template": "quote", "fields": {"quote": "Shared.", "author": "Node A"}, "width": 270}


async def node(
    aiohttp_client: Any, node_settings: Callable[..., Settings], name: str, **kw: Any
) -> Client:
    settings = await asyncio.to_thread(node_settings, name, **kw)
    client: Client = await aiohttp_client(create_app(settings))
    return client


def renders(client: Client) -> float:
    """Renders this node drew (the pool's ok count, any format)."""
    registry = client.app[METRICS].registry
    return sum(
        registry.get_sample_value("pixeldrive_renders_total", {"format": f, "outcome": "ok"}) or 0
        for f in ("png", "jpeg", "webp", "avif", "pdf")
    )


async def finished(client: Client, batch_id: str, seconds: float = 90) -> dict[str, Any]:
    state: dict[str, Any] = {}

    async def done() -> bool:
        answer = await client.get(f"/v1/batches/{batch_id}")
        assert answer.status in (200, 503), await answer.text()  # 503: Redis is away
        state.clear()
        state.update(await answer.json())
        return state.get("status") == "done"

    await eventually(
        done, lambda: f"batch {batch_id} finished (last: {state})", within=seconds, interval=0.1
    )
    return state


async def test_a_url_minted_on_a_is_a_hit_on_b_with_the_same_bytes(
    node_settings: Callable[..., Settings], aiohttp_client: Any
) -> None:
    a = await node(aiohttp_client, node_settings, "a")
    b = await node(aiohttp_client, node_settings, "b")
    created = await (await a.post("/v1/renders", json=BODY)).json()
    on_a = await a.get(created["url"])
    on_b = await b.get(created["url"])
    assert on_b.status == 200
    assert on_b.headers["X-Cache"] == "hit"
    assert await on_b.read() == await on_a.read()
    # Another encoding of the same key, never drawn anywhere: B draws it from the shared spec.
    webp = await b.get(created["url"].replace(".png", ".webp"))
    assert webp.status == 200
    assert webp.headers["X-Cache"] == "miss"
    again = await (await b.post("/v1/renders", json=BODY)).json()
    assert again["url"] == created["url"]
    assert again["cached"] is True
    assert renders(b) == 1  # the WebP only
    metrics = await (await b.get("/metrics")).text()
    assert 'pixeldrive_cache_requests_total{result="hit",tier="redis"} 1.0' in metrics


async def test_two_nodes_asked_at_once_draw_once(
    node_settings: Callable[..., Settings], aiohttp_client: Any
) -> None:
    a = await node(aiohttp_client, node_settings, "a")
    b = await node(aiohttp_client, node_settings, "b")
    body = {**BODY, "fields": {"quote": "Only once, please.", "author": "Both"}}
    answers = await asyncio.gather(
        *(client.post("/v1/renders", json=body) for client in (a, b, a, b))
    )
    assert [r.status for r in answers] == [201] * 4
    created = [await r.json() for r in answers]
    assert len({c["url"] for c in created}) == 1
    assert renders(a) + renders(b) == 1
    # The drawing node's two callers shared its draw (cached: false, as on one node);
    # the other node's two were answered with the winner's bytes from Redis.
    assert sorted(c["cached"] for c in created) == [False, False, True, True]
    bytes_a = await (await a.get(created[0]["url"])).read()
    assert await (await b.get(created[0]["url"])).read() == bytes_a


async def test_a_batch_finishes_in_order_with_a_result_per_item(
    node_settings: Callable[..., Settings], aiohttp_client: Any
) -> None:
    a = await node(aiohttp_client, node_settings, "a")
    b = await node(aiohttp_client, node_settings, "b")
    items: list[dict[str, Any]] = [{"quote": f"Item {i}.", "author": "Batch"} for i in range(6)]
    items.insert(3, {"quote": "Bad.", "colour": "red"})
    answer = await a.post("/v1/batches", json={"template": "quote", "items": items, "width": 216})
    assert answer.status == 202, await answer.text()
    created = await answer.json()
    assert answer.headers["Location"] == created["url"] == f"/v1/batches/{created['id']}"
    state = await finished(b, created["id"])  # progress is visible from any node
    assert (state["total"], state["done"], state["failed"]) == (7, 6, 1)
    results = state["results"]
    assert results[3]["error"]["status"] == 422
    assert results[3]["error"]["errors"][0]["field"] == "fields.colour"
    for i, item in enumerate(items):
        if i == 3:
            continue
        single = await a.post(
            "/v1/renders", json={"template": "quote", "fields": item, "width": 216}
        )
        assert (await single.json())["url"] == results[i]["url"]  # in order, same key
        assert (await b.get(results[i]["url"])).status == 200


async def test_redis_away_renders_go_on_readiness_says_so_and_recovers(
    redis_server: RedisServer, node_settings: Callable[..., Settings], aiohttp_client: Any
) -> None:
    a = await node(aiohttp_client, node_settings, "a", batch={"claim_timeout": 1.0})
    before = await (await a.post("/v1/renders", json=BODY)).json()
    ready = await a.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"]["redis"] is True
    await asyncio.to_thread(redis_server.stop)

    during = {**BODY, "fields": {"quote": "Redis is away.", "author": "A"}}
    answer = await a.post("/v1/renders", json=during)
    assert answer.status == 201
    made_during = await answer.json()
    assert (await a.get(before["url"])).status == 200
    assert (await a.get(made_during["url"])).status == 200
    ready = await a.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["checks"]["redis"] is False
    assert body["checks"]["render_pool"] is True
    refused = await a.post("/v1/batches", json={"template": "quote", "items": [{}]})
    assert refused.status == 503
    assert refused.headers["Content-Type"].startswith("application/problem+json")

    await asyncio.to_thread(redis_server.start)

    async def ready_again() -> bool:
        return (await a.get("/readyz")).status == 200

    await eventually(ready_again, "node a ready again once Redis is back", within=15, interval=0.1)
    # What was made while Redis was away reaches the other nodes once it is back.
    b = await node(aiohttp_client, node_settings, "b")
    on_b = await b.get(made_during["url"])
    assert on_b.status == 200
    assert await on_b.read() == await (await a.get(made_during["url"])).read()


async def test_accepted_batch_items_survive_a_redis_restart(
    redis_server: RedisServer, node_settings: Callable[..., Settings], aiohttp_client: Any
) -> None:
    a = await node(aiohttp_client, node_settings, "a", batch={"claim_timeout": 1.0})
    items = [{"quote": f"Durable {i}.", "author": "AOF"} for i in range(8)]
    answer = await a.post("/v1/batches", json={"template": "quote", "items": items, "width": 216})
    assert answer.status == 202
    batch_id = (await answer.json())["id"]
    pool, link = a.app[SERVICES].pool, a.app[SERVICES].redis
    # Some items are being drawn now (or, polled between two items, have been drawn).
    await eventually(lambda: pool.in_flight or pool.completed, "node a drawing the batch")
    await asyncio.to_thread(redis_server.stop)
    # Redis stays away until the node has met the outage and the items it was drawing have
    # ended, their results unrecorded (they are handed out again after the claim timeout).
    await eventually(
        lambda: not link.up and pool.in_flight == 0,
        "node a saw Redis go away and finished the items it was drawing",
    )
    await asyncio.to_thread(redis_server.start)
    state = await finished(a, batch_id)
    assert (state["done"], state["failed"]) == (8, 0)
    assert all(r and r["url"].startswith("/v1/images/") for r in state["results"])

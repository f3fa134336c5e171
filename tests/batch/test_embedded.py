"""Batches without Redis: the in-process queue, through the HTTP API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from pixeldrive.auth import key_admin
from pixeldrive.auth.scopes import parse_scopes_option
from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"


async def finished(client: Client, url: str, **headers: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        answer = await client.get(url, headers=headers)
        assert answer.status == 200, await answer.text()
        state: dict[str, Any] = await answer.json()
        if state["status"] == "done":
            return state
        assert time.monotonic() < deadline, state
        await asyncio.sleep(0.05)


async def test_a_batch_renders_in_order_without_redis(client: Client) -> None:
    items = [{"title": f"Card {i}"} for i in range(4)] + [{"title": "x" * 5000}]
    body = {"template": "og-card", "items": items, "format": "webp", "width": 240}
    answer = await client.post("/v1/batches", json=body)
    assert answer.status == 202
    created = await answer.json()
    assert created["status"] == "queued"
    assert created["total"] == 5
    state = await finished(client, created["url"])
    assert (state["done"], state["failed"]) == (4, 1)
    assert state["format"] == "webp"
    assert state["results"][4]["error"]["status"] == 422
    for i in range(4):
        result = state["results"][i]
        assert result["url"].endswith(".webp")
        single = await client.post(
            "/v1/renders",
            json={"template": "og-card", "fields": items[i], "format": "webp", "width": 240},
        )
        assert (await single.json())["url"] == result["url"]
        image = await client.get(result["url"])
        assert image.status == 200
        assert image.headers["X-Cache"] == "hit"


async def test_bad_batches_are_refused_naming_the_problem(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    settings = await asyncio.to_thread(make_settings, batch={"max_items": 3})
    client = await aiohttp_client(create_app(settings))
    too_many = await client.post(
        "/v1/batches", json={"template": "quote", "items": [{}, {}, {}, {}]}
    )
    assert too_many.status == 422
    assert (await too_many.json(content_type=PROBLEM))["errors"][0]["field"] == "items"
    empty = await client.post("/v1/batches", json={"template": "quote", "items": []})
    assert empty.status == 422
    unknown = await client.post("/v1/batches", json={"template": "nope", "items": [{}]})
    assert unknown.status == 404
    not_a_list = await client.post("/v1/batches", json={"template": "quote", "items": {}})
    assert not_a_list.status == 422
    missing = await client.get("/v1/batches/b0000")
    assert missing.status == 404
    assert missing.content_type == PROBLEM


async def test_batches_need_the_batch_scope_and_stay_private(
    aiohttp_client: Any, make_settings: Callable[..., Settings]
) -> None:
    settings = await asyncio.to_thread(make_settings, server={"auth": "on"})

    def key(scopes: str) -> str:
        return key_admin.create_key(settings, scopes, parse_scopes_option(scopes), None).key

    owner, other, render_only = await asyncio.gather(
        *(asyncio.to_thread(key, s) for s in ("batch,usage:read", "batch", "render"))
    )
    client = await aiohttp_client(create_app(settings))
    body = {"template": "quote", "items": [{"quote": "Mine.", "author": "Owner"}]}
    refused = await client.post(
        "/v1/batches", json=body, headers={"Authorization": f"Bearer {render_only}"}
    )
    assert refused.status == 403
    answer = await client.post(
        "/v1/batches", json=body, headers={"Authorization": f"Bearer {owner}"}
    )
    assert answer.status == 202
    url = (await answer.json())["url"]
    state = await finished(client, url, Authorization=f"Bearer {owner}")
    assert state["done"] == 1
    hidden = await client.get(url, headers={"Authorization": f"Bearer {other}"})
    assert hidden.status == 404
    usage = await client.get("/v1/usage", headers={"Authorization": f"Bearer {owner}"})
    assert (await usage.json())["totals"]["renders"] == 1  # metered like a single render

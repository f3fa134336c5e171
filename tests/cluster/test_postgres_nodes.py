"""Nodes sharing one real PostgreSQL for keys and the ledger (SPEC §6, §8): a key made
through node A works on node B, a render is billed once whichever nodes draw it, and
PostgreSQL going away degrades as documented in the README ("Scaling out"): renders for
keys the node has seen go on with their ledger rows spooled locally, /readyz says 503,
and both recover without a restart."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.core.config import Settings, load_settings
from pixeldrive.core.errors import DatabaseUnavailable
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SETTINGS
from tests.auth.conftest import Client, bearer, expect_problem, query_db, render
from tests.cluster.postgres import running_postgres
from tests.conftest import TEMPLATES_DIR

pytest_plugins = ("tests.cluster.conftest_pg",)
MakeNode = Callable[..., Awaitable[Client]]


def node_settings(state: Path, database_url: str, **access: Any) -> Settings:
    return load_settings(
        server={"auth": "on"},
        state_dir=state,
        templates_dir=TEMPLATES_DIR,
        templates_poll_seconds=0,
        render={"workers": 1, "queue_depth": 8, "timeout": 20.0},
        access={"key_cache_seconds": 0, "hits_flush_seconds": 0.2} | access,
        database_url=database_url,
    )


@pytest.fixture
def make_node(aiohttp_client: Any, tmp_path: Path) -> MakeNode:
    """`await make_node("a", url)`: a running app with its own state dir on `url`."""

    async def make(name: str, database_url: str) -> Client:
        settings = await asyncio.to_thread(node_settings, tmp_path / name, database_url)
        client: Client = await aiohttp_client(create_app(settings))
        return client

    return make


def settings_of(node: Client) -> Settings:
    return node.app[SETTINGS]


async def ledger_rows(node: Client, key_id: str) -> list[tuple[Any, ...]]:
    return await asyncio.to_thread(
        query_db,
        settings_of(node),
        "SELECT variant FROM renders WHERE key_id = ? ORDER BY variant",
        key_id,
    )


def spooled_rows(node: Client) -> list[tuple[Any, ...]]:
    """The ledger rows waiting in the node's own SQLite file."""
    with sqlite3.connect(settings_of(node).database_path) as db:
        return db.execute("SELECT key_id, variant FROM renders").fetchall()


def local_keys(node: Client) -> int:
    with sqlite3.connect(settings_of(node).database_path) as db:
        return int(db.execute("SELECT count(*) FROM api_keys").fetchone()[0])


async def usage(node: Client, credential: str) -> dict[str, Any]:
    response = await node.get("/v1/usage", headers=bearer(credential))
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def readiness(node: Client) -> tuple[int, dict[str, Any]]:
    response = await node.get("/readyz")
    body: dict[str, Any] = await response.json()
    return response.status, body


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.1)


async def test_a_key_made_through_node_a_works_on_node_b(
    make_node: MakeNode, database_url: str
) -> None:
    a, b = await make_node("a", database_url), await make_node("b", database_url)
    made = await asyncio.to_thread(key_admin.create_key, settings_of(a), "shared")
    for node in (a, b):
        response = await node.get("/v1/templates", headers=bearer(made.key))
        assert response.status == 200, await response.text()
    assert await asyncio.to_thread(key_admin.revoke, settings_of(b), made.record.id)
    response = await a.get("/v1/templates", headers=bearer(made.key))
    await expect_problem(response, 401, "revoked-key")
    # Neither node kept a key of its own: both state dirs' SQLite files hold none.
    for node in (a, b):
        assert await asyncio.to_thread(local_keys, node) == 0


async def test_a_token_minted_through_one_node_works_on_every_node(
    make_node: MakeNode, database_url: str
) -> None:
    """Behind a load balancer the token and the requests made with it meet different
    nodes: tokens are signed with a key derived from the sealing key all nodes share."""
    a, b = await make_node("a", database_url), await make_node("b", database_url)
    made = await asyncio.to_thread(key_admin.create_key, settings_of(a), "tokens")
    for minter, other in ((a, b), (b, a)):
        body = {"ttl": 600, "scopes": {"templates": ["og-*"]}}
        minted = await minter.post("/v1/tokens", json=body, headers=bearer(made.key))
        assert minted.status == 201, await minted.text()
        token = (await minted.json())["token"]
        for node in (minter, other):
            response = await node.get("/v1/templates", headers=bearer(token))
            assert response.status == 200, await response.text()
        narrowed = await other.get("/v1/templates/quote", headers=bearer(token))
        await expect_problem(narrowed, 403, "scope")


async def test_a_render_is_billed_once_across_nodes(make_node: MakeNode, database_url: str) -> None:
    a, b = await make_node("a", database_url), await make_node("b", database_url)
    made: NewKey = await asyncio.to_thread(key_admin.create_key, settings_of(a), "billing")
    on_a = await render(a, made.key, width=300, fields={"title": "Same"})
    on_b = await render(b, made.key, width=300, fields={"title": "Same"})
    assert on_a["key"] == on_b["key"]
    assert on_b["cached"] is False  # no shared tier without Redis: node B drew it too…
    assert await ledger_rows(a, made.record.id) == [(f"{on_a['key']}.png",)]  # …billed once
    other = await render(b, made.key, width=300, fields={"title": "Other"})
    hit = await b.get(other["url"], headers=bearer(made.key))
    assert hit.headers["X-Cache"] == "hit"
    assert len(await ledger_rows(b, made.record.id)) == 2
    for node in (b, a):  # either node reads the one ledger (B first: it flushes its hit)
        totals = (await usage(node, made.key))["totals"]
        assert (totals["renders"], totals["cache_hits"]) == (2, 1)


async def test_postgres_down_renders_go_on_and_both_recover(make_node: MakeNode) -> None:
    with running_postgres() as server:
        node = await make_node("solo", await asyncio.to_thread(server.create_database))
        settings = settings_of(node)
        made = await asyncio.to_thread(key_admin.create_key, settings, "seen")
        capped = await asyncio.to_thread(key_admin.create_key, settings, "capped", None, 10)
        unseen = await asyncio.to_thread(key_admin.create_key, settings, "unseen")
        first = await render(node, made.key, width=300, fields={"title": "Before"})
        await render(node, capped.key, width=300, fields={"title": "Capped before"})
        assert (await readiness(node))[0] == 200

        await asyncio.to_thread(server.stop)
        status, body = await readiness(node)
        assert status == 503
        assert body["checks"]["database"] is False
        assert body["checks"]["render_pool"] is True
        during = await render(node, made.key, width=300, fields={"title": "During"})
        capped_during = await render(node, capped.key, width=300, fields={"title": "Capped during"})
        image = await node.get(first["url"], headers=bearer(made.key))  # a hit, counted
        assert image.status == 200
        assert sorted(await asyncio.to_thread(spooled_rows, node)) == sorted(
            [
                (made.record.id, f"{during['key']}.png"),
                (capped.record.id, f"{capped_during['key']}.png"),
            ]
        )
        refused = await node.get("/v1/usage", headers=bearer(made.key))
        problem = await expect_problem(refused, 503, "database-unavailable")
        assert "PostgreSQL" in problem["detail"]
        assert refused.headers["Retry-After"].isdigit()
        stranger = await node.get("/v1/templates", headers=bearer(unseen.key))
        await expect_problem(stranger, 503, "database-unavailable")

        await asyncio.to_thread(server.start)
        await eventually(lambda: _ready(node))
        await eventually(lambda: _drained(node))
        assert await ledger_rows(node, made.record.id) == sorted(
            [(f"{first['key']}.png",), (f"{during['key']}.png",)]
        )
        totals = (await usage(node, made.key))["totals"]
        assert (totals["renders"], totals["cache_hits"]) == (2, 1)
        assert (await usage(node, capped.key))["totals"]["renders"] == 2
        assert (await node.get("/v1/templates", headers=bearer(unseen.key))).status == 200


async def test_a_render_spooled_before_a_restart_is_replayed_after_it(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    with running_postgres() as server:
        url = await asyncio.to_thread(server.create_database)
        settings = await asyncio.to_thread(node_settings, tmp_path / "node", url)
        made = await asyncio.to_thread(key_admin.create_key, settings, "restart")
        node: Client = await aiohttp_client(create_app(settings))
        await render(node, made.key, width=300, fields={"title": "Warm"})
        await asyncio.to_thread(server.stop)
        spooled = await render(node, made.key, width=300, fields={"title": "Spooled"})
        await node.close()  # the node stops while PostgreSQL is away: the row stays local
        assert await asyncio.to_thread(spooled_rows, node) == [
            (made.record.id, f"{spooled['key']}.png")
        ]
        await asyncio.to_thread(server.start)
        again: Client = await aiohttp_client(create_app(settings))
        await eventually(lambda: _drained(again))
        variants = {v for (v,) in await ledger_rows(again, made.record.id)}
        assert f"{spooled['key']}.png" in variants
        assert len(variants) == 2


async def test_a_node_does_not_start_without_its_database(tmp_path: Path) -> None:
    with running_postgres() as server:
        url = await asyncio.to_thread(server.create_database)
        await asyncio.to_thread(server.stop)
        settings = await asyncio.to_thread(node_settings, tmp_path / "node", url)
        runner = web.AppRunner(create_app(settings))
        try:
            with pytest.raises(DatabaseUnavailable, match="PostgreSQL cannot be reached"):
                await runner.setup()
        finally:
            await runner.cleanup()


async def _ready(node: Client) -> bool:
    return (await readiness(node))[0] == 200


async def _drained(node: Client) -> bool:
    return not await asyncio.to_thread(spooled_rows, node)

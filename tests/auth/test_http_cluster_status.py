"""GET /v1/cluster is an admin key's view: this node (embedded, the only one), what it runs
and holds, and the batch queue; any narrower credential is told what it needs."""

from __future__ import annotations

import asyncio

from pixeldrive import __version__
from pixeldrive.auth.api_keys import NewKey
from tests.auth.conftest import Client, MakeKey, bearer, expect_problem


async def test_an_admin_key_sees_this_node_and_the_queue(client: Client, key: NewKey) -> None:
    answer = await client.get("/v1/cluster", headers=bearer(key.key))
    assert answer.status == 200, await answer.text()
    status = await answer.json()
    assert status["mode"] == "embedded"
    assert status["queue"] == {"kind": "sqlite", "open_items": 0, "held_items": 0}
    (node,) = status["nodes"]
    assert node["node"] == status["node"]
    assert node["version"] == __version__
    assert node["workers"] >= 1
    assert 0 <= node["in_flight"] < node["capacity"]
    assert node["started_at"] <= node["seen_at"]
    templates = await (await client.get("/v1/templates", headers=bearer(key.key))).json()
    versions = {t["id"]: t["version"] for t in templates["templates"]}
    assert node["templates"] == versions
    assert node["versions_held"] >= len(versions)


async def test_anything_less_than_an_admin_key_is_refused(
    client: Client, key: NewKey, make_key: MakeKey
) -> None:
    await expect_problem(await client.get("/v1/cluster"), 401, "missing-credentials")
    narrow = await asyncio.to_thread(make_key, "render,usage:read,templates=og-*")
    await expect_problem(
        await client.get("/v1/cluster", headers=bearer(narrow.key)), 403, "scope", "admin key"
    )
    minted = await client.post("/v1/tokens", json={"ttl": 60}, headers=bearer(key.key))
    token = (await minted.json())["token"]  # the admin key's own scopes, as a token
    await expect_problem(
        await client.get("/v1/cluster", headers=bearer(token)), 403, "scope", "admin key"
    )

"""A key revoked while its batch waits in the queue stops the batch: the items not yet
started are recorded as refused (401, revoked-key), not rendered and billed."""

from __future__ import annotations

import asyncio
import time

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.core.config import Settings
from pixeldrive.http.app_keys import SERVICES
from tests.auth.conftest import Client, bearer

ITEMS = 24


async def test_a_revoked_keys_queued_items_are_refused_not_rendered(
    client: Client, key: NewKey, settings: Settings
) -> None:
    items = [{"title": f"Queued {n}"} for n in range(ITEMS)]
    body = {"template": "og-card", "items": items, "width": 400}
    answer = await client.post("/v1/batches", json=body, headers=bearer(key.key))
    assert answer.status == 202, await answer.text()
    batch_id = (await answer.json())["id"]
    await asyncio.to_thread(key_admin.revoke, settings, key.record.id)
    queue = client.app[SERVICES].batches.queue
    deadline = time.monotonic() + 60
    while (progress := await queue.progress(batch_id)) is None or progress.status != "done":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    refused = [r for r in progress.results if r is not None and "error" in r]
    rendered = ITEMS - len(refused)
    # One worker: at most the items already taken when the revocation landed are drawn.
    assert rendered <= 4, f"{rendered} items rendered after the key was revoked"
    assert {r["error"]["type"] for r in refused} == {"/problems/revoked-key"}  # type: ignore[index]
    assert "revoked" in refused[0]["error"]["detail"]  # type: ignore[index]
    still = await client.get(f"/v1/batches/{batch_id}", headers=bearer(key.key))
    assert still.status == 401  # the revoked key reads nothing either

"""Uploaded templates live in the database (embedded mode: the SQLite file), the node's
uploads/ and templates/ directories being its copy: a restart with both wiped serves the
upload and draws its old URLs, and the uploads an older release kept only on disk are
stored in the database at the first start, once."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES
from pixeldrive.storage.sqlite import connect
from pixeldrive.storage.templates import list_templates
from tests.http.test_uploads import QUOTE, put

BODY = {"template": "my-quote", "fields": {"quote": "Kept."}}


def stored_ids(settings: Settings) -> list[str]:
    db = connect(settings.database_path)
    try:
        return [t.id for t in list_templates(db)]
    finally:
        db.close()


def wipe(settings: Settings) -> None:
    for name in ("uploads", "templates"):
        shutil.rmtree(settings.state_dir / name, ignore_errors=True)


async def test_uploads_outlive_the_nodes_copy_of_them(
    aiohttp_client: Any, settings: Settings
) -> None:
    first = await aiohttp_client(create_app(settings))
    assert (await put(first, "my-quote", QUOTE)).status == 201
    old = await (await first.post("/v1/renders", json=BODY)).json()
    old_png = await (await first.get(old["url"])).read()
    replacement = QUOTE.replace(b"Dieter Rams", b"Charles Eames")
    assert (await put(first, "my-quote", replacement)).status == 200
    assert await asyncio.to_thread(stored_ids, settings) == ["my-quote"]
    await first.close()
    await asyncio.to_thread(wipe, settings)

    again = await aiohttp_client(create_app(settings))
    assert (await again.get("/v1/templates/my-quote")).status == 200
    cache = again.app[SERVICES].pipeline.cache
    await cache.delete(f"{old['key']}.png")
    assert await (await again.get(old["url"])).read() == old_png  # drawn from the database
    assert (await again.delete("/v1/templates/my-quote")).status == 204
    assert await asyncio.to_thread(stored_ids, settings) == []


async def test_an_older_releases_uploads_are_stored_once(
    aiohttp_client: Any, settings: Settings
) -> None:
    uploads = settings.state_dir / "uploads"
    await asyncio.to_thread(uploads.mkdir, parents=True)
    await asyncio.to_thread((uploads / "legacy.svg").write_bytes, QUOTE)

    first = await aiohttp_client(create_app(settings))
    assert (await first.get("/v1/templates/legacy")).status == 200
    assert await asyncio.to_thread(stored_ids, settings) == ["legacy"]
    assert (await first.delete("/v1/templates/legacy")).status == 204
    await first.close()

    # A copy left on disk (a node that was down when another removed it) is not stored
    # again: the database says what is uploaded.
    await asyncio.to_thread((uploads / "legacy.svg").write_bytes, QUOTE)
    again = await aiohttp_client(create_app(settings))
    assert (await again.get("/v1/templates/legacy")).status == 404
    assert not await asyncio.to_thread(Path(uploads / "legacy.svg").exists)

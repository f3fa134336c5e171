"""The mirror of uploaded templates (service/shared_templates.py) on a real SQLite file
shared by stores with state directories of their own, as nodes have: an upload, a
replacement and a removal reach the other store at its next sync, and a version a store
never had is fetched from the database once, however many ask at the same time, and
again when its local copy is found corrupt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pixeldrive.core.errors import UnknownTemplate
from pixeldrive.service.shared_templates import SharedTemplates
from pixeldrive.storage.sqlite import SQLiteDatabase
from pixeldrive.storage.templates import save_template, template_source
from pixeldrive.templates.store import TemplateStore
from pixeldrive.templates.version import template_version
from tests.templates.test_store import ALPHA, BETA

T = TypeVar("T")


class CountingDatabase(SQLiteDatabase):
    """The real database, counting the version fetches it serves."""

    fetches = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if fn is template_source:
            self.fetches += 1
            await asyncio.sleep(0.05)  # long enough for a second caller to arrive
        return await super().run(fn, *args)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[CountingDatabase]:
    database = CountingDatabase(tmp_path / "db.sqlite3")
    await database.open()
    yield database
    await database.close()


def node(db: CountingDatabase, state: Path) -> SharedTemplates:
    store = TemplateStore(
        state / "bundled",  # none: only uploads
        state / "templates",
        max_image_bytes=1000,
        uploads_dir=state / "uploads",
    )
    return SharedTemplates(db, store)


async def test_uploads_reach_the_other_node_at_its_next_sync(
    db: CountingDatabase, tmp_path: Path
) -> None:
    a, b = node(db, tmp_path / "a"), node(db, tmp_path / "b")
    await asyncio.gather(a.open(), b.open())
    assert await a.save("card", ALPHA) is False
    with pytest.raises(UnknownTemplate):
        b.store.get("card")
    await b.sync()
    assert b.store.get("card").version == template_version(ALPHA)

    assert await a.save("card", BETA) is True
    await b.sync()
    assert b.store.get("card").version == template_version(BETA)

    assert await a.delete("card") is True
    assert await a.delete("card") is False
    await b.sync()
    with pytest.raises(UnknownTemplate):
        b.store.get("card")
    kept = b.store.source_path(template_version(ALPHA))
    assert await asyncio.to_thread(kept.read_bytes) == ALPHA  # old URLs keep drawing


async def test_a_version_never_seen_is_fetched_once_and_again_when_corrupt(
    db: CountingDatabase, tmp_path: Path
) -> None:
    a = node(db, tmp_path / "a")
    await a.open()
    await a.save("card", ALPHA)
    await a.save("card", BETA)
    c = node(db, tmp_path / "c")
    await c.open()  # serves BETA (fetched to mirror it); ALPHA only in the database
    fetched = db.fetches
    old = template_version(ALPHA)
    assert not await asyncio.to_thread(c.store.source_path(old).exists)

    paths = await asyncio.gather(*(c.source(old) for _ in range(5)))
    assert db.fetches == fetched + 1
    assert await asyncio.to_thread(paths[0].read_bytes) == ALPHA
    await c.source(old)
    assert db.fetches == fetched + 1  # known now: no trip at all

    await asyncio.to_thread(paths[0].write_bytes, b"<svg>half of it")
    restarted = SharedTemplates(db, c.store)
    assert await asyncio.to_thread((await restarted.source(old)).read_bytes) == ALPHA
    assert db.fetches == fetched + 2


async def test_a_corrupt_row_is_not_mirrored_and_stops_nothing_else(
    db: CountingDatabase, tmp_path: Path
) -> None:
    def corrupt(conn: Any) -> None:
        save_template(conn, "bad", "0" * 16, b"<svg>not what its version says</svg>")

    await db.run(corrupt)
    a = node(db, tmp_path / "a")
    await a.open()  # a start is not stopped by it
    await a.save("card", ALPHA)
    b = node(db, tmp_path / "b")
    await b.open()
    assert [t.id for t in b.store.all()] == ["card"]

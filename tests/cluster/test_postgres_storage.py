"""The storage contract, one suite for both databases: every keys and ledger function
behaves the same on the embedded SQLite file and on a real PostgreSQL; migrations run
once, are recorded, and leave existing SQLite state files working."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.auth.api_keys import new_key
from pixeldrive.auth.scopes import Scopes
from pixeldrive.core.errors import DatabaseUnavailable
from pixeldrive.storage import postgres as pg
from pixeldrive.storage import sqlite
from pixeldrive.storage.key_records import count_keys, find_key, insert_key, list_keys, revoke_key
from pixeldrive.storage.ledger import (
    HitCount,
    RenderEntry,
    billed_before,
    forget,
    record_hits,
    record_render,
    renders_in_month,
    spooled,
    take_in,
    usage,
)
from pixeldrive.storage.schema import MIGRATIONS, migrate
from pixeldrive.storage.sealed_secrets import SecretBox
from pixeldrive.storage.spool import LedgerWriter
from pixeldrive.storage.sql import Connection
from tests.cluster.postgres import running_postgres

pytest_plugins = ("tests.cluster.conftest_pg",)  # the postgres and database_url fixtures
BOX = SecretBox(bytes(32))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Connection]:
    """A migrated connection to each database in turn."""
    if request.param == "sqlite":
        lite = sqlite.connect(tmp_path / "state.sqlite3")
        yield lite
        lite.close()
        return
    conn = pg.connect_migrated(request.getfixturevalue("database_url"))
    yield conn
    conn.close()


def entry(
    variant: str, key_id: str = "k1", *, day: str = "2026-05-20", **kw: object
) -> RenderEntry:
    fields: dict[str, Any] = {
        "key_id": key_id,
        "variant": variant,
        "template": "og-card",
        "format": "png",
        "pixels": 1200 * 630,
        "ms": 12.5,
        "bytes": 40_000,
        "at": 1_779_000_000.25,
        "day": day,
        "month": day[:7],
    } | kw
    return RenderEntry(**fields)


def test_a_key_round_trips_and_is_revoked_once(db: Connection) -> None:
    made = new_key("alpha", Scopes.everything(), quota=5)
    insert_key(db, BOX, made.record)
    assert find_key(db, BOX, made.record.id) == made.record
    assert isinstance(find_key(db, BOX, made.record.id).secret_hash, bytes)  # type: ignore[union-attr]
    assert find_key(db, BOX, "nosuchkey000") is None
    [stored] = db.execute("SELECT signing_secret FROM api_keys").fetchall()
    assert made.signing_secret not in stored[0]  # sealed at rest
    assert count_keys(db) == 1
    assert revoke_key(db, made.record.id) is True
    assert revoke_key(db, made.record.id) is False
    [listed] = list_keys(db, BOX)
    assert listed.revoked is not None
    assert not listed.active


def test_keys_are_listed_in_creation_order(db: Connection) -> None:
    for name, at in (("b", 2.0), ("a", 1.0), ("c", 3.0)):
        insert_key(db, BOX, new_key(name, Scopes.everything(), now=at).record)
    assert [k.name for k in list_keys(db, BOX)] == ["a", "b", "c"]


def test_a_render_is_billed_once(db: Connection) -> None:
    assert record_render(db, entry("abc.png")) is True
    assert record_render(db, entry("abc.png", ms=99.0)) is False
    assert billed_before(db, "k1", "abc.png")
    assert not billed_before(db, "k1", "abc.webp")
    assert not billed_before(db, "k2", "abc.png")
    assert record_render(db, entry("abc.webp")) is True
    assert renders_in_month(db, "k1", "2026-05") == 2
    assert renders_in_month(db, "k1", "2026-06") == 0


def test_hits_add_up_and_usage_totals_per_day_and_template(db: Connection) -> None:
    record_render(db, entry("a.png", bytes=100))
    record_render(db, entry("b.png", bytes=50, day="2026-05-21", template="quote"))
    record_hits(db, [HitCount("k1", "2026-05-20", "og-card", 3, 300)])
    record_hits(db, [HitCount("k1", "2026-05-20", "og-card", 2, 200)])
    record_hits(db, [HitCount("k2", "2026-05-20", "og-card", 7, 700)])  # someone else's
    assert usage(db, "k1") == [
        ("2026-05-20", "og-card", 1, 5, 600),
        ("2026-05-21", "quote", 1, 0, 50),
    ]
    assert usage(db, "nobody") == []


def test_a_spool_replays_into_a_ledger_once(db: Connection, tmp_path: Path) -> None:
    spool = sqlite.connect(tmp_path / "spool.sqlite3")
    try:
        record_render(spool, entry("a.png"))
        record_render(spool, entry("b.png"))
        record_hits(spool, [HitCount("k1", "2026-05-20", "og-card", 4, 40)])
        record_render(db, entry("a.png"))  # already taken in before a crash
        renders, hits = spooled(spool)
        take_in(db, renders, hits)
        record_hits(spool, [HitCount("k1", "2026-05-20", "og-card", 1, 10)])  # meanwhile
        forget(spool, renders, hits)
        assert spooled(spool) == ([], [HitCount("k1", "2026-05-20", "og-card", 1, 10)])
        assert renders_in_month(db, "k1", "2026-05") == 2
        assert usage(db, "k1") == [("2026-05-20", "og-card", 2, 4, 80_040)]
    finally:
        spool.close()


def test_migrations_run_once_and_are_recorded(db: Connection) -> None:
    assert migrate(db) == len(MIGRATIONS)  # again: nothing to do
    rows = db.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))


def test_an_sqlite_state_file_from_before_the_migrations_table_opens(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path, isolation_level=None)
    old.executescript(
        "CREATE TABLE render_specs (key TEXT PRIMARY KEY, template TEXT NOT NULL,"
        " version TEXT NOT NULL, spec TEXT NOT NULL, created REAL NOT NULL);"
        "CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
        " secret_hash BLOB NOT NULL, signing_secret TEXT NOT NULL, scopes TEXT NOT NULL,"
        " quota INTEGER, created REAL NOT NULL, revoked REAL);"
        "INSERT INTO api_keys VALUES ('oldkey000000', 'old', x'00', 's', '{}', NULL, 1.0, NULL);"
        "CREATE TABLE renders (key_id TEXT, variant TEXT, template TEXT, format TEXT,"
        " pixels INTEGER, ms REAL, bytes INTEGER, day TEXT, month TEXT, created REAL,"
        " PRIMARY KEY (key_id, variant));"
        "CREATE TABLE hits (key_id TEXT, day TEXT, template TEXT, count INTEGER,"
        " bytes INTEGER, PRIMARY KEY (key_id, day, template));"
        "PRAGMA user_version = 2;"
    )
    old.close()
    db = sqlite.connect(path)  # would fail re-creating api_keys if it ran the steps again
    try:
        assert [k.id for k in list_keys(db, BOX)] == ["oldkey000000"]
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        db.close()


async def test_nodes_migrating_one_database_at_once_agree(database_url: str) -> None:
    results = await asyncio.gather(
        *(asyncio.to_thread(_migrate_fresh, database_url) for _ in range(4))
    )
    assert results == [len(MIGRATIONS)] * 4


def _migrate_fresh(url: str) -> int:
    conn = pg.connect(url)
    try:
        return migrate(conn)
    finally:
        conn.close()


async def test_postgres_going_away_is_unavailable_and_coming_back_is_found() -> None:
    with running_postgres() as server:
        url = await asyncio.to_thread(server.create_database)
        database = pg.PostgresDatabase(url, threads=2)
        await database.open()
        try:
            assert await database.run(count_keys) == 0
            assert await database.ping()
            await asyncio.to_thread(server.stop)
            assert not await database.ping()
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable):
                await database.run(count_keys)
            assert time.monotonic() - started < 1.0  # failing fast, no timeout waited
            await asyncio.to_thread(server.start)
            assert await database.ping()  # no restart of ours: the next call reconnects
            assert await database.run(count_keys) == 0
        finally:
            await database.close()


async def test_the_ledger_writer_spools_while_postgres_is_down(tmp_path: Path) -> None:
    with running_postgres() as server:
        url = await asyncio.to_thread(server.create_database)
        primary = pg.PostgresDatabase(url, threads=2)
        local = sqlite.SQLiteDatabase(tmp_path / "node.sqlite3")
        await primary.open()
        await local.open()
        try:
            writer = LedgerWriter(primary, local, replay_seconds=0)
            assert await writer.replay() == 0  # nothing left from before
            await asyncio.to_thread(server.stop)
            assert await writer.record_render(entry("down.png")) is True
            await writer.record_hits([HitCount("k1", "2026-05-20", "og-card", 2, 20)])
            assert writer.pending
            with pytest.raises(DatabaseUnavailable):
                await writer.replay()
            assert await local.run(renders_in_month, "k1", "2026-05") == 1
            await asyncio.to_thread(server.start)
            assert await primary.ping()
            assert await writer.replay() == 2
            assert not writer.pending
            assert await primary.run(usage, "k1") == [("2026-05-20", "og-card", 1, 2, 40_020)]
            assert await local.run(spooled) == ([], [])
        finally:
            await primary.close()
            await local.close()

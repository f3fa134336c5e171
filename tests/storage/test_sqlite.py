"""The embedded database's thread: calls made in one turn of the event loop share a trip,
each keeping its own outcome, in order."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pixeldrive.storage.sqlite import SQLiteDatabase


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SQLiteDatabase]:
    database = SQLiteDatabase(tmp_path / "test.db")
    await database.open()
    await database.run(lambda c: c.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"))
    yield database
    await database.close()


def insert(conn: sqlite3.Connection, k: str, v: int) -> int:
    return conn.execute("INSERT INTO t VALUES (?, ?)", (k, v)).rowcount


def values(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    return [(str(k), int(v)) for k, v in conn.execute("SELECT k, v FROM t ORDER BY rowid")]


def count_trips(db: SQLiteDatabase, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many calls each trip to the thread carried."""
    trips: list[int] = []
    run_all = db._run_all

    def counted(loop: asyncio.AbstractEventLoop, calls: list[object]) -> None:
        trips.append(len(calls))
        run_all(loop, calls)  # type: ignore[arg-type]

    monkeypatch.setattr(db, "_run_all", counted)
    return trips


async def test_calls_in_one_turn_share_a_trip_in_order(
    db: SQLiteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = count_trips(db, monkeypatch)
    assert await asyncio.gather(*(db.run(insert, f"k{i}", i) for i in range(3))) == [1, 1, 1]
    assert trips == [3]
    assert await db.run(values) == [("k0", 0), ("k1", 1), ("k2", 2)]
    assert trips == [3, 1]


async def test_each_call_keeps_its_own_outcome(db: SQLiteDatabase) -> None:
    await db.run(insert, "taken", 0)
    results = await asyncio.gather(
        db.run(insert, "taken", 1), db.run(insert, "free", 2), return_exceptions=True
    )
    assert isinstance(results[0], sqlite3.IntegrityError)
    assert results[1] == 1
    assert await db.run(values) == [("taken", 0), ("free", 2)]


async def test_a_cancelled_caller_leaves_the_others_their_answers(db: SQLiteDatabase) -> None:
    first = asyncio.ensure_future(db.run(insert, "a", 1))
    second = asyncio.ensure_future(db.run(insert, "b", 2))
    await asyncio.sleep(0)  # both queued for one trip, which has not left yet
    first.cancel()
    assert await second == 1
    with pytest.raises(asyncio.CancelledError):
        await first
    # As an executor drops a cancelled job it has not begun, the trip skips it.
    assert await db.run(values) == [("b", 2)]


class Stop(BaseException):
    """Not an Exception: it must still reach its own caller, and only it."""


def stop(conn: sqlite3.Connection) -> None:
    raise Stop


async def test_a_base_exception_reaches_its_caller_only(db: SQLiteDatabase) -> None:
    results = await asyncio.gather(db.run(stop), db.run(insert, "after", 1), return_exceptions=True)
    assert isinstance(results[0], Stop)
    assert results[1] == 1


async def test_calls_after_close_fail_cleanly(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / "closed.db")
    await database.open()
    await database.close()
    with pytest.raises((RuntimeError, sqlite3.ProgrammingError)):
        await database.run(values)

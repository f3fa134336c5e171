"""The embedded database: one SQLite file, migrated on open, one thread that owns it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from pixeldrive.storage.schema import migrate
from pixeldrive.storage.sql import transaction

__all__ = ["Database", "connect", "transaction"]

T = TypeVar("T")


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the schema up to date. Safe to call from several processes at
    once (the CLI beside a running server): WAL, a busy timeout, migrations in a write
    transaction."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    _wal(db)
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    migrate(db)
    return db


def _wal(db: sqlite3.Connection, attempts: int = 200) -> None:
    """Switch to WAL. SQLite answers "database is locked" at once, without waiting out
    the busy timeout, when another connection is switching a new file at the same moment
    (three CLI commands on a fresh state dir): try again for up to ten seconds."""
    for attempt in range(attempts):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


class Database:
    """The SQLite file behind an async interface. One dedicated thread owns the
    connection, so the event loop never waits on disk and SQLite never sees two threads;
    every call is a short function run there, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        self._db = await self._submit(connect, self.path)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` in the database thread."""
        return await self._submit(self._with_connection, fn, *args)

    def _with_connection(self, fn: Callable[..., T], *args: Any) -> T:
        if self._db is None:
            raise sqlite3.ProgrammingError("the database is not open")
        return fn(self._db, *args)

    async def _submit(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def ping(self) -> bool:
        try:
            await self.run(lambda db: db.execute("SELECT 1").fetchone())
        except sqlite3.Error:
            return False
        return True

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await self._submit(db.close)
        await asyncio.to_thread(self._thread.shutdown, wait=True)

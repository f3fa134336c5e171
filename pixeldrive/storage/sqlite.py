"""The embedded database: one SQLite file, its schema migrations, one thread that owns it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Each step runs once, in order; PRAGMA user_version records how many have run.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS render_specs (
        key TEXT PRIMARY KEY,
        template TEXT NOT NULL,
        version TEXT NOT NULL,
        spec TEXT NOT NULL,
        created REAL NOT NULL
    )
    """,
    """
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash BLOB NOT NULL,
        signing_secret TEXT NOT NULL,
        scopes TEXT NOT NULL,
        quota INTEGER,
        created REAL NOT NULL,
        revoked REAL
    );
    CREATE TABLE renders (
        key_id TEXT NOT NULL,
        variant TEXT NOT NULL,
        template TEXT NOT NULL,
        format TEXT NOT NULL,
        pixels INTEGER NOT NULL,
        ms REAL NOT NULL,
        bytes INTEGER NOT NULL,
        day TEXT NOT NULL,
        month TEXT NOT NULL,
        created REAL NOT NULL,
        PRIMARY KEY (key_id, variant)
    );
    CREATE INDEX renders_by_month ON renders (key_id, month);
    CREATE TABLE hits (
        key_id TEXT NOT NULL,
        day TEXT NOT NULL,
        template TEXT NOT NULL,
        count INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (key_id, day, template)
    );
    """,
)


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the schema up to date. Safe to call from several processes at
    once (the CLI beside a running server): WAL, a busy timeout, migrations in a write
    transaction."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    _migrate(db)
    return db


def _migrate(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        done = db.execute("PRAGMA user_version").fetchone()[0]
        for step, script in enumerate(MIGRATIONS[done:], start=done + 1):
            for statement in filter(str.strip, script.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {step}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


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


def transaction(db: sqlite3.Connection) -> _Transaction:
    """`with transaction(db):` — BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error."""
    return _Transaction(db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._db.execute("BEGIN IMMEDIATE")
        return self._db

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")

"""Durable render specs: a key handed out can always be rendered again."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from pixeldrive.cache.keys import RenderSpec

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS render_specs (
    key TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    version TEXT NOT NULL,
    spec TEXT NOT NULL,
    created REAL NOT NULL
)
"""


class SpecStore(Protocol):
    """Where render specs live. Implementations own their connections."""

    async def save(self, key: str, spec: RenderSpec) -> None:
        """Store `spec` under `key`; idempotent (a key always names the same spec)."""

    async def load(self, key: str) -> RenderSpec | None:
        """The spec for `key`, or None when it was never saved."""

    async def ping(self) -> bool:
        """True when the store answers (readiness)."""

    async def close(self) -> None: ...


class SQLiteSpecStore:
    """Specs in a SQLite file (WAL). One dedicated thread owns the connection, so the
    event loop never blocks on disk and SQLite never sees two threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="specs")
        self._db: sqlite3.Connection | None = None
        self._known: set[str] = set()

    async def open(self) -> None:
        await self._call(self._open)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(SCHEMA)
        self._db = db

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, fn, *args)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("spec store is not open")
        return self._db

    async def save(self, key: str, spec: RenderSpec) -> None:
        if key in self._known:
            return
        await self._call(self._save, key, spec)
        self._known.add(key)

    def _save(self, key: str, spec: RenderSpec) -> None:
        self._conn().execute(
            # ON CONFLICT, not OR IGNORE: only a duplicate key is fine, any other
            # constraint failure must surface rather than silently drop the spec.
            "INSERT INTO render_specs (key, template, version, spec, created)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (key, spec.template, spec.version, spec.canonical().decode(), time.time()),
        )

    async def load(self, key: str) -> RenderSpec | None:
        row: tuple[str] | None = await self._call(self._load, key)
        return RenderSpec.from_canonical(row[0]) if row else None

    def _load(self, key: str) -> tuple[str] | None:
        cursor = self._conn().execute("SELECT spec FROM render_specs WHERE key = ?", (key,))
        row: tuple[str] | None = cursor.fetchone()
        return row

    async def ping(self) -> bool:
        try:
            await self._call(self._ping)
        except (sqlite3.Error, RuntimeError):
            return False
        return True

    def _ping(self) -> None:
        self._conn().execute("SELECT 1").fetchone()

    async def close(self) -> None:
        if self._db is not None:
            await self._call(self._db.close)
            self._db = None
        await asyncio.to_thread(self._thread.shutdown, wait=True)

"""Durable render specs: a key handed out can always be rendered again."""

from __future__ import annotations

import sqlite3
import time
from typing import Protocol

from cachetools import LRUCache

from pixeldrive.core.render_spec import RenderSpec
from pixeldrive.storage.sqlite import SQLiteDatabase


class SpecStore(Protocol):
    """Where render specs live."""

    async def save(self, key: str, spec: RenderSpec) -> None:
        """Store `spec` under `key`; idempotent (a key always names the same spec)."""

    async def load(self, key: str) -> RenderSpec | None:
        """The spec for `key`, or None when it was never saved."""


class SQLiteSpecStore:
    """Specs in the embedded database; keys known to be saved are remembered, so a
    repeated payload costs no write."""

    def __init__(self, db: SQLiteDatabase) -> None:
        self._db = db
        self._known: LRUCache[str, bool] = LRUCache(maxsize=100_000)

    async def save(self, key: str, spec: RenderSpec) -> None:
        if key in self._known:
            return
        await self._db.run(_insert, key, spec)
        self._known[key] = True

    async def load(self, key: str) -> RenderSpec | None:
        row = await self._db.run(_select, key)
        return RenderSpec.from_canonical(row) if row else None


def _insert(db: sqlite3.Connection, key: str, spec: RenderSpec) -> None:
    # ON CONFLICT, not OR IGNORE: only a duplicate key is fine, any other constraint
    # failure must surface rather than silently drop the spec.
    db.execute(
        "INSERT INTO render_specs (key, template, version, spec, created)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (key, spec.template, spec.version, spec.canonical().decode(), time.time()),
    )


def _select(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT spec FROM render_specs WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None

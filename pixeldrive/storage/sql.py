"""The dialect layer: what the storage functions need of a connection, for both databases.

Every query in `storage/` is written once, with `?` placeholders, against `Connection`:
the embedded database passes a `sqlite3.Connection` itself (no wrapper on its path), the
cluster database a `postgres.PgConnection` that rewrites `?` to `%s`. The SQL kept to the
common ground of the two (`INSERT … ON CONFLICT`, `count(*)`, standard types through
`schema.py`) is the whole of the dialect difference, apart from locking (`transaction`).
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]


class Cursor(Protocol):
    """The part of a DB-API cursor the storage functions read."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """A DB-API connection in autocommit mode: each statement commits on its own unless
    it runs inside `transaction(db)`. Placeholders are `?`."""

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...


def dialect_of(db: Connection) -> Dialect:
    return "sqlite" if isinstance(db, sqlite3.Connection) else "postgresql"


def transaction(db: Connection, *, lock: str | None = None) -> _Transaction:
    """`with transaction(db):` — BEGIN … COMMIT, or ROLLBACK on error.

    SQLite begins IMMEDIATE: the write lock is taken at once, so the transaction is
    serialised with every other writer of the file (CLI and servers alike). PostgreSQL
    locks rows as it goes; `lock` names a whole-database critical section for the work
    that needs one (migrations, the first key), held until COMMIT through an advisory
    lock, so two nodes starting together take turns.
    """
    return _Transaction(db, lock)


class _Transaction:
    def __init__(self, db: Connection, lock: str | None) -> None:
        self._db = db
        self._lock = lock

    def __enter__(self) -> Connection:
        if dialect_of(self._db) == "sqlite":
            self._db.execute("BEGIN IMMEDIATE")
        else:
            self._db.execute("BEGIN")
            if self._lock is not None:
                # A stable 31-bit number per name (crc32, not hash(): the same in every process).
                key = zlib.crc32(self._lock.encode()) & 0x7FFFFFFF
                self._db.execute("SELECT pg_advisory_xact_lock(?)", (key,))
        return self._db

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")

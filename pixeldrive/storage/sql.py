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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
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


@contextmanager
def transaction(db: Connection, *, lock: str | None = None) -> Iterator[Connection]:
    """`with transaction(db):` — BEGIN … COMMIT, or ROLLBACK on error.

    SQLite begins IMMEDIATE: the write lock is taken at once, so the transaction is
    serialised with every other writer of the file (CLI and servers alike). PostgreSQL
    locks rows as it goes; `lock` names a whole-database critical section for the work
    that needs one (migrations, the first key), held until COMMIT through an advisory
    lock, so two nodes starting together take turns.
    """
    if dialect_of(db) == "sqlite":
        db.execute("BEGIN IMMEDIATE")
    else:
        db.execute("BEGIN")
        if lock is not None:
            # A stable 31-bit number per name (crc32, not hash(): the same in every process).
            db.execute("SELECT pg_advisory_xact_lock(?)", (zlib.crc32(lock.encode()) & 0x7FFFFFFF,))
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")

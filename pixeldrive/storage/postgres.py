"""The cluster database: PostgreSQL through psycopg 3, a few threads, one connection each.

Why psycopg 3 (sync, in threads) and not SQLAlchemy or asyncpg: the storage functions are
plain DB-API code shared with the embedded SQLite database and with the synchronous CLI.
psycopg's connection has the same `execute` as sqlite3's, so a ten-line adapter
(`PgConnection`: `?` → `%s`) lets every query be written once; the SQLite path keeps no
wrapper at all and stays as fast as it was. SQLAlchemy Core would put its compiler and
pool on the embedded path too, for a dozen fixed statements; asyncpg would need a second,
async copy of every query beside the one the CLI runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

import psycopg

from pixeldrive.core.errors import DatabaseUnavailable
from pixeldrive.storage.schema import migrate

T = TypeVar("T")
log = logging.getLogger("pixeldrive.database")

# What says "PostgreSQL cannot be reached", by type: a refused or broken connection, a
# server shutting down (AdminShutdown is an OperationalError), a connection used after it
# broke. Constraint and syntax errors are answers from a live server and pass through.
UNREACHABLE: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError)
CONNECT_TIMEOUT = 3  # seconds; libpq's connect_timeout
RETRY_SECONDS = 1.0  # while down, calls fail at once; one tries again after this long
THREADS = 4


@lru_cache(maxsize=256)
def _placeholders(sql: str) -> str:
    # Every statement is a literal of the storage modules: none holds a `?` or a `%` of its own.
    return sql.replace("?", "%s")


class PgConnection:
    """A psycopg connection with the `Connection` interface of `storage.sql`."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.raw = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self.raw.execute(_placeholders(sql), parameters)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self.raw.cursor()
        cursor.executemany(_placeholders(sql), parameters)
        return cursor

    def close(self) -> None:
        self.raw.close()


def connect(url: str) -> PgConnection:
    """A connection in autocommit mode (statements commit alone unless inside
    `transaction`); DatabaseUnavailable when the server cannot be reached."""
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except UNREACHABLE as exc:
        raise DatabaseUnavailable(f"PostgreSQL cannot be reached: {_reason(exc)}") from exc
    return PgConnection(conn)


def connect_migrated(url: str) -> PgConnection:
    """A connection with the schema up to date (for the CLI and start-up)."""
    db = connect(url)
    try:
        migrate(db)
    except UNREACHABLE as exc:
        db.close()
        raise DatabaseUnavailable(f"PostgreSQL went away: {_reason(exc)}") from exc
    except BaseException:
        db.close()
        raise
    return db


def _reason(exc: BaseException) -> str:
    # libpq's message names host, port and the cause; never the password (it is not in it).
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class PostgresDatabase:
    """PostgreSQL behind the same async interface as the SQLite `Database`: `run(fn, *args)`
    calls `fn(connection, *args)` in one of a few threads, each owning its connection.

    A call that finds the server unreachable raises DatabaseUnavailable and marks the
    database down; while down, calls fail at once (no connect timeout on the hot path)
    except one attempt per RETRY_SECONDS, and `ping` always tries, so readiness sees the
    server come back and the next call reconnects: no restart needed. A connection that
    broke while idle (the server restarted) is replaced and the call tried once more.
    """

    def __init__(self, url: str, *, threads: int = THREADS) -> None:
        self.url = url
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="postgres")
        self._local = threading.local()
        self._all: set[PgConnection] = set()
        self._lock = threading.Lock()
        self._down_at: float | None = None

    async def open(self) -> None:
        """Connect and migrate; DatabaseUnavailable when the server is not there."""
        await self._submit(self._open)

    def _open(self) -> None:
        db = connect_migrated(self.url)
        self._adopt(db)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` in a database thread; DatabaseUnavailable when the
        server cannot be reached (other database errors pass through)."""
        return await self._submit(self._call, fn, args, False)

    async def ping(self) -> bool:
        try:
            await self._submit(self._call, _select_one, (), True)
        except DatabaseUnavailable:
            return False
        return True

    async def close(self) -> None:
        await asyncio.to_thread(self._threads.shutdown, wait=True)
        with self._lock:
            connections, self._all = list(self._all), set()
        await asyncio.to_thread(_close_all, connections)

    async def _submit(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, fn, *args)

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], probe: bool) -> T:
        down_at = self._down_at
        if not probe and down_at is not None and time.monotonic() - down_at < RETRY_SECONDS:
            raise DatabaseUnavailable("PostgreSQL is unreachable; it is tried again every second")
        try:
            result = self._attempt(fn, args)
        except DatabaseUnavailable as exc:
            if self._down_at is None:
                log.warning("PostgreSQL is unreachable: %s", exc.detail)
            self._down_at = time.monotonic()
            raise
        if self._down_at is not None:
            log.warning("PostgreSQL is reachable again")
            self._down_at = None
        return result

    def _attempt(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        reused = getattr(self._local, "db", None) is not None
        try:
            return fn(self._connection(), *args)
        except UNREACHABLE as exc:
            self._drop()
            if not reused:
                raise DatabaseUnavailable(f"PostgreSQL cannot be reached: {_reason(exc)}") from exc
        try:  # the connection had broken while idle (a server restart): once more, afresh
            return fn(self._connection(), *args)
        except UNREACHABLE as exc:
            self._drop()
            raise DatabaseUnavailable(f"PostgreSQL cannot be reached: {_reason(exc)}") from exc

    def _connection(self) -> PgConnection:
        db: PgConnection | None = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.url)
            self._adopt(db)
        return db

    def _adopt(self, db: PgConnection) -> None:
        self._local.db = db
        with self._lock:
            self._all.add(db)

    def _drop(self) -> None:
        db: PgConnection | None = getattr(self._local, "db", None)
        self._local.db = None
        if db is not None:
            with self._lock:
                self._all.discard(db)
            db.close()


def _close_all(connections: list[PgConnection]) -> None:
    for db in connections:
        db.close()


def _select_one(db: PgConnection) -> None:
    db.execute("SELECT 1").fetchone()

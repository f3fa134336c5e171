"""Where API keys and the usage ledger live: the interface, and a synchronous connection
for the CLI. PostgreSQL when a database URL is configured (every node shares it), else
the embedded SQLite file in the state directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pixeldrive.core.errors import DatabaseUnavailable
from pixeldrive.storage import sqlite
from pixeldrive.storage.sql import Connection

T = TypeVar("T")


class Database(Protocol):
    """A database behind an async interface (`sqlite.SQLiteDatabase`, `postgres.PostgresDatabase`).
    The owner calls `open()` (connects, migrates) and `close()`; in between, `run`
    calls `fn(connection, *args)` off the event loop, the connection satisfying
    `storage.sql.Connection`. PostgreSQL raises DatabaseUnavailable (503) when it cannot
    be reached; `ping` says whether it can."""

    async def open(self) -> None: ...

    async def run(self, fn: Callable[..., T], *args: Any) -> T: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


@contextmanager
def connection(
    database_url: str | None, sqlite_path: Path, *, create: bool = True
) -> Iterator[Connection]:
    """A migrated synchronous connection, closed on exit: to PostgreSQL when
    `database_url` is set (DatabaseUnavailable when it cannot be reached), else to the
    SQLite file (with `create=False`, FileNotFoundError when there is none)."""
    if database_url:
        from pixeldrive.storage import postgres  # psycopg loads only in cluster mode

        pg = postgres.connect_migrated(database_url)
        try:
            yield pg
        except postgres.UNREACHABLE as exc:
            raise DatabaseUnavailable(f"PostgreSQL went away: {exc}") from exc
        finally:
            pg.close()
        return
    with closing(sqlite.connect(sqlite_path, create=create)) as db:
        yield db

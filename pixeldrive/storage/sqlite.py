"""The embedded database: one SQLite file, migrated on open, one thread that owns it."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from pixeldrive.storage.private_files import (
    DIR_MODE,
    private_file,
    secure_sqlite_files,
    tighten,
)
from pixeldrive.storage.schema import migrate

T = TypeVar("T")


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """A connection with the schema up to date. Safe to call from several processes at
    once (the CLI beside a running server): WAL, a busy timeout, migrations in a write
    transaction.

    The file is created 0600 in a 0700 directory (SQLite gives its -wal and -shm the
    file's mode), or tightened to that. With `create=False` a missing file is
    FileNotFoundError, and nothing is created."""
    if create:
        private_file(path)
    elif not path.is_file():
        raise FileNotFoundError(f"no database at {path}")
    else:
        tighten(path.parent, DIR_MODE)
    secure_sqlite_files(path)
    # mode=rw: SQLite itself never creates the file (it is ours to create, privately).
    db = sqlite3.connect(
        f"{path.absolute().as_uri()}?mode=rw", uri=True, isolation_level=None, timeout=10.0
    )
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


_Call = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


class SQLiteDatabase:
    """The SQLite file behind an async interface. One dedicated thread owns the
    connection, so the event loop never waits on disk and SQLite never sees two threads;
    every call is a short function run there, in order.

    Calls made in the same turn of the event loop cross to the thread together, and their
    outcomes come back together: a render's spec and ledger rows take one trip (a trip
    costs the server's process more CPU than the SQL does). Each call still runs on its
    own and gets its own result or exception."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None
        self._queued: list[_Call] = []
        self._sending: asyncio.AbstractEventLoop | None = None  # a send is scheduled there

    async def open(self) -> None:
        self._db = await self._submit(connect, self.path)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(connection, *args)` in the database thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._sending is not loop:  # (a loop that stopped first leaves no send behind)
            self._sending = loop
            loop.call_soon(self._send, loop)
        self._queued.append((fn, args, future))
        return await future

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        calls, self._queued, self._sending = self._queued, [], None
        try:
            self._thread.submit(self._run_all, loop, calls)
        except RuntimeError as exc:  # closed meanwhile
            _deliver([(future, None, exc) for _, _, future in calls])

    def _run_all(self, loop: asyncio.AbstractEventLoop, calls: list[_Call]) -> None:
        outcomes: list[_Outcome] = []
        for fn, args, future in calls:
            if future.cancelled():  # its caller gave up before it started: skip it, as
                continue  # an executor drops a cancelled job it has not begun
            try:
                outcomes.append((future, self._with_connection(fn, *args), None))
            except BaseException as exc:  # handed to its caller
                outcomes.append((future, None, exc))
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting
            loop.call_soon_threadsafe(_deliver, outcomes)

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


def _deliver(outcomes: list[_Outcome]) -> None:
    for future, result, exc in outcomes:
        if future.done():  # its caller was cancelled
            continue
        with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
            if exc is None:
                future.set_result(result)
            else:
                future.set_exception(exc)

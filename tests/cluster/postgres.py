"""A real PostgreSQL for the cluster tests: initdb into a temporary directory, a free
port, the unix socket beside the data; stopped and started at will, data kept.

initdb and postgres refuse to run as root: as root, they run as the `postgres` user that
Debian's `postgresql` package creates (scripts/test installs it). The fixtures are in
`conftest_pg.py`: `pytest_plugins = ("tests.cluster.conftest_pg",)` in a test module.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.cluster.redis_server import free_port

_names = itertools.count(1)


def _binaries() -> Path:
    """The directory of initdb, pg_ctl and postgres: PATH, else Debian's versioned one."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
    )
    if not versions:
        pytest.fail("PostgreSQL is not installed: apt-get install postgresql (scripts/test does)")
    return versions[-1].parent


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class PostgresServer:
    """One PostgreSQL cluster. `url(name)` names a database on it; `create_database()`
    makes a fresh one. `stop()` (fast: open connections are cut, as when a server goes
    away) and `start()` keep the port and the data, as a restarted server would."""

    def __init__(self) -> None:
        self.bin = _binaries()
        # Not pytest's tmp_path: the postgres user must be able to enter it.
        self.root = Path(tempfile.mkdtemp(prefix="pixeldrive-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*_as_postgres(), str(self.bin / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{program} failed:\n{done.stdout}\n{done.stderr}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = f"pd_{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return self.url(name)

    def remove(self) -> None:
        with contextlib.suppress(AssertionError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()

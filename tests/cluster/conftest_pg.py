"""PostgreSQL fixtures, a plugin for the modules that ask for it:
`pytest_plugins = ("tests.cluster.conftest_pg",)`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.postgres import PostgresServer, running_postgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One server for the session; tests that stop it make their own (`running_postgres`)."""
    with running_postgres() as server:
        yield server


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    """A fresh database per test."""
    return postgres.create_database()

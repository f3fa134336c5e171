"""Shared fixtures and helpers for the end-to-end auth tests: authentication ON, revocations
seen at once (key_cache_seconds = 0), keys made through the admin API off the event loop."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.scopes import parse_scopes_option
from pixeldrive.core.config import PROJECT_ROOT, Settings
from pixeldrive.storage.database import connection

Client = TestClient[Any, Any]
MakeKey = Callable[..., NewKey]
PROBLEM = "application/problem+json"
CHROMIUM_IMG = "image/jxl,image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
# The required fields of the bundled templates used here.
FIELDS: dict[str, dict[str, str]] = {
    "og-card": {"title": "Hello"},
    "quote": {"quote": "Keep it simple.", "author": "Ada"},
}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Overrides the root fixture (auth off): every app in tests/auth authenticates."""
    return make_settings(server={"auth": "on"}, access={"key_cache_seconds": 0})


@pytest.fixture
def make_key(settings: Settings) -> MakeKey:
    """`make_key("render,templates=og-*", quota=2)`: a stored key (sync: call it from a sync
    fixture or through asyncio.to_thread)."""

    def make(scopes: str | None = None, quota: int | None = None, name: str = "test") -> NewKey:
        parsed = parse_scopes_option(scopes) if scopes else None
        return key_admin.create_key(settings, name, parsed, quota)

    return make


@pytest.fixture
def key(make_key: MakeKey) -> NewKey:
    """A key that may do everything."""
    return make_key(name="everything")


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


async def expect_problem(
    response: ClientResponse, status: int, slug: str, *wording: str
) -> dict[str, Any]:
    """Assert a problem+json answer with this status, type `/problems/{slug}`, and a detail
    containing every piece of `wording`; returns the document."""
    raw = await response.read()
    assert response.status == status, raw[:300]
    assert response.content_type == PROBLEM, raw[:300]
    problem: dict[str, Any] = await response.json(content_type=PROBLEM)
    assert problem["type"] == f"/problems/{slug}", problem
    assert problem["status"] == status
    for words in wording:
        assert words in problem["detail"], (words, problem["detail"])
    return problem


async def render(client: Client, credential: str, status: int = 201, **body: Any) -> dict[str, Any]:
    """POST /v1/renders (og-card unless said otherwise, required fields filled in);
    asserts the status."""
    body.setdefault("template", "og-card")
    body["fields"] = FIELDS.get(body["template"], {}) | body.get("fields", {})
    response = await client.post("/v1/renders", json=body, headers=bearer(credential))
    assert response.status == status, await response.text()
    result: dict[str, Any] = await response.json(content_type=None)
    return result


def query_db(settings: Settings, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Read the keys-and-ledger database (the state's SQLite file, or PostgreSQL when the
    settings name one) with a connection of our own (sync: use asyncio.to_thread)."""
    with connection(settings.database_url, settings.database_path) as db:
        return [tuple(row) for row in db.execute(sql, args).fetchall()]


def cli_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a `pixeldrive` subprocess on `state_dir`, no stray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELDRIVE_")}
    return env | {"PIXELDRIVE_STATE_DIR": str(state_dir)} | extra


def run_cli(
    state_dir: Path, *args: str, umask: int = 0o022, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m pixeldrive.cli ARGS` on `state_dir` (sync: use asyncio.to_thread)."""
    return subprocess.run(
        [sys.executable, "-m", "pixeldrive.cli", *args],
        env=cli_env(state_dir, **env),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        umask=umask,
    )

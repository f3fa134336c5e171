"""Signing secrets at rest in cluster mode, on a real PostgreSQL (issue 18, item 8): the
key comes from the environment or a file, never from a node's state directory; an old
database's plain secrets are sealed on start with no key lost; a node with a wrong key,
or none, does not start and changes nothing."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey, new_key
from pixeldrive.auth.scopes import Scopes
from pixeldrive.auth.url_signature import sign_url
from pixeldrive.core.config import Settings
from pixeldrive.core.errors import SecretsKeyError
from pixeldrive.http.app import create_app
from pixeldrive.storage import postgres as pg
from pixeldrive.storage.schema import MIGRATIONS, TYPES, statements
from pixeldrive.storage.sealed_secrets import PREFIX
from tests.auth.conftest import query_db
from tests.cluster.test_postgres_nodes import node_settings
from tests.storage.test_state_secrets import cli, started, works

pytest_plugins = ("tests.cluster.conftest_pg",)


def old_postgres(url: str, keys: list[NewKey]) -> None:
    """A database as the previous release left it: steps 1 to 3, plain signing secrets."""
    db = pg.connect(url)
    try:
        real = TYPES["postgresql"]["real"]
        db.execute(f"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied {real})")
        for number, step in enumerate(MIGRATIONS[:3], start=1):
            for statement in statements(step, "postgresql"):
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (number, time.time()))
        for made in keys:
            r = made.record
            db.execute(
                "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (r.id, r.name, r.secret_hash, r.signing_secret, r.scopes, r.quota, r.created, None),
            )
    finally:
        db.close()


def stored_secrets(settings: Settings) -> list[str]:
    return [str(row[0]) for row in query_db(settings, "SELECT signing_secret FROM api_keys")]


async def test_an_old_postgres_database_is_sealed_and_every_node_keeps_its_keys(
    tmp_path: Path, database_url: str
) -> None:
    keys = [new_key(name, Scopes.everything()) for name in ("admin", "shop", "ops")]
    await asyncio.to_thread(old_postgres, database_url, keys)
    a_settings = await asyncio.to_thread(node_settings, tmp_path / "a", database_url)
    b_settings = await asyncio.to_thread(node_settings, tmp_path / "b", database_url)
    a, b = await started(a_settings), await started(b_settings)  # together, as nodes do
    try:
        for made in keys:
            await works(a, made)
            await works(b, made)
    finally:
        await a.close()
        await b.close()
    stored = await asyncio.to_thread(stored_secrets, a_settings)
    assert len(stored) == 3
    assert all(value.startswith(PREFIX) for value in stored)
    assert not any(k.signing_secret in value for k in keys for value in stored)
    for state in (tmp_path / "a", tmp_path / "b"):  # the key lives in no node's state
        assert not (state / "secrets" / "signing-secrets.key").exists()


async def refused(settings: Settings, *wording: str) -> None:
    with pytest.raises(SecretsKeyError) as error:
        async with TestServer(create_app(settings)):
            pass
    for words in wording:
        assert words in error.value.detail


async def test_a_node_with_another_key_does_not_start(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await asyncio.to_thread(node_settings, tmp_path / "a", database_url)
    made = await asyncio.to_thread(key_admin.create_key, first, "shop")
    before = await asyncio.to_thread(stored_secrets, first)
    for wrong in (os.urandom(32), bytes(32)):
        monkeypatch.setenv("PIXELDRIVE_SECRETS__KEY", base64.b64encode(wrong).decode())
        other = await asyncio.to_thread(node_settings, tmp_path / "b", database_url)
        await refused(other, "PIXELDRIVE_SECRETS__KEY", "is not the one")
    assert await asyncio.to_thread(stored_secrets, first) == before
    monkeypatch.undo()
    node = await started(first)  # the right key still opens everything
    try:
        await works(node, made)
    finally:
        await node.close()


async def test_cluster_mode_without_a_key_is_refused_naming_the_setting(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIXELDRIVE_SECRETS__KEY")
    settings = await asyncio.to_thread(node_settings, tmp_path / "a", database_url)
    await refused(settings, "PIXELDRIVE_SECRETS__KEY", "PIXELDRIVE_SECRETS__KEY_FILE")
    done = await asyncio.to_thread(
        cli, tmp_path / "cli", "keys", "create", "--name", "x", PIXELDRIVE_DATABASE_URL=database_url
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert "PIXELDRIVE_SECRETS__KEY" in done.stderr
    assert await asyncio.to_thread(query_db, settings, "SELECT id FROM api_keys") == []
    assert not (tmp_path / "a" / "secrets" / "signing-secrets.key").exists()


async def test_the_key_from_a_file_serves_nodes_and_the_cli(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, secrets_key: str
) -> None:
    monkeypatch.delenv("PIXELDRIVE_SECRETS__KEY")
    key_file = tmp_path / "mounted" / "pixeldrive.key"
    key_file.parent.mkdir()
    key_file.write_text(secrets_key + "\n")
    key_file.chmod(0o400)
    env: dict[str, Any] = {
        "PIXELDRIVE_DATABASE_URL": database_url,
        "PIXELDRIVE_SECRETS__KEY_FILE": str(key_file),
    }
    done = await asyncio.to_thread(
        cli, tmp_path / "cli", "keys", "create", "--name", "x", "--json", **env
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    monkeypatch.setenv("PIXELDRIVE_SECRETS__KEY_FILE", str(key_file))
    settings = await asyncio.to_thread(node_settings, tmp_path / "a", database_url)
    node = await started(settings)
    try:
        auth = {"Authorization": f"Bearer {created['key']}"}
        assert (await node.get("/v1/templates", headers=auth)).status == 200
        url = sign_url("/v1/t/quote.png", {"quote": "Q", "_width": "100"}, kid=created["id"],
                       secret=created["signing_secret"], ttl=60)  # fmt: skip
        assert (await node.get(url)).status == 200
    finally:
        await node.close()
    key_file.chmod(0o600)
    key_file.write_text(base64.b64encode(os.urandom(32)).decode())  # replaced by mistake
    await refused(settings, str(key_file), "is not the one")
    key_file.unlink()
    await refused(settings, str(key_file), "missing")

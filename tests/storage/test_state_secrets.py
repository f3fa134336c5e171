"""Secrets at rest (issue 18, item 8): the state directory is 0700 and what holds secrets
0600 from the first byte, looser ones are tightened on start; each key's URL-signing
secret is encrypted with a key kept apart from the database; a database that holds them
in plain text is sealed on start without losing a key; a missing or wrong key stops the
start and changes nothing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pixeldrive.auth.api_keys import NewKey, new_key
from pixeldrive.auth.scopes import Scopes
from pixeldrive.auth.url_signature import sign_url
from pixeldrive.core.config import Settings
from pixeldrive.core.errors import SecretsKeyError
from pixeldrive.http.app import create_app
from pixeldrive.storage.schema import MIGRATIONS, statements
from pixeldrive.storage.sealed_secrets import PREFIX, SecretBox
from tests.auth.conftest import run_cli as cli

SQLITE_FILES = ("pixeldrive.sqlite3", "pixeldrive.sqlite3-wal", "pixeldrive.sqlite3-shm")
KEY_FILE = "secrets/signing-secrets.key"


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    settings: Settings = make_settings(server={"auth": "on"}, access={"key_cache_seconds": 0})
    return settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_bytes(state: Path) -> dict[str, bytes]:
    return {str(p.relative_to(state)): p.read_bytes() for p in state.rglob("*") if p.is_file()}


async def started(settings: Settings) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
    await client.start_server()
    return client


async def works(client: TestClient[Any, Any], made: NewKey) -> None:
    """The key authenticates and a URL signed with its signing secret renders."""
    auth = {"Authorization": f"Bearer {made.key}"}
    assert (await client.get("/v1/templates", headers=auth)).status == 200
    url = sign_url("/v1/t/quote.png", {"quote": "Q", "_width": "100"}, kid=made.record.id,
                   secret=made.signing_secret, ttl=60)  # fmt: skip
    answer = await client.get(url)
    assert answer.status == 200, await answer.text()


# Files and directories: private from the first byte, tightened on start.


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o002])
def test_a_new_state_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    state = tmp_path / "state"
    done = cli(state, "keys", "create", "--name", "k", "--json", umask=umask)
    assert done.returncode == 0, done.stderr
    assert mode(state) == 0o700
    assert mode(state / "secrets") == 0o700
    assert mode(state / "pixeldrive.sqlite3") == 0o600
    assert mode(state / KEY_FILE) == 0o600


async def test_a_running_server_keeps_its_database_wal_and_secrets_private(
    settings: Settings,
) -> None:
    old = os.umask(0)  # the most permissive: every mode seen is the one asked for
    try:
        client = await started(settings)
    finally:
        os.umask(old)
    try:
        made = await asyncio.to_thread(new_admin, settings)
        await works(client, made)
        state = settings.state_dir
        for name in (*SQLITE_FILES, KEY_FILE, "secrets/tokens.json"):
            assert mode(state / name) == 0o600, name
        assert mode(state) == mode(state / "secrets") == 0o700
    finally:
        await client.close()


def new_admin(settings: Settings) -> NewKey:
    from pixeldrive.auth import key_admin

    return key_admin.create_key(settings, "admin")


async def test_loose_modes_left_by_an_older_version_are_tightened_on_start(
    settings: Settings,
) -> None:
    await (await started(settings)).close()  # a state, with every file
    state = settings.state_dir
    await asyncio.to_thread(new_admin, settings)
    loose = {state: 0o755, state / "secrets": 0o755}
    loose |= {state / n: 0o644 for n in ("pixeldrive.sqlite3", KEY_FILE, "secrets/tokens.json")}
    for path, bits in loose.items():
        path.chmod(bits)
    client = await started(settings)
    try:
        for path in loose:
            assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    finally:
        await client.close()


def test_the_cli_tightens_a_loose_database_and_its_directory(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert cli(state, "keys", "create", "--name", "k").returncode == 0
    state.chmod(0o777)
    (state / "pixeldrive.sqlite3").chmod(0o666)
    done = cli(state, "keys", "list")
    assert done.returncode == 0, done.stderr
    assert mode(state) == 0o700
    assert mode(state / "pixeldrive.sqlite3") == 0o600


# Signing secrets encrypted at rest.


def test_a_sealed_secret_opens_only_with_its_key_and_on_its_own_row() -> None:
    box, other = SecretBox(bytes(32)), SecretBox(bytes(31) + b"\x01")
    sealed = box.seal("the secret", bound_to="key-a")
    assert sealed.startswith(PREFIX)
    assert "the secret" not in sealed
    assert box.seal("the secret", bound_to="key-a") != sealed  # a fresh nonce each time
    assert box.open(sealed, bound_to="key-a") == "the secret"
    for opener, value, row in (
        (other, sealed, "key-a"),  # another key
        (box, sealed, "key-b"),  # moved onto another key's row
        (box, sealed[:-2] + "AA", "key-a"),  # altered
    ):
        with pytest.raises(SecretsKeyError):
            opener.open(value, bound_to=row)
    assert "0000" not in repr(box)


async def test_a_copy_of_the_database_holds_no_signing_secret(settings: Settings) -> None:
    made = [await asyncio.to_thread(new_admin, settings) for _ in range(3)]
    client = await started(settings)
    try:
        for key in made:
            await works(client, key)
        leaked = [
            name
            for name, data in files_bytes(settings.state_dir).items()
            for key in made
            if key.signing_secret.encode() in data
            or base64.urlsafe_b64decode(key.signing_secret + "=") in data
        ]
        assert leaked == []
    finally:
        await client.close()
    with sqlite3.connect(settings.database_path) as db:
        stored = [row[0] for row in db.execute("SELECT signing_secret FROM api_keys")]
    assert len(stored) == 3
    assert all(value.startswith(PREFIX) for value in stored)


# An old database: plain secrets sealed on start, no key lost.


def old_database(path: Path, keys: list[NewKey]) -> None:
    """A keys database as the previous release left it: schema steps 1 to 3, and every
    signing secret in plain text."""
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied REAL)")
    for number, step in enumerate(MIGRATIONS[:3], start=1):
        for statement in statements(step, "sqlite"):
            db.execute(statement)
        db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (number, time.time()))
    db.execute("PRAGMA user_version = 3")
    for made in keys:
        r = made.record
        db.execute(
            "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (r.id, r.name, r.secret_hash, r.signing_secret, r.scopes, r.quota, r.created, None),
        )
    db.close()
    path.chmod(0o644)  # as SQLite made it


def old_keys() -> list[NewKey]:
    return [new_key(name, Scopes.everything()) for name in ("admin", "shop")]


async def test_an_old_database_is_sealed_on_start_and_every_key_still_works(
    settings: Settings,
) -> None:
    keys = old_keys()
    await asyncio.to_thread(old_database, settings.database_path, keys)
    client = await started(settings)
    try:
        for made in keys:
            await works(client, made)  # the same key, the same signing secret
    finally:
        await client.close()
    state = settings.state_dir
    assert mode(state / KEY_FILE) == 0o600
    assert mode(settings.database_path) == 0o600
    for made in keys:
        assert all(made.signing_secret.encode() not in data for data in files_bytes(state).values())
    client = await started(settings)  # and again: already sealed, nothing to do
    try:
        await works(client, keys[1])
    finally:
        await client.close()


def test_the_cli_on_an_old_database_seals_it_and_signs_with_the_old_secret(
    tmp_path: Path,
) -> None:
    keys = old_keys()
    state = tmp_path / "state"
    old_database(state / "pixeldrive.sqlite3", keys)
    done = cli(state, "sign", "http://x/v1/t/quote.png?quote=Q", "--kid", keys[0].record.id)
    assert done.returncode == 0, done.stderr
    query = dict(p.split("=", 1) for p in done.stdout.strip().split("?", 1)[1].split("&"))
    expected = sign_url("/v1/t/quote.png", {"quote": "Q"}, kid=keys[0].record.id,
                        secret=keys[0].signing_secret, expires_at=int(query["exp"]))  # fmt: skip
    assert done.stdout.strip() == f"http://x{expected}"
    assert keys[0].signing_secret.encode() not in (state / "pixeldrive.sqlite3").read_bytes()
    listed = cli(state, "keys", "list")
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [k.record.id for k in keys]


# A missing or wrong key: a clear error, and nothing changed.


async def sealed_state(settings: Settings) -> NewKey:
    made = await asyncio.to_thread(new_admin, settings)
    await (await started(settings)).close()
    return made


async def refused_start(settings: Settings, *wording: str) -> None:
    before = files_bytes(settings.state_dir)
    app = create_app(settings)
    with pytest.raises(SecretsKeyError) as refused:
        async with TestServer(app):
            pass
    for words in wording:
        assert words in refused.value.detail
    after = files_bytes(settings.state_dir)
    assert after.keys() == before.keys()  # no new key file, nothing new
    assert after["pixeldrive.sqlite3"] == before["pixeldrive.sqlite3"]
    assert after.get(KEY_FILE) == before.get(KEY_FILE)


async def test_a_wrong_key_file_stops_the_start(settings: Settings) -> None:
    await sealed_state(settings)
    key_file = settings.state_dir / KEY_FILE
    key_file.write_text(base64.b64encode(hashlib.sha256(b"another").digest()).decode())
    await refused_start(settings, str(key_file), "is not the one")


async def test_a_wrong_key_in_the_environment_stops_the_start(
    make_settings: Any, settings: Settings
) -> None:
    await sealed_state(settings)
    other = base64.b64encode(os.urandom(32)).decode()
    wrong = await asyncio.to_thread(make_settings, server={"auth": "on"}, secrets={"key": other})
    await refused_start(wrong, "PIXELDRIVE_SECRETS__KEY", "is not the one")
    assert other not in str(wrong) + repr(wrong)


async def test_a_missing_key_file_stops_the_start_and_is_not_made_anew(
    settings: Settings,
) -> None:
    made = await sealed_state(settings)
    key_file = settings.state_dir / KEY_FILE
    kept = key_file.read_bytes()
    key_file.unlink()
    await refused_start(settings, str(key_file), "missing")
    done = cli(settings.state_dir, "keys", "create", "--name", "more", "--json")
    assert (done.returncode, done.stdout) == (2, "")
    said = done.stderr.strip().splitlines()
    assert said[0].startswith("pixeldrive: using state directory")
    assert len(said) == 2  # the state used, then the error: one line
    assert "missing" in said[1]
    assert not key_file.exists()
    key_file.write_bytes(kept)  # restored from a backup: everything works again
    client = await started(settings)
    try:
        await works(client, made)
    finally:
        await client.close()


def test_a_wrong_key_is_one_line_and_exit_2_for_every_keys_command(tmp_path: Path) -> None:
    state = tmp_path / "state"
    created = cli(state, "keys", "create", "--name", "k", "--json")
    assert created.returncode == 0
    wrong = base64.b64encode(os.urandom(32)).decode()
    for args in (("keys", "list"), ("keys", "create", "--name", "x"), ("sign", "/v1/t/q",
                 "--kid", "k"), ("keys", "revoke", "k")):  # fmt: skip
        done = cli(state, *args, PIXELDRIVE_SECRETS__KEY=wrong)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stdout == ""
        [line] = done.stderr.strip().splitlines()[-1:]
        assert "is not the one" in line
        assert wrong not in done.stderr
        assert "Traceback" not in done.stderr


def test_a_derived_key_is_the_same_for_the_same_key_and_purpose_only() -> None:
    box, same, other = SecretBox(bytes(32)), SecretBox(bytes(32)), SecretBox(bytes(31) + b"\x01")
    derived = box.derive("pixeldrive tokens v1")
    assert len(derived) == 32
    assert same.derive("pixeldrive tokens v1") == derived  # every node alike
    assert box.derive("another purpose") != derived
    assert other.derive("pixeldrive tokens v1") != derived
    assert bytes(32) not in (derived, box.derive("another purpose"))

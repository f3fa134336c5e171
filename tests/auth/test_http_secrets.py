"""The key does not appear anywhere in the state directory or the logs (SPEC §4: stored
hashed, shown once). Keys come from first_admin_key, the CLI and a real `pixeldrive serve`."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.auth import key_admin
from pixeldrive.auth.url_signature import sign_url
from pixeldrive.core.config import PROJECT_ROOT, Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES
from tests.auth.conftest import FIELDS, Client, bearer, cli_env, run_cli

RENDER = {"template": "og-card", "fields": FIELDS["og-card"], "width": 300}


def needles(key: str) -> dict[str, bytes]:
    """The key, its secret part alone, and the secret's raw bytes."""
    secret = re.fullmatch(r"pd_[a-z2-7]{12}_([A-Za-z0-9_-]{43})", key)
    assert secret is not None, "not shaped like a key"
    raw = base64.urlsafe_b64decode(secret.group(1) + "=")
    return {"key": key.encode(), "secret": secret.group(1).encode(), "raw secret": raw}


def holders(state_dir: Path, needle: bytes) -> list[str]:
    """The files under `state_dir` (the SQLite file, its -wal and -shm, the disk cache,
    template copies, token secrets…) whose bytes contain `needle`."""
    files = [p for p in state_dir.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".sqlite3") for p in files)
    return [p.name for p in files if needle in p.read_bytes()]


def leaks(state_dir: Path, keys: list[str]) -> list[str]:
    """Every file holding any needle of any key."""
    return [
        f"{name} holds the {what}"
        for key in keys
        for what, needle in needles(key).items()
        for name in holders(state_dir, needle)
    ]


async def exercise(client: Client, key: str, signing_secret: str, key_id: str) -> None:
    """Use a key every way there is, including ways that fail."""
    assert (await client.get("/v1/templates", headers=bearer(key))).status == 200
    made = await (await client.post("/v1/renders", json=RENDER, headers=bearer(key))).json()
    assert (await client.get(made["url"], headers=bearer(key))).status == 200
    token = await client.post("/v1/tokens", json={"ttl": 60}, headers=bearer(key))
    assert (await client.get("/v1/usage", headers=bearer((await token.json())["token"]))).ok
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert (await client.get("/v1/usage", headers=bearer(wrong))).status == 401
    assert (await client.get("/v1/usage", headers={"Authorization": key})).status == 401
    url = sign_url("/v1/t/og-card.png", {"title": "S", "_width": "300"}, kid=key_id,
                   secret=signing_secret, ttl=60)  # fmt: skip
    assert (await client.get(url)).status == 200


async def test_keys_from_the_admin_api_and_the_cli_leave_no_trace(
    aiohttp_client: Any, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    first = await asyncio.to_thread(key_admin.first_admin_key, settings)
    assert first is not None
    assert await asyncio.to_thread(key_admin.first_admin_key, settings) is None  # fresh state only
    done = await asyncio.to_thread(
        run_cli, settings.state_dir, "keys", "create", "--name", "cli", "--json"
    )
    cli = json.loads(done.stdout)
    client = await aiohttp_client(create_app(settings))
    await exercise(client, first.key, first.signing_secret, first.record.id)
    await exercise(client, cli["key"], cli["signing_secret"], cli["id"])
    await client.app[SERVICES].pipeline.cache.drain()
    keys = [first.key, cli["key"]]
    assert await asyncio.to_thread(leaks, settings.state_dir, keys) == []  # WAL still open
    # The search can see: what is stored in clear (a key's id) is found in the database.
    stored = await asyncio.to_thread(holders, settings.state_dir, cli["id"].encode())
    assert any(name.startswith("pixeldrive.sqlite3") for name in stored)
    # The URL signing secrets are stored, but encrypted: in no file in clear.
    for secret in (first.signing_secret, cli["signing_secret"]):
        assert await asyncio.to_thread(holders, settings.state_dir, secret.encode()) == []
    await client.close()
    assert await asyncio.to_thread(leaks, settings.state_dir, keys) == []
    logged = caplog.text + "".join(
        f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records
    )
    assert f"kid={cli['id']}" in logged  # the capture saw the access log's lines
    for secret in (*keys, first.signing_secret, cli["signing_secret"]):
        assert secret not in logged
        assert secret[16:] not in logged


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(tmp_path: Path, run: str, port: int) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """`pixeldrive serve` with its output in files beside (not inside) the state dir."""
    out, err = tmp_path / f"{run}.stdout", tmp_path / f"{run}.stderr"
    env = cli_env(
        tmp_path / "state",
        PIXELDRIVE_PORT=str(port),
        PIXELDRIVE_WORKERS="1",
        PIXELDRIVE_SERVER__ACCESS_LOG="true",  # every request logged: more to search
    )
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pixeldrive.cli", "serve"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=stdout,
            stderr=stderr,
        )
    deadline = time.monotonic() + 60
    while b"PixelDrive serving on" not in out.read_bytes():
        assert proc.poll() is None, err.read_text()
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    return proc, out, err


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def call(port: int, path: str, credential: str | None = None, body: Any = None) -> Any:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if credential is not None:
        request.add_header("Authorization", f"Bearer {credential}")
    if body is not None:
        request.data = json.dumps(body).encode()
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read()
            return (
                json.loads(data) if response.headers.get_content_type().endswith("json") else data
            )
    except urllib.error.HTTPError as exc:
        return exc.code


def admin_file(path: Path) -> dict[str, str]:
    """The `export NAME=value` lines of the first admin key's file."""
    lines = path.read_text().splitlines()
    return dict(line.removeprefix("export ").split("=", 1) for line in lines if "=" in line)


def test_serve_writes_the_first_key_to_a_private_file_and_prints_it_nowhere(
    tmp_path: Path,
) -> None:
    # The mistake: the first start printed the admin key and its signing secret to stdout,
    # which a process manager writes to its log files.
    port = free_port()
    proc, out, err = serve(tmp_path, "first", port)
    state = tmp_path / "state"
    path = state / "secrets" / "admin-key.env"
    try:
        first = admin_file(path)
        key_, key_id, signing_secret = (
            first["PD_KEY"],
            first["PD_KEY_ID"],
            first["PD_SIGNING_SECRET"],
        )
        assert "templates" in call(port, "/v1/templates", key_)
        made = call(port, "/v1/renders", key_, RENDER)
        assert isinstance(call(port, made["url"], key_), bytes)
        token = call(port, "/v1/tokens", key_, {"ttl": 60})["token"]
        assert call(port, "/v1/usage", token)["totals"]["renders"] == 1
        assert call(port, "/v1/usage", key_[:-4] + "AAAA") == 401
        url = sign_url("/v1/t/og-card.png", {"title": "S"}, kid=key_id,
                       secret=signing_secret, ttl=60)  # fmt: skip
        assert isinstance(call(port, url), bytes)
    finally:
        stop(proc)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stdout = out.read_text()
    assert f"key id {key_id}" in stdout
    assert str(path) in stdout
    assert "keys create --admin" in stdout
    proc, out2, err2 = serve(tmp_path, "second", port)  # the same state: no new key
    try:
        assert call(port, "/v1/usage", key_)["totals"]["renders"] == 2
    finally:
        stop(proc)
    assert "A fresh state" not in out2.read_text()
    assert admin_file(path) == first  # not written again
    logs = err.read_text() + err2.read_text()
    assert f"kid={key_id}" in logs  # the access log was on, and searched
    for text in (logs, stdout, out2.read_text()):
        for needle in (key_, key_[16:], signing_secret):
            assert needle not in text
    assert leaks(state, [key_]) == [f"admin-key.env holds the {w}" for w in ("key", "secret")]


def test_keys_create_admin_mints_another_admin_key_when_the_first_is_lost(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    assert run_cli(state, "keys", "create", "--name", "shop", "--scopes", "render").returncode == 0
    done = run_cli(state, "keys", "create", "--admin", "--json")
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert made["name"] == "admin"
    listed = json.loads(run_cli(state, "keys", "list", "--json").stdout)
    [admin] = [row for row in listed if row["id"] == made["id"]]
    assert admin["scopes"]["operations"] == [
        "render",
        "batch",
        "templates:write",
        "usage:read",
        "tokens",
    ]
    assert (admin["scopes"]["templates"], admin["quota"]) == (["*"], None)
    named = json.loads(
        run_cli(state, "keys", "create", "--admin", "--name", "ops", "--json").stdout
    )
    assert named["name"] == "ops"
    for wrong in (("--scopes", "render"), ("--quota", "5")):
        refused = run_cli(state, "keys", "create", "--admin", *wrong)
        assert (refused.returncode, refused.stdout) == (2, "")
        assert "--admin allows everything" in refused.stderr
    nameless = run_cli(state, "keys", "create")
    assert nameless.returncode == 2
    assert "--name" in nameless.stderr
    assert "--admin" in nameless.stderr
    assert len(json.loads(run_cli(state, "keys", "list", "--json").stdout)) == 3

"""`pixeldrive keys …` and `pixeldrive sign` (SPEC §9) as subprocesses, on the same state a
running server uses: created keys work at once, revoked ones stop, signed URLs are accepted."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pixeldrive.core.config import Settings
from tests.auth.conftest import Client, bearer, expect_problem, run_cli

SCOPES = "render,usage:read,templates=og-*|quote,formats=png|webp,max_pixels=2000000"


def create(state: Path, *args: str) -> dict[str, Any]:
    done = run_cli(state, "keys", "create", *args, "--json")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    created: dict[str, Any] = json.loads(line)
    return created


def listed(state: Path) -> dict[str, dict[str, Any]]:
    done = run_cli(state, "keys", "list", "--json")
    assert done.returncode == 0, done.stderr
    return {row["id"]: row for row in json.loads(done.stdout)}


def test_keys_create_json_prints_one_line_with_id_key_and_secret(tmp_path: Path) -> None:
    created = create(tmp_path / "state", "--name", "shop")
    assert {"id", "key", "signing_secret"} <= set(created)
    assert re.fullmatch(rf"pd_{created['id']}_[A-Za-z0-9_-]{{43}}", created["key"])
    assert len(created["signing_secret"]) >= 32
    row = listed(tmp_path / "state")[created["id"]]
    assert (row["name"], row["quota"], row["revoked"]) == ("shop", None, None)
    assert row["scopes"]["operations"] == [
        "render",
        "batch",
        "templates:write",
        "usage:read",
        "tokens",
    ]  # without --scopes: everything
    assert row["scopes"]["templates"] == ["*"]


def test_scopes_and_quota_are_stored_and_secrets_are_not_listed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    created = create(state, "--name", "shop", "--scopes", SCOPES, "--quota", "5")
    done = run_cli(state, "keys", "list", "--json")
    assert created["key"] not in done.stdout
    assert created["signing_secret"] not in done.stdout
    row = json.loads(done.stdout)[0]
    assert row["quota"] == 5
    assert row["scopes"] == {
        "templates": ["og-*", "quote"],
        "formats": ["png", "webp"],
        "operations": ["render", "usage:read"],
        "max_pixels": 2_000_000,
    }
    plain = run_cli(state, "keys", "list")
    assert created["id"] in plain.stdout
    assert "quota=5" in plain.stdout
    assert created["key"] not in plain.stdout


def test_bogus_scopes_exit_2_with_a_message_and_create_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for scopes, wording in (
        ("bogus", "unknown operation 'bogus' in --scopes"),
        ("render,colour=red", "unknown scope part 'colour'"),
        ("formats=gif", "unknown format 'gif'"),
        ("render,,batch", "has an empty item"),
    ):
        done = run_cli(state, "keys", "create", "--name", "x", "--scopes", scopes, "--json")
        assert done.returncode == 2, (scopes, done.stderr)
        assert wording in done.stderr, done.stderr
        assert done.stdout == ""
    assert not state.exists()  # refused before any state was made


def test_revoking_an_unknown_key_exits_1(tmp_path: Path) -> None:
    create(tmp_path / "state", "--name", "known")
    done = run_cli(tmp_path / "state", "keys", "revoke", "unknown")
    assert done.returncode == 1
    assert "no active key 'unknown'" in done.stderr


async def test_keys_made_and_revoked_by_the_cli_while_a_server_runs(
    client: Client, settings: Settings
) -> None:
    state = settings.state_dir
    created = await asyncio.to_thread(create, state, "--name", "live")
    response = await client.get("/v1/templates", headers=bearer(created["key"]))
    assert response.status == 200
    done = await asyncio.to_thread(run_cli, state, "keys", "revoke", created["id"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"revoked {created['id']}"
    response = await client.get("/v1/templates", headers=bearer(created["key"]))
    await expect_problem(response, 401, "revoked-key", "the API key has been revoked")
    again = await asyncio.to_thread(run_cli, state, "keys", "revoke", created["id"])
    assert again.returncode == 1
    assert (await asyncio.to_thread(listed, state))[created["id"]]["revoked"] is not None


async def test_sign_prints_a_url_the_server_accepts(client: Client, settings: Settings) -> None:
    state = settings.state_dir
    created = await asyncio.to_thread(create, state, "--name", "signer", "--scopes", SCOPES)
    url = "https://img.example.com/v1/t/og-card.png?title=Hi+there%2C+%C3%A9t%C3%A9&_width=300"
    before = int(time.time())
    done = await asyncio.to_thread(
        run_cli, state, "sign", url, "--kid", created["id"], "--ttl", "600"
    )
    assert done.returncode == 0, done.stderr
    signed = urlsplit(done.stdout.strip())
    assert (signed.scheme, signed.netloc, signed.path) == (
        "https",
        "img.example.com",
        "/v1/t/og-card.png",
    )
    query = dict(parse_qsl(signed.query))
    assert query["title"] == "Hi there, été"
    assert query["kid"] == created["id"]
    assert before + 600 <= int(query["exp"]) <= int(time.time()) + 600
    response = await client.get(f"{signed.path}?{signed.query}")
    assert response.status == 200, await response.text()
    assert response.content_type == "image/png"
    # A revoked key signs nothing.
    await asyncio.to_thread(run_cli, state, "keys", "revoke", created["id"])
    refused = await asyncio.to_thread(run_cli, state, "sign", url, "--kid", created["id"])
    assert refused.returncode == 1
    assert f"no active key {created['id']!r}" in refused.stderr
    response = await client.get(f"{signed.path}?{signed.query}")
    await expect_problem(response, 403, "signature-unknown-key")

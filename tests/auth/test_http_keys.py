"""API keys over HTTP (SPEC §4, §8): 401 without valid credentials and 403 outside the
key's scopes, each a problem saying which; `auth = "off"` only on loopback binds."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.core.config import PROJECT_ROOT, Settings, load_settings
from pixeldrive.http.app_keys import SETTINGS
from tests.auth.conftest import (
    FIELDS,
    Client,
    MakeKey,
    bearer,
    cli_env,
    expect_problem,
    render,
)

PROTECTED = [
    ("GET", "/v1/templates"),
    ("GET", "/v1/templates/og-card"),
    ("GET", "/v1/templates/og-card/preview"),
    ("POST", "/v1/renders"),
    ("GET", "/v1/images/" + "0" * 32 + ".png"),
    ("POST", "/v1/tokens"),
    ("GET", "/v1/usage"),
]


async def test_no_key_is_401_saying_credentials_are_missing(client: Client) -> None:
    for method, path in PROTECTED:
        response = await client.request(method, path, json={})
        await expect_problem(
            response, 401, "missing-credentials", "needs an Authorization: Bearer header"
        )
        assert response.headers["WWW-Authenticate"] == "Bearer", path
    assert (await client.get("/healthz")).status == 200  # public


async def test_a_scheme_other_than_bearer_is_401(client: Client, key: NewKey) -> None:
    for header in (f"Basic {key.key}", "Bearer", "Bearer   ", key.key):
        response = await client.get("/v1/templates", headers={"Authorization": header})
        await expect_problem(response, 401, "missing-credentials", "use the Bearer scheme")


async def test_an_unknown_key_is_401_invalid_key(client: Client, key: NewKey) -> None:
    wrong_secret = key.key[:-5] + ("AAAAA" if not key.key.endswith("AAAAA") else "BBBBB")
    unknown_id = "pd_" + "a" * 12 + key.key[15:]
    for credential in (wrong_secret, unknown_id, "pd_nonsense", "x" * 60):
        response = await client.get("/v1/templates", headers=bearer(credential))
        problem = await expect_problem(response, 401, "invalid-key", "the API key is not valid")
        assert credential not in problem["detail"]


async def test_a_valid_key_is_accepted(client: Client, key: NewKey) -> None:
    response = await client.get("/v1/templates", headers=bearer(key.key))
    assert response.status == 200
    assert {"og-card", "quote"} <= {t["id"] for t in (await response.json())["templates"]}


async def test_a_revoked_key_is_401_revoked_key(client: Client, key: NewKey) -> None:
    assert (await client.get("/v1/templates", headers=bearer(key.key))).status == 200
    assert await asyncio.to_thread(key_admin.revoke, client.app[SETTINGS], key.record.id)
    response = await client.get("/v1/templates", headers=bearer(key.key))
    await expect_problem(response, 401, "revoked-key", "the API key has been revoked")
    # A revoked key with a wrong secret says nothing about the key's state.
    response = await client.get("/v1/templates", headers=bearer(key.key[:-4] + "AAAA"))
    await expect_problem(response, 401, "invalid-key", "the API key is not valid")


@pytest.fixture
def og_png_key(make_key: MakeKey) -> NewKey:
    return make_key("render,templates=og-*,formats=png,max_pixels=200000")


SCOPE_CASES: dict[str, tuple[dict[str, Any], str]] = {
    "template": (
        {"template": "quote", "fields": FIELDS["quote"], "width": 200},
        "template 'quote' is outside this credential's templates: og-*",
    ),
    "format": (
        {"format": "webp", "width": 200},
        "format 'webp' is not allowed (allowed: png)",
    ),
    "pixels": ({"width": 1200}, "756000 pixels are over this credential's limit of 200000"),
}


@pytest.mark.parametrize("part", list(SCOPE_CASES))
async def test_a_render_outside_the_key_scope_is_403_naming_the_part(
    client: Client, og_png_key: NewKey, part: str
) -> None:
    body, wording = SCOPE_CASES[part]
    response = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": FIELDS["og-card"]} | body,
        headers=bearer(og_png_key.key),
    )
    await expect_problem(response, 403, "scope", wording)
    within = await render(client, og_png_key.key, width=200)  # the same key inside its scope
    assert within["format"] == "png"


async def test_an_operation_outside_the_key_scope_is_403(
    client: Client, og_png_key: NewKey
) -> None:
    response = await client.get("/v1/usage", headers=bearer(og_png_key.key))
    await expect_problem(
        response, 403, "scope", "operation 'usage:read' is not allowed (allowed: render)"
    )
    response = await client.post("/v1/tokens", json={}, headers=bearer(og_png_key.key))
    await expect_problem(response, 403, "scope", "operation 'tokens' is not allowed")


async def test_templates_and_images_outside_the_key_scope(
    client: Client, key: NewKey, og_png_key: NewKey
) -> None:
    listed = await (await client.get("/v1/templates", headers=bearer(og_png_key.key))).json()
    assert {t["id"] for t in listed["templates"]} == {"og-card"}
    response = await client.get("/v1/templates/quote", headers=bearer(og_png_key.key))
    await expect_problem(response, 403, "scope", "template 'quote' is outside")
    quote = await render(client, key.key, template="quote", width=200)
    response = await client.get(quote["url"], headers=bearer(og_png_key.key))
    await expect_problem(response, 403, "scope", "template 'quote' is outside")
    card = await render(client, key.key, width=200, format="webp")
    response = await client.get(card["url"], headers=bearer(og_png_key.key))
    await expect_problem(response, 403, "scope", "format 'webp' is not allowed")


async def test_a_template_outside_the_key_scope_is_403_whether_it_exists_or_not(
    client: Client, og_png_key: NewKey
) -> None:
    # A 404 for one id and a 403 for another would tell which templates exist.
    for template in ("quote", "no-such-template"):
        for path in (f"/v1/templates/{template}", f"/v1/templates/{template}/preview"):
            response = await client.get(path, headers=bearer(og_png_key.key))
            await expect_problem(response, 403, "scope", f"template {template!r} is outside")


async def test_a_template_outside_the_key_scope_is_403_before_its_fields_are_checked(
    client: Client, og_png_key: NewKey
) -> None:
    response = await client.post(
        "/v1/renders",
        json={"template": "quote", "fields": {"nope": "x"}},
        headers=bearer(og_png_key.key),
    )
    problem = await expect_problem(response, 403, "scope", "template 'quote' is outside")
    assert "errors" not in problem


async def test_a_new_variant_over_the_key_pixel_limit_is_403(
    client: Client, key: NewKey, make_key: MakeKey
) -> None:
    small = await asyncio.to_thread(make_key, "render,max_pixels=200000")
    big = await render(client, key.key, width=1200)  # 756000 pixels, drawn as PNG
    response = await client.get(f"/v1/images/{big['key']}.webp", headers=bearer(small.key))
    await expect_problem(response, 403, "scope", "756000 pixels are over")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])
def test_auth_off_is_refused_on_a_non_loopback_bind(host: str) -> None:
    with pytest.raises(ValidationError, match="refused on a non-loopback bind"):
        load_settings(server={"auth": "off", "host": host})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
def test_auth_off_is_allowed_on_loopback(host: str) -> None:
    settings: Settings = load_settings(server={"auth": "off", "host": host})
    assert settings.server.auth == "off"


async def serve_fails(state: Path, *args: str, **env: str) -> tuple[int | None, str, str]:
    """Run `pixeldrive serve ARGS` (port 1: it must fail before binding anything)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pixeldrive.cli",
        "serve",
        *args,
        "--port",
        "1",
        env=cli_env(state, **env),
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:  # it started serving after all: stop it, then fail
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode, out.decode(), err.decode()


async def test_serve_with_auth_off_on_a_public_bind_exits_with_a_message(tmp_path: Path) -> None:
    config = tmp_path / "pixeldrive.toml"
    await asyncio.to_thread(config.write_text, '[server]\nauth = "off"\n')
    for args, env in (
        (["--host", "0.0.0.0"], {"PIXELDRIVE_SERVER__AUTH": "off"}),
        ([], {"PIXELDRIVE_SERVER__AUTH": "off", "PIXELDRIVE_HOST": "0.0.0.0"}),
        (["--host", "0.0.0.0"], {"PIXELDRIVE_CONFIG": str(config)}),
    ):
        code, out, err = await serve_fails(tmp_path / "state", *args, **env)
        assert code == 2, (args, env, err)
        assert "server.auth = 'off' is refused on a non-loopback bind (0.0.0.0)" in err, err
        assert "serving" not in out
        assert "API key" not in out  # refused before any key is made


async def test_serve_with_env_auth_off_on_a_public_bind_is_refused_naming_the_bind(
    tmp_path: Path,
) -> None:
    code, out, err = await serve_fails(
        tmp_path / "state", "--host", "0.0.0.0", PIXELDRIVE_AUTH="off"
    )
    assert code == 2, err
    assert "refused on a non-loopback bind (0.0.0.0)" in err, err
    assert "serving" not in out


def test_env_auth_off_is_honoured_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    # PIXELDRIVE_AUTH once collided with a settings section named `auth` (any value failed).
    monkeypatch.setenv("PIXELDRIVE_AUTH", "off")
    assert load_settings().server.auth == "off"
    monkeypatch.setenv("PIXELDRIVE_HOST", "0.0.0.0")
    with pytest.raises(ValidationError, match="refused on a non-loopback bind"):
        load_settings()

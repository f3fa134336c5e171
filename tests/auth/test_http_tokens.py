"""Tokens over HTTP (SPEC §4, §9): POST /v1/tokens narrows, never widens; exp is bounded
and never after the parent's; expired, tampered, foreign and orphaned tokens are refused."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import jwt
import pytest

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.scopes import Scopes
from pixeldrive.auth.tokens import SigningKeys, TokenIssuer
from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SETTINGS
from tests.auth.conftest import FIELDS, Client, MakeKey, bearer, expect_problem, render

NARROW = {"templates": ["og-*"], "formats": ["png"], "operations": ["render", "tokens"]}


async def mint(
    client: Client, credential: str, scopes: dict[str, Any] | None = None, ttl: int = 600
) -> dict[str, Any]:
    body = {"scopes": NARROW if scopes is None else scopes, "ttl": ttl}
    response = await client.post("/v1/tokens", json=body, headers=bearer(credential))
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


def signing_keys(settings: Settings) -> SigningKeys:
    return SigningKeys.load(settings.state_dir / "secrets" / "tokens.json")


async def test_a_key_mints_a_narrower_token_that_works(client: Client, key: NewKey) -> None:
    before = int(time.time())
    created = await mint(client, key.key, ttl=600)
    assert set(created) >= {"token", "expires_at"}
    assert before + 600 <= created["expires_at"] <= int(time.time()) + 600
    assert created["scopes"]["templates"] == ["og-*"]
    header = jwt.get_unverified_header(created["token"])
    assert header["alg"] == "HS256"
    assert header["kid"]
    made = await render(client, created["token"], width=200, format="png")
    assert made["format"] == "png"
    image = await client.get(made["url"], headers=bearer(created["token"]))
    assert image.status == 200


async def test_a_token_outside_its_template_is_403(client: Client, key: NewKey) -> None:
    token = (await mint(client, key.key))["token"]
    response = await client.post(
        "/v1/renders",
        json={"template": "quote", "fields": FIELDS["quote"], "width": 200},
        headers=bearer(token),
    )
    await expect_problem(
        response, 403, "scope", "template 'quote' is outside this credential's templates: og-*"
    )
    quote = await render(client, key.key, template="quote", width=200)
    response = await client.get(quote["url"], headers=bearer(token))
    await expect_problem(response, 403, "scope", "template 'quote' is outside")


async def test_a_token_outside_its_format_is_403(client: Client, key: NewKey) -> None:
    token = (await mint(client, key.key))["token"]
    response = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": FIELDS["og-card"], "format": "webp", "width": 200},
        headers=bearer(token),
    )
    await expect_problem(response, 403, "scope", "format 'webp' is not allowed (allowed: png)")
    made = await render(client, token, width=200)  # PNG, the default, is within
    response = await client.get(f"/v1/images/{made['key']}.jpg", headers=bearer(token))
    await expect_problem(response, 403, "scope", "format 'jpeg' is not allowed")


async def test_a_token_outside_its_operations_is_403(client: Client, key: NewKey) -> None:
    token = (await mint(client, key.key, {"operations": ["render"]}))["token"]
    response = await client.get("/v1/usage", headers=bearer(token))
    await expect_problem(
        response, 403, "scope", "operation 'usage:read' is not allowed (allowed: render)"
    )
    response = await client.post("/v1/tokens", json={}, headers=bearer(token))
    await expect_problem(response, 403, "scope", "operation 'tokens' is not allowed")


async def test_a_token_over_its_pixel_limit_is_403(client: Client, key: NewKey) -> None:
    token = (await mint(client, key.key, {"max_pixels": 100_000}))["token"]
    response = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": FIELDS["og-card"], "width": 600},
        headers=bearer(token),
    )
    await expect_problem(
        response, 403, "scope", "189000 pixels are over this credential's limit of 100000"
    )
    assert (await render(client, token, width=400))["width"] == 400  # 400×210 is within


WIDER: dict[str, tuple[dict[str, Any], str]] = {
    "templates": ({"templates": ["quote"]}, "templates: 'quote' is not within"),
    "templates-glob": ({"templates": ["*"]}, "templates: '*' is not within"),
    "formats": ({"formats": ["png", "webp"]}, "formats: 'webp' is not among"),
    "operations": ({"operations": ["render", "usage:read"]}, "operations: 'usage:read'"),
    "max_pixels": ({"max_pixels": 2_000_000}, "max_pixels: 2000000 is over"),
}


@pytest.mark.parametrize("part", list(WIDER))
async def test_a_token_cannot_mint_a_wider_token(client: Client, key: NewKey, part: str) -> None:
    parent = await mint(client, key.key, NARROW | {"max_pixels": 1_000_000})
    requested, wording = WIDER[part]
    response = await client.post(
        "/v1/tokens", json={"scopes": requested, "ttl": 60}, headers=bearer(parent["token"])
    )
    await expect_problem(
        response, 403, "scope-widening", "a token can only narrow its creator's scopes", wording
    )


async def test_a_narrowed_key_cannot_mint_a_wider_token(client: Client, make_key: MakeKey) -> None:
    narrow = await asyncio.to_thread(make_key, "render,tokens,templates=og-*")
    response = await client.post(
        "/v1/tokens", json={"scopes": {"templates": ["*"]}}, headers=bearer(narrow.key)
    )
    await expect_problem(response, 403, "scope-widening", "templates: '*' is not within")
    inherited = await mint(client, narrow.key, {})
    assert inherited["scopes"]["templates"] == ["og-*"]


async def test_ttl_over_the_maximum_is_422_naming_ttl(
    aiohttp_client: Any, make_settings: Any
) -> None:
    settings = await asyncio.to_thread(
        make_settings, server={"auth": "on"}, access={"token_max_ttl": 3600}
    )
    made = await asyncio.to_thread(key_admin.create_key, settings, "ttl")
    client = await aiohttp_client(create_app(settings))
    response = await client.post("/v1/tokens", json={"ttl": 3601}, headers=bearer(made.key))
    problem = await expect_problem(response, 422, "invalid-input", "ttl must be 1..3600 seconds")
    assert [e["field"] for e in problem["errors"]] == ["ttl"]
    for ttl in (0, -5, "soon"):
        response = await client.post("/v1/tokens", json={"ttl": ttl}, headers=bearer(made.key))
        problem = await expect_problem(response, 422, "invalid-input")
        assert [e["field"] for e in problem["errors"]] == ["ttl"], ttl
    assert (await mint(client, made.key, ttl=3600))["expires_at"] <= time.time() + 3600


async def test_a_token_minted_by_a_token_never_outlives_its_parent(
    client: Client, key: NewKey
) -> None:
    parent = await mint(client, key.key, ttl=120)
    child = await mint(client, parent["token"], {"operations": ["render", "tokens"]}, ttl=3600)
    assert child["expires_at"] == parent["expires_at"]
    claims = jwt.decode(child["token"], options={"verify_signature": False})
    assert claims["exp"] == parent["expires_at"]
    grandchild = await mint(client, child["token"], {}, ttl=30)
    assert grandchild["expires_at"] <= parent["expires_at"]


async def test_a_tampered_token_is_401(client: Client, key: NewKey) -> None:
    token = (await mint(client, key.key))["token"]
    head, payload, sig = token.split(".")
    middle = len(payload) // 2
    flipped = "A" if payload[middle] != "A" else "B"
    tampered = f"{head}.{payload[:middle]}{flipped}{payload[middle + 1 :]}.{sig}"
    response = await client.get("/v1/templates", headers=bearer(tampered))
    await expect_problem(
        response, 401, "invalid-token", "the token's signature does not match: it was altered"
    )
    # Widening the scopes in the payload is the tampering that matters.
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["scp"]["templates"] = ["*"]
    forged_payload = jwt.encode(claims, "x" * 32, algorithm="HS256").split(".")[1]
    response = await client.get("/v1/templates", headers=bearer(f"{head}.{forged_payload}.{sig}"))
    await expect_problem(response, 401, "invalid-token", "signature does not match")


async def test_an_expired_token_is_401(client: Client, key: NewKey) -> None:
    keys = await asyncio.to_thread(signing_keys, client.app[SETTINGS])
    past = TokenIssuer(keys, now=lambda: time.time() - 10_000)
    token, expires_at = past.mint(key.record.id, Scopes.everything(), 60)
    assert expires_at < time.time()
    response = await client.get("/v1/templates", headers=bearer(token))
    await expect_problem(response, 401, "expired-token", "the token has expired")
    fresh, _ = TokenIssuer(keys).mint(key.record.id, Scopes.everything(), 60)
    assert (await client.get("/v1/templates", headers=bearer(fresh))).status == 200


async def test_a_token_signed_by_another_server_is_401(client: Client, key: NewKey) -> None:
    foreign, _ = TokenIssuer(SigningKeys.generate()).mint(key.record.id, Scopes.everything(), 60)
    response = await client.get("/v1/templates", headers=bearer(foreign))
    await expect_problem(
        response, 401, "invalid-token", "signed with a key this server does not know"
    )


async def test_a_token_of_a_revoked_key_stops_working(client: Client, key: NewKey) -> None:
    token = (await mint(client, key.key))["token"]
    assert (await client.get("/v1/templates", headers=bearer(token))).status == 200
    assert await asyncio.to_thread(key_admin.revoke, client.app[SETTINGS], key.record.id)
    response = await client.get("/v1/templates", headers=bearer(token))
    await expect_problem(
        response, 401, "revoked-key", "the key that minted this token has been revoked"
    )
    response = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": FIELDS["og-card"]},
        headers=bearer(token),
    )
    await expect_problem(response, 401, "revoked-key")

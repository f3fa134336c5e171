"""A credential that passed is remembered (by its digest) until its key's record is due to
be read again, so a hit costs no regex, hash, JWT or pydantic work; and remembering it
never stretches what the cache promised: a revocation bites within
`access.key_cache_seconds` of the record's read, a token or a signed URL stops at its
expiry, and a credential that failed is never remembered."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from pixeldrive.auth import authenticate, key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.core.config import Settings
from pixeldrive.http.app_keys import SERVICES
from tests.auth.conftest import Client, bearer, render

CACHE_SECONDS = 30.0


class Clock:
    """time.monotonic and time.time for the authenticator: the real clocks, both moved
    forward by the test (the JWT and signature checks keep the real time)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(server={"auth": "on"}, access={"key_cache_seconds": CACHE_SECONDS})


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(authenticate, "time", clock)
    return clock


def verifications(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each credential the authenticator verifies in full (not from memory), by kind."""
    authenticator = client.app[SERVICES].authenticator
    seen: list[str] = []
    verify, verify_url = authenticator._verify, authenticator._verify_url

    async def header(value: str | None) -> Any:
        seen.append("header")
        return await verify(value)

    async def url(path: str, query: list[tuple[str, str]]) -> Any:
        seen.append("url")
        return await verify_url(path, query)

    monkeypatch.setattr(authenticator, "_verify", header)
    monkeypatch.setattr(authenticator, "_verify_url", url)
    return seen


async def image_status(client: Client, url: str, credential: str | None = None) -> int:
    answer = await client.get(url, headers=bearer(credential) if credential else {})
    await answer.read()
    return answer.status


async def test_a_remembered_key_is_revoked_within_the_cache_time(
    client: Client, key: NewKey, settings: Settings, clock: Clock
) -> None:
    made = await render(client, key.key, fields={"title": "Remembered"})
    assert await image_status(client, made["url"], key.key) == 200
    await asyncio.to_thread(key_admin.revoke, settings, key.record.id)
    clock.advance(CACHE_SECONDS - 10)
    assert await image_status(client, made["url"], key.key) == 200  # within the promise
    clock.advance(10)
    assert await image_status(client, made["url"], key.key) == 401  # and not after it


async def test_a_wrong_secret_is_refused_every_time(
    client: Client, key: NewKey, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await render(client, key.key, fields={"title": "Guessed"})
    wrong = key.key[:-4] + ("AAAA" if not key.key.endswith("AAAA") else "BBBB")
    seen = verifications(client, monkeypatch)
    for _ in range(3):
        assert await image_status(client, made["url"], wrong) == 401
    assert seen == ["header"] * 3  # never remembered
    assert await image_status(client, made["url"], key.key) == 200


async def test_a_key_is_verified_once_per_cache_time(
    client: Client, key: NewKey, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await render(client, key.key, fields={"title": "Once"})
    clock.advance(CACHE_SECONDS)  # the render's own verification forgotten
    seen = verifications(client, monkeypatch)
    for _ in range(3):
        assert await image_status(client, made["url"], key.key) == 200
    assert seen == ["header"]
    clock.advance(CACHE_SECONDS)
    assert await image_status(client, made["url"], key.key) == 200
    assert seen == ["header", "header"]


async def test_a_remembered_token_stops_at_its_expiry(
    client: Client, key: NewKey, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    minted = await client.post("/v1/tokens", json={"ttl": 10}, headers=bearer(key.key))
    token = (await minted.json())["token"]
    made = await render(client, key.key, fields={"title": "Token"})
    seen = verifications(client, monkeypatch)
    for _ in range(2):
        assert await image_status(client, made["url"], token) == 200
    assert seen == ["header"]
    clock.advance(10)  # the token's end, long before the key's cache time
    await image_status(client, made["url"], token)
    assert seen == ["header", "header"]


async def test_a_remembered_signed_url_stops_at_its_expiry(
    client: Client, key: NewKey, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await render(client, key.key, fields={"title": "Signed"}, ttl=20)
    seen = verifications(client, monkeypatch)
    for _ in range(2):
        assert await image_status(client, made["public_url"]) == 200
    assert seen == ["url"]
    clock.advance(20)
    await image_status(client, made["public_url"])
    assert seen == ["url", "url"]
    # Another signature of the same image is another credential, verified on its own.
    tampered = made["public_url"].replace("sig=", "sig=A", 1)
    assert await image_status(client, tampered) == 403


async def test_a_remembered_principal_is_the_same_caller(
    client: Client, make_key: Callable[..., NewKey], clock: Clock
) -> None:
    narrow = await asyncio.to_thread(make_key, "render,templates=quote")
    other = await asyncio.to_thread(make_key, "render,templates=og-*")
    made = await render(client, other.key, fields={"title": "Theirs"})
    assert await image_status(client, made["url"], other.key) == 200
    for _ in range(2):  # remembered or not, the narrow key stays outside og-card
        assert await image_status(client, made["url"], narrow.key) == 403
    assert await image_status(client, made["url"], other.key) == 200

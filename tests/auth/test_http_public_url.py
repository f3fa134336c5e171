"""A render's `public_url` (issue 18, item 14).

The mistake: the URL `POST /v1/renders` answers needs an Authorization header, so pasted
into `<img>` or `og:image` it gave every browser and crawler a 401, and no cache could keep
it. The answer now carries `public_url`: the same image, signed with the key's kid (and an
expiry: the request's `ttl`, `access.public_url_ttl`, or none), that opens with no header.
Every way of bending it is refused with the problem a signed URL gets, and nothing is drawn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.url_signature import NEVER, sign_url
from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES, SETTINGS
from tests.auth.conftest import Client, MakeKey, bearer, expect_problem, render
from tests.clients import BROWSERS, CRAWLERS, drawn

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def edit(url: str, path: str | None = None, **changes: str) -> str:
    """The URL with another path or query values, its signature left as it was."""
    parts = urlsplit(url)
    return f"{path or parts.path}?{urlencode(query(url) | changes)}"


async def test_public_url_opens_with_no_header_where_url_is_401(
    client: Client, key: NewKey
) -> None:
    created = await render(client, key.key, fields={"title": "Share me"}, width=240)
    public = created["public_url"]
    assert public.startswith(f"{created['url']}?")
    assert query(public)["kid"] == key.record.id
    assert "public_url_expires_at" not in created  # by default it does not expire
    # The mistake: the URL handed out before needs the header.
    response = await client.get(created["url"])
    await expect_problem(response, 401, "missing-credentials")
    # What goes into <img> and og:image: every browser and crawler gets the image.
    with_header = await (await client.get(created["url"], headers=bearer(key.key))).read()
    before = drawn(client)
    fetchers = [BROWSERS["chromium"][0], BROWSERS["safari"][0], *CRAWLERS]
    for fetcher in fetchers:
        response = await client.get(public, headers=fetcher.headers())
        assert response.status == 200, await response.text()
        assert response.content_type == "image/png"  # the extension decides, not Accept
        assert "Vary" not in response.headers
        assert await response.read() == with_header
    assert drawn(client) == before
    cache_control = response.headers["Cache-Control"]
    max_age = client.app[SETTINGS].access.signed_url_max_age
    assert cache_control == f"public, max-age={max_age}, immutable"
    assert response.headers["ETag"] == f'"{created["key"]}.png"'


async def test_the_same_image_gets_the_same_public_url(client: Client, key: NewKey) -> None:
    first = await render(client, key.key, fields={"title": "Stable"}, width=240)
    again = await render(client, key.key, fields={"title": "Stable"}, width=240, ttl="none")
    assert again["public_url"] == first["public_url"]  # caches keep one entry per image
    assert query(first["public_url"])["exp"] == str(NEVER)


async def test_a_ttl_bounds_it(client: Client, key: NewKey) -> None:
    before = int(time.time())
    created = await render(client, key.key, fields={"title": "Brief"}, width=240, ttl=120)
    expires_at = created["public_url_expires_at"]
    assert before + 120 <= expires_at <= int(time.time()) + 120
    assert query(created["public_url"])["exp"] == str(expires_at)
    response = await client.get(created["public_url"])
    assert response.status == 200
    max_age = int(response.headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    assert 0 < max_age <= 120  # a cache keeps it no longer than it is valid


@pytest.mark.parametrize("ttl", [0, -5, 31_536_001, "never", "60", True, 1.5])
async def test_a_bad_ttl_is_422_naming_it_and_nothing_is_drawn(
    client: Client, key: NewKey, ttl: Any
) -> None:
    before = drawn(client)
    body = {"template": "og-card", "fields": {"title": "Hi"}, "ttl": ttl}
    response = await client.post("/v1/renders", json=body, headers=bearer(key.key))
    problem = await expect_problem(response, 422, "invalid-input")
    assert [e["field"] for e in problem["errors"]] == ["ttl"]
    assert "'none'" in problem["errors"][0]["message"]
    assert drawn(client) == before


async def test_a_bent_public_url_is_refused_and_nothing_is_drawn(
    client: Client, key: NewKey
) -> None:
    created = await render(client, key.key, fields={"title": "Mine"}, width=240)
    other = await render(client, key.key, fields={"title": "Other"}, width=240)
    public = created["public_url"]
    path = urlsplit(public).path
    before = drawn(client)
    bent = [
        edit(public, path.replace(".png", ".webp")),  # another format of the image
        edit(public, path.replace(".png", "")),  # the negotiated form
        edit(public, urlsplit(other["url"]).path),  # another image
        edit(public, exp=str(int(time.time()) + 60)),
        edit(public, width="2000"),
    ]
    for url in bent:
        response = await client.get(url)
        await expect_problem(response, 403, "signature-tampered", "the URL was altered")
    response = await client.get(edit(public, kid="zzzzzzzzzzzz"))
    await expect_problem(response, 403, "signature-unknown-key")
    response = await client.get(f"{path}?sig={query(public)['sig']}")
    await expect_problem(response, 401, "signature-missing")
    assert drawn(client) == before


async def test_an_expired_public_url_is_403_expired(client: Client, key: NewKey) -> None:
    created = await render(client, key.key, fields={"title": "Old"}, width=240)
    path = urlsplit(created["public_url"]).path
    expired = sign_url(
        path, (), kid=key.record.id, secret=key.signing_secret, expires_at=int(time.time()) - 1
    )
    response = await client.get(expired)
    await expect_problem(response, 403, "signature-expired")
    response = await client.get(expired, headers=bearer(key.key))  # the signature decides
    await expect_problem(response, 403, "signature-expired")


async def test_a_revoked_keys_public_urls_stop(client: Client, key: NewKey) -> None:
    created = await render(client, key.key, fields={"title": "Revoked"}, width=240)
    assert (await client.get(created["public_url"])).status == 200
    settings = client.app[SETTINGS]
    assert await asyncio.to_thread(key_admin.revoke, settings, key.record.id)
    response = await client.get(created["public_url"])
    await expect_problem(response, 403, "signature-unknown-key")


async def test_a_public_url_stays_within_its_keys_scopes(client: Client, make_key: MakeKey) -> None:
    everything = await asyncio.to_thread(make_key, None)
    quote_only = await asyncio.to_thread(make_key, "render,templates=quote")
    created = await render(client, everything.key, fields={"title": "Og"}, width=240)
    # A URL for this image signed by a key outside its template is refused.
    signed = sign_url(
        created["url"], (), kid=quote_only.record.id, secret=quote_only.signing_secret, ttl=60
    )
    response = await client.get(signed)
    await expect_problem(response, 403, "scope", "template 'og-card' is outside")


async def test_a_tokens_public_url_ends_with_the_token(client: Client, make_key: MakeKey) -> None:
    made = await asyncio.to_thread(make_key, "render,tokens")
    minted = await client.post(
        "/v1/tokens",
        json={"scopes": {"operations": ["render"]}, "ttl": 300},
        headers=bearer(made.key),
    )
    token = await minted.json()
    for ttl in ("none", 86400):
        created = await render(client, token["token"], fields={"title": "Tok"}, width=240, ttl=ttl)
        assert created["public_url_expires_at"] == token["expires_at"]
        assert query(created["public_url"])["kid"] == made.record.id
        assert (await client.get(created["public_url"])).status == 200
    shorter = await render(client, token["token"], fields={"title": "Tok"}, width=240, ttl=60)
    assert shorter["public_url_expires_at"] <= int(time.time()) + 60


async def test_the_bytes_evicted_a_public_url_draws_them_again(client: Client, key: NewKey) -> None:
    created = await render(client, key.key, fields={"title": "Evicted"}, width=240)
    original = await (await client.get(created["public_url"])).read()
    pipeline = client.app[SERVICES].pipeline
    await pipeline.cache.drain()
    await pipeline.cache.delete(f"{created['key']}.png")
    response = await client.get(created["public_url"])
    assert response.status == 200
    assert response.headers["X-Cache"] == "miss"
    assert await response.read() == original


@pytest.fixture
def short_ttl_with_origin(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        server={"auth": "on"},
        access={"public_url_ttl": 3600, "public_origin": "https://img.example.com/"},
    )


async def test_the_default_ttl_and_the_origin_are_settings(
    aiohttp_client: Any, short_ttl_with_origin: Settings
) -> None:
    made = await asyncio.to_thread(key_admin.create_key, short_ttl_with_origin, "origin")
    client: Client = await aiohttp_client(create_app(short_ttl_with_origin))
    created = await render(client, made.key, fields={"title": "Absolute"}, width=240)
    public = created["public_url"]
    assert public.startswith(f"https://img.example.com{created['url']}?")
    assert int(time.time()) + 3590 <= created["public_url_expires_at"] <= int(time.time()) + 3600
    response = await client.get(public.removeprefix("https://img.example.com"))
    assert response.status == 200, await response.text()
    assert (await response.read()).startswith(PNG_MAGIC)


@pytest.fixture
def auth_off(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(server={"auth": "off"})


async def test_with_auth_off_public_url_is_url(aiohttp_client: Any, auth_off: Settings) -> None:
    client: Client = await aiohttp_client(create_app(auth_off))
    created = await render(client, "unused", fields={"title": "Local"}, width=240)
    assert created["public_url"] == created["url"]
    assert "public_url_expires_at" not in created
    response = await client.get(created["public_url"])
    assert response.status == 200
    assert (await response.read()).startswith(PNG_MAGIC)

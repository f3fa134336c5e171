"""Negotiation within what the credential allows (issue 18, item 13).

The mistake: a key restricted with `formats=png|webp` got 403 on an extension-less URL
because the browser accepts AVIF, the server's first choice. The server now negotiates
among the formats the credential allows, answers 406 (a problem naming what it offers)
only when the client accepts none of them, and never 403 for a format nobody named.
Asking for an excluded format by name (an extension, `format`) is still 403.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import ClientResponse

from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.url_signature import sign_url
from pixeldrive.core.config import Settings
from tests.auth.conftest import Client, MakeKey, bearer, expect_problem, render
from tests.clients import BROWSERS, CRAWLERS, drawn, expect_image


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Which format negotiation chooses, answered at once (the PNG a cold AVIF or WebP
    is answered with first is tested in tests/http/test_fast_first.py)."""
    return make_settings(
        server={"auth": "on"}, access={"key_cache_seconds": 0}, encode={"fast_first": []}
    )


async def image(
    client: Client, key: str, credential: str, headers: dict[str, str]
) -> ClientResponse:
    """GET the extension-less URL of image `key` with these headers and the credential."""
    response: ClientResponse = await client.get(
        f"/v1/images/{key}", headers=headers | bearer(credential)
    )
    return response


async def png_webp_key(
    client: Client, make_key: MakeKey, operations: str = "render"
) -> tuple[NewKey, str]:
    """A key that may render PNG and WebP only, and the key of an image it rendered."""
    made = await asyncio.to_thread(make_key, f"{operations},formats=png|webp")
    created = await render(client, made.key, width=240)
    return made, created["key"]


async def test_a_browser_that_prefers_avif_gets_webp_not_403(
    client: Client, make_key: MakeKey
) -> None:
    made, key = await png_webp_key(client, make_key)
    for browser in ("chromium", "firefox", "safari", "chromium-tab"):
        fetcher, _ = BROWSERS[browser]
        await expect_image(await image(client, key, made.key, fetcher.headers()), "image/webp")
    for crawler in CRAWLERS[:2]:
        await expect_image(await image(client, key, made.key, crawler.headers()), "image/png")


async def test_none_of_the_allowed_formats_acceptable_is_406_naming_them(
    client: Client, make_key: MakeKey
) -> None:
    made, key = await png_webp_key(client, make_key)
    before = drawn(client)
    for accept in ("image/avif", "image/avif, image/jxl;q=0.9", "image/png;q=0, image/webp;q=0"):
        response = await image(client, key, made.key, {"Accept": accept})
        problem = await expect_problem(
            response, 406, "not-acceptable", "image/webp, image/png", "allows png, webp"
        )
        assert "image/avif" not in problem["detail"]  # not offered to this credential
        assert response.headers["Vary"] == "Accept"
    assert drawn(client) == before


async def test_when_the_fallback_is_not_allowed_a_wildcard_gets_the_widest_allowed(
    client: Client, make_key: MakeKey
) -> None:
    made = await asyncio.to_thread(make_key, "render,formats=webp|avif")
    # No format named: the POST renders the most widely decoded format allowed, not a 403.
    created = await render(client, made.key, width=240)
    assert created["format"] == "webp"
    for accept in ("*/*", "image/*", None):
        headers = {"Accept": accept} if accept else {}
        await expect_image(await image(client, created["key"], made.key, headers), "image/webp")
    fetcher, _ = BROWSERS["chromium"]
    response = await image(client, created["key"], made.key, fetcher.headers())
    await expect_image(response, "image/avif")


async def test_a_token_narrowed_to_png_gets_png_from_a_browser(
    client: Client, make_key: MakeKey
) -> None:
    made, key = await png_webp_key(client, make_key, "render,tokens")
    minted = await client.post(
        "/v1/tokens", json={"scopes": {"formats": ["png"]}, "ttl": 600}, headers=bearer(made.key)
    )
    assert minted.status == 201, await minted.text()
    token = (await minted.json())["token"]
    for browser in ("chromium", "safari-15"):
        fetcher, _ = BROWSERS[browser]
        await expect_image(await image(client, key, token, fetcher.headers()), "image/png")
    response = await image(client, key, token, {"Accept": "image/webp"})
    await expect_problem(response, 406, "not-acceptable", "image/png", "allows png")


async def test_a_signed_url_negotiates_within_its_keys_formats(
    client: Client, make_key: MakeKey
) -> None:
    made = await asyncio.to_thread(make_key, "render,formats=png|webp")
    url = sign_url(
        "/v1/t/og-card",
        {"title": "Signed", "_width": "240"},
        kid=made.record.id,
        secret=made.signing_secret,
        expires_at=int(time.time()) + 600,
    )
    fetcher, _ = BROWSERS["chromium"]
    await expect_image(await client.get(url, headers=fetcher.headers()), "image/webp")
    await expect_image(await client.get(url, headers=CRAWLERS[0].headers()), "image/png")
    response = await client.get(url, headers={"Accept": "image/avif"})
    await expect_problem(response, 406, "not-acceptable", "image/webp, image/png")


async def test_posts_negotiate_within_the_formats_too(client: Client, make_key: MakeKey) -> None:
    made = await asyncio.to_thread(make_key, "render,formats=png|webp")
    body: dict[str, Any] = {"template": "og-card", "fields": {"title": "Post"}, "width": 240}
    fetcher, _ = BROWSERS["chromium"]
    response = await client.post(
        "/v1/renders", json=body, headers=fetcher.headers() | bearer(made.key)
    )
    await expect_image(response, "image/webp")
    before = drawn(client)
    response = await client.post(
        "/v1/renders", json=body, headers={"Accept": "image/avif"} | bearer(made.key)
    )
    await expect_problem(response, 406, "not-acceptable", "application/json, image/webp")
    assert drawn(client) == before


async def test_a_format_asked_for_by_name_outside_the_scope_is_still_403(
    client: Client, make_key: MakeKey
) -> None:
    made, key = await png_webp_key(client, make_key)
    before = drawn(client)
    response = await client.get(f"/v1/images/{key}.avif", headers=bearer(made.key))
    await expect_problem(response, 403, "scope", "format 'avif' is not allowed")
    body = {"template": "og-card", "fields": {"title": "Hello"}, "format": "avif"}
    response = await client.post("/v1/renders", json=body, headers=bearer(made.key))
    await expect_problem(response, 403, "scope", "format 'avif' is not allowed")
    assert drawn(client) == before

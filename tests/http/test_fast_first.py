"""Fast first: an extension-less URL whose negotiated format (AVIF, WebP) must be drawn
answers with the PNG variant's bytes at once, uncached, and the negotiated format is
encoded after the answer for the next request; the image is billed once."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import ClientResponse
from PIL import Image

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.url_signature import sign_url
from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES, SETTINGS
from tests.auth.conftest import CHROMIUM_IMG, Client, bearer, query_db

SAFARI_14 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(server={"auth": "on"}, access={"key_cache_seconds": 0})


@pytest.fixture
def key(settings: Settings) -> NewKey:
    return key_admin.create_key(settings, "everything", None, None)


def signed(key: NewKey, title: str, ext: str = "") -> str:
    """A signed URL of og-card with `title` (extension-less unless `ext` is given)."""
    return sign_url(
        f"/v1/t/og-card{ext}",
        [("title", title)],
        kid=key.record.id,
        secret=key.signing_secret,
        expires_at=int(time.time()) + 3601,
    )


async def rows(client: Client, key: NewKey) -> list[tuple[Any, ...]]:
    return await asyncio.to_thread(
        query_db,
        client.app[SETTINGS],
        "SELECT variant, format FROM renders WHERE key_id = ? ORDER BY created",
        key.record.id,
    )


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def key_of(response: ClientResponse) -> str:
    return response.headers["ETag"].strip('"').split(".")[0]


async def test_chromium_gets_the_png_now_and_the_avif_next(client: Client, key: NewKey) -> None:
    url = signed(key, "Fast first")
    first = await client.get(url, headers={"Accept": CHROMIUM_IMG})
    assert first.status == 200
    assert first.content_type == "image/png"
    assert first.headers["X-Cache"] == "miss"
    assert first.headers["X-Fast-First"] == "avif-pending"
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert first.headers["Vary"] == "Accept"
    image = key_of(first)
    assert first.headers["ETag"] == f'"{image}.png"'
    assert first.headers["Content-Location"] == f"/v1/images/{image}.png"
    png = await first.read()
    # The stand-in is the PNG variant itself, byte for byte.
    variant = await client.get(f"/v1/images/{image}.png", headers=bearer(key.key))
    assert await variant.read() == png
    # The next request (even one revalidating the PNG) gets the AVIF, for good.
    headers = {"Accept": CHROMIUM_IMG, "If-None-Match": first.headers["ETag"]}
    second = await client.get(url, headers=headers)
    assert second.status == 200
    assert second.content_type == "image/avif"
    assert "X-Fast-First" not in second.headers
    assert second.headers["Cache-Control"] in {"public, max-age=3600", "public, max-age=3601"}
    assert second.headers["Vary"] == "Accept"
    assert second.headers["Content-Location"] == f"/v1/images/{image}.avif"
    avif = decoded(await second.read())
    assert (avif.format, avif.size) == ("AVIF", (1200, 630))
    assert decoded(png).size == (1200, 630)
    # Billed once: the PNG this caller waited for; the AVIF encode is not a second render.
    assert await rows(client, key) == [(f"{image}.png", "png")]
    third = await client.get(url, headers={"Accept": CHROMIUM_IMG})
    assert third.headers["X-Cache"] == "hit"
    assert third.content_type == "image/avif"
    usage = await (await client.get("/v1/usage", headers=bearer(key.key))).json()
    assert usage["totals"]["renders"] == 1


async def test_a_key_url_stands_in_with_the_cached_png(client: Client, key: NewKey) -> None:
    created = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": {"title": "Kept"}},
        headers=bearer(key.key),
    )
    image = (await created.json())["key"]
    url, browser = f"/v1/images/{image}", bearer(key.key) | {"Accept": SAFARI_14}
    first = await client.get(url, headers=browser)
    assert first.content_type == "image/png"
    assert first.headers["X-Cache"] == "hit"  # the PNG was there: nothing waited
    assert first.headers["X-Fast-First"] == "webp-pending"
    assert first.headers["Cache-Control"] == "private, no-cache"  # a header credential's
    second = await client.get(url, headers=browser)
    assert second.content_type == "image/webp"
    assert decoded(await second.read()).format == "WEBP"
    assert second.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert await rows(client, key) == [(f"{image}.png", "png")]


async def test_an_explicit_avif_is_answered_as_avif(client: Client, key: NewKey) -> None:
    response = await client.get(signed(key, "Explicit", ".avif"), headers={"Accept": CHROMIUM_IMG})
    assert response.content_type == "image/avif"
    assert response.headers["X-Cache"] == "miss"
    assert "X-Fast-First" not in response.headers
    assert "Vary" not in response.headers
    image = key_of(response)
    assert await rows(client, key) == [(f"{image}.avif", "avif")]


async def test_a_client_that_takes_no_png_waits_for_its_format(client: Client, key: NewKey) -> None:
    response = await client.get(signed(key, "Only AVIF"), headers={"Accept": "image/avif"})
    assert response.content_type == "image/avif"
    assert "X-Fast-First" not in response.headers


@pytest.fixture
def turned_off(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(
        server={"auth": "on"}, access={"key_cache_seconds": 0}, encode={"fast_first": []}
    )


async def test_turned_off_the_negotiated_format_is_drawn_at_once(
    aiohttp_client: Any, turned_off: Settings
) -> None:
    key = await asyncio.to_thread(key_admin.create_key, turned_off, "k", None, None)
    client = await aiohttp_client(create_app(turned_off))
    response = await client.get(signed(key, "Off"), headers={"Accept": CHROMIUM_IMG})
    assert response.content_type == "image/avif"
    assert response.headers["X-Cache"] == "miss"
    assert "X-Fast-First" not in response.headers
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert await rows(client, key) == [(f"{key_of(response)}.avif", "avif")]


async def test_concurrent_first_requests_draw_the_png_once_and_the_avif_once(
    client: Client, key: NewKey
) -> None:
    pool = client.app[SERVICES].pool
    before = pool.completed
    url = signed(key, "Together")
    firsts = await asyncio.gather(
        *(client.get(url, headers={"Accept": CHROMIUM_IMG}) for _ in range(4))
    )
    assert {r.content_type for r in firsts} == {"image/png"}
    assert {r.headers["X-Fast-First"] for r in firsts} == {"avif-pending"}
    assert len({await r.read() for r in firsts}) == 1
    nexts = await asyncio.gather(
        *(client.get(url, headers={"Accept": CHROMIUM_IMG}) for _ in range(3))
    )
    assert {r.content_type for r in nexts} == {"image/avif"}
    assert pool.completed - before == 2  # one PNG, one AVIF
    assert len(await rows(client, key)) == 1

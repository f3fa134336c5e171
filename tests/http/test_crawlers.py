"""What browsers and crawlers get from an extension-less image URL (issue 18, item 12).

The mistake: a URL that answered AVIF to `Accept: */*` (curl, and the link-preview
crawlers of Facebook, LinkedIn, Slack and most others) and to a request without `Accept`.
Many of them cannot decode AVIF or WebP, so a shared link showed no image. A format is
chosen for a client only when it names it; wildcards and no header get the fallback
(PNG unless `encode.fallback_format` says otherwise). Every answer is checked for its
status, its type, the bytes really being that format, `Vary: Accept`, and that nothing
but the answered variant was drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from tests.clients import BROWSERS, CRAWLERS, Fetcher, drawn
from tests.clients import expect_image as expect_negotiated

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"
# Which format negotiation chooses, answered at once: the PNG a cold AVIF or WebP is
# answered with first is tested in tests/http/test_fast_first.py.
AT_ONCE = {"fast_first": []}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(encode=AT_ONCE)


async def key_of(client: Client, title: str) -> str:
    response = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": {"title": title}, "width": 240}
    )
    assert response.status == 201, await response.text()
    key: str = (await response.json())["key"]
    return key


async def expect_image(response: ClientResponse, mime: str) -> None:
    await expect_negotiated(response, mime, (240, 126))


async def expect_406(response: ClientResponse) -> dict[str, Any]:
    raw = await response.read()
    assert response.status == 406, raw[:300]
    assert response.content_type == PROBLEM
    assert response.headers["Vary"] == "Accept"
    problem: dict[str, Any] = await response.json(content_type=PROBLEM)
    assert problem["type"] == "/problems/not-acceptable"
    assert "image/png" in problem["detail"]
    return problem


@pytest.mark.parametrize("crawler", CRAWLERS, ids=lambda c: c.name)
@pytest.mark.parametrize("sends_accept", [True, False], ids=["accept", "no-accept"])
async def test_a_crawler_gets_png_never_avif_or_webp(
    client: Client, crawler: Fetcher, sends_accept: bool
) -> None:
    key = await key_of(client, f"Shared by {crawler.name}")
    headers = crawler.headers()
    if not sends_accept:
        headers.pop("Accept", None)
    before = drawn(client)
    for _ in range(2):  # the second is a memory hit: the same answer
        response = await client.get(f"/v1/images/{key}", headers=headers)
        await expect_image(response, "image/png")
    assert drawn(client) - before == 0  # the POST drew the PNG; no AVIF or WebP was made


@pytest.mark.parametrize("browser", sorted(BROWSERS))
async def test_a_browser_gets_the_best_format_it_names(client: Client, browser: str) -> None:
    fetcher, expected = BROWSERS[browser]
    key = await key_of(client, f"Seen in {browser}")
    before = drawn(client)
    response = await client.get(f"/v1/images/{key}", headers=fetcher.headers())
    await expect_image(response, expected)
    assert drawn(client) - before == (0 if expected == "image/png" else 1)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("image/*", "image/png"),  # a wildcard alone
        ("image/avif;q=0, image/webp, */*", "image/webp"),  # q=0 refuses AVIF
        ("image/avif;q=0.5, image/webp;q=0.9", "image/webp"),  # q decides over preference
        ("image/webp;q=0.5, */*", "image/png"),  # the wildcard's PNG at 1 beats WebP at 0.5
        ("image/png;q=0, */*", "image/jpeg"),  # PNG refused: the next most widely decoded
        ("IMAGE/WEBP", "image/webp"),
    ],
)
async def test_q_values_are_honoured(client: Client, accept: str, expected: str) -> None:
    key = await key_of(client, "Weighed")
    response = await client.get(f"/v1/images/{key}", headers={"Accept": accept})
    await expect_image(response, expected)


@pytest.mark.parametrize(
    "accept", ["*/*;q=0", "image/*;q=0, */*", "image/png;q=0, image/*;q=0", "text/html"]
)
async def test_nothing_acceptable_is_406_and_nothing_is_drawn(client: Client, accept: str) -> None:
    key = await key_of(client, "Refused")
    before = drawn(client)
    await expect_406(await client.get(f"/v1/images/{key}", headers={"Accept": accept}))
    assert drawn(client) == before


async def test_an_extension_still_wins_over_accept(client: Client) -> None:
    key = await key_of(client, "Named")
    for crawler in CRAWLERS[:2]:
        response = await client.get(f"/v1/images/{key}.webp", headers=crawler.headers())
        assert response.status == 200
        assert response.content_type == "image/webp"
        assert "Vary" not in response.headers


async def test_a_post_asking_for_image_wildcard_gets_png_bytes(client: Client) -> None:
    body = {"template": "og-card", "fields": {"title": "Posted"}, "width": 240}
    for accept in ("image/*", "image/*, application/json;q=0.5"):
        response = await client.post("/v1/renders", json=body, headers={"Accept": accept})
        assert response.status == 200, await response.text()
        assert response.content_type == "image/png"
        assert response.headers["Content-Location"].endswith(".png")
    for accept in ("*/*", "application/json, image/*"):  # JSON wins the tie
        response = await client.post("/v1/renders", json=body, headers={"Accept": accept})
        assert response.status == 201
        assert response.content_type == "application/json"
        assert (await response.json())["format"] == "png"
    response = await client.post("/v1/renders", json=body, headers={"Accept": "image/avif"})
    assert response.status == 200
    assert response.content_type == "image/avif"


async def test_previews_negotiate_the_same_way(client: Client) -> None:
    path = "/v1/templates/quote/preview?width=108"
    for crawler in (CRAWLERS[0], CRAWLERS[-1]):
        response = await client.get(path, headers=crawler.headers())
        assert response.status == 200, await response.text()
        assert response.content_type == "image/png"
    fetcher, expected = BROWSERS["safari-15"]
    response = await client.get(path, headers=fetcher.headers())
    assert response.status == 200
    assert response.content_type == expected


@pytest.fixture
def jpeg_fallback(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(encode={"fallback_format": "jpeg"} | AT_ONCE)


async def test_the_fallback_format_is_a_setting(
    aiohttp_client: Any, jpeg_fallback: Settings
) -> None:
    client: Client = await aiohttp_client(create_app(jpeg_fallback))
    key = await key_of(client, "Fallback")
    for crawler in CRAWLERS[:3]:
        response = await client.get(f"/v1/images/{key}", headers=crawler.headers())
        await expect_image(response, "image/jpeg")
    fetcher, expected = BROWSERS["chromium"]
    await expect_image(await client.get(f"/v1/images/{key}", headers=fetcher.headers()), expected)
    # PNG is still given to a client that names it.
    await expect_image(
        await client.get(f"/v1/images/{key}", headers={"Accept": "image/png"}), "image/png"
    )

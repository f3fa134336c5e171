"""What real browsers, link-preview crawlers and tools send when they fetch an image: their
User-Agent and Accept headers, each with where it comes from. Extension-less image URLs
are tested against these, not against headers made up for the test; `expect_image`
checks what they get."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from PIL import Image

from pixeldrive.http.app_keys import SERVICES

PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/avif": "AVIF"}


@dataclass(frozen=True)
class Fetcher:
    name: str
    user_agent: str
    accept: str | None  # None: the client sends no Accept header

    def headers(self) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent}
        if self.accept is not None:
            headers["Accept"] = self.accept
        return headers


# Browsers loading an <img>, and what each must get from an extension-less URL.
BROWSERS: dict[str, tuple[Fetcher, str]] = {
    # Captured from Chromium 156.0.8078.129 (Debian 12) loading an <img> (headless; the
    # User-Agent below is its windowed form). The same list is in Chromium's source,
    # blink::network_utils::ImageAcceptHeader(), and in SPEC §3.
    "chromium": (
        Fetcher(
            "Chromium 156",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/156.0.0.0 Safari/537.36",
            "image/jxl,image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
        ),
        "image/avif",
    ),
    # The same Chromium opening the image URL in a tab (a navigation, captured likewise).
    "chromium-tab": (
        Fetcher(
            "Chromium 156, the URL opened in a tab",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/156.0.0.0 Safari/537.36",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/jxl,image/avif,"
            "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
        ),
        "image/avif",
    ),
    # MDN, "List of default Accept values", values for an image: Firefox 128 and later.
    "firefox": (
        Fetcher(
            "Firefox 128",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
        ),
        "image/avif",
    ),
    # MDN, same table: Firefox 92 to 127.
    "firefox-115": (
        Fetcher(
            "Firefox 115 ESR",
            "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
            "image/avif,image/webp,*/*",
        ),
        "image/avif",
    ),
    # MDN, default values: Firefox 132 and later opening the URL in a tab names no image.
    "firefox-tab": (
        Fetcher(
            "Firefox 132, the URL opened in a tab",
            "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        "image/png",
    ),
    # WebKit, Source/WebCore/loader/cache/CachedResourceRequest.cpp,
    # acceptHeaderValueForImageResource(), as Safari 17 and later build it on macOS 14 (AVIF
    # since Safari 16, JPEG XL and HEIC since 17; h2o/h2o#3248 shows the header seen live).
    "safari": (
        Fetcher(
            "Safari 17",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,"
            "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
        ),
        "image/avif",
    ),
    # MDN, values for an image: Safari since macOS Big Sur (14 and 15), before AVIF.
    "safari-15": (
        Fetcher(
            "Safari 15",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/15.6 Safari/605.1.15",
            "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5",
        ),
        "image/webp",
    ),
}

# Link-preview crawlers and tools: what fetches an og:image or a pasted link. Their
# User-Agents are the ones their operators publish; they send `Accept: */*` (or, from some
# HTTP libraries, no Accept at all: the tests try both). None may get AVIF or WebP, which
# several of them cannot decode: a shared link would show no image.
CRAWLERS: tuple[Fetcher, ...] = (
    # Meta, "Meta Web Crawlers" (developers.facebook.com/docs/sharing/webmasters/web-crawlers).
    Fetcher(
        "facebookexternalhit",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "*/*",
    ),
    # LinkedIn's Post Inspector fetcher (linkedin.com/post-inspector), Apache HttpClient.
    Fetcher(
        "LinkedInBot",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "*/*",
    ),
    # Slack, api.slack.com/robots: pages are unfurled by Slackbot, images by its proxy.
    Fetcher("Slackbot", "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "*/*"),
    Fetcher("Slack-ImgProxy", "Slack-ImgProxy (+https://api.slack.com/robots)", "*/*"),
    # X, "Cards: Getting started" (developer.x.com): the crawler is Twitterbot.
    Fetcher("Twitterbot", "Twitterbot/1.0", "*/*"),
    # Discord's embed fetcher.
    Fetcher(
        "Discordbot", "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "*/*"
    ),
    # Apple Messages link previews announce themselves as both crawlers.
    Fetcher(
        "iMessage",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like "
        "Gecko) Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
        "*/*",
    ),
    # curl's own default (MDN's Accept page shows curl/8.7.1 sending exactly this).
    Fetcher("curl", "curl/8.7.1", "*/*"),
    # Python's urllib sends no Accept at all.
    Fetcher("Python-urllib", "Python-urllib/3.11", None),
)


def drawn(client: TestClient[Any, Any]) -> int:
    """How many images the app's render pool has drawn so far."""
    completed: int = client.app[SERVICES].pool.completed
    return completed


async def expect_image(
    response: ClientResponse, mime: str, size: tuple[int, int] | None = None
) -> None:
    """200, this type, bytes that decode as it (at `size`), negotiated (`Vary: Accept`) and
    validated by an ETag naming the variant."""
    body = await response.read()
    assert response.status == 200, body[:300]
    assert response.content_type == mime
    assert response.headers["Vary"] == "Accept"
    ext = "jpg" if mime == "image/jpeg" else mime.removeprefix("image/")
    assert response.headers["ETag"].endswith(f'.{ext}"')
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == PIL_FORMATS[mime]
        assert size is None or image.size == size

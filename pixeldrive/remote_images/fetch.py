"""Fetching a remote image for an `image` field: allow-listed, address-checked, bounded."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import ipaddress
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import aiohttp
from aiohttp import hdrs
from aiohttp.abc import AbstractResolver, ResolveResult
from cachetools import TTLCache

# Imported for their side effect: the plugins register in Image.OPEN now, so no plugin is
# imported (file I/O) on the event loop during a request.
from PIL import (  # noqa: F401
    GifImagePlugin,
    Image,
    JpegImagePlugin,
    PngImagePlugin,
    UnidentifiedImageError,
    WebPImagePlugin,
)
from yarl import URL

from pixeldrive import __version__
from pixeldrive.core.config import ImageSettings
from pixeldrive.remote_images.policy import ImageRefused, check_address, check_url, forbidden

USER_AGENT: Final = f"PixelDrive/{__version__}"
REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
CHUNK: Final = 64 * 1024
# Pillow format → the media type it is served as (MPO is a JPEG with extra pictures).
MEDIA_TYPES: Final = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
FORMATS: Final = ("PNG", "JPEG", "WEBP", "GIF")
NOT_AN_IMAGE: Final = "the response is not a PNG, JPEG, WebP or GIF image"
TRUNCATED: Final = "the image is truncated or corrupt"
# What Pillow raises on a file that ends early or lies about itself.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)


@dataclass(frozen=True, slots=True)
class FetchedImage:
    """The bytes of a fetched image: `url` as requested, `media_type` sniffed from the
    bytes (never the Content-Type header), `sha256` hex of `data`."""

    url: str
    media_type: str
    data: bytes
    sha256: str


def to_data_uri(image: FetchedImage) -> str:
    """The image as a base64 `data:` URI: a render spec naming these exact bytes renders
    the same even after the remote image changes."""
    return f"data:{image.media_type};base64,{base64.b64encode(image.data).decode('ascii')}"


class CheckingResolver(AbstractResolver):
    """Wraps a resolver so that aiohttp connects only to checked addresses.

    aiohttp connects to exactly what `resolve` returns, so there is no second lookup an
    attacker could answer differently (DNS rebinding). One forbidden address refuses the
    whole host: a name mixing public and private answers is not trusted."""

    def __init__(self, inner: AbstractResolver, settings: ImageSettings) -> None:
        self._inner = inner
        self._allow = tuple(settings.allow_networks)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = ipaddress.ip_address(result["host"])
            reason = forbidden(address, self._allow)
            if reason is not None:
                raise ImageRefused(f"{host} resolves to {address}, which {reason}")
        return results

    async def close(self) -> None:
        await self._inner.close()


class ImageFetcher:
    """Fetches allow-listed remote images within the limits of `ImageSettings`.

    `open()` and `close()` bracket its life (the app's cleanup context): it owns one
    aiohttp session and the resolver (the one given, or aiohttp's default), closing both.
    `fetch` raises ImageRefused for every refusal and failure; successful fetches are kept
    in a byte-bounded LRU cache for `cache_seconds`, and concurrent fetches of one URL
    share a single download."""

    def __init__(
        self,
        settings: ImageSettings,
        resolver: AbstractResolver | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._given_resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._resolver: CheckingResolver | None = None
        self._cache: TTLCache[str, FetchedImage] = TTLCache(
            maxsize=settings.cache_bytes,
            ttl=settings.cache_seconds,
            timer=clock,
            getsizeof=lambda image: len(image.data),
        )
        self._running: dict[str, asyncio.Task[FetchedImage]] = {}

    async def open(self) -> None:
        resolver = CheckingResolver(
            self._given_resolver or aiohttp.DefaultResolver(), self._settings
        )
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=resolver),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout),
            headers={
                hdrs.USER_AGENT: USER_AGENT,
                hdrs.ACCEPT: ", ".join(sorted(set(MEDIA_TYPES.values()))),
                # Images are compressed already; refusing transfer encodings keeps a
                # gzip bomb from expanding past the byte limit inside a single chunk.
                hdrs.ACCEPT_ENCODING: "identity",
            },
            auto_decompress=False,
            trust_env=False,  # no proxies or .netrc credentials from the environment
        )
        self._resolver = resolver

    async def close(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None:
            await self._resolver.close()
            self._resolver = None

    async def __aenter__(self) -> ImageFetcher:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def fetch(self, url: str) -> FetchedImage:
        """The image at `url`, from the cache or the network. Raises ImageRefused naming
        the reason (URL, address, size, pixels, type, time or a network failure)."""
        target = check_url(url, self._settings.allow_hosts, self._settings.schemes)
        key = str(target)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key, target))
            self._running[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        # Shielded: a caller that goes away does not cancel the download others await.
        return await asyncio.shield(task)

    def _finished(self, key: str, task: asyncio.Task[FetchedImage]) -> None:
        self._running.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here, so a fetch nobody awaits any more is quiet

    async def _fetch(self, key: str, url: URL) -> FetchedImage:
        data = await self._download(url)
        # Decoding and hashing up to max_bytes is CPU work: off the event loop.
        image = await asyncio.to_thread(_checked_image, key, data, self._settings.max_pixels)
        if len(data) <= self._cache.maxsize:
            self._cache[key] = image
        return image

    async def _download(self, url: URL) -> bytes:
        timeout = self._settings.timeout
        try:
            async with asyncio.timeout(timeout):
                return await self._follow(url)
        except TimeoutError as exc:  # also aiohttp's own timeouts, which subclass it
            raise ImageRefused(f"the server took longer than {timeout:g} s") from exc
        except aiohttp.ClientError as exc:
            raise ImageRefused(_describe(exc)) from exc

    async def _follow(self, url: URL) -> bytes:
        # Redirects are followed here, not by aiohttp, so every hop passes the checks.
        limit = self._settings.max_redirects
        hop = 0
        while True:
            async with await self._request(url, hop) as response:
                if response.status not in REDIRECTS:
                    if response.status != 200:
                        raise ImageRefused(f"the server answered {response.status}")
                    return await self._read(response)
                if hop >= limit:
                    raise ImageRefused(f"the image URL redirects more than {limit} times")
                url = _location(response)
            hop += 1

    async def _request(self, url: URL, hop: int) -> aiohttp.ClientResponse:
        settings = self._settings
        assert self._session is not None, "ImageFetcher.open() was not awaited"
        try:
            url = check_url(url, settings.allow_hosts, settings.schemes)
            # aiohttp does not ask the resolver about IP literals: check them here.
            literal = _literal_address(url)
            if literal is not None:
                check_address(literal, settings.allow_networks)
            return await self._session.get(url, allow_redirects=False)
        except ImageRefused as exc:
            if hop == 0:
                raise
            raise ImageRefused(f"redirect to {url}: {exc.detail}") from exc

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self._settings.max_bytes
        too_large = f"the image is larger than {limit} bytes"
        if response.content_length is not None and response.content_length > limit:
            raise ImageRefused(too_large)
        body = bytearray()
        probe = HeaderProbe(self._settings.max_pixels)
        async for chunk in response.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > limit:
                raise ImageRefused(too_large)
            probe.feed(body)
        probe.feed(body, final=True)
        return bytes(body)


class HeaderProbe:
    """Reads the format and pixel size from the first bytes of a download as they arrive,
    so a wrong type or a pixel bomb is refused before the rest is downloaded. Only
    headers are parsed (no pixels decoded); attempts double in length, so a long body
    costs linear time at most."""

    def __init__(self, max_pixels: int) -> None:
        self.max_pixels = max_pixels
        self.format: str | None = None
        self._next = 0

    def feed(self, data: bytearray, *, final: bool = False) -> None:
        if self.format is not None or (len(data) < self._next and not final):
            return
        self._next = 2 * len(data)
        head = bytes(data)
        candidates = [f for f in FORMATS if _accepts(f, head)]
        if not candidates and (final or len(head) >= 16):
            raise ImageRefused(NOT_AN_IMAGE)
        for name in candidates:
            size = _header_size(name, head)
            if size is not None:
                check_pixels(*size, self.max_pixels)
                self.format = name
                return
        if final:  # it starts like an image, but its header never completes
            raise ImageRefused(TRUNCATED)


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageRefused(f"the image has {width}×{height} pixels, over the limit of {max_pixels}")


def verify_image(data: bytes, max_pixels: int) -> str:
    """The media type of a complete download, after Pillow has checked it through: the
    size again, `verify()` (PNG chunk checksums), then a full decode on a fresh open,
    which is what catches a truncated JPEG, GIF or WebP. CPU-bound: run it in a thread."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            name = image.format or ""
            check_pixels(*image.size, max_pixels)
            image.verify()
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            image.load()
    except Image.DecompressionBombError as exc:
        raise ImageRefused(f"the image has more than {max_pixels} pixels") from exc
    except UnidentifiedImageError as exc:
        raise ImageRefused(NOT_AN_IMAGE) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRefused(TRUNCATED) from exc
    if name not in MEDIA_TYPES:
        raise ImageRefused(NOT_AN_IMAGE)
    return MEDIA_TYPES[name]


def _checked_image(url: str, data: bytes, max_pixels: int) -> FetchedImage:
    media_type = verify_image(data, max_pixels)
    return FetchedImage(url, media_type, data, hashlib.sha256(data).hexdigest())


def _accepts(name: str, head: bytes) -> bool:
    accept = Image.OPEN[name][1]
    return bool(accept is None or accept(head[:16]) is True)


def _header_size(name: str, head: bytes) -> tuple[int, int] | None:
    """(width, height) from the header, or None while too little has arrived."""
    if name == "WEBP":
        # Pillow's WebP opener decodes with libwebp, allocating the canvas: read the
        # size from the VP8/VP8L/VP8X header ourselves instead.
        return _webp_size(head)
    factory = Image.OPEN[name][0]
    # The plugin's opener reads the header only (no pixels, no decompression-bomb
    # warning); a short buffer makes it raise, which means "not yet".
    try:
        image = factory(io.BytesIO(head), "")
    except _DECODE_ERRORS:
        return None
    with image:
        return image.size


def _webp_size(head: bytes) -> tuple[int, int] | None:
    if len(head) < 30:
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":  # canvas width - 1 and height - 1, 24 bits each
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # lossy: 14-bit sizes
        width = int.from_bytes(head[26:28], "little") & 0x3FFF
        return width, int.from_bytes(head[28:30], "little") & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:  # lossless: two 14-bit sizes - 1
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _literal_address(url: URL) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of an IP-literal host, None for a name. Whatever aiohttp would treat
    as a literal (it skips the resolver for any host with a colon or only digits and
    dots) must parse here, or it is refused: 2130706433 and 127.1 mean 127.0.0.1."""
    host = url.host or ""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        if ":" in host or host.replace(".", "").isdigit():
            raise ImageRefused(f"{host} is not a canonical IP address") from None
        return None


def _location(response: aiohttp.ClientResponse) -> URL:
    location = response.headers.get(hdrs.LOCATION)
    if not location:
        raise ImageRefused(f"the server answered {response.status} without a Location")
    try:
        return response.url.join(URL(location))
    except ValueError as exc:
        raise ImageRefused(f"the server redirected to an invalid URL: {exc}") from exc


def _describe(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ClientSSLError):
        return f"the TLS connection to {exc.host} failed"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"{exc.host}:{exc.port} could not be reached"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return "the connection broke while the image was downloading"
    return f"the image could not be fetched ({type(exc).__name__})"

"""The image fetcher against real HTTP servers on 127.0.0.1 (and 127.0.0.2)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import socket
import struct
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer
from PIL import Image

from pixeldrive.core.config import ImageSettings
from pixeldrive.remote_images.fetch import FetchedImage, ImageFetcher, to_data_uri
from pixeldrive.remote_images.policy import ImageRefused
from pixeldrive.templates.values import decode_data_uri

LOCAL: dict[str, Any] = {
    "allow_hosts": ["127.0.0.1", "localhost", "images.test", "internal.test", "127.0.0.2"],
    "allow_networks": ["127.0.0.1/32"],
    "schemes": ["http"],
    "timeout": 3.0,
}
STALL = 30.0  # a server "stalls" this long: far past every limit a test waits for


def encode(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 7).save(buffer, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR (with a correct CRC) claims another size."""
    png = encode("PNG", (4, 3))
    ihdr = struct.pack(">II", width, height) + png[24:29]
    return png[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:]


def webp_claiming(width: int, height: int) -> bytes:
    """A tiny lossless WebP whose VP8L header claims another size."""
    webp = encode("WEBP", (4, 3))
    assert webp[12:16] == b"VP8L"
    bits = int.from_bytes(webp[21:25], "little") & ~((1 << 28) - 1)
    bits |= (width - 1) | ((height - 1) << 14)
    return webp[:21] + bits.to_bytes(4, "little") + webp[25:]


PNG = encode("PNG")
JPEG = encode("JPEG")
GIF = encode("GIF", mode="P")
WEBP = encode("WEBP")
CORRUPT_PNG = PNG[:-20] + bytes([PNG[-20] ^ 0xFF]) + PNG[-19:]  # IDAT no longer matches its CRC


class FakeDNS(AbstractResolver):
    """Answers names from a table, as a hostile DNS server could; records the questions."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is unknown")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.table[host]
        ]

    async def close(self) -> None:
        pass


class Origin:
    """A test image server: fixed routes, a hit counter and the last request headers."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.headers: dict[str, str] = {}
        self.app = web.Application(middlewares=[self._count])
        self.server: TestServer | None = None
        bodies = {
            "/png": (PNG, "text/html"),  # the Content-Type lies
            "/jpeg": (JPEG, "image/jpeg"),
            "/gif": (GIF, "image/gif"),
            "/webp": (WEBP, "image/webp"),
            "/truncated.png": (PNG[: len(PNG) // 2], "image/png"),
            "/corrupt.png": (CORRUPT_PNG, "image/png"),
            "/truncated.jpg": (JPEG[:-100], "image/jpeg"),
            "/cut-header.jpg": (JPEG[:200], "image/jpeg"),
            "/page.html": (b"<!doctype html><title>hi</title>" * 4, "image/png"),
            "/huge.webp": (webp_claiming(16000, 16000), "image/webp"),
        }
        for path, (body, media_type) in bodies.items():
            self.app.router.add_get(path, self._fixed(body, media_type))
        self.app.router.add_get("/big", self._big)
        self.app.router.add_get("/big-chunked", self._big_chunked)
        self.app.router.add_get("/bomb.png", self._stall_after(png_claiming(20000, 20000)))
        self.app.router.add_get("/body-stalls.png", self._stall_after(PNG[:40]))
        self.app.router.add_get("/page-stalls", self._stall_after(b"<html><body>" * 8))
        self.app.router.add_get("/slow", self._slow)
        self.app.router.add_get("/hop/{n}", self._hop)
        self.app.router.add_get("/to", self._to)
        self.app.router.add_get("/cookie", self._cookie)

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    @web.middleware
    async def _count(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.headers = dict(request.headers)
        response: web.StreamResponse = await handler(request)
        return response

    @staticmethod
    def _fixed(body: bytes, media_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(_request: web.Request) -> web.Response:
            return web.Response(body=body, content_type=media_type)

        return handler

    @staticmethod
    def _stall_after(head: bytes) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "image/png"})
            response.content_length = len(head) + 5 * 2**20
            await response.prepare(request)
            await response.write(head)
            await asyncio.sleep(STALL)  # cancelled when the client hangs up
            return response

        return handler

    async def _big(self, _request: web.Request) -> web.Response:
        return web.Response(body=PNG + bytes(2 * 2**20), content_type="image/png")

    async def _big_chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(PNG)
        for _ in range(64):
            await response.write(bytes(64 * 1024))
        await response.write_eof()
        return response

    async def _slow(self, _request: web.Request) -> web.Response:
        await asyncio.sleep(STALL)
        return web.Response(body=PNG)

    async def _hop(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        raise web.HTTPFound("/png" if n == 0 else f"/hop/{n - 1}")

    async def _to(self, request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(request.query["url"])

    async def _cookie(self, _request: web.Request) -> web.Response:
        response = web.Response(body=PNG, content_type="image/png")
        response.set_cookie("session", "secret")
        return response


Servers = Callable[..., Awaitable[TestServer]]
MakeFetcher = Callable[..., Awaitable[ImageFetcher]]


@pytest.fixture
async def origin(aiohttp_server: Servers) -> Origin:
    origin = Origin()
    origin.server = await aiohttp_server(origin.app)
    return origin


@pytest.fixture
async def forbidden(aiohttp_server: Servers) -> Origin:
    """A server on 127.0.0.2, outside allow_networks: it must never see a request."""
    target = Origin()
    target.app.router.add_get("/secret", Origin._fixed(PNG, "image/png"))
    target.server = await aiohttp_server(target.app, host="127.0.0.2")
    return target


@pytest.fixture
async def make_fetcher() -> AsyncIterator[MakeFetcher]:
    fetchers: list[ImageFetcher] = []

    async def make(resolver: AbstractResolver | None = None, **overrides: Any) -> ImageFetcher:
        fetcher = ImageFetcher(ImageSettings(**(LOCAL | overrides)), resolver)
        await fetcher.open()
        fetchers.append(fetcher)
        return fetcher

    yield make
    for fetcher in fetchers:
        await fetcher.close()


async def test_a_png_is_fetched_and_sniffed_whatever_the_content_type(
    origin: Origin, make_fetcher: MakeFetcher
) -> None:
    fetcher = await make_fetcher()
    image = await fetcher.fetch(origin.url + "/png")
    assert image == FetchedImage(
        origin.url + "/png", "image/png", PNG, hashlib.sha256(PNG).hexdigest()
    )
    assert decode_data_uri(to_data_uri(image), 2**20) == ("image/png", PNG)
    assert origin.headers["User-Agent"] == "PixelDrive/0.1.0"
    assert origin.headers["Accept-Encoding"] == "identity"
    assert "Authorization" not in origin.headers


@pytest.mark.parametrize(
    ("path", "media_type", "body"),
    [("/jpeg", "image/jpeg", JPEG), ("/gif", "image/gif", GIF), ("/webp", "image/webp", WEBP)],
)
async def test_jpeg_gif_and_webp_are_accepted(
    origin: Origin, make_fetcher: MakeFetcher, path: str, media_type: str, body: bytes
) -> None:
    image = await (await make_fetcher()).fetch(origin.url + path)
    assert (image.media_type, image.data) == (media_type, body)
    assert decode_data_uri(to_data_uri(image), 2**20) == (media_type, body)


async def test_a_pixel_bomb_is_refused_from_its_header(
    origin: Origin, make_fetcher: MakeFetcher
) -> None:
    fetcher = await make_fetcher(timeout=20.0)
    started = time.monotonic()
    with pytest.raises(ImageRefused, match="the image has 20000×20000 pixels, over the limit"):
        await fetcher.fetch(origin.url + "/bomb.png")
    # The server stalls after the header: the refusal came from the header alone.
    assert time.monotonic() - started < 5


async def test_a_webp_pixel_bomb_is_refused_before_pillow_allocates(
    origin: Origin, make_fetcher: MakeFetcher
) -> None:
    with pytest.raises(ImageRefused, match="16000×16000 pixels, over the limit of 40000000"):
        await (await make_fetcher()).fetch(origin.url + "/huge.webp")


async def test_a_body_over_max_bytes_is_refused(origin: Origin, make_fetcher: MakeFetcher) -> None:
    fetcher = await make_fetcher(max_bytes=2**20)
    for path in ("/big", "/big-chunked"):  # with and without a Content-Length
        with pytest.raises(ImageRefused, match=f"the image is larger than {2**20} bytes"):
            await fetcher.fetch(origin.url + path)


async def test_a_slow_server_is_refused(origin: Origin, make_fetcher: MakeFetcher) -> None:
    fetcher = await make_fetcher(timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ImageRefused, match=r"the server took longer than 0\.3 s"):
        await fetcher.fetch(origin.url + "/slow")
    with pytest.raises(ImageRefused, match=r"the server took longer than 0\.3 s"):
        await fetcher.fetch(origin.url + "/body-stalls.png")  # the headers came, the body not
    assert time.monotonic() - started < 3


async def test_a_non_image_is_refused_without_reading_it_all(
    origin: Origin, make_fetcher: MakeFetcher
) -> None:
    fetcher = await make_fetcher(timeout=20.0)
    started = time.monotonic()
    for path in ("/page.html", "/page-stalls"):
        with pytest.raises(ImageRefused, match="not a PNG, JPEG, WebP or GIF image"):
            await fetcher.fetch(origin.url + path)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "path", ["/truncated.png", "/corrupt.png", "/truncated.jpg", "/cut-header.jpg"]
)
async def test_truncated_or_corrupt_images_are_refused(
    origin: Origin, make_fetcher: MakeFetcher, path: str
) -> None:
    with pytest.raises(ImageRefused, match="truncated or corrupt"):
        await (await make_fetcher()).fetch(origin.url + path)


async def test_redirects_within_the_limit_are_followed(
    origin: Origin, make_fetcher: MakeFetcher
) -> None:
    image = await (await make_fetcher(max_redirects=3)).fetch(origin.url + "/hop/2")
    assert image.data == PNG
    assert image.url == origin.url + "/hop/2"  # the URL asked for, not the last hop
    assert origin.hits["/png"] == 1


async def test_too_many_redirects_are_refused(origin: Origin, make_fetcher: MakeFetcher) -> None:
    fetcher = await make_fetcher(max_redirects=3)
    assert (await fetcher.fetch(origin.url + "/hop/2")).data == PNG  # three redirects
    with pytest.raises(ImageRefused, match="redirects more than 3 times"):
        await fetcher.fetch(origin.url + "/hop/3")
    assert origin.hits["/png"] == 1  # the fourth redirect was not followed
    with pytest.raises(ImageRefused, match="more than 0 times"):
        await (await make_fetcher(max_redirects=0)).fetch(origin.url + "/hop/0")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://10.0.0.1/x", "redirect to http://10.0.0.1/x: 10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("file:///etc/passwd", "redirect to file:///etc/passwd: scheme file is not allowed"),
        ("http://elsewhere.test/x", "host elsewhere.test is not on the image allow-list"),
    ],
)
async def test_a_redirect_to_a_forbidden_place_is_refused(
    origin: Origin, make_fetcher: MakeFetcher, target: str, reason: str
) -> None:
    fetcher = await make_fetcher(allow_hosts=[*LOCAL["allow_hosts"], "10.0.0.1", "169.254.169.254"])
    started = time.monotonic()
    with pytest.raises(ImageRefused, match=re.escape(reason)):
        await fetcher.fetch(f"{origin.url}/to?url={target}")
    assert time.monotonic() - started < 1  # refused, not a connect timeout


async def test_a_redirect_to_a_forbidden_server_never_reaches_it(
    origin: Origin, forbidden: Origin, make_fetcher: MakeFetcher
) -> None:
    port = forbidden.server.port if forbidden.server else 0
    dns = FakeDNS({"internal.test": ["127.0.0.2"], "images.test": ["127.0.0.1"]})
    fetcher = await make_fetcher(dns)
    literal = f"http://127.0.0.2:{port}/secret"
    with pytest.raises(
        ImageRefused, match=re.escape(f"redirect to {literal}: 127.0.0.2 is a loopback")
    ):
        await fetcher.fetch(f"{origin.url}/to?url={literal}")
    named = f"http://internal.test:{port}/secret"
    with pytest.raises(
        ImageRefused,
        match=re.escape(
            f"redirect to {named}: internal.test resolves to 127.0.0.2, which is a loopback"
        ),
    ):
        await fetcher.fetch(
            f"http://images.test:{origin.server.port if origin.server else 0}/to?url={named}"
        )
    assert dns.asked == ["images.test", "internal.test"]
    assert origin.hits["/to"] == 2
    assert sum(forbidden.hits.values()) == 0


async def test_a_name_resolving_to_a_forbidden_address_is_never_connected(
    origin: Origin, make_fetcher: MakeFetcher
) -> None:
    assert origin.server is not None
    port = origin.server.port
    dns = FakeDNS({"images.test": ["10.0.0.5"], "internal.test": ["127.0.0.1", "10.0.0.5"]})
    fetcher = await make_fetcher(dns)
    started = time.monotonic()
    with pytest.raises(
        ImageRefused, match=r"images\.test resolves to 10\.0\.0\.5, which is a private"
    ):
        await fetcher.fetch(f"http://images.test:{port}/png")
    # One bad answer refuses the host, even beside an allowed one (DNS rebinding mixes).
    with pytest.raises(ImageRefused, match=r"internal\.test resolves to 10\.0\.0\.5"):
        await fetcher.fetch(f"http://internal.test:{port}/png")
    assert time.monotonic() - started < 1
    assert sum(origin.hits.values()) == 0


async def test_a_name_resolving_to_an_allowed_address_is_fetched(
    origin: Origin, make_fetcher: MakeFetcher
) -> None:
    assert origin.server is not None
    fetcher = await make_fetcher(FakeDNS({"images.test": ["127.0.0.1"]}))
    image = await fetcher.fetch(f"http://images.test:{origin.server.port}/png")
    assert image.data == PNG


async def test_loopback_is_refused_unless_allowed(
    origin: Origin, make_fetcher: MakeFetcher
) -> None:
    assert origin.server is not None
    # The real resolver answers for localhost; the address is the only thing refused.
    fetcher = await make_fetcher(
        allow_networks=[], allow_hosts=[*LOCAL["allow_hosts"], "::ffff:127.0.0.1"]
    )
    with pytest.raises(ImageRefused, match=r"127\.0\.0\.1 is a loopback address"):
        await fetcher.fetch(origin.url + "/png")
    with pytest.raises(ImageRefused, match=r"localhost resolves to \S+, which is a loopback"):
        await fetcher.fetch(f"http://localhost:{origin.server.port}/png")
    with pytest.raises(ImageRefused, match=r"embeds 127\.0\.0\.1, which is a loopback"):
        await fetcher.fetch(f"http://[::ffff:127.0.0.1]:{origin.server.port}/png")
    assert sum(origin.hits.values()) == 0


async def test_urls_off_the_policy_are_refused(origin: Origin, make_fetcher: MakeFetcher) -> None:
    fetcher = await make_fetcher()
    with pytest.raises(ImageRefused, match="scheme file is not allowed"):
        await fetcher.fetch("file:///etc/passwd")
    with pytest.raises(ImageRefused, match=r"host example\.org is not on the image allow-list"):
        await fetcher.fetch("http://example.org/a.png")
    with pytest.raises(ImageRefused, match="scheme https is not allowed"):
        await fetcher.fetch(origin.url.replace("http:", "https:") + "/png")
    with pytest.raises(ImageRefused, match=r"127\.1 is not a canonical IP address"):
        await (await make_fetcher(allow_hosts=["127.1"])).fetch("http://127.1/png")
    assert sum(origin.hits.values()) == 0


async def test_errors_of_the_server_are_refusals(origin: Origin, make_fetcher: MakeFetcher) -> None:
    fetcher = await make_fetcher()
    with pytest.raises(ImageRefused, match="the server answered 404"):
        await fetcher.fetch(origin.url + "/missing.png")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(ImageRefused, match=re.escape(f"127.0.0.1:{port} could not be reached")):
        await fetcher.fetch(f"http://127.0.0.1:{port}/png")


async def test_no_cookies_are_kept(origin: Origin, make_fetcher: MakeFetcher) -> None:
    fetcher = await make_fetcher()
    await fetcher.fetch(origin.url + "/cookie")
    await fetcher.fetch(origin.url + "/png")
    assert "Cookie" not in origin.headers


async def test_the_cache_serves_a_second_fetch(origin: Origin, make_fetcher: MakeFetcher) -> None:
    fetcher = await make_fetcher()
    first = await fetcher.fetch(origin.url + "/png")
    assert await fetcher.fetch(origin.url + "/png#fragment") is first
    assert origin.hits["/png"] == 1
    # Concurrent fetches of one URL share one download.
    images = await asyncio.gather(*(fetcher.fetch(origin.url + "/gif") for _ in range(5)))
    assert {image.data for image in images} == {GIF}
    assert origin.hits["/gif"] == 1


async def test_cached_images_expire_and_failures_are_not_cached(origin: Origin) -> None:
    now = [0.0]
    settings = ImageSettings(**LOCAL, cache_seconds=600)
    async with ImageFetcher(settings, clock=lambda: now[0]) as fetcher:
        await fetcher.fetch(origin.url + "/png")
        now[0] = 599.0
        await fetcher.fetch(origin.url + "/png")
        assert origin.hits["/png"] == 1
        now[0] = 601.0
        await fetcher.fetch(origin.url + "/png")
        assert origin.hits["/png"] == 2
        for _ in range(2):
            with pytest.raises(ImageRefused):
                await fetcher.fetch(origin.url + "/corrupt.png")
        assert origin.hits["/corrupt.png"] == 2


async def test_a_zero_byte_cache_keeps_nothing(origin: Origin, make_fetcher: MakeFetcher) -> None:
    fetcher = await make_fetcher(cache_bytes=0)
    await fetcher.fetch(origin.url + "/png")
    await fetcher.fetch(origin.url + "/png")
    assert origin.hits["/png"] == 2

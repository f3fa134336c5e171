"""CairoSVG's url_fetcher: only size-checked data: URIs, nothing read from disk or network."""

from __future__ import annotations

import base64
import builtins
import io
import os
import socket
import struct
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pixeldrive.render.fetcher import FLOOR_PIXELS, make_fetcher
from pixeldrive.render.footprint import Footprint, Footprints, image_key
from pixeldrive.render.job import JobError
from pixeldrive.render.rasterize import rasterize

MAX_BYTES = 4096
MAX_PIXELS = 10_000


@dataclass
class Access:
    """What the code under watch tried to open or connect to."""

    paths: list[str] = field(default_factory=list)
    connections: list[Any] = field(default_factory=list)

    def touched(self, path: str | Path) -> bool:
        return any(Path(p).resolve() == Path(path).resolve() for p in self.paths)


@contextmanager
def watched() -> Iterator[Access]:
    """Record every open() of a path, os.open(), urlopen() and socket connect."""
    access = Access()
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(file, int):
            access.paths.append(os.fsdecode(file))
        return real_open(file, *args, **kwargs)

    def spy_os_open(path: Any, *args: Any, **kwargs: Any) -> int:
        access.paths.append(os.fsdecode(path))
        return real_os_open(path, *args, **kwargs)

    def spy_urlopen(url: Any, *args: Any, **kwargs: Any) -> Any:
        access.connections.append(url)
        raise AssertionError(f"urlopen({url!r}) was called")

    def spy_connect(self: socket.socket, address: Any) -> None:
        access.connections.append(address)
        raise AssertionError(f"socket connect to {address!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "open", spy_open)
        mp.setattr(io, "open", spy_open)
        mp.setattr(os, "open", spy_os_open)
        mp.setattr(urllib.request, "urlopen", spy_urlopen)
        mp.setattr(socket.socket, "connect", spy_connect)
        yield access


def png_bytes(size: tuple[int, int] = (1, 1)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose IHDR (with a correct CRC) claims width×height pixels."""
    data = bytearray(png_bytes())
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def b64_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


@pytest.fixture
def fetch() -> Any:
    return make_fetcher(MAX_BYTES, MAX_PIXELS)


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.png"
    path.write_bytes(png_bytes())
    return path


# --- refused URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1/x.png",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "//example.com/x.png",
        "/etc/passwd",
        "x.png",
        " data:image/png;base64,AAAA",
    ],
)
@pytest.mark.parametrize("resource_type", ["image/*", "image/svg+xml", "text/css"])
def test_anything_but_data_is_refused_and_nothing_is_read(
    fetch: Any, url: str, resource_type: str
) -> None:
    with watched() as access, pytest.raises(JobError, match="not a data: URI"):
        fetch(url, resource_type)
    assert access.paths == []
    assert access.connections == []


def test_secret_file_url_is_refused_and_not_opened(fetch: Any, secret: Path) -> None:
    with watched() as access, pytest.raises(JobError):
        fetch(secret.as_uri(), "image/*")
    assert not access.touched(secret)


def test_relative_paths_arrive_as_file_urls_and_are_refused(
    fetch: Any, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairosvg.url import parse_url, read_url

    monkeypatch.chdir(secret.parent)
    with watched() as access, pytest.raises(JobError, match="file://"):
        read_url(parse_url(secret.name), fetch, "image/*")
    assert not access.touched(secret)
    assert access.connections == []


# --- data: URIs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("data:text/plain;base64,aGVsbG8gd29ybGQ=", b"hello world"),
        ("data:;base64,AAEC/w==", b"\x00\x01\x02\xff"),
        ("data:text/plain,hello%20world%21", b"hello world!"),
        ("data:,%00%ff%3C", b"\x00\xff<"),
        ("data:text/plain,", b""),
    ],
)
def test_data_uris_decode(fetch: Any, url: str, expected: bytes) -> None:
    assert fetch(url, "text/plain") == expected


def test_embedded_png_is_returned_as_is(fetch: Any) -> None:
    data = png_bytes((4, 3))
    with watched() as access:
        assert fetch(b64_uri(data), "image/*") == data
    assert access.paths == []


def test_percent_encoded_svg_image_decodes(fetch: Any) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    url = "data:image/svg+xml," + urllib.parse.quote(svg)
    assert fetch(url, "image/*") == svg


@pytest.mark.parametrize("url", ["data:image/png;base64", "data:image/png;base64,abc"])
def test_malformed_data_uris_are_job_errors(fetch: Any, url: str) -> None:
    with pytest.raises(JobError):
        fetch(url, "text/plain")


@pytest.mark.parametrize("encoding", ["base64", "percent"])
def test_size_limit(fetch: Any, encoding: str) -> None:
    def uri(data: bytes) -> str:
        if encoding == "base64":
            return b64_uri(data, "text/plain")
        return "data:text/plain," + urllib.parse.quote(data)

    assert fetch(uri(b"a" * MAX_BYTES), "text/plain") == b"a" * MAX_BYTES
    with pytest.raises(JobError, match=f"larger than {MAX_BYTES} bytes"):
        fetch(uri(b"a" * (MAX_BYTES + 1)), "text/plain")
    with pytest.raises(JobError, match="larger than"):
        fetch(uri(b"a" * (MAX_BYTES * 50)), "text/plain")


# --- pixel limits ---------------------------------------------------------------------------


def test_image_at_the_pixel_limit_passes(fetch: Any) -> None:
    data = png_claiming(100, 100)
    assert fetch(b64_uri(data), "image/*") == data


def test_image_over_the_pixel_limit_is_refused_from_its_header(fetch: Any) -> None:
    with pytest.raises(JobError, match=r"101×100 pixels, over 10000"):
        fetch(b64_uri(png_claiming(101, 100)), "image/*")


def test_pixel_bomb_header_is_refused() -> None:
    fetch = make_fetcher(2**20, 40_000_000)
    with pytest.raises(JobError):
        fetch(b64_uri(png_claiming(100_000, 100_000)), "image/*")


def test_pixel_bomb_header_is_refused_as_too_many_pixels() -> None:
    fetch = make_fetcher(2**20, 40_000_000)
    with pytest.raises(JobError, match="pixel"):
        fetch(b64_uri(png_claiming(100_000, 100_000)), "image/*")


@pytest.mark.parametrize("payload", [b"garbage!", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF8"])
def test_unreadable_embedded_image_is_a_job_error(fetch: Any, payload: bytes) -> None:
    with pytest.raises(JobError, match=r"cannot be read|no PNG, JPEG, WebP, GIF or SVG"):
        fetch(b64_uri(payload), "image/*")


# --- end to end through CairoSVG ------------------------------------------------------------

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    ' width="20" height="20">{}</svg>'
)


@pytest.mark.parametrize(
    "body",
    [
        '<image width="20" height="20" xlink:href="{url}"/>',
        '<image width="20" height="20" href="{url}"/>',
        '<image width="20" height="20" xlink:href="{name}"/>',
        '<use xlink:href="{url}#x"/>',
        "<style>@import url({url});</style><rect width='1' height='1'/>",
        '<image width="20" height="20" xlink:href="http://127.0.0.1:9/x.png"/>',
    ],
)
def test_cairosvg_reads_nothing_through_our_fetcher(
    body: str, secret: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(secret.parent)
    svg = SVG.format(body.format(url=secret.as_uri(), name=secret.name)).encode()
    with watched() as access, pytest.raises(JobError):
        rasterize(svg, 20, 20, make_fetcher(2**20, 10**6))
    assert not access.touched(secret)
    assert access.connections == []


def test_etc_hostname_is_not_read_by_cairosvg() -> None:
    svg = SVG.format('<image width="20" height="20" xlink:href="file:///etc/hostname"/>')
    with watched() as access, pytest.raises(JobError, match="file:///etc/hostname"):
        rasterize(svg.encode(), 20, 20, make_fetcher(2**20, 10**6))
    assert "/etc/hostname" not in access.paths


def test_embedded_data_image_still_renders() -> None:
    uri = b64_uri(png_bytes((2, 2)))
    svg = SVG.format(f'<image width="20" height="20" xlink:href="{uri}"/>').encode()
    image = rasterize(svg, 20, 20, make_fetcher(2**20, 10**6))
    assert image.getpixel((10, 10)) == (10, 20, 30, 255)


def test_the_spy_sees_what_cairosvgs_own_fetcher_reads(secret: Path) -> None:
    # A control: with CairoSVG's unrestricted fetcher the same document does read the file,
    # so the assertions above would catch a fetcher that let it through.
    from cairosvg.url import fetch as cairosvg_fetch

    body = f'<image width="20" height="20" xlink:href="{secret.as_uri()}"/>'
    with watched() as access:
        rasterize(SVG.format(body).encode(), 20, 20, cairosvg_fetch)
    assert access.touched(secret)


# --- polyglots: the bytes, not CairoSVG's `<svg` sniffing, decide ------------------------------


def with_svg_inside(fmt: str, svg: bytes) -> bytes:
    """A real `fmt` image that also holds an SVG document (in a JPEG comment, a PNG text
    chunk, a GIF comment, after a WebP's last chunk): CairoSVG takes any non-PNG bytes
    holding `<svg` for an SVG document."""
    out = io.BytesIO()
    image = Image.new("RGB", (2, 2), (10, 20, 30))
    if fmt == "JPEG":
        image.save(out, "JPEG", comment=svg)
    elif fmt == "GIF":
        image.save(out, "GIF", comment=svg)
    else:
        image.save(out, fmt)
        out.write(svg)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "WEBP", "PNG"])
def test_a_raster_image_holding_svg_is_drawn_as_the_raster_image(fmt: str, secret: Path) -> None:
    inner = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        f'<image width="9" height="9" xlink:href="{secret.as_uri()}"/></svg>'
    ).encode()
    uri = b64_uri(with_svg_inside(fmt, inner), "image/jpeg")
    fetched = make_fetcher(2**20, 10**6)(uri, "image/*")
    assert fetched.startswith(b"\x89PNG"), "handed to CairoSVG as PNG, never sniffed as SVG"
    svg = SVG.format(f'<image width="20" height="20" xlink:href="{uri}"/>').encode()
    with watched() as access:
        image = rasterize(svg, 20, 20, make_fetcher(2**20, 10**6))
    assert not access.touched(secret)
    pixel = image.getpixel((10, 10))
    assert isinstance(pixel, tuple)
    red, green, blue, _ = pixel
    assert abs(red - 10) + abs(green - 20) + abs(blue - 30) < 24  # JPEG's loss


# --- decoding is charged by pixels, against the box the image is drawn in ----------------------

AVATAR = Footprint(56.0 * 56.0, exact=True, field="avatar")


@pytest.fixture(scope="module")
def huge() -> dict[str, bytes]:
    """Images of 6300×6300 pixels (40 MP) that are small files: 30 kB as a GIF."""
    out = {}
    for fmt in ("GIF", "PNG", "WEBP", "JPEG"):
        buffer = io.BytesIO()
        Image.new("P" if fmt == "GIF" else "RGB", (6300, 6300), 3).save(buffer, fmt)
        out[fmt] = buffer.getvalue()
    return out


def fetch_into(where: Footprint, data: bytes) -> bytes:
    drawn = Footprints({image_key(b64_uri(data)): where}, 1200 * 630)
    return make_fetcher(2**24, 40_000_000, drawn)(b64_uri(data), "image/*")


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_a_small_file_of_many_pixels_is_refused_for_a_small_box(
    huge: dict[str, bytes], fmt: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(JobError, match="6300×6300 pixels but covers about 56×56") as caught:
        fetch_into(AVATAR, huge[fmt])
    assert time.perf_counter() - started < 0.5, "refused from the header, nothing decoded"
    assert caught.value.problems[0][0] == "fields.avatar"
    assert f"{FLOOR_PIXELS:,}" in str(caught.value)


def test_a_large_jpeg_is_decoded_at_reduced_size(huge: dict[str, bytes]) -> None:
    fetched = fetch_into(AVATAR, huge["JPEG"])
    with Image.open(io.BytesIO(fetched)) as image:
        assert image.format == "PNG"
        assert image.size == (113, 113)  # 1/8 each way when drafted, then halved: ≥ 2× 56
        red, green, blue = image.convert("RGB").getpixel((50, 50))  # type: ignore[misc]
        assert abs(red - 3) + green + blue <= 6  # JPEG's loss


def test_a_large_image_drawn_large_is_allowed_and_kept_whole() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000), "white").save(buffer, "PNG")
    page = Footprint(1200.0 * 630, exact=True)
    assert fetch_into(page, buffer.getvalue()) == buffer.getvalue()  # 6 MP ≤ 16 × 0.76 MP


@pytest.mark.parametrize("exact", [True, False])
def test_an_image_far_larger_than_its_box_is_reduced_only_when_the_box_is_known(
    exact: bool,
) -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (1000, 800), (9, 8, 7, 255)).save(buffer, "WEBP", lossless=True)
    fetched = fetch_into(Footprint(100.0 * 80, exact=exact), buffer.getvalue())
    with Image.open(io.BytesIO(fetched)) as image:
        assert image.size == ((200, 160) if exact else (1000, 800))
        assert image.convert("RGBA").getpixel((10, 10)) == (9, 8, 7, 255)


def test_a_palette_gif_is_reduced_in_colour() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 900), (200, 10, 10)).convert("P").save(buffer, "GIF")
    with Image.open(
        io.BytesIO(fetch_into(Footprint(50.0 * 50, exact=True), buffer.getvalue()))
    ) as image:
        assert image.size == (100, 100)
        red, green, blue = image.convert("RGB").getpixel((5, 5))  # type: ignore[misc]
        assert abs(red - 200) + abs(green - 10) + abs(blue - 10) <= 6  # the GIF's palette

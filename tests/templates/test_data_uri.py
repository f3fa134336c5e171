"""The one data: URI reader (pixeldrive.templates.data_uri): RFC 2397 in every spelling,
and the bytes, not the label, decide what an image is."""

from __future__ import annotations

import base64
import io
from urllib.parse import quote_from_bytes

import pytest
from PIL import Image

from pixeldrive.templates.data_uri import (
    DataUriError,
    kind_of,
    parse_data_uri,
    raster_image,
)

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"/>'


def image_bytes(fmt: str, size: tuple[int, int] = (3, 2)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, fmt)
    return out.getvalue()


def spellings(data: bytes, label: str) -> list[str]:
    """The same bytes written every way RFC 2397 and RFC 3986 allow."""
    b64 = base64.b64encode(data).decode()
    wrapped = "\n".join(b64[i : i + 20] for i in range(0, len(b64), 20))
    return [
        f"data:{label};base64,{b64}",
        f"DATA:{label.upper()};BASE64,{b64}",
        f"data:{label};charset=utf-8;BaSe64,{wrapped}",  # Inkscape wraps base64 lines
        f"data:{label};base64,{quote_from_bytes(b64.encode(), safe='')}",
        f"data:{label};base64,{''.join(f'%{c:02X}' for c in b64.encode())}",
        f"data:{label},{quote_from_bytes(data)}",
        f"data:,{quote_from_bytes(data)}",
    ]


@pytest.mark.parametrize("uri", spellings(SVG, "image/svg+xml"))
def test_every_spelling_decodes_to_the_same_bytes(uri: str) -> None:
    assert parse_data_uri(uri, 4096).data == SVG


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://example.com/x.png", "not a data: URI"),
        (" data:,x", "not a data: URI"),
        ("data:image/png;base64", "without a comma"),
        ("data:image/png;base64,@@@@", "not base64"),
        ("data:image/png;base64,<svg/>", "not base64"),
        ("data:image/png;base64,AAAAA", "does not decode"),
        ("data:image/png;base64,AA=A", "not base64"),
    ],
)
def test_malformed_uris_say_what_is_wrong(uri: str, message: str) -> None:
    with pytest.raises(DataUriError, match=message):
        parse_data_uri(uri, 4096)


@pytest.mark.parametrize("spelled", range(7))
def test_the_size_limit_holds_in_every_spelling(spelled: int) -> None:
    data = b"<svg>" + b"x" * 200
    uri = spellings(data, "image/svg+xml")[spelled]
    assert parse_data_uri(uri, len(data)).data == data
    with pytest.raises(DataUriError, match=f"larger than {len(data) - 1} bytes"):
        parse_data_uri(uri, len(data) - 1)


def test_a_huge_body_is_refused_before_it_is_decoded() -> None:
    uri = "data:image/png;base64," + "A" * (64 * 2**20)
    with pytest.raises(DataUriError, match="larger than 1000 bytes"):
        parse_data_uri(uri, 1000)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (image_bytes("PNG"), "png"),
        (image_bytes("JPEG"), "jpeg"),
        (image_bytes("WEBP"), "webp"),
        (image_bytes("GIF"), "gif"),
        (SVG, "svg"),
        (b"\xef\xbb\xbf  <?xml version='1.0'?><svg/>", "svg"),
        (b"\x1f\x8b\x08\x00", "svg"),  # CairoSVG gunzips and parses these
        (b"hello <svg> in the middle", "svg"),  # ...and these, so they count as SVG
        (b"hello", None),
        (b"", None),
    ],
)
def test_kind_is_read_from_the_bytes(data: bytes, kind: str | None) -> None:
    assert kind_of(data) == kind


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
@pytest.mark.parametrize("label", ["image/png", "image/gif", "text/plain", "application/x-evil"])
def test_a_raster_image_is_what_its_bytes_are_whatever_the_label(fmt: str, label: str) -> None:
    data = image_bytes(fmt)
    uri = f"data:{label};base64,{base64.b64encode(data).decode()}"
    kind, decoded, size = raster_image(uri, 4096)
    assert (kind, decoded, size) == (fmt.lower(), data, (3, 2))


@pytest.mark.parametrize("uri", spellings(SVG, "image/png"))
def test_svg_labelled_as_a_raster_image_is_refused(uri: str) -> None:
    with pytest.raises(DataUriError, match="its bytes are an SVG document"):
        raster_image(uri, 4096)


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,  # the magic number, then nothing that reads
        b"\xff\xd8\xff" + b"\x00" * 10,
        b"GIF89a",
    ],
)
def test_a_header_that_does_not_read_is_refused(data: bytes) -> None:
    uri = f"data:image/png;base64,{base64.b64encode(data).decode()}"
    with pytest.raises(DataUriError, match="header does not read"):
        raster_image(uri, 4096)

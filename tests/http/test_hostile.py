"""Attacks that once got through (issue: hostile input), each as the request that did it
and its variants: a clear 4xx in milliseconds, and nothing drawn or stored."""

from __future__ import annotations

import base64
import io
import time
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from tests.svgdoc import NAMESPACES

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"
FAST = 1.0  # seconds: a refusal reads the request, never a worker


async def pool_renders(client: Client) -> float:
    """How many renders the app has sent to its pool so far."""
    text = await (await client.get("/metrics")).text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "pixeldrive_renders_total"
    )


async def refused(client: Client, method: str, path: str, status: int, **kw: Any) -> dict[str, Any]:
    """The answer to a request that must be refused quickly, without drawing anything."""
    before = await pool_renders(client)
    started = time.perf_counter()
    response = await client.request(method, path, **kw)
    took = time.perf_counter() - started
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    assert took < FAST, f"refused in {took:.2f} s"
    assert await pool_renders(client) == before, "nothing reached a worker"
    body: dict[str, Any] = await response.json()
    return body


def messages(problem: dict[str, Any]) -> str:
    return (
        problem["detail"]
        + " | "
        + " | ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors", []))
    )


# --- an image field smuggling SVG ------------------------------------------------------------

FAN_OUT = (
    f'<svg {NAMESPACES} width="10" height="10"><defs><rect id="a0" width="1" height="1"/>'
    + "".join(
        f'<g id="a{n}">' + f'<use xlink:href="#a{n - 1}"/>' * 10 + "</g>" for n in range(1, 8)
    )
    + '</defs><use xlink:href="#a7"/></svg>'
).encode()
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    "value",
    [
        f"data:image/png;base64,{b64(FAN_OUT)}",
        f"data:image/png;base64,{b64(XXE)}",
        f"DATA:IMAGE/JPEG;BASE64,{quote(b64(FAN_OUT), safe='')}",
        f"data:image/gif;base64,{b64(b'<!-- a comment first -->' + FAN_OUT)}",
        f"data:image/svg+xml;base64,{b64(FAN_OUT)}",
        f"data:image/png,{quote(FAN_OUT)}",
    ],
    ids=["fan-out", "xxe", "upper-case-percent", "comment-first", "svg-label", "not-base64"],
)
async def test_an_image_field_holding_svg_is_refused_before_a_worker(
    client: Client, value: str
) -> None:
    body = {"template": "og-card", "fields": {"title": "x", "avatar": value}}
    problem = await refused(client, "POST", "/v1/renders", 422, json=body)
    assert problem["errors"][0]["field"] == "fields.avatar"
    assert "PNG, JPEG, WebP or GIF" in messages(problem)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
async def test_a_real_image_of_any_raster_format_under_any_label_is_drawn(
    client: Client, fmt: str
) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, fmt)
    value = f"data:image/png;base64,{b64(out.getvalue())}"  # the label does not matter
    body = {"template": "og-card", "fields": {"title": "x", "avatar": value}}
    response = await client.post("/v1/renders", json=body)
    assert response.status == 201, await response.text()


# --- numbers: finite, and bounded by the page when the designer gave no bound ---------------

GAUGE = (
    f'<svg {NAMESPACES} width="400" height="200"><circle id="dial" cx="100" cy="100" r="40"'
    ' data-pd-field="radius" data-pd-kind="number" data-pd-attr="r"/></svg>'
).encode()


@pytest.fixture
async def gauge(client: Client) -> Client:
    put = await client.put(
        "/v1/templates/gauge", data=GAUGE, headers={"Content-Type": "image/svg+xml"}
    )
    assert put.status == 201, await put.text()
    return client


@pytest.mark.parametrize("radius", [1e308, -1e308, 4000.5, 1e16])
async def test_a_number_beyond_the_page_bound_is_422(gauge: Client, radius: float) -> None:
    body = {"template": "gauge", "fields": {"radius": radius}}
    problem = await refused(gauge, "POST", "/v1/renders", 422, json=body)
    assert problem["errors"][0]["field"] == "fields.radius"
    assert "4000" in messages(problem)


@pytest.mark.parametrize("raw", [b"1e400", b"-1e400", b"NaN", b"Infinity"])
async def test_a_number_that_is_not_finite_is_refused(gauge: Client, raw: bytes) -> None:
    data = b'{"template": "gauge", "fields": {"radius": ' + raw + b"}}"
    headers = {"Content-Type": "application/json"}
    problem = await refused(gauge, "POST", "/v1/renders", 422, data=data, headers=headers)
    assert problem["errors"][0]["field"] == "fields.radius"


async def test_the_page_bound_is_described_and_a_value_inside_it_draws(gauge: Client) -> None:
    fields = (await (await gauge.get("/v1/templates/gauge")).json())["fields"]
    assert (fields[0]["min"], fields[0]["max"]) == (-4000, 4000)
    response = await gauge.post(
        "/v1/renders", json={"template": "gauge", "fields": {"radius": 3999}}
    )
    assert response.status == 201, await response.text()


# --- identifiers: the whole string, never a prefix -------------------------------------------

LOOK_ALIKES = ["abc\n", "abc\x00", "abc\r\n", "оg-card", "og-card\u200b", "og‐card", "ＯＧ"]


@pytest.mark.parametrize("ident", LOOK_ALIKES)
async def test_a_template_id_that_only_looks_valid_is_refused(client: Client, ident: str) -> None:
    data = (f'<svg {NAMESPACES} width="10" height="10"/>').encode()
    path = f"/v1/templates/{quote(ident, safe='')}"
    problem = await refused(
        client, "PUT", path, 422, data=data, headers={"Content-Type": "image/svg+xml"}
    )
    assert "template id" in messages(problem)
    listed = [t["id"] for t in (await (await client.get("/v1/templates")).json())["templates"]]
    assert ident not in listed
    assert ident.strip() not in listed


@pytest.mark.parametrize("ident", LOOK_ALIKES)
async def test_a_render_of_a_look_alike_template_is_refused(client: Client, ident: str) -> None:
    body = {"template": ident, "fields": {"title": "x"}}
    problem = await refused(client, "POST", "/v1/renders", 422, json=body)
    assert problem["errors"][0]["field"] == "template"


# --- control characters: C0, C1, DEL and non-characters, named --------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("bell\x07", "U+0007"),
        ("next line\x85", "U+0085"),
        ("csi\x9b31m red", "U+009B"),
        ("del\x7f", "U+007F"),
        ("\ufdd0 non-character", "U+FDD0"),
        ("plane end \U0010ffff", "U+10FFFF"),
        ("emoji plane end \U0001fffe", "U+1FFFE"),
    ],
)
async def test_control_characters_are_refused_by_name(
    client: Client, text: str, named: str
) -> None:
    body = {"template": "og-card", "fields": {"title": text}}
    problem = await refused(client, "POST", "/v1/renders", 422, json=body)
    assert problem["errors"][0]["field"] == "fields.title"
    assert named in messages(problem)


# --- SVG output: nothing in it may become script in a browser ----------------------------------


@pytest.mark.parametrize(
    "animation",
    [
        '<set attributeName="href" to="javascript:alert(document.domain)"/>',
        '<animate attributeName="xlink:href" values="#a;JavaScript:alert(1)" dur="1s"/>',
        '<set attributeName="onclick" to="alert(1)"/>',
        '<set attributeName="href" to="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"/>',
    ],
)
async def test_svg_output_carries_no_script_from_an_upload(client: Client, animation: str) -> None:
    data = (
        f'<svg {NAMESPACES} width="200" height="100"><a href="#t">{animation}'
        '<text id="t" x="10" y="50" data-pd-field="title">Hi</text></a>'
        '<a xlink:href=" javascript:alert(2)"><rect width="5" height="5"/></a></svg>'
    ).encode()
    put = await client.put(
        "/v1/templates/animated", data=data, headers={"Content-Type": "image/svg+xml"}
    )
    assert put.status == 201, await put.text()
    body = {"template": "animated", "fields": {"title": "x"}, "format": "svg"}
    created = await client.post("/v1/renders", json=body)
    assert created.status == 201, await created.text()
    document = (await (await client.get(created.headers["Location"])).read()).lower()
    assert b"script" not in document
    assert b"<set" not in document
    assert b"<animate" not in document
    assert b"onclick" not in document


# --- pixels, not bytes: a small file of many pixels ---------------------------------------------


def many_pixels(fmt: str, size: tuple[int, int] = (6300, 6300)) -> str:
    out = io.BytesIO()
    Image.new("P" if fmt == "GIF" else "RGB", size, 7).save(out, fmt)
    return f"data:image/{fmt.lower()};base64,{b64(out.getvalue())}"


@pytest.mark.parametrize(
    ("fmt", "size"), [("GIF", (6300, 6300)), ("PNG", (2500, 2500)), ("WEBP", (3000, 1400))]
)
async def test_an_image_of_many_pixels_for_a_small_box_is_422_in_milliseconds(
    client: Client, fmt: str, size: tuple[int, int]
) -> None:
    body = {"template": "og-card", "fields": {"title": "x", "avatar": many_pixels(fmt, size)}}
    started = time.perf_counter()
    response = await client.post("/v1/renders", json=body)
    took = time.perf_counter() - started
    assert response.status == 422, await response.text()
    problem = await response.json()
    assert problem["errors"][0]["field"] == "fields.avatar"
    assert f"{size[0]}×{size[1]} pixels but covers about 56×56 px" in messages(problem)
    assert took < FAST, f"{took:.2f} s: read from the header, never decoded"


async def test_a_large_jpeg_for_a_small_box_is_drawn(client: Client) -> None:
    body = {"template": "og-card", "fields": {"title": "x", "avatar": many_pixels("JPEG")}}
    response = await client.post("/v1/renders", json=body)
    assert response.status == 201, await response.text()

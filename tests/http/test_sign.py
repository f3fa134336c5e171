"""POST /v1/sign: the server signs a GET /v1/t/ URL with the calling key's signing secret
(the playground's signed URL); only API keys may sign, and only within their scopes."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from pixeldrive.auth import key_admin, url_signature
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.scopes import parse_scopes_option
from pixeldrive.core.config import Settings
from pixeldrive.http.api_models import SignRequest
from pixeldrive.http.app import create_app
from pixeldrive.http.signed_urls import signed_query
from tests.auth.conftest import bearer, expect_problem

Client = TestClient[Any, Any]


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(server={"auth": "on"}, access={"key_cache_seconds": 0})


@pytest.fixture
def key(auth_settings: Settings) -> NewKey:
    return key_admin.create_key(auth_settings, "everything")


@pytest.fixture
def og_key(auth_settings: Settings) -> NewKey:
    return key_admin.create_key(
        auth_settings, "og only", parse_scopes_option("render,templates=og-*")
    )


@pytest.fixture
async def auth_client(aiohttp_client: Any, auth_settings: Settings) -> Client:
    client: Client = await aiohttp_client(create_app(auth_settings))
    return client


def query(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


async def test_a_key_gets_a_url_that_renders(auth_client: Client, key: NewKey) -> None:
    before = int(time.time())
    body = {
        "template": "og-card",
        "fields": {"title": "Signed by the server", "accent": "#e11d48"},
        "format": "png",
        "width": 300,
        "ttl": 3600,
    }
    response = await auth_client.post("/v1/sign", json=body, headers=bearer(key.key))
    assert response.status == 201, await response.text()
    signed = await response.json()
    assert set(signed) == {"url", "expires_at"}
    assert before + 3600 <= signed["expires_at"] <= int(time.time()) + 3600
    url = signed["url"]
    assert url.startswith("/v1/t/og-card.png?")
    pairs = dict(query(url))
    assert pairs["kid"] == key.record.id
    assert pairs["exp"] == str(signed["expires_at"])
    assert pairs["title"] == "Signed by the server"
    assert pairs["_width"] == "300"
    # The signature is the key's, by the published algorithm.
    kid = url_signature.verify(
        urlsplit(url).path, query(url), {key.record.id: key.signing_secret}.get
    )
    assert kid == key.record.id
    # No header needed to use it.
    image = await auth_client.get(url)
    assert image.status == 200, await image.text()
    assert image.content_type == "image/png"
    with Image.open(io.BytesIO(await image.read())) as picture:
        assert picture.size == (300, 158)


async def test_without_a_format_the_url_negotiates(auth_client: Client, key: NewKey) -> None:
    body = {"template": "quote", "fields": {"quote": "Less.", "author": "Ada"}, "ttl": 60}
    response = await auth_client.post("/v1/sign", json=body, headers=bearer(key.key))
    assert response.status == 201, await response.text()
    url = (await response.json())["url"]
    assert urlsplit(url).path == "/v1/t/quote"
    image = await auth_client.get(url, headers={"Accept": "image/webp"})
    assert image.status == 200
    assert image.content_type == "image/webp"


def test_booleans_and_numbers_are_written_as_the_url_takes_them() -> None:
    body = SignRequest(
        template="t", fields={"on": True, "off": False, "n": 2, "x": 1.5, "s": "a b"}, width=300
    )
    assert signed_query(body) == [
        ("on", "true"),
        ("off", "false"),
        ("n", "2"),
        ("x", "1.5"),
        ("s", "a b"),
        ("_width", "300"),
    ]


async def test_jpg_is_the_jpeg_extension(auth_client: Client, key: NewKey) -> None:
    fields = {"name": "Lamp", "price": "€ 12"}
    response = await auth_client.post(
        "/v1/sign",
        json={"template": "product", "fields": fields, "format": "jpg", "width": 200, "ttl": 60},
        headers=bearer(key.key),
    )
    assert response.status == 201, await response.text()
    url = (await response.json())["url"]
    assert urlsplit(url).path == "/v1/t/product.jpg"
    image = await auth_client.get(url)
    assert image.status == 200, await image.text()
    assert image.content_type == "image/jpeg"


async def test_a_token_may_not_sign(auth_client: Client, key: NewKey) -> None:
    minted = await auth_client.post(
        "/v1/tokens", json={"scopes": {"templates": ["og-*"]}, "ttl": 600}, headers=bearer(key.key)
    )
    assert minted.status == 201, await minted.text()
    token = (await minted.json())["token"]
    response = await auth_client.post(
        "/v1/sign",
        json={"template": "og-card", "fields": {"title": "Hi"}, "ttl": 60},
        headers=bearer(token),
    )
    await expect_problem(response, 403, "signing-needs-a-key", "only an API key may sign")


async def test_a_template_outside_the_keys_scope_is_403(
    auth_client: Client, og_key: NewKey
) -> None:
    response = await auth_client.post(
        "/v1/sign",
        json={"template": "quote", "fields": {"quote": "No.", "author": "Ada"}, "ttl": 60},
        headers=bearer(og_key.key),
    )
    await expect_problem(response, 403, "scope", "template 'quote' is outside")
    inside = await auth_client.post(
        "/v1/sign",
        json={"template": "og-card", "fields": {"title": "Yes"}, "ttl": 60},
        headers=bearer(og_key.key),
    )
    assert inside.status == 201, await inside.text()


async def test_no_credentials_is_401(auth_client: Client) -> None:
    response = await auth_client.post("/v1/sign", json={"template": "og-card", "ttl": 60})
    await expect_problem(response, 401, "missing-credentials")


async def test_bad_fields_are_named_before_a_url_is_handed_out(
    auth_client: Client, key: NewKey
) -> None:
    response = await auth_client.post(
        "/v1/sign",
        json={"template": "og-card", "fields": {"title": "Hi", "titel": "typo"}, "ttl": 60},
        headers=bearer(key.key),
    )
    problem = await expect_problem(response, 422, "invalid-input")
    assert any(e["field"] == "fields.titel" for e in problem["errors"]), problem
    response = await auth_client.post(
        "/v1/sign",
        json={"template": "og-card", "fields": {"title": "Hi"}, "ttl": 0},
        headers=bearer(key.key),
    )
    await expect_problem(response, 422, "invalid-input")


async def test_a_url_that_would_name_an_option_twice_is_not_handed_out(
    auth_client: Client, key: NewKey
) -> None:
    # A field named "_width" beside the width option: GET /v1/t/ refuses such a query.
    body = {"template": "og-card", "fields": {"title": "Hi", "_width": "300"}, "width": 200}
    response = await auth_client.post("/v1/sign", json=body, headers=bearer(key.key))
    await expect_problem(response, 400, "bad-request", "the query names '_width' twice")


async def test_with_auth_off_signing_is_409(client: Client) -> None:
    response = await client.post(
        "/v1/sign", json={"template": "og-card", "fields": {"title": "Hi"}, "ttl": 60}
    )
    await expect_problem(response, 409, "signing-needs-keys", "signing needs API keys")

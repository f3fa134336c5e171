"""Signed URLs over HTTP (SPEC §4, §9): one that works; each way of breaking one gets its
own problem; an independent implementation of the README's algorithm is accepted."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from PIL import Image

from pixeldrive.auth import key_admin
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.url_signature import sign_url
from pixeldrive.http.app_keys import SETTINGS
from tests.auth.conftest import CHROMIUM_IMG, Client, MakeKey, bearer, expect_problem

PATH = "/v1/t/og-card.png"
FIELDS = {"title": "Hello", "_width": "300"}


def sign(
    key: NewKey, path: str = PATH, fields: Any = None, *, expires_at: int | None = None
) -> str:
    """A URL signed with the key's signing secret, valid 600 s unless `expires_at` says."""
    return sign_url(
        path,
        FIELDS if fields is None else fields,
        kid=key.record.id,
        secret=key.signing_secret,
        expires_at=expires_at,
        ttl=None if expires_at is not None else 600,
    )


def edit(url: str, **changes: str) -> str:
    """The URL with query values replaced (or added), the signature left as it was."""
    path, _, query = url.partition("?")
    pairs = dict(parse_qsl(query, keep_blank_values=True))
    return f"{path}?{urlencode(pairs | changes)}"


def size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


async def test_a_signed_url_renders_without_a_header(client: Client, key: NewKey) -> None:
    before = int(time.time())
    response = await client.get(sign(key))
    assert response.status == 200, await response.text()
    assert response.content_type == "image/png"
    assert size(await response.read()) == (300, 158)
    assert "Vary" not in response.headers  # the extension decides
    max_age = int(response.headers["Cache-Control"].removeprefix("public, max-age="))
    assert 0 < max_age <= 600 + int(time.time()) - before
    location = response.headers["Content-Location"]
    assert location.startswith("/v1/images/")
    assert location.endswith(".png")


async def test_one_field_changed_is_403_tampered(client: Client, key: NewKey) -> None:
    url = sign(key)
    assert (await client.get(url)).status == 200
    for changes in ({"title": "Hellp"}, {"subtitle": "added"}, {"_width": "1200"}):
        response = await client.get(edit(url, **changes))
        await expect_problem(
            response,
            403,
            "signature-tampered",
            "the signature does not match: the URL was altered",
        )
    # Another path with the same query is another URL.
    response = await client.get(url.replace("og-card.png", "og-card.webp"))
    await expect_problem(response, 403, "signature-tampered")


async def test_exp_changed_is_403_tampered_not_expired(client: Client, key: NewKey) -> None:
    url = sign(key)
    exp = int(dict(parse_qsl(url.partition("?")[2]))["exp"])
    for changed in (exp + 86400, exp - 1, int(time.time()) - 5):
        response = await client.get(edit(url, exp=str(changed)))
        await expect_problem(response, 403, "signature-tampered", "the URL was altered")


async def test_an_expired_url_is_403_expired(client: Client, key: NewKey) -> None:
    expired_at = int(time.time()) - 10
    response = await client.get(sign(key, expires_at=expired_at))
    problem = await expect_problem(response, 403, "signature-expired", "the signed URL has expired")
    assert problem["title"] == "Forbidden"


async def test_an_unknown_kid_is_403_unknown_key(client: Client, key: NewKey) -> None:
    url = sign_url(PATH, FIELDS, kid="zzzzzzzzzzzz", secret=key.signing_secret, ttl=600)
    response = await client.get(url)
    await expect_problem(
        response, 403, "signature-unknown-key", "signed with an unknown or revoked key"
    )


async def test_an_unsigned_url_is_401_missing(client: Client, key: NewKey) -> None:
    response = await client.get(f"{PATH}?title=Hello")
    await expect_problem(
        response, 401, "signature-missing", "this URL is not signed: it needs kid, exp and sig"
    )
    url = sign(key)
    without_sig = url.rpartition("&sig=")[0]
    response = await client.get(without_sig)
    await expect_problem(response, 401, "signature-missing")
    # A bearer key does not stand in for a signature.
    response = await client.get(f"{PATH}?title=Hello", headers=bearer(key.key))
    await expect_problem(response, 401, "signature-missing")


async def test_a_malformed_signature_is_403_saying_which(client: Client, key: NewKey) -> None:
    url = sign(key)
    cases = {
        url + "&exp=1": "repeated in the URL: exp",
        edit(url, exp="soon"): "exp must be Unix seconds",
        edit(url, sig="short"): "sig must be 43 characters",
    }
    for bad, wording in cases.items():
        response = await client.get(bad)
        await expect_problem(response, 403, "signature-malformed", "is malformed", wording)


UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def rfc3986(text: str) -> str:
    """Each UTF-8 byte outside A-Z a-z 0-9 - . _ ~ as upper-case %XX."""
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def readme_sign(secret: str, path: str, pairs: list[tuple[str, str]]) -> str:
    """The README's algorithm, written here from its prose, not imported: pairs but sig,
    sorted by the UTF-8 bytes of name then value, `path?n=v&…`, HMAC-SHA256, base64url."""
    kept = sorted(
        ((n, v) for n, v in pairs if n != "sig"), key=lambda p: (p[0].encode(), p[1].encode())
    )
    canonical = path + "?" + "&".join(f"{rfc3986(n)}={rfc3986(v)}" for n, v in kept)
    digest = hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def test_the_independent_implementation_matches_the_published_vector() -> None:
    pairs = [
        ("title", "Hello, world!"),
        ("subtitle", "ünïcode & more/1+1"),
        ("accent", "#ff0066"),
        ("kid", "k_test"),
        ("exp", "1893456000"),
    ]
    sig = readme_sign("pd-test-secret", "/v1/t/og-card.png", pairs)
    assert sig == "riRVf-lu2IVjdfl52Y_xpWyW5n0K2urlIm7koZHcJkY"


async def test_an_independently_signed_url_is_served(client: Client, key: NewKey) -> None:
    fields = {
        "title": "Crème brûlée & co / 1+1=2 #1 ☕ 😀",
        "subtitle": "a b  c?d=e%20f+g",
        "author": "名前 — Zoë",
        "accent": "#ff0066",
    }
    pairs = [*fields.items(), ("_width", "300"), ("kid", key.record.id)]
    pairs.append(("exp", str(int(time.time()) + 600)))
    sig = readme_sign(key.signing_secret, PATH, pairs)
    query = "&".join(f"{rfc3986(n)}={rfc3986(v)}" for n, v in [*pairs, ("sig", sig)])
    response = await client.get(f"{PATH}?{query}")
    assert response.status == 200, await response.text()
    assert response.content_type == "image/png"
    assert size(await response.read()) == (300, 158)
    # The server read every value exactly: the same fields by POST name the same image.
    posted = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": fields, "width": 300},
        headers=bearer(key.key),
    )
    assert (await posted.json())["url"] == response.headers["Content-Location"]


async def test_the_extensionless_url_negotiates(client: Client, key: NewKey) -> None:
    url = sign(key, "/v1/t/og-card")
    for accept, expected in ((CHROMIUM_IMG, "image/avif"), ("image/png", "image/png")):
        response = await client.get(url, headers={"Accept": accept})
        if "X-Fast-First" in response.headers:  # the PNG while the AVIF is encoded
            response = await client.get(url, headers={"Accept": accept})
        assert response.status == 200, await response.text()
        assert response.content_type == expected
        assert response.headers["Vary"] == "Accept"
        assert size(await response.read()) == (300, 158)
    response = await client.get(url, headers={"Accept": "text/html"})
    await expect_problem(response, 406, "not-acceptable", "image/avif")


async def test_the_signing_keys_scopes_apply(client: Client, make_key: MakeKey) -> None:
    og_only = await asyncio.to_thread(make_key, "render,templates=og-*,formats=png")
    quote = sign(og_only, "/v1/t/quote.png", {"quote": "Hi", "author": "A", "_width": "200"})
    response = await client.get(quote)
    await expect_problem(
        response, 403, "scope", "template 'quote' is outside this credential's templates: og-*"
    )
    response = await client.get(sign(og_only, "/v1/t/og-card.webp"))
    await expect_problem(response, 403, "scope", "format 'webp' is not allowed")
    assert (await client.get(sign(og_only))).status == 200


async def test_a_revoked_keys_urls_are_403_unknown_key(client: Client, key: NewKey) -> None:
    url = sign(key)
    assert (await client.get(url)).status == 200
    assert await asyncio.to_thread(key_admin.revoke, client.app[SETTINGS], key.record.id)
    response = await client.get(url)
    await expect_problem(
        response, 403, "signature-unknown-key", "signed with an unknown or revoked key"
    )


@pytest.mark.parametrize(("option", "expected"), [("_width", (600, 315)), ("_height", (600, 315))])
async def test_a_signed_render_option_works_and_is_covered_by_the_signature(
    client: Client, key: NewKey, option: str, expected: tuple[int, int]
) -> None:
    value = "600" if option == "_width" else "315"
    url = sign(key, fields={"title": "Sized", option: value})
    response = await client.get(url)
    assert response.status == 200, await response.text()
    assert size(await response.read()) == expected
    response = await client.get(edit(url, **{option: "1200"}))
    await expect_problem(response, 403, "signature-tampered")
    response = await client.get(edit(url, _scale="2"))
    await expect_problem(response, 403, "signature-tampered")

"""An image fetched with a credential in its header is the caller's own: browsers may
keep it for a year, shared caches may not (a CDN would hand it to anyone, and in the
format this credential negotiated). Signed URLs, public_url included, stay public."""

from __future__ import annotations

import pytest

from pixeldrive.auth.api_keys import NewKey
from tests.auth.conftest import Client, bearer, render

PRIVATE = "private, max-age=31536000, immutable"


@pytest.mark.parametrize("suffix", [".png", ".webp", ""])
async def test_a_header_credential_gets_a_private_answer_hit_or_miss(
    client: Client, key: NewKey, suffix: str
) -> None:
    made = await render(client, key.key, fields={"title": "Private"})
    url = made["url"].rsplit(".", 1)[0] + suffix
    for _ in range(2):  # the first may be drawn or read from disk; the second is a hit
        answer = await client.get(url, headers=bearer(key.key))
        assert answer.status == 200
        assert answer.headers["Cache-Control"] == PRIVATE
    again = await client.get(
        url, headers={**bearer(key.key), "If-None-Match": answer.headers["ETag"]}
    )
    assert again.status == 304
    assert again.headers["Cache-Control"] == PRIVATE


async def test_a_token_gets_a_private_answer(client: Client, key: NewKey) -> None:
    minted = await client.post(
        "/v1/tokens",
        json={"scopes": {"operations": ["render"]}, "ttl": 600},
        headers=bearer(key.key),
    )
    token = (await minted.json())["token"]
    made = await render(client, token, fields={"title": "Token"})
    answer = await client.get(made["url"], headers=bearer(token))
    assert answer.headers["Cache-Control"] == PRIVATE


async def test_the_public_url_stays_public(client: Client, key: NewKey) -> None:
    made = await render(client, key.key, fields={"title": "Shared"})
    answer = await client.get(made["public_url"])
    assert answer.status == 200
    assert answer.headers["Cache-Control"].startswith("public, max-age=")

"""A token narrowed to some templates or formats sees only the batches and the usage its
scopes cover, not everything its key did (issue 18, item 10). A batch outside them is a
404, as another key's is: its existence is not confirmed."""

from __future__ import annotations

import time
from typing import Any

from pixeldrive.auth.api_keys import NewKey
from pixeldrive.http.app_keys import SERVICES
from tests.auth.conftest import FIELDS, Client, bearer, expect_problem, render
from tests.batch.test_embedded import finished as until_done

ITEMS: dict[str, list[dict[str, str]]] = {
    "og-card": [{"title": "Launch"}, {"title": "Sale"}],
    "quote": [FIELDS["quote"]],
}


async def mint(client: Client, key: NewKey, **scopes: Any) -> str:
    body = {"scopes": scopes, "ttl": 600}
    answer = await client.post("/v1/tokens", json=body, headers=bearer(key.key))
    assert answer.status == 201, await answer.text()
    token: str = (await answer.json())["token"]
    return token


async def submit(client: Client, credential: str, template: str, fmt: str = "png") -> str:
    body = {"template": template, "items": ITEMS[template], "format": fmt, "width": 200}
    answer = await client.post("/v1/batches", json=body, headers=bearer(credential))
    assert answer.status == 202, await answer.text()
    url: str = (await answer.json())["url"]
    return url


async def finished(client: Client, url: str, credential: str) -> dict[str, Any]:
    return await until_done(client, url, Authorization=f"Bearer {credential}")


async def usage(client: Client, credential: str) -> dict[str, Any]:
    answer = await client.get("/v1/usage", headers=bearer(credential))
    assert answer.status == 200, await answer.text()
    body: dict[str, Any] = await answer.json()
    return body


async def test_a_token_narrowed_to_og_cannot_read_its_keys_quote_batch(
    client: Client, key: NewKey
) -> None:
    quote_batch = await submit(client, key.key, "quote")
    og_batch = await submit(client, key.key, "og-card")
    await finished(client, quote_batch, key.key)
    narrowed = await mint(client, key, templates=["og-*"], operations=["batch"])
    started = time.monotonic()
    refused = await client.get(quote_batch, headers=bearer(narrowed))
    problem = await expect_problem(refused, 404, "not-found", "no batch")
    assert time.monotonic() - started < 1.0
    assert "quote" not in problem["detail"]  # nothing about the batch is told
    # Its own templates' batch is there; the key itself still sees both.
    assert (await finished(client, og_batch, narrowed))["template"] == "og-card"
    assert (await finished(client, quote_batch, key.key))["template"] == "quote"


async def test_a_token_narrowed_by_format_does_not_see_a_batch_of_another_format(
    client: Client, key: NewKey
) -> None:
    webp = await submit(client, key.key, "og-card", "webp")
    png = await submit(client, key.key, "og-card", "png")
    narrowed = await mint(client, key, formats=["png"], operations=["batch"])
    await expect_problem(await client.get(webp, headers=bearer(narrowed)), 404, "not-found")
    assert (await finished(client, png, narrowed))["format"] == "png"


async def test_a_batch_submitted_by_a_token_is_hidden_from_a_narrower_sibling(
    client: Client, key: NewKey
) -> None:
    wide = await mint(client, key, templates=["og-*", "quote"], operations=["batch"])
    url = await submit(client, wide, "quote")
    await finished(client, url, wide)
    for templates in (["og-*"], ["quot"], ["quote-*"]):
        sibling = await mint(client, key, templates=templates, operations=["batch"])
        answer = await client.get(url, headers=bearer(sibling))
        await expect_problem(answer, 404, "not-found")
    assert (await finished(client, url, await mint(client, key, templates=["q*"])))["done"] == 1


async def test_a_token_narrowed_to_og_reads_only_og_usage(client: Client, key: NewKey) -> None:
    await render(client, key.key, width=300, fields={"title": "one"})
    await render(client, key.key, width=300, fields={"title": "one"})  # a hit
    await render(client, key.key, template="quote", width=300)
    await render(client, key.key, template="quote", width=300)  # a hit
    await render(client, key.key, template="quote", width=320)
    everything = await usage(client, key.key)
    assert {t["template"] for t in everything["templates"]} == {"og-card", "quote"}
    assert everything["totals"]["renders"] == 3
    narrowed = await mint(client, key, templates=["og-*"], operations=["usage:read"])
    body = await usage(client, narrowed)
    [og] = body["templates"]
    assert (og["template"], og["renders"], og["cache_hits"]) == ("og-card", 1, 1)
    assert (body["totals"]["renders"], body["totals"]["cache_hits"]) == (1, 1)
    assert body["totals"]["bytes"] == og["bytes"] < everything["totals"]["bytes"]
    [day] = body["days"]
    assert (day["renders"], day["cache_hits"], day["bytes"]) == (1, 1, og["bytes"])
    assert "quote" not in str(body)


async def test_usage_of_templates_a_token_never_covers_is_empty(
    client: Client, key: NewKey
) -> None:
    await render(client, key.key, width=300)
    await render(client, key.key, template="quote", width=300)
    await client.app[SERVICES].meter.flush()
    for templates in (["certificate"], ["og"], ["og-card-*"]):
        narrowed = await mint(client, key, templates=templates, operations=["usage:read"])
        body = await usage(client, narrowed)
        assert body["templates"] == body["days"] == []
        assert body["totals"] == {"renders": 0, "cache_hits": 0, "bytes": 0}
    # Several globs add up; the key's own view is unchanged.
    both = await mint(client, key, templates=["og-*", "quo*"], operations=["usage:read"])
    assert (await usage(client, both))["totals"] == (await usage(client, key.key))["totals"]

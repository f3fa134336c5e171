"""Metering and quotas over HTTP (SPEC §4): every render recorded durably before the answer,
never twice; hits counted free; usage per day and per template; 429 past the quota while
cached images are still served."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.url_signature import sign_url
from pixeldrive.core.config import Settings
from pixeldrive.http.app_keys import SERVICES, SETTINGS
from pixeldrive.storage.sqlite import SQLiteDatabase
from tests.auth.conftest import Client, MakeKey, bearer, expect_problem, query_db, render


async def rows(client: Client, key_id: str) -> list[tuple[Any, ...]]:
    settings: Settings = client.app[SETTINGS]
    return await asyncio.to_thread(
        query_db,
        settings,
        "SELECT variant, template, format, pixels, ms, bytes, day, month FROM renders"
        " WHERE key_id = ? ORDER BY created",
        key_id,
    )


async def usage(client: Client, credential: str) -> dict[str, Any]:
    response = await client.get("/v1/usage", headers=bearer(credential))
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


async def test_each_render_is_recorded_before_the_answer(client: Client, key: NewKey) -> None:
    made = await render(client, key.key, width=400, format="webp")
    # No flush, no wait: the row is in the database when the 201 arrives.
    [row] = await rows(client, key.record.id)
    variant, template, fmt, pixels, ms, size, day, month = row
    assert variant == f"{made['key']}.webp"
    assert (template, fmt) == ("og-card", "webp")
    assert pixels == made["width"] * made["height"] == 400 * 210
    assert ms > 0
    assert size == made["bytes"]
    assert day == today()
    assert month == today()[:7]
    second = await render(client, key.key, width=400, format="png")  # same key, new format
    assert second["key"] == made["key"]
    assert [r[2] for r in await rows(client, key.record.id)] == ["webp", "png"]


async def test_a_rerender_after_eviction_is_not_billed_twice(client: Client, key: NewKey) -> None:
    made = await render(client, key.key, width=300)
    original = await (await client.get(made["url"], headers=bearer(key.key))).read()
    cache = client.app[SERVICES].pipeline.cache
    await cache.drain()
    await cache.delete(f"{made['key']}.png")
    response = await client.get(made["url"], headers=bearer(key.key))
    assert response.status == 200
    assert response.headers["X-Cache"] == "miss"  # drawn again…
    assert await response.read() == original
    assert len(await rows(client, key.record.id)) == 1  # …and billed once
    totals = (await usage(client, key.key))["totals"]
    assert totals["renders"] == 1
    assert totals["cache_hits"] == 1  # the first GET


async def test_three_renders_and_four_repeats_read_three_renders_and_four_hits(
    client: Client, key: NewKey
) -> None:
    made = [await render(client, key.key, width=300, fields={"title": t}) for t in "ABC"]
    assert [m["cached"] for m in made] == [False, False, False]
    again = await render(client, key.key, width=300, fields={"title": "A"})
    assert again["cached"] is True
    assert (await render(client, key.key, width=300, fields={"title": "B"}))["cached"] is True
    for m in made[:2]:
        response = await client.get(m["url"], headers=bearer(key.key))
        assert response.headers["X-Cache"] == "hit"
    body = await usage(client, key.key)  # flushes the hit counts first
    assert body["key"] == key.record.id
    rendered = sum(m["bytes"] for m in made)
    hit = 2 * made[0]["bytes"] + 2 * made[1]["bytes"]
    assert body["totals"] == {"renders": 3, "cache_hits": 4, "bytes": rendered + hit}
    assert body["days"] == [
        {"day": today(), "renders": 3, "cache_hits": 4} | {"bytes": rendered + hit}
    ]


async def test_usage_per_day_and_per_template_is_the_callers_own(
    client: Client, key: NewKey, make_key: MakeKey
) -> None:
    other = await asyncio.to_thread(make_key, name="other")
    await render(client, other.key, width=300, fields={"title": "theirs"})
    await render(client, key.key, width=300, fields={"title": "one"})
    await render(client, key.key, width=300, fields={"title": "two"})
    quote = await render(client, key.key, template="quote", width=300)
    await render(client, key.key, template="quote", width=300)  # a hit
    await client.get(quote["url"], headers=bearer(key.key))  # a hit
    signed = sign_url(
        "/v1/t/quote.png",
        {"quote": "Keep it simple.", "author": "Ada", "_width": "300"},
        kid=key.record.id,
        secret=key.signing_secret,
        ttl=600,
    )
    assert (await client.get(signed)).status == 200  # a hit, billed to the signing key
    body = await usage(client, key.key)
    per_template = {t["template"]: (t["renders"], t["cache_hits"]) for t in body["templates"]}
    assert per_template == {"og-card": (2, 0), "quote": (1, 3)}
    [day] = body["days"]
    assert (day["day"], day["renders"], day["cache_hits"]) == (today(), 3, 3)
    theirs = await usage(client, other.key)
    assert theirs["totals"]["renders"] == 1
    assert theirs["totals"]["cache_hits"] == 0


@pytest.fixture
def quota_two(make_key: MakeKey) -> NewKey:
    return make_key(quota=2, name="quota")


async def test_past_the_quota_new_renders_are_429_and_hits_still_served(
    client: Client, quota_two: NewKey
) -> None:
    first = await render(client, quota_two.key, width=300, fields={"title": "one"})
    await render(client, quota_two.key, width=300, fields={"title": "two"})
    response = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": {"title": "three"}, "width": 300},
        headers=bearer(quota_two.key),
    )
    await expect_problem(
        response,
        429,
        "quota-exceeded",
        "this key's quota of 2 renders this month is used up",
        "cached images are still served",
    )
    retry = response.headers["Retry-After"]
    assert retry.isdigit()
    assert 0 < int(retry) <= 31 * 86400
    # The same payload again, and its URL: hits, served and counted.
    again = await render(client, quota_two.key, width=300, fields={"title": "one"})
    assert again["cached"] is True
    assert again["url"] == first["url"]
    response = await client.get(first["url"], headers=bearer(quota_two.key))
    assert response.status == 200
    assert response.headers["X-Cache"] == "hit"
    # A new variant of a rendered image is a new render, and a signed URL is no way around.
    response = await client.get(
        first["url"].replace(".png", ".webp"), headers=bearer(quota_two.key)
    )
    await expect_problem(response, 429, "quota-exceeded")
    signed = sign_url(
        "/v1/t/og-card.png",
        {"title": "four", "_width": "300"},
        kid=quota_two.record.id,
        secret=quota_two.signing_secret,
        ttl=600,
    )
    await expect_problem(await client.get(signed), 429, "quota-exceeded")
    totals = (await usage(client, quota_two.key))["totals"]
    assert (totals["renders"], totals["cache_hits"]) == (2, 2)


async def test_a_key_at_its_quota_still_gets_its_own_evicted_image(
    client: Client, quota_two: NewKey
) -> None:
    first = await render(client, quota_two.key, width=300, fields={"title": "one"})
    await render(client, quota_two.key, width=300, fields={"title": "two"})
    cache = client.app[SERVICES].pipeline.cache
    await cache.drain()
    await cache.delete(f"{first['key']}.png")
    response = await client.get(first["url"], headers=bearer(quota_two.key))
    assert response.status == 200, await response.text()
    assert (await usage(client, quota_two.key))["totals"]["renders"] == 2


async def test_the_ledger_row_and_the_spec_take_one_trip(
    client: Client, key: NewKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new render's two writes reach the database thread together (SPEC §4: both before
    the answer), and the key renders again from its stored spec."""
    trips: list[list[str]] = []
    run_all = SQLiteDatabase._run_all

    def counted(self: SQLiteDatabase, loop: Any, calls: list[Any]) -> None:
        trips.append([fn.__name__ for fn, _, _ in calls])
        run_all(self, loop, calls)

    monkeypatch.setattr(SQLiteDatabase, "_run_all", counted)
    made = await render(client, key.key, width=320)
    assert sorted(["_insert", "record_render"]) in [sorted(trip) for trip in trips]
    assert len(await rows(client, key.record.id)) == 1
    service = client.app[SERVICES].pipeline
    assert await service.specs.load(made["key"]) is not None

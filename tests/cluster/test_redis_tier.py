"""The shared tier and the spec store against a real redis-server: round trip, checksum,
TTL, and what happens while Redis is away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from pixeldrive.cache.redis_tier import HEADER_SIZE, PREFIX, RedisTier
from pixeldrive.core.render_spec import RenderSpec
from pixeldrive.storage.redis_link import RedisLink, SharedStoreDown
from pixeldrive.storage.redis_specs import RedisSpecStore
from tests.cluster.redis_server import RedisServer

VARIANT = "0123456789abcdef0123456789abcdef.png"
SPEC = RenderSpec("quote", "v1", {"quote": "Hi"}, 100, 50)


@pytest.fixture
async def link(redis_server: RedisServer) -> AsyncIterator[RedisLink]:
    link = RedisLink(redis_server.url, timeout=1.0)
    await link.open()
    yield link
    await link.close()


class DictSpecs:
    """A hand-written local SpecStore."""

    def __init__(self) -> None:
        self.specs: dict[str, RenderSpec] = {}

    async def save(self, key: str, spec: RenderSpec) -> None:
        self.specs[key] = spec

    async def load(self, key: str) -> RenderSpec | None:
        return self.specs.get(key)


async def wait_until(condition: object, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_round_trip_delete_and_ttl(link: RedisLink, redis_server: RedisServer) -> None:
    tier = RedisTier(link, ttl_seconds=3600, max_entry_bytes=1 << 20)
    assert await tier.get(VARIANT) is None
    await tier.put(VARIANT, b"\x89PNG bytes")
    assert await tier.get(VARIANT) == b"\x89PNG bytes"
    ttl = await link.client.pttl(PREFIX + VARIANT)
    assert 3_500_000 < ttl <= 3_600_000
    await tier.delete(VARIANT)
    assert await tier.get(VARIANT) is None


async def test_a_second_node_reads_what_the_first_wrote(
    link: RedisLink, redis_server: RedisServer
) -> None:
    other = RedisLink(redis_server.url)
    await other.open()
    try:
        await RedisTier(link, max_entry_bytes=1 << 20).put(VARIANT, b"shared")
        assert await RedisTier(other, max_entry_bytes=1 << 20).get(VARIANT) == b"shared"
    finally:
        await other.close()


async def test_corrupt_and_foreign_values_are_misses_and_deleted(link: RedisLink) -> None:
    tier = RedisTier(link, max_entry_bytes=1 << 20)
    await tier.put(VARIANT, b"good bytes")
    raw = bytearray(await link.client.get(PREFIX + VARIANT))
    raw[-1] ^= 0xFF
    await link.client.set(PREFIX + VARIANT, bytes(raw))
    assert await tier.get(VARIANT) is None
    assert await link.client.exists(PREFIX + VARIANT) == 0
    await link.client.set(PREFIX + VARIANT, b"not framed")
    assert await tier.get(VARIANT) is None
    assert tier.corrupt == 2


async def test_oversize_values_are_not_shared(link: RedisLink) -> None:
    tier = RedisTier(link, max_entry_bytes=HEADER_SIZE + 10)
    await tier.put(VARIANT, b"x" * 11)
    assert await link.client.exists(PREFIX + VARIANT) == 0
    await tier.put(VARIANT, b"x" * 10)
    assert await tier.get(VARIANT) == b"x" * 10


async def test_redis_away_is_a_miss_and_comes_back(
    link: RedisLink, redis_server: RedisServer
) -> None:
    tier = RedisTier(link, max_entry_bytes=1 << 20)
    await tier.put(VARIANT, b"kept")
    await asyncio.to_thread(redis_server.stop)
    started = time.monotonic()
    assert await tier.get(VARIANT) is None
    await tier.put(VARIANT, b"ignored")
    assert not link.up
    assert await link.check() is False
    with pytest.raises(SharedStoreDown):
        await link.run(lambda r: r.ping())
    assert time.monotonic() - started < 2.0  # down is noticed once, then skipped
    await asyncio.to_thread(redis_server.start)
    await wait_until(lambda: link.up)
    assert await link.check() is True
    assert await tier.get(VARIANT) == b"kept"  # the append-only file kept it


async def test_specs_are_shared_and_those_saved_while_away_are_sent_later(
    link: RedisLink, redis_server: RedisServer
) -> None:
    a_local, b_local = DictSpecs(), DictSpecs()
    a = RedisSpecStore(link, a_local)
    other = RedisLink(redis_server.url)
    await other.open()
    try:
        b = RedisSpecStore(other, b_local)
        await a.save("k1", SPEC)
        assert await b.load("k1") == SPEC
        assert b_local.specs["k1"] == SPEC  # kept locally for when Redis is away
        await asyncio.to_thread(redis_server.stop)
        await a.save("k2", SPEC)  # lands locally, remembered
        assert a.unsynced == 1
        assert await a.load("k2") == SPEC
        await asyncio.to_thread(redis_server.start)
        await wait_until(lambda: a.unsynced == 0)
        await wait_until(lambda: other.up)
        assert await b.load("k2") == SPEC
    finally:
        await other.close()

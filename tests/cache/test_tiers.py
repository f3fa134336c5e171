"""Contract tests every cache tier passes, plus TieredCache-specific behaviour."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from pixeldrive.cache.disk import HEADER_SIZE, DiskTier
from pixeldrive.cache.memory import MemoryTier
from pixeldrive.cache.tier import CacheTier, Peekable, TierStats
from pixeldrive.cache.tiered import TieredCache

PAYLOAD = 100
MAX_BYTES = 10 * (PAYLOAD + HEADER_SIZE)  # ten disk files, thirteen memory entries


def variant(i: int, ext: str = "png") -> str:
    return f"{i:032x}.{ext}"


def payload(i: int, size: int = PAYLOAD) -> bytes:
    return bytes([i % 251]) * size


@dataclass
class Subject:
    """Uniform view of a tier or a TieredCache for the contract tests."""

    get: Callable[[str], Awaitable[bytes | None]]
    put: Callable[[str, bytes], Awaitable[None]]
    delete: Callable[[str], Awaitable[None]]
    tier_stats: Callable[[], list[TierStats]]
    overheads: list[int]  # per-entry bytes each tier adds to stats().bytes


def single(tier: CacheTier, overhead: int) -> Subject:
    return Subject(tier.get, tier.put, tier.delete, lambda: [tier.stats()], [overhead])


def tiered(cache: TieredCache, overheads: list[int]) -> Subject:
    async def get(v: str) -> bytes | None:
        hit = await cache.get(v)
        return None if hit is None else hit[0]

    return Subject(get, cache.put, cache.delete, lambda: list(cache.stats().values()), overheads)


@pytest.fixture(params=["memory", "disk", "tiered"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    disk = DiskTier(tmp_path / "cache", MAX_BYTES)
    await disk.open()
    if request.param == "memory":
        yield single(MemoryTier(MAX_BYTES), 0)
    elif request.param == "disk":
        yield single(disk, HEADER_SIZE)
    else:
        yield tiered(TieredCache([MemoryTier(MAX_BYTES), disk]), [0, HEADER_SIZE])


def assert_holds(subject: Subject, sizes: list[int]) -> None:
    for stats, overhead in zip(subject.tier_stats(), subject.overheads, strict=True):
        assert stats == TierStats(entries=len(sizes), bytes=sum(sizes) + overhead * len(sizes))


# --- contract ---


async def test_round_trip(subject: Subject) -> None:
    await subject.put(variant(1), b"\x89PNG image bytes")
    assert await subject.get(variant(1)) == b"\x89PNG image bytes"


async def test_miss_returns_none(subject: Subject) -> None:
    assert await subject.get(variant(404)) is None
    assert_holds(subject, [])


async def test_empty_payload_round_trips(subject: Subject) -> None:
    await subject.put(variant(1), b"")
    assert await subject.get(variant(1)) == b""


async def test_overwrite_replaces_value(subject: Subject) -> None:
    await subject.put(variant(1), b"old bytes")
    await subject.put(variant(1), b"new bytes, longer")
    assert await subject.get(variant(1)) == b"new bytes, longer"
    assert_holds(subject, [len(b"new bytes, longer")])


async def test_delete(subject: Subject) -> None:
    await subject.put(variant(1), b"a")
    await subject.put(variant(2), b"b")
    await subject.delete(variant(1))
    await subject.delete(variant(3))  # missing: not an error
    assert await subject.get(variant(1)) is None
    assert await subject.get(variant(2)) == b"b"
    assert_holds(subject, [1])


async def test_stats_count_entries_and_bytes(subject: Subject) -> None:
    sizes = [10, 20, 30]
    for i, size in enumerate(sizes):
        await subject.put(variant(i), payload(i, size))
    assert_holds(subject, sizes)


async def test_distinct_extensions_are_distinct_entries(subject: Subject) -> None:
    await subject.put(variant(1, "png"), b"png")
    await subject.put(variant(1, "webp"), b"webp")
    assert await subject.get(variant(1, "png")) == b"png"
    assert await subject.get(variant(1, "webp")) == b"webp"


async def test_byte_bound_respected_and_recent_entries_survive(subject: Subject) -> None:
    for i in range(50):
        await subject.put(variant(i), payload(i))
        for stats in subject.tier_stats():
            assert stats.bytes <= MAX_BYTES
    for i in range(45, 50):
        assert await subject.get(variant(i)) == payload(i)
    assert await subject.get(variant(0)) is None


async def test_get_refreshes_recency(subject: Subject) -> None:
    for i in range(5):
        await subject.put(variant(i), payload(i))
    assert await subject.get(variant(0)) == payload(0)
    for i in range(5, 14):  # one more than the memory tier holds
        await subject.put(variant(i), payload(i))
    assert await subject.get(variant(0)) == payload(0)
    assert await subject.get(variant(1)) is None


async def test_item_larger_than_bound_is_not_stored(subject: Subject) -> None:
    await subject.put(variant(1), payload(1))
    await subject.put(variant(2), b"x" * (MAX_BYTES + 1))
    assert await subject.get(variant(2)) is None
    assert await subject.get(variant(1)) == payload(1)
    assert_holds(subject, [PAYLOAD])


async def test_oversized_overwrite_drops_stale_value(subject: Subject) -> None:
    await subject.put(variant(1), b"old")
    await subject.put(variant(1), b"x" * (MAX_BYTES + 1))
    assert await subject.get(variant(1)) is None


async def test_large_item_within_bound_round_trips(subject: Subject) -> None:
    big = bytes(range(256)) * ((MAX_BYTES - HEADER_SIZE) // 256)
    await subject.put(variant(1), big)
    assert await subject.get(variant(1)) == big


# --- TieredCache specifics ---


class DictTier:
    """Minimal in-test CacheTier that records calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.data: dict[str, bytes] = {}
        self.gets = 0

    async def get(self, variant: str) -> bytes | None:
        self.gets += 1
        return self.data.get(variant)

    async def put(self, variant: str, data: bytes) -> None:
        self.data[variant] = data

    async def delete(self, variant: str) -> None:
        self.data.pop(variant, None)

    def stats(self) -> TierStats:
        return TierStats(len(self.data), sum(map(len, self.data.values())))


async def test_promotes_from_disk_into_memory(tmp_path: Path) -> None:
    disk = DiskTier(tmp_path, MAX_BYTES)
    await disk.open()
    cache = TieredCache([MemoryTier(PAYLOAD), disk])  # memory holds one entry
    await cache.put(variant(1), payload(1))
    await cache.put(variant(2), payload(2))
    assert cache.peek_memory(variant(1)) is None
    assert await cache.get(variant(1)) == (payload(1), "disk")
    assert await cache.get(variant(1)) == (payload(1), "memory")


async def test_hit_promotes_into_every_tier_above() -> None:
    top, middle, bottom = MemoryTier(MAX_BYTES), DictTier("disk"), DictTier("redis")
    bottom.data[variant(1)] = b"bytes"
    cache = TieredCache([top, middle, bottom])
    assert await cache.get(variant(1)) == (b"bytes", "redis")
    assert middle.data[variant(1)] == b"bytes"
    assert await cache.get(variant(1)) == (b"bytes", "memory")
    assert bottom.gets == 1


async def test_miss_in_all_tiers() -> None:
    cache = TieredCache([MemoryTier(MAX_BYTES), DictTier("disk")])
    assert await cache.get(variant(1)) is None


async def test_put_and_delete_reach_every_tier() -> None:
    lower = DictTier("disk")
    cache = TieredCache([MemoryTier(MAX_BYTES), lower])
    await cache.put(variant(1), b"abc")
    assert cache.stats() == {"memory": TierStats(1, 3), "disk": TierStats(1, 3)}
    await cache.delete(variant(1))
    assert cache.stats() == {"memory": TierStats(0, 0), "disk": TierStats(0, 0)}


async def test_peek_memory_uses_first_tier_peek() -> None:
    memory = MemoryTier(MAX_BYTES)
    assert isinstance(memory, Peekable)
    cache = TieredCache([memory, DictTier("disk")])
    assert cache.peek_memory(variant(1)) is None
    await cache.put(variant(1), b"hot")
    assert cache.peek_memory(variant(1)) == b"hot"


async def test_peek_memory_without_peekable_first_tier() -> None:
    first = DictTier("disk")
    first.data[variant(1)] = b"x"
    assert not isinstance(first, Peekable)
    assert TieredCache([first]).peek_memory(variant(1)) is None


def test_rejects_empty_or_duplicate_tiers() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TieredCache([])
    with pytest.raises(ValueError, match="unique"):
        TieredCache([MemoryTier(1), MemoryTier(2)])


async def test_memory_peek_touches_lru() -> None:
    memory = MemoryTier(2 * PAYLOAD)
    await memory.put(variant(1), payload(1))
    await memory.put(variant(2), payload(2))
    assert memory.peek(variant(1)) == payload(1)
    await memory.put(variant(3), payload(3))
    assert memory.peek(variant(2)) is None
    assert memory.peek(variant(1)) == payload(1)


async def test_on_lookup_hears_every_tier_consulted_once() -> None:
    heard: list[tuple[str, bool]] = []
    lower = DictTier("disk")
    lower.data[variant(1)] = b"cold"
    cache = TieredCache([MemoryTier(MAX_BYTES), lower], on_lookup=lambda t, h: heard.append((t, h)))
    assert cache.peek_memory(variant(1)) is None  # a peek's miss is left to the get after it
    assert await cache.get(variant(1)) == (b"cold", "disk")
    assert await cache.get(variant(2)) is None
    assert cache.peek_memory(variant(1)) == b"cold"
    assert heard == [
        ("memory", False),
        ("disk", True),
        ("memory", False),
        ("disk", False),
        ("memory", True),
    ]


async def test_put_behind_indexes_the_entry_a_worker_wrote(tmp_path: Path) -> None:
    disk = DiskTier(tmp_path, MAX_BYTES)
    await disk.open()
    lower = DictTier("redis")
    cache = TieredCache([MemoryTier(MAX_BYTES), disk, lower])
    writer = cache.writer(variant(1))
    assert writer is not None
    written = await asyncio.to_thread(writer.write, payload(1))
    path = disk.path_for(variant(1))
    inode = path.stat().st_ino
    await cache.put_behind(variant(1), payload(1), written=written)
    await cache.drain()
    assert cache.peek_memory(variant(1)) == payload(1)
    assert disk.stats() == TierStats(1, PAYLOAD + HEADER_SIZE)
    assert path.stat().st_ino == inode  # indexed, not written again
    assert lower.data[variant(1)] == payload(1)  # the other slower tiers still get a copy


async def test_put_behind_writes_itself_when_the_worker_did_not(tmp_path: Path) -> None:
    disk = DiskTier(tmp_path, MAX_BYTES)
    await disk.open()
    cache = TieredCache([MemoryTier(MAX_BYTES), disk])
    await cache.put_behind(variant(1), payload(1), written=None)
    await cache.drain()
    assert await disk.get(variant(1)) == payload(1)


def test_no_writer_without_a_tier_that_adopts() -> None:
    assert TieredCache([MemoryTier(MAX_BYTES), DictTier("disk")]).writer(variant(1)) is None


async def test_put_behind_trims_when_an_adopted_entry_passes_the_bound(tmp_path: Path) -> None:
    disk = DiskTier(tmp_path, 2 * (PAYLOAD + HEADER_SIZE))
    await disk.open()
    cache = TieredCache([MemoryTier(MAX_BYTES), disk])
    for i in range(3):
        writer = cache.writer(variant(i))
        assert writer is not None
        written = await asyncio.to_thread(writer.write, payload(i))
        await cache.put_behind(variant(i), payload(i), written=written)
        await cache.drain()
    assert disk.stats().entries == 1  # trimmed to 90 % of two entries: the newest stays
    assert not disk.path_for(variant(0)).exists()
    assert await disk.get(variant(2)) == payload(2)


def test_no_writer_when_the_disk_tier_keeps_nothing(tmp_path: Path) -> None:
    cache = TieredCache([MemoryTier(MAX_BYTES), DiskTier(tmp_path, 0)])
    assert cache.writer(variant(1)) is None

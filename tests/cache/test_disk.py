"""DiskTier specifics: persistence, corruption, path safety, disk errors and LRU eviction."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
from blockbuster import blockbuster_ctx

from pixeldrive.cache.disk import HEADER_SIZE, MAGIC, DiskTier, DiskWrite

ENTRY = 100  # payload bytes per test entry
FILE = ENTRY + HEADER_SIZE


def variant(i: int) -> str:
    return f"{i:040x}.webp"


def payload(i: int, size: int = ENTRY) -> bytes:
    return bytes([(i * 7 + k) % 256 for k in range(size)])


def files_under(root: Path) -> list[str]:
    """Names of all regular files below ``root`` (sync: blocking I/O is fine in test code)."""
    return sorted(p.name for p in root.rglob("*") if p.is_file())


async def opened(root: Path, max_bytes: int = 100 * FILE) -> DiskTier:
    tier = DiskTier(root, max_bytes)
    await tier.open()
    return tier


async def test_layout_and_file_format(tmp_path: Path) -> None:
    tier = await opened(tmp_path)
    await tier.put(variant(1), b"image")
    path = tmp_path / variant(1)[:2] / variant(1)
    assert tier.path_for(variant(1)) == path
    assert path.read_bytes() == MAGIC + hashlib.sha256(b"image").digest() + b"image"
    assert files_under(tmp_path) == [variant(1)]  # no temp file left


async def test_survives_restart(tmp_path: Path) -> None:
    first = await opened(tmp_path)
    for i in range(3):
        await first.put(variant(i), payload(i))
    second = await opened(tmp_path)
    assert second.stats() == first.stats()
    for i in range(3):
        assert await second.get(variant(i)) == payload(i)


async def test_open_creates_missing_root(tmp_path: Path) -> None:
    tier = await opened(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
    assert tier.errors == 0


async def test_open_removes_stale_temp_files_and_ignores_foreign_files(tmp_path: Path) -> None:
    tier = await opened(tmp_path)
    await tier.put(variant(1), b"kept")
    shard = tmp_path / variant(1)[:2]
    (shard / ".tmp-abc123").write_bytes(b"half written")
    (tmp_path / "README").write_text("not ours")
    (shard / "NOTAVARIANT").write_bytes(b"x")
    restarted = await opened(tmp_path)
    assert not (shard / ".tmp-abc123").exists()
    assert (tmp_path / "README").exists()
    assert restarted.stats().entries == 1
    assert await restarted.get(variant(1)) == b"kept"


async def test_open_restores_lru_order_from_mtime(tmp_path: Path) -> None:
    tier = await opened(tmp_path)
    for i in range(3):
        await tier.put(variant(i), payload(i))
    for i, mtime in enumerate([1000, 3000, 2000]):
        os.utime(tier.path_for(variant(i)), (mtime, mtime))
    # Three files exceed the budget; evicting down to 90 % removes only the oldest.
    smaller = await opened(tmp_path, max_bytes=int(2 * FILE / 0.9) + 1)
    assert smaller.evictions == 1
    assert not tier.path_for(variant(0)).exists()
    assert await smaller.get(variant(1)) == payload(1)
    assert await smaller.get(variant(2)) == payload(2)


def flip_payload_byte(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 0x01])


def flip_digest_byte(raw: bytes) -> bytes:
    return raw[:10] + bytes([raw[10] ^ 0xFF]) + raw[11:]


@pytest.mark.parametrize(
    "damage",
    [
        flip_payload_byte,
        flip_digest_byte,
        lambda raw: raw[:-1],  # truncated payload
        lambda raw: raw[:20],  # truncated header
        lambda raw: b"",
        lambda raw: b"GARBAGE!" * 10,
        lambda raw: b"PDC2" + raw[4:],  # foreign format version
    ],
    ids=[
        "flip-payload",
        "flip-digest",
        "short-payload",
        "short-header",
        "empty",
        "garbage",
        "magic",
    ],
)
async def test_corrupt_file_is_deleted_and_counted(
    tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    tier = await opened(tmp_path)
    await tier.put(variant(1), payload(1))
    path = tier.path_for(variant(1))
    path.write_bytes(damage(path.read_bytes()))

    assert await tier.get(variant(1)) is None
    assert not path.exists()
    assert tier.corrupt == 1
    assert tier.stats().entries == 0

    await tier.put(variant(1), payload(1))
    assert await tier.get(variant(1)) == payload(1)
    assert (tier.corrupt, tier.errors) == (1, 0)


async def test_file_vanishing_behind_our_back_is_a_plain_miss(tmp_path: Path) -> None:
    tier = await opened(tmp_path)
    await tier.put(variant(1), payload(1))
    tier.path_for(variant(1)).unlink()
    assert await tier.get(variant(1)) is None
    assert tier.stats().entries == 0
    assert (tier.corrupt, tier.errors) == (0, 0)


async def test_adopts_files_written_by_another_instance(tmp_path: Path) -> None:
    reader = await opened(tmp_path)
    writer = await opened(tmp_path)
    await writer.put(variant(1), payload(1))
    assert await reader.get(variant(1)) == payload(1)
    assert reader.stats().entries == 1


BAD_VARIANTS = [
    "../../../etc/passwd",
    "../" + variant(1),
    "ab/" + variant(1),
    variant(1) + "/x",
    "/" + variant(1),
    variant(1).upper(),
    variant(1) + "\n",
    "short.png",
    "",
]


@pytest.mark.parametrize("bad", BAD_VARIANTS)
async def test_rejects_unsafe_variant(tmp_path: Path, bad: str) -> None:
    tier = await opened(tmp_path)
    with pytest.raises(ValueError, match="invalid cache variant"):
        await tier.get(bad)
    with pytest.raises(ValueError, match="invalid cache variant"):
        await tier.put(bad, b"x")
    with pytest.raises(ValueError, match="invalid cache variant"):
        await tier.delete(bad)
    assert files_under(tmp_path) == []


async def test_root_that_is_a_file_degrades_to_misses(tmp_path: Path) -> None:
    root = tmp_path / "not-a-dir"
    root.write_bytes(b"")
    tier = await opened(root)
    await tier.put(variant(1), payload(1))
    errors = tier.errors
    assert await tier.get(variant(1)) is None
    assert tier.errors == errors + 1  # not a plain miss: the stat's ENOTDIR is reported
    await tier.delete(variant(1))
    assert tier.errors >= 3
    assert tier.stats().entries == 0


async def test_write_error_is_counted_logged_and_cleaned_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tier = await opened(tmp_path)
    await tier.put(variant(1), b"previous")

    def full_disk(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with caplog.at_level(logging.WARNING, logger="pixeldrive.cache.disk"):
        await tier.put(variant(1), b"new")
        await tier.put(variant(2), b"other")
    monkeypatch.undo()

    assert tier.errors == 2
    assert [r.name for r in caplog.records] == ["pixeldrive.cache.disk"]  # rate limited
    assert "ENOSPC" in caplog.text
    assert files_under(tmp_path) == [variant(1)]  # temp files removed
    assert await tier.get(variant(1)) == b"previous"
    assert await tier.get(variant(2)) is None
    await tier.put(variant(2), b"other")
    assert await tier.get(variant(2)) == b"other"


async def test_read_error_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tier = await opened(tmp_path)
    await tier.put(variant(1), payload(1))

    def broken(self: Path) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(Path, "read_bytes", broken)
    assert await tier.get(variant(1)) is None
    monkeypatch.undo()
    assert (tier.errors, tier.corrupt) == (1, 0)
    assert await tier.get(variant(1)) == payload(1)


async def test_eviction_is_lru_by_access(tmp_path: Path) -> None:
    tier = await opened(tmp_path, max_bytes=4 * FILE)
    for i in range(4):
        await tier.put(variant(i), payload(i))
    assert await tier.get(variant(0)) == payload(0)
    await tier.put(variant(4), payload(4))  # over budget: evict 1 and 2 to reach 90 %

    assert tier.evictions == 2
    assert tier.stats().bytes <= 0.9 * 4 * FILE
    survivors = {i for i in range(5) if tier.path_for(variant(i)).exists()}
    assert survivors == {0, 3, 4}
    assert await tier.get(variant(1)) is None


async def test_item_near_budget_evicts_others_but_itself_stays(tmp_path: Path) -> None:
    tier = await opened(tmp_path, max_bytes=10 * FILE)
    await tier.put(variant(1), payload(1))
    big = payload(2, size=10 * FILE - HEADER_SIZE)
    await tier.put(variant(2), big)
    assert await tier.get(variant(1)) is None
    assert await tier.get(variant(2)) == big
    assert tier.stats().entries == 1


async def test_no_blocking_io_on_the_event_loop(tmp_path: Path) -> None:
    with blockbuster_ctx("pixeldrive") as blocking:
        # The one call allowed: a stat for a variant the index does not hold.
        blocking.functions["os.stat"].can_block_in("pixeldrive/cache/disk.py", "_on_disk")
        tier = await opened(tmp_path, max_bytes=3 * FILE)
        for i in range(5):
            await tier.put(variant(i), payload(i))
        assert await tier.get(variant(4)) == payload(4)
        assert await tier.get(variant(9)) is None
        await tier.delete(variant(4))
        await opened(tmp_path)


async def test_a_miss_the_index_cannot_answer_costs_a_stat_not_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tier = await opened(tmp_path)
    await tier.put(variant(1), payload(1))
    hops: list[object] = []
    to_thread = asyncio.to_thread

    async def counted(fn: Callable[..., object], *args: object) -> object:
        hops.append(fn)
        return await to_thread(fn, *args)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    assert await tier.get(variant(2)) is None
    assert hops == []
    assert await tier.get(variant(1)) == payload(1)  # indexed: read in a thread
    assert len(hops) == 1


async def test_an_entry_written_by_another_process_is_indexed_not_rewritten(
    tmp_path: Path,
) -> None:
    tier = await opened(tmp_path)
    writer = pickle.loads(pickle.dumps(tier.writer(variant(1))))  # crosses to a worker
    assert isinstance(writer, DiskWrite)
    assert await asyncio.to_thread(writer.write, payload(1)) == FILE
    path = tier.path_for(variant(1))
    assert path.read_bytes() == MAGIC + hashlib.sha256(payload(1)).digest() + payload(1)
    assert files_under(tmp_path) == [variant(1)]  # no temp file left
    inode = path.stat().st_ino
    assert tier.adopt(variant(1), FILE) is False  # indexed, within the bound
    assert tier.stats().entries == 1
    assert tier.stats().bytes == FILE
    assert await tier.get(variant(1)) == payload(1)
    assert path.stat().st_ino == inode


async def test_the_writer_declines_what_the_tier_would_not_keep(tmp_path: Path) -> None:
    tier = await opened(tmp_path, max_bytes=2 * FILE)
    assert DiskTier(tmp_path, 0).writer(variant(1)) is None  # a tier that keeps nothing
    too_big = payload(1, size=2 * FILE)
    assert await asyncio.to_thread(tier.writer(variant(1)).write, too_big) is None
    assert files_under(tmp_path) == []
    root = tmp_path / "not-a-dir"
    root.write_bytes(b"")
    unusable = DiskTier(root, 10 * FILE)
    # The OSError stays inside: the tier's own put then reports it.
    assert await asyncio.to_thread(unusable.writer(variant(1)).write, payload(1)) is None


async def test_adopting_past_the_bound_asks_for_a_trim(tmp_path: Path) -> None:
    tier = await opened(tmp_path, max_bytes=3 * FILE)
    for i in range(4):
        size = await asyncio.to_thread(tier.writer(variant(i)).write, payload(i))
        assert size == FILE
        over = tier.adopt(variant(i), size)
        assert over is (i == 3)
    await tier.trim(keep=variant(3))
    assert tier.stats().bytes <= 0.9 * 3 * FILE
    assert not tier.path_for(variant(0)).exists()  # least recent first
    assert await tier.get(variant(3)) == payload(3)

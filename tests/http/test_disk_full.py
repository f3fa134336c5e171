"""A full disk under the cache directory: renders go on, from memory, without the disk tier."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.cache.disk import DiskTier
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, nearly filled: the next cache file cannot fit."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=True)
    try:
        with (mount / "filler").open("wb") as filler, contextlib.suppress(OSError):
            filler.write(b"\0" * (256 * 1024 - 8 * 1024))
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_renders_go_on_when_the_cache_disk_is_full(
    aiohttp_client: Any, make_settings: Any, small_disk: Path
) -> None:
    settings = await asyncio.to_thread(make_settings, cache_dir=small_disk / "cache")
    client = await aiohttp_client(create_app(settings))
    urls = []
    for n in range(3):
        response = await client.post(
            "/v1/renders", json={"template": "quote", "fields": {"quote": f"Full disk {n}."}}
        )
        assert response.status == 201, await response.text()
        urls.append((await response.json())["url"])
    service = client.app[SERVICES].pipeline
    await service.cache.drain()
    disk = service.cache.tiers[1]
    assert isinstance(disk, DiskTier)
    assert disk.errors >= 1  # the writes failed with ENOSPC, and were skipped
    for url in urls:
        fetched = await client.get(url)
        assert fetched.status == 200
        assert fetched.headers["X-Cache"] == "hit"  # from memory
    assert (await client.get("/readyz")).status == 200

"""The state survives: restarts, a corrupted or unusable disk tier, a wiped cache."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.cache.disk import DiskTier
from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES
from pixeldrive.storage.specs import SQLiteSpecStore

BODY = {"template": "quote", "fields": {"quote": "Keep it.", "author": "Persistent"}}


async def first_render(aiohttp_client: Any, settings: Settings) -> tuple[str, bytes]:
    client = await aiohttp_client(create_app(settings))
    created = await (await client.post("/v1/renders", json=BODY)).json()
    data = await (await client.get(created["url"])).read()
    await client.close()
    return created["url"], data


def calls_to(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[object]:
    """The first argument of every call to the async method `cls.name` from now on."""
    seen: list[object] = []
    method = getattr(cls, name)

    async def counted(self: object, first: object, *rest: object) -> object:
        seen.append(first)
        return await method(self, first, *rest)

    monkeypatch.setattr(cls, name, counted)
    return seen


def flip_a_byte(directory: Path) -> int:
    """Corrupt the payload of every cached PNG; returns how many there were."""
    files = list(directory.rglob("*.png"))
    for path in files:
        raw = bytearray(path.read_bytes())
        raw[-10] ^= 0xFF
        path.write_bytes(bytes(raw))
    return len(files)


async def test_restart_serves_the_same_bytes_from_disk(
    aiohttp_client: Any, settings: Settings
) -> None:
    url, data = await first_render(aiohttp_client, settings)
    client = await aiohttp_client(create_app(settings))
    response = await client.get(url)
    assert response.status == 200
    assert response.headers["X-Cache"] == "hit"
    assert await response.read() == data
    again = await (await client.post("/v1/renders", json=BODY)).json()
    assert again["url"] == url
    assert again["cached"] is True


async def test_wiped_cache_re_renders_the_same_bytes(
    aiohttp_client: Any, settings: Settings
) -> None:
    url, data = await first_render(aiohttp_client, settings)
    shutil.rmtree(settings.disk_cache_dir)
    client = await aiohttp_client(create_app(settings))
    response = await client.get(url)
    assert response.status == 200
    assert response.headers["X-Cache"] == "miss"
    assert await response.read() == data


async def test_corrupted_cache_file_is_detected_and_re_rendered(
    aiohttp_client: Any, settings: Settings
) -> None:
    url, data = await first_render(aiohttp_client, settings)
    assert await asyncio.to_thread(flip_a_byte, settings.disk_cache_dir) == 1
    client = await aiohttp_client(create_app(settings))
    response = await client.get(url)
    assert response.status == 200
    assert response.headers["X-Cache"] == "miss"
    assert await response.read() == data
    assert client.app[SERVICES].pipeline.cache.tiers[1].corrupt == 1  # type: ignore[attr-defined]


async def test_unusable_disk_tier_does_not_fail_renders(
    aiohttp_client: Any, make_settings: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    settings = await asyncio.to_thread(make_settings, cache_dir=blocker)
    client = await aiohttp_client(create_app(settings))
    response = await client.post("/v1/renders", json=BODY)
    assert response.status == 201
    created = await response.json()
    fetched = await client.get(created["url"])
    assert fetched.status == 200
    assert fetched.headers["X-Cache"] == "hit"  # from memory


async def test_the_render_worker_writes_the_disk_file(
    aiohttp_client: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's process only indexes the file: it writes no image bytes itself."""
    puts = calls_to(monkeypatch, DiskTier, "put")
    client = await aiohttp_client(create_app(settings))
    created = await (await client.post("/v1/renders", json=BODY)).json()
    service = client.app[SERVICES].pipeline
    await service.cache.drain()
    disk = service.cache.tiers[1]
    assert isinstance(disk, DiskTier)
    variant = f"{created['key']}.png"
    assert puts == []
    assert disk.stats().entries == 1
    assert disk.path_for(variant).is_file()
    assert disk.errors == 0


async def test_a_re_render_from_a_stored_spec_does_not_store_it_again(
    aiohttp_client: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, data = await first_render(aiohttp_client, settings)
    shutil.rmtree(settings.disk_cache_dir)
    saves = calls_to(monkeypatch, SQLiteSpecStore, "save")
    client = await aiohttp_client(create_app(settings))
    response = await client.get(url)
    assert response.headers["X-Cache"] == "miss"
    assert await response.read() == data
    assert saves == []  # drawn from the stored spec: nothing to store, one trip fewer
    again = await client.post("/v1/renders", json=BODY)
    assert (await again.json())["cached"] is True
    assert len(saves) == 1  # a POST always makes sure of its spec

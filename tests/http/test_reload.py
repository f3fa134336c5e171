"""Edited template files are picked up by a running server, without a restart."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES
from tests.waiting import eventually


def copy_templates(target: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "svg_templates", target, ignore=shutil.ignore_patterns("fonts"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


async def wait_for_version(client: Any, old: str) -> dict[str, Any]:
    for _ in range(100):
        body: dict[str, Any] = await (await client.get("/v1/templates/quote")).json()
        if body["version"] != old:
            return body
        await asyncio.sleep(0.05)
    raise AssertionError("the edit was not picked up")


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    return copy_templates(tmp_path / "templates")


@pytest.fixture
async def client(aiohttp_client: Any, make_settings: Any, templates: Path) -> Any:
    """A server watching its own copy of the templates, every 50 ms."""
    settings = await asyncio.to_thread(
        make_settings, templates_dir=templates, templates_poll_seconds=0.05
    )
    return await aiohttp_client(create_app(settings))


async def test_an_edited_template_is_served_and_old_urls_keep_working(
    client: Any, templates: Path
) -> None:
    before = await (await client.get("/v1/templates/quote")).json()
    body = {"template": "quote", "fields": {"quote": "Before the edit."}}
    old = await (await client.post("/v1/renders", json=body)).json()
    old_png = await (await client.get(old["url"])).read()

    await asyncio.to_thread(edit, templates / "quote.svg", "Dieter Rams", "Charles Eames")
    after = await wait_for_version(client, before["version"])
    author = next(f for f in after["fields"] if f["name"] == "author")
    assert author["default"] == "Charles Eames"

    new = await (await client.post("/v1/renders", json=body)).json()
    assert new["key"] != old["key"]  # the version is part of the key
    # The old URL still serves the old pixels, even once its bytes are evicted.
    await client.app[SERVICES].pipeline.cache.drain()
    await client.app[SERVICES].pipeline.cache.delete(f"{old['key']}.png")
    again = await client.get(old["url"])
    assert again.status == 200
    assert await again.read() == old_png


async def test_a_broken_edit_keeps_the_last_good_version(client: Any, templates: Path) -> None:
    before = await (await client.get("/v1/templates/quote")).json()
    await asyncio.to_thread((templates / "quote.svg").write_text, "<svg", "utf-8")
    store = client.app[SERVICES].templates
    await eventually(lambda: "quote" in store.problems(), "the watcher found quote.svg broken")
    during = await client.get("/v1/templates/quote")
    assert during.status == 200
    assert (await during.json())["version"] == before["version"]
    created = await client.post(
        "/v1/renders", json={"template": "quote", "fields": {"quote": "Still here."}}
    )
    assert created.status == 201

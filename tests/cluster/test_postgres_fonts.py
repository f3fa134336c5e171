"""Fonts people bring, across nodes sharing one real PostgreSQL (SPEC §6): a font uploaded
through node A is in the database, node B learns of it within fonts.refresh_seconds,
fetches its file before it draws, and draws the same key with the same pixels."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

from PIL import Image

from pixeldrive.auth import key_admin
from pixeldrive.core.config import Settings, load_settings
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SETTINGS
from tests.auth.conftest import Client, bearer
from tests.cluster.test_postgres_nodes import eventually
from tests.fontmaker import make_font
from tests.http.test_fonts import FAMILY, TEMPLATE

pytest_plugins = ("tests.cluster.conftest_pg",)
REFRESH = 0.3


def node_settings(state: Path, templates: Path, database_url: str) -> Settings:
    return load_settings(
        server={"auth": "on"},
        state_dir=state,
        templates_dir=templates,  # the same template files on both nodes
        templates_poll_seconds=0,
        render={"workers": 1, "queue_depth": 8, "timeout": 20.0},
        access={"key_cache_seconds": 0},
        fonts={"refresh_seconds": REFRESH},
        database_url=database_url,
    )


async def pixels(node: Client, key: str, url: str) -> bytes:
    response = await node.get(url, headers=bearer(key))
    assert response.status == 200, await response.text()
    return Image.open(io.BytesIO(await response.read())).convert("L").tobytes()


async def test_a_font_uploaded_on_node_a_draws_on_node_b(
    aiohttp_client: Any, tmp_path: Path, database_url: str
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "blocks.svg").write_bytes(TEMPLATE)
    nodes: list[Client] = []
    for name in ("a", "b"):
        settings = await asyncio.to_thread(node_settings, tmp_path / name, templates, database_url)
        nodes.append(await aiohttp_client(create_app(settings)))
    a, b = nodes
    made = await asyncio.to_thread(key_admin.create_key, a.app[SETTINGS], "fonts")
    auth = bearer(made.key)

    font = (await asyncio.to_thread(make_font, tmp_path / "blocks.ttf", FAMILY)).read_bytes()
    uploaded = await a.put(
        "/v1/fonts/blocks", data=font, headers={**auth, "Content-Type": "font/ttf"}
    )
    assert uploaded.status == 201, await uploaded.text()
    digest = (await uploaded.json())["face"]["digest"]

    async def b_knows_it() -> bool:
        described = await (await b.get("/v1/templates/blocks", headers=auth)).json()
        return bool(described["fonts"] == [{"family": FAMILY, "source": "uploaded"}])

    await eventually(b_knows_it, seconds=REFRESH + 5)
    b_fonts = b.app[SETTINGS].state_dir / "fonts"
    assert not b_fonts.exists() or not list(b_fonts.iterdir())  # not fetched until needed

    body = {"template": "blocks", "fields": {"title": "Shared"}}
    on_b = await (await b.post("/v1/renders", json=body, headers=auth)).json()
    assert (b_fonts / f"{digest}.ttf").is_file()  # fetched from PostgreSQL to draw
    on_a = await (await a.post("/v1/renders", json=body, headers=auth)).json()
    assert on_a["key"] == on_b["key"]
    assert await pixels(a, made.key, on_a["url"]) == await pixels(b, made.key, on_b["url"])

    # The pixels are the uploaded font's: without it the same text draws differently.
    removed = await b.delete("/v1/fonts/blocks", headers=auth)
    assert removed.status == 204

    async def a_forgot_it() -> bool:
        described = await (await a.get("/v1/templates/blocks", headers=auth)).json()
        return bool(described["fonts"][0]["source"] == "missing")

    await eventually(a_forgot_it, seconds=REFRESH + 5)
    fallback = await (await a.post("/v1/renders", json=body, headers=auth)).json()
    assert fallback["key"] != on_a["key"]
    assert await pixels(a, made.key, fallback["url"]) != await pixels(a, made.key, on_a["url"])

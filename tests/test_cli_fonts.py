"""`pixeldrive fonts add|list|remove` as subprocesses, on the state a running server uses:
what the CLI adds is checked as an upload is, and a server sees it within
fonts.refresh_seconds."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.core.config import Settings
from pixeldrive.http.app import create_app
from tests.auth.conftest import run_cli
from tests.fontmaker import make_font
from tests.http.test_fonts import FAMILY, TEMPLATE

REFRESH = 0.3


def listed(state: Path) -> dict[str, dict[str, Any]]:
    done = run_cli(state, "fonts", "list", "--json")
    assert done.returncode == 0, done.stderr
    return {f["family"]: f for f in json.loads(done.stdout)["families"]}


def test_add_list_remove(tmp_path: Path) -> None:
    state = tmp_path / "state"
    font = make_font(tmp_path / "PD-Test_Blocks.ttf", FAMILY)
    added = run_cli(state, "fonts", "add", str(font))
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"added pd-test_blocks: {FAMILY} Regular (weight 400")
    family = listed(state)[FAMILY]
    assert family["source"] == "uploaded"
    assert family["faces"][0]["name"] == "pd-test_blocks"
    assert family["faces"][0]["licence"]["embedding"] == "installable"
    assert listed(state)["Inter"]["source"] == "bundled"
    text = run_cli(state, "fonts", "list")
    assert f"{FAMILY}  uploaded: Regular 400 [pd-test_blocks]" in text.stdout

    replaced = run_cli(state, "fonts", "add", str(font), "--name", "pd-test_blocks")
    assert replaced.stdout.startswith("replaced pd-test_blocks")
    assert run_cli(state, "fonts", "remove", "pd-test_blocks").returncode == 0
    assert FAMILY not in listed(state)
    again = run_cli(state, "fonts", "remove", "pd-test_blocks")
    assert again.returncode == 1
    assert "no uploaded font 'pd-test_blocks'" in again.stderr


def test_templates_check_knows_the_uploaded_fonts_of_the_state(tmp_path: Path) -> None:
    state = tmp_path / "state"
    svg = tmp_path / "blocks.svg"
    svg.write_bytes(TEMPLATE)
    before = run_cli(state, "templates", "check", str(svg))
    assert f"font '{FAMILY}' is not installed" in before.stdout
    font = make_font(tmp_path / "blocks.ttf", FAMILY)
    assert run_cli(state, "fonts", "add", str(font)).returncode == 0
    after = run_cli(state, "templates", "check", str(svg))
    assert after.returncode == 0, after.stdout
    assert "not installed" not in after.stdout


def test_a_refused_font_is_one_line_and_nothing_is_stored(tmp_path: Path) -> None:
    state = tmp_path / "state"
    svg = tmp_path / "logo.svg"
    svg.write_bytes(TEMPLATE)
    done = run_cli(state, "fonts", "add", str(svg))
    assert done.returncode == 2
    assert done.stderr.startswith("pixeldrive: not a TrueType, OpenType, WOFF or WOFF2 font")
    assert "Traceback" not in done.stderr
    bad_name = run_cli(state, "fonts", "add", str(make_font(tmp_path / "x.ttf")), "--name", "X")
    assert bad_name.returncode == 2
    assert "font name 'X'" in bad_name.stderr
    assert all(f["source"] == "bundled" for f in listed(state).values())


@pytest.fixture
def server_settings(make_settings: Any) -> Settings:
    settings: Settings = make_settings(fonts={"refresh_seconds": REFRESH})
    return settings


async def test_a_running_server_sees_a_font_the_cli_added(
    server_settings: Settings, aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(server_settings))
    response = await client.put(
        "/v1/templates/blocks", data=TEMPLATE, headers={"Content-Type": "image/svg+xml"}
    )
    assert response.status == 201
    font = await asyncio.to_thread(make_font, tmp_path / "blocks.ttf", FAMILY)
    added = await asyncio.to_thread(run_cli, server_settings.state_dir, "fonts", "add", str(font))
    assert added.returncode == 0, added.stderr
    started = time.monotonic()
    while True:
        described = await (await client.get("/v1/templates/blocks")).json()
        if described["fonts"] == [{"family": FAMILY, "source": "uploaded"}]:
            break
        assert time.monotonic() - started < REFRESH + 2, described
        await asyncio.sleep(0.05)
    rendered = await client.post("/v1/renders", json={"template": "blocks", "fields": {}})
    assert rendered.status == 201, await rendered.text()

"""Cluster fixtures: a real redis-server per test, and settings for nodes sharing it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.core.config import Settings, load_settings
from tests.cluster.redis_server import RedisServer
from tests.conftest import TEMPLATES_DIR

# Cluster mode needs the key that encrypts the signing secrets given, the same on every
# node and for the CLI (as a deployment gives it): one for every test here.
SECRETS_KEY = base64.b64encode(hashlib.sha256(b"pixeldrive cluster tests").digest()).decode()


@pytest.fixture(autouse=True)
def secrets_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PIXELDRIVE_SECRETS__KEY", SECRETS_KEY)
    return SECRETS_KEY


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def node_settings(tmp_path: Path, redis_server: RedisServer) -> Callable[..., Settings]:
    """Settings of node `name`: its own state directory, the shared Redis."""

    def make(name: str, **overrides: Any) -> Settings:
        render = {"workers": 1, "queue_depth": 8, "timeout": 20.0} | overrides.pop("render", {})
        base: dict[str, Any] = {
            "server": {"auth": "off"},
            "state_dir": tmp_path / name,
            "templates_dir": TEMPLATES_DIR,
            "templates_poll_seconds": 0,
            "render": render,
            "redis_url": redis_server.url,
        }
        return load_settings(**(base | overrides))

    return make

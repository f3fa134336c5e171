"""Shared fixtures: settings on a temporary state dir, a running app, a loop-blocking guard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from blockbuster import BlockBuster, blockbuster_ctx
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from pixeldrive.core.config import PROJECT_ROOT, Settings, load_settings
from pixeldrive.http.app import create_app

TEMPLATES_DIR = PROJECT_ROOT / "svg_templates"
GOLDEN_DIR = Path(__file__).parent / "golden"

# A shared 2-core machine makes wall-clock deadlines flaky; correctness is what we test.
hypothesis_settings.register_profile(
    "pixeldrive", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("pixeldrive")


@pytest.fixture(autouse=True)
def blockbuster() -> Iterator[BlockBuster]:
    """Fail any test whose event loop makes a blocking call inside pixeldrive's code."""
    with blockbuster_ctx("pixeldrive") as bb:
        # A dead pool's semaphores are finalised whenever the garbage collector runs, on
        # whatever stack is current: that tiny pipe write is the stdlib's, not ours.
        bb.functions["os.write"].can_block_in(
            "multiprocessing/resource_tracker.py", {"_check_alive", "_send"}
        )
        # The disk tier's one allowed call: a stat for a variant its index does not hold
        # (microseconds on a local directory; a thread hop costs about 120 µs of CPU).
        bb.functions["os.stat"].can_block_in("pixeldrive/cache/disk.py", "_on_disk")
        yield bb


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Settings isolated in tmp_path; keyword overrides are nested dicts or values."""

    def make(**overrides: Any) -> Settings:
        render = {"workers": 1, "queue_depth": 4, "timeout": 20.0} | overrides.pop("render", {})
        # Most tests are about rendering; the auth tests turn authentication on.
        server = {"auth": "off"} | overrides.pop("server", {})
        base: dict[str, Any] = {
            "server": server,
            "state_dir": tmp_path / "state",
            "templates_dir": TEMPLATES_DIR,
            "templates_poll_seconds": 0,
            "render": render,
        }
        return load_settings(**(base | overrides))

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> TestClient[Any, Any]:
    """A client of a running app with one render worker."""
    return await aiohttp_client(create_app(settings))

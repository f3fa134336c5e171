"""A batch outlives the node it was submitted to: real `pixeldrive serve` processes, one
killed with SIGKILL mid-batch, another takes its items over."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.redis_server import RedisServer
from tests.conftest import TEMPLATES_DIR
from tests.http.test_shutdown import free_port, wait_ready

ITEMS = 200


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


class Nodes:
    def __init__(self, tmp_path: Path, redis_url: str) -> None:
        self.tmp_path, self.redis_url = tmp_path, redis_url
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        env = {
            **os.environ,
            "PIXELDRIVE_AUTH": "off",
            "PIXELDRIVE_PORT": str(port),
            "PIXELDRIVE_STATE_DIR": str(self.tmp_path / name),
            "PIXELDRIVE_TEMPLATES_DIR": str(TEMPLATES_DIR),
            "PIXELDRIVE_WORKERS": "1",
            "PIXELDRIVE_REDIS_URL": self.redis_url,
            "PIXELDRIVE_BATCH__CLAIM_TIMEOUT": "2",
            "PIXELDRIVE_BATCH__CONCURRENCY": "2",
        }
        with (self.tmp_path / f"{name}.log").open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "pixeldrive.cli", "serve"],
                env=env,
                stdout=sink,
                stderr=sink,
            )
        self.running.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, process)
        return base, process

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture
def nodes(tmp_path: Path, redis_server: RedisServer) -> Iterator[Nodes]:
    started = Nodes(tmp_path, redis_server.url)
    try:
        yield started
    finally:
        started.stop_all()


def test_a_batch_submitted_to_a_killed_node_completes_on_another(
    nodes: Nodes, redis_server: RedisServer
) -> None:
    a, node_a = nodes.start("a")
    items = [{"quote": f"Item number {i}.", "author": "Takeover"} for i in range(ITEMS)]
    status, created = call(
        a, "POST", "/v1/batches", {"template": "quote", "items": items, "width": 108}
    )
    assert status == 202
    path = created["url"]
    deadline = time.monotonic() + 60
    while (state := call(a, "GET", path)[1])["done"] < 10:
        assert time.monotonic() < deadline, state
        time.sleep(0.05)
    node_a.send_signal(signal.SIGKILL)
    node_a.wait()
    assert state["done"] < ITEMS
    assert b"pd-workers" in redis_server.command("XINFO", "GROUPS", "pd:batches")

    b, _node_b = nodes.start("b")
    deadline = time.monotonic() + 240
    while (state := call(b, "GET", path)[1])["status"] != "done":
        assert time.monotonic() < deadline, {k: v for k, v in state.items() if k != "results"}
        time.sleep(0.25)
    assert (state["total"], state["done"], state["failed"]) == (ITEMS, ITEMS, 0)
    urls = [result["url"] for result in state["results"]]
    assert len(set(urls)) == ITEMS  # every item once, each its own image
    for i in (0, 1, 99, ITEMS - 1):  # in order: item i's result is item i's image
        status, single = call(
            b, "POST", "/v1/renders", {"template": "quote", "fields": items[i], "width": 108}
        )
        assert status == 201
        assert single["url"] == urls[i]
        assert single["cached"] is True
    assert redis_server.command("XLEN", "pd:batches") == b":0\r\n"  # nothing left over
    # A held items it never finished; B claimed them once they sat idle past the timeout.
    assert "took over" in (nodes.tmp_path / "b.log").read_text()

"""A batch outlives its server without Redis: a real `pixeldrive serve` is killed with
SIGKILL in the middle of a 500-item batch and started again on the same state directory;
the batch completes, each item drawn once, billed once and recorded once."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth.conftest import cli_env, run_cli
from tests.conftest import PROJECT_ROOT, TEMPLATES_DIR
from tests.http.test_shutdown import free_port, wait_ready
from tests.procs import worker_pids
from tests.waiting import wait_until

ITEMS = 500
WIDTH = 64  # small images: 500 of them draw in seconds
CONCURRENCY = 2


class Server:
    """`pixeldrive serve` on one state directory, started as often as asked."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.state = tmp_path / "state"
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self, run: str) -> None:
        port = free_port()
        env = cli_env(
            self.state,
            PIXELDRIVE_PORT=str(port),
            PIXELDRIVE_TEMPLATES_DIR=str(TEMPLATES_DIR),
            PIXELDRIVE_WORKERS=str(CONCURRENCY),
            PIXELDRIVE_BATCH__CONCURRENCY=str(CONCURRENCY),
        )
        with (self.tmp_path / f"{run}.log").open("wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pixeldrive.cli", "serve"],
                env=env,
                cwd=PROJECT_ROOT,
                stdout=sink,
                stderr=sink,
            )
        self.base = f"http://127.0.0.1:{port}"
        wait_ready(self.base, self.process)

    def kill(self) -> None:
        """SIGKILL, then wait until its render workers have noticed and exited too (one
        may have finished its image just before: its file is then on disk)."""
        assert self.process is not None
        workers = worker_pids(parent=self.process.pid)
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        wait_until(
            lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers),
            "the killed server's render workers exited",
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def call(self, key: str, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            raw = answer.read()
            return json.loads(raw) if answer.headers.get_content_type().endswith("json") else raw

    def drawn(self) -> int:
        """Images this server process has drawn since it started (its pool's count)."""
        text = self.call("", "GET", "/metrics").decode()
        line = 'pixeldrive_renders_total{format="png",outcome="ok"} '
        return sum(
            int(float(ln.removeprefix(line))) for ln in text.splitlines() if ln.startswith(line)
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    started = Server(tmp_path)
    try:
        yield started
    finally:
        started.stop()


def on_disk(state: Path) -> set[str]:
    """The images in the disk tier, as variants (`{key}.png`)."""
    return {p.name for p in (state / "cache").rglob("*.png")}


def stored(state: Path) -> tuple[set[str], dict[int, str]]:
    """From the database file: the variants billed, and the batch results recorded."""
    with sqlite3.connect(state / "pixeldrive.sqlite3") as db:
        billed = {row[0] for row in db.execute("SELECT variant FROM renders")}
        results = db.execute("SELECT item, result FROM batch_items WHERE result IS NOT NULL")
        return billed, {int(item): str(result) for item, result in results}


def test_a_batch_killed_mid_way_resumes_on_restart_each_item_once(
    server: Server, tmp_path: Path
) -> None:
    made = run_cli(server.state, "keys", "create", "--name", "batch", "--json",
                   "--scopes", "batch,render,usage:read")  # fmt: skip
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    server.start("first")
    items = [{"quote": f"Item {i}.", "author": "Kill"} for i in range(ITEMS)]
    created = server.call(
        key, "POST", "/v1/batches", {"template": "quote", "items": items, "width": WIDTH}
    )
    path = created["url"]
    deadline = time.monotonic() + 120
    while (state := server.call(key, "GET", path))["done"] < 100:
        assert time.monotonic() < deadline, {k: v for k, v in state.items() if k != "results"}
        time.sleep(0.02)
    server.kill()
    billed, recorded = stored(server.state)
    drawn_before = on_disk(server.state)
    assert 100 <= len(recorded) < ITEMS, "killed in the middle"
    # A worker may have finished an image just as its server was killed (the server
    # then died before billing it; the workers die with the server within a fraction of
    # a second): at most one per worker, drawn but neither billed nor recorded.
    unbilled = drawn_before - billed
    assert len(unbilled) <= CONCURRENCY, unbilled

    server.start("second")
    deadline = time.monotonic() + 240
    while (state := server.call(key, "GET", path))["status"] != "done":
        assert time.monotonic() < deadline, {k: v for k, v in state.items() if k != "results"}
        time.sleep(0.1)
    assert (state["total"], state["done"], state["failed"]) == (ITEMS, ITEMS, 0)
    results = state["results"]
    urls = [result["url"] for result in results]
    assert len(set(urls)) == ITEMS  # a result per item, each its own image
    # What the first server recorded is kept as it was, not recorded again.
    for item, result in recorded.items():
        assert results[item] == json.loads(result)
    # Drawn once: the second server drew exactly the images the first had not; those the
    # first left unbilled were found in the cache.
    assert server.drawn() == ITEMS - len(drawn_before)
    assert all(r["cached"] for r in results if r["url"].rsplit("/", 1)[1] in unbilled)
    assert on_disk(server.state) == {url.rsplit("/", 1)[1] for url in urls}
    # Billed once per image (and the unbilled gap above, never twice).
    usage = server.call(key, "GET", "/v1/usage")
    assert usage["totals"]["renders"] == ITEMS - len(unbilled)
    for i in (0, 1, 250, ITEMS - 1):  # in order: item i's result is item i's image
        single = server.call(
            key, "POST", "/v1/renders", {"template": "quote", "fields": items[i], "width": WIDTH}
        )
        assert (single["url"], single["cached"]) == (urls[i], True)
    assert "resuming" in (tmp_path / "second.log").read_text()
    mode = (server.state / "pixeldrive.sqlite3").stat().st_mode & 0o777
    assert mode == 0o600  # the batches' file is as private as before

"""SIGTERM: stop accepting, finish the renders in flight, flush the ledger, exit 0.
SIGKILL: the render workers go with the server, drawing or not."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.http.test_faults import write_templates
from tests.procs import cpu_seconds, drawing, running, worker_pids
from tests.waiting import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    def ready() -> bool:
        assert process.poll() is None, "the server exited during start-up"
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    wait_until(ready, "the server became ready", within=60, interval=0.05)


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def post(base: str, body: dict[str, Any], out: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{base}/v1/renders",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            out["status"], out["body"] = answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        out["status"], out["body"] = exc.code, exc.read()


def start_server(
    tmp_path: Path, port: int, *, workers: int, timeout: int
) -> subprocess.Popen[bytes]:
    """`pixeldrive serve` on `port` with the slow template and auth off; its log in
    tmp_path/server.log."""
    env = {
        **os.environ,
        "PIXELDRIVE_AUTH": "off",
        "PIXELDRIVE_PORT": str(port),
        "PIXELDRIVE_STATE_DIR": str(tmp_path / "state"),
        "PIXELDRIVE_TEMPLATES_DIR": str(write_templates(tmp_path / "templates")),
        "PIXELDRIVE_WORKERS": str(workers),
        "PIXELDRIVE_RENDER_TIMEOUT": str(timeout),
    }
    with (tmp_path / "server.log").open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "pixeldrive.cli", "serve"], env=env, stdout=sink, stderr=sink
        )


def test_sigterm_finishes_in_flight_renders_and_exits_0(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port, workers=1, timeout=30)
    log = tmp_path / "server.log"
    try:
        wait_ready(base, server)
        (worker,) = worker_pids(parent=server.pid)
        idle = cpu_seconds(worker)
        result: dict[str, Any] = {}
        slow = threading.Thread(
            target=post, args=(base, {"template": "slow", "fields": {"label": "drain"}}, result)
        )
        slow.start()
        wait_until(lambda: drawing(worker, idle), "the worker started on the slow render")
        server.send_signal(signal.SIGTERM)
        wait_until(lambda: not accepts_connections(port), "the server stopped listening")
        refused: dict[str, Any] = {}
        try:
            post(base, {"template": "quote", "fields": {"quote": "Too late."}}, refused)
        except OSError as exc:
            refused["error"] = exc
        slow.join(timeout=30)
        code = server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    output = log.read_text()
    assert result.get("status") == 201, (result, output)
    assert "error" in refused, f"a new request was accepted after SIGTERM: {refused}"
    assert code == 0, output
    with sqlite3.connect(tmp_path / "state" / "pixeldrive.sqlite3") as db:
        billed = db.execute("SELECT template, format FROM renders").fetchall()
    assert billed == [("slow", "png")]


def post_until_cut(base: str, body: dict[str, Any]) -> None:
    """POST a render whose server is killed before it answers."""
    with contextlib.suppress(OSError):
        post(base, body, {})


def test_sigkill_takes_the_render_workers_with_the_server(tmp_path: Path) -> None:
    # Before: a worker drawing when its server was SIGKILLed kept drawing to the end (then
    # wrote a cache file no one billed); only an idle one noticed at once (end of file).
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port, workers=2, timeout=60)
    workers: list[int] = []
    try:
        wait_ready(base, server)
        workers = worker_pids(parent=server.pid)
        assert len(workers) == 2
        idle = {pid: cpu_seconds(pid) for pid in workers}
        body = {"template": "slow", "fields": {"label": "orphan"}}
        client = threading.Thread(target=post_until_cut, args=(base, body))
        client.start()
        wait_until(
            lambda: any(drawing(pid, idle[pid]) for pid in workers),
            "a worker started on the slow render",
        )
        server.send_signal(signal.SIGKILL)
        server.wait()
        killed = time.monotonic()
        wait_until(
            lambda: not any(running(pid) for pid in workers),
            lambda: f"the workers {workers} exited with their server",
            within=2.0,  # about 0.1 s idle; 0.3-0.6 s on a loaded 2-core machine (nice 10)
        )
        print(f"workers gone {time.monotonic() - killed:.3f} s after the server")
        client.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid in workers:  # none left behind when the test fails
            if running(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    # The render takes seconds: a worker that went with its server never finished it.
    assert not list((tmp_path / "state" / "cache").rglob("*.png")), "drawn after the kill"

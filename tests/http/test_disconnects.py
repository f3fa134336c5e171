"""A client that hangs up halfway through its request body: the server logs no error and no
traceback for it, and goes on serving. A real `pixeldrive serve` (as run in production: a
handler is not cancelled when its client goes) and real sockets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.http.test_shutdown import free_port, wait_ready
from tests.waiting import wait_until

HALF_JSON = b'{"template": "og-card", "fields": {"title": "' + b"x" * 2000


@dataclass(frozen=True)
class Server:
    base: str
    port: int
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("disconnects")
    port = free_port()
    env = {
        **os.environ,
        "PIXELDRIVE_AUTH": "off",
        "PIXELDRIVE_PORT": str(port),
        "PIXELDRIVE_STATE_DIR": str(root / "state"),
        "PIXELDRIVE_WORKERS": "1",
        "PIXELDRIVE_SERVER__LOG_LEVEL": "DEBUG",
    }
    log = root / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "pixeldrive.cli", "serve"], env=env, stdout=sink, stderr=sink
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        yield Server(f"http://127.0.0.1:{port}", port, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def responses(server: Server, route: str) -> int:
    """How many answers the server has counted on `route` (its /metrics)."""
    with urllib.request.urlopen(f"{server.base}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in text.splitlines()
        if line.startswith("pixeldrive_http_responses_total{") and f'route="{route}"' in line
    )


def hang_up(server: Server, head: str, body: bytes) -> None:
    """Send `head` and part of a body on a real socket, then close it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body)
        time.sleep(0.1)  # the handler is reading the body when the peer goes


def head(method: str, path: str, *headers: str) -> str:
    return "\r\n".join((f"{method} {path} HTTP/1.1", "Host: pixeldrive.test", *headers))


def loud_lines(log: str) -> list[str]:
    """Log lines at WARNING or above, and any traceback."""
    loud = []
    for line in log.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if "Traceback" in line or "Error" in line:
                loud.append(line)
            continue
        if record.get("level") not in ("DEBUG", "INFO") or "exc" in record:
            loud.append(line)
    return loud


CASES = {
    # The mistake: a JSON render request announced at 100 kB, cut after 2 kB.
    "render, content-length": (
        "/v1/renders",
        head("POST", "/v1/renders", "Content-Type: application/json", "Content-Length: 100000"),
        HALF_JSON,
    ),
    # Variant: the same body chunked, cut in the middle of a chunk.
    "render, chunked": (
        "/v1/renders",
        head("POST", "/v1/renders", "Content-Type: application/json", "Transfer-Encoding: chunked"),
        b"%x\r\n" % 50_000 + HALF_JSON,
    ),
    # Variant: a template upload (a raw SVG body), cut.
    "template upload": (
        "/v1/templates/{id}",
        head("PUT", "/v1/templates/half", "Content-Type: image/svg+xml", "Content-Length: 90000"),
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">' + b" " * 3000,
    ),
    # Variant: a font upload, whose limit is above the server's: read in pieces.
    "font upload": (
        "/v1/fonts/{name}",
        head("PUT", "/v1/fonts/half", "Content-Type: font/ttf", "Content-Length: 400000"),
        b"\x00\x01\x00\x00" + b"\x00" * 70_000,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_body_cut_short_is_not_logged_as_an_error(server: Server, case: str) -> None:
    route, request_head, body = CASES[case]
    before = responses(server, route)
    logged = server.log.stat().st_size
    hang_up(server, request_head, body)
    wait_until(lambda: responses(server, route) > before, f"the server finished with {case}")
    with server.log.open("rb") as handle:
        handle.seek(logged)
        log = handle.read().decode()
    assert loud_lines(log) == []
    with urllib.request.urlopen(f"{server.base}/healthz", timeout=5) as answer:
        assert answer.status == 200


def test_a_head_cut_short_is_not_logged_either(server: Server) -> None:
    logged = server.log.stat().st_size
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /v1/renders HTTP/1.1\r\nHost: pixeldrive.test\r\nContent-Le")
    with urllib.request.urlopen(f"{server.base}/healthz", timeout=5) as answer:
        assert answer.status == 200
    with server.log.open("rb") as handle:
        handle.seek(logged)
        assert loud_lines(handle.read().decode()) == []

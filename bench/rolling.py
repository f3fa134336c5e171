#!/usr/bin/env python3
"""A rolling restart under load: two cluster nodes (one Redis, one PostgreSQL) behind
nginx with conf/nginx.conf, each stopped with SIGTERM and started again in turn while
clients keep rendering and reading images through nginx.

The load: `--clients` clients through nginx, each in a loop: 3 GETs of images rendered
before (hits) for every POST of a new og-card title (a render). The sequence: `--settle`
seconds of load, then node 1 gets SIGTERM; once it has exited it is started again on the
same port and state dir; `--settle` seconds after it is ready, node 2 the same; then
`--settle` seconds more. Every answer is counted by kind and status, with the time it
took; a 503 must carry `Retry-After`. The aim: no answer other than 200 (hits) and 201
(renders), or 503 with `Retry-After` for a render while a node drains; no request lost.

Run it with ``python bench/rolling.py [--clients N] [--settle S] [--write]`` (redis-server,
PostgreSQL and nginx installed: ``bench/cluster`` and ``scripts/test`` install them);
``--write`` puts the figures into bench/README.md between the ``rolling`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from cluster import create_database, start_postgres, start_redis
from common import (
    HOST,
    ROOT,
    command_line,
    free_port,
    machine_line,
    percentile,
    pixeldrive_command,
    pixeldrive_env,
    python_version,
    running,
    section,
    source_state,
    stop,
    table,
    tail,
    wait_ready,
    write_readme,
)

BEGIN, END = "<!-- rolling:begin -->", "<!-- rolling:end -->"
EXAMPLE = ROOT / "conf" / "nginx.conf"
HITS_PER_RENDER = 3
POOL = 20  # images rendered before the load, read as hits


@dataclass(slots=True)
class Answers:
    statuses: Counter[tuple[str, int | str]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    bare_503: int = 0  # 503s without Retry-After
    events: list[tuple[float, str]] = field(default_factory=list)

    def add(self, kind: str, status: int | str, seconds: float) -> None:
        self.statuses[kind, status] += 1
        self.latencies.setdefault(f"{kind} {status}", []).append(seconds * 1000)


def nginx_conf(port: int, nodes: Sequence[int], work: Path) -> str:
    """conf/nginx.conf with these nodes, this port and paths under `work`."""
    text = EXAMPLE.read_text()
    found = re.search(r"^\s*server 127\.0\.0\.1:\d+ ([^\n]*);\n", text, flags=re.M)
    assert found is not None, "conf/nginx.conf has no upstream server line"
    params = found.group(1)  # the example's own max_fails and fail_timeout
    servers = "".join(f"        server {HOST}:{p} {params};\n" for p in nodes)
    text = re.sub(r"^\s*server 127\.0\.0\.1:\d+ [^\n]*;\n", "", text, flags=re.M)
    text = text.replace("least_conn;\n", "least_conn;\n" + servers, 1)
    text = text.replace("listen 8080;", f"listen {HOST}:{port};", 1)
    text = text.replace("/var/cache/nginx/pixeldrive", str(work / "cache"), 1)
    text = text.replace("worker_processes auto;", "worker_processes 1;", 1)
    temp = "".join(
        f"    {kind}_temp_path {work / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = text.replace("http {\n", "http {\n" + temp + "    access_log off;\n", 1)
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"{user}pid {work / 'nginx.pid'};\n{text}"


@contextlib.contextmanager
def nginx(port: int, nodes: Sequence[int], work: Path) -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = work / "nginx.conf"
    conf.write_text(nginx_conf(port, nodes, work))
    log = work / "nginx-error.log"
    cmd = [binary, "-p", str(work), "-e", str(log), "-c", str(conf), "-g", "daemon off;"]
    with running(cmd, dict(os.environ), work / "nginx.out"):
        base = f"http://{HOST}:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port)):
                break
            time.sleep(0.05)
        yield base


@dataclass(slots=True)
class Node:
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            pixeldrive_command(self.port),
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        asyncio.run(wait_ready(f"http://{HOST}:{self.port}", self.proc, self.log))


async def client(
    base: str, pool: list[str], tag: str, answers: Answers, done: asyncio.Event
) -> None:
    async with aiohttp.ClientSession() as session:
        i = 0
        while not done.is_set():
            i += 1
            for n in range(HITS_PER_RENDER):
                await one(session, "hit", "GET", base + pool[(i + n) % len(pool)], None, answers)
            body = {"template": "og-card", "fields": {"title": f"Rolling {tag} {i}"}}
            await one(session, "render", "POST", base + "/v1/renders", body, answers)


async def one(
    session: aiohttp.ClientSession,
    kind: str,
    method: str,
    url: str,
    body: dict[str, object] | None,
    answers: Answers,
) -> None:
    started = time.monotonic()
    try:
        async with session.request(method, url, json=body) as resp:
            await resp.read()
            if resp.status == 503 and "Retry-After" not in resp.headers:
                answers.bare_503 += 1
            answers.add(kind, resp.status, time.monotonic() - started)
            if resp.status == 503:
                await asyncio.sleep(float(resp.headers.get("Retry-After", "1")))
    except (TimeoutError, aiohttp.ClientError) as exc:
        answers.add(kind, type(exc).__name__, time.monotonic() - started)


async def load(base: str, clients: int, nodes: list[Node], settle: float) -> Answers:
    answers = Answers()
    tag = secrets.token_hex(3)
    async with aiohttp.ClientSession() as session:
        pool = []
        for i in range(POOL):
            body = {"template": "og-card", "fields": {"title": f"Pool {tag} {i}"}}
            async with session.post(base + "/v1/renders", json=body) as resp:
                pool.append((await resp.json())["url"])
    done = asyncio.Event()
    tasks = [
        asyncio.create_task(client(base, pool, f"{tag}-{c}", answers, done)) for c in range(clients)
    ]
    start = time.monotonic()
    await asyncio.sleep(settle)
    for index, node in enumerate(nodes, start=1):
        assert node.proc is not None
        answers.events.append((time.monotonic() - start, f"node {index}: SIGTERM"))
        node.proc.terminate()
        try:
            code = await asyncio.to_thread(node.proc.wait, 25)
        except subprocess.TimeoutExpired:
            message = f"node {index} still up 25 s after SIGTERM:\n{tail(node.log)}"
            raise RuntimeError(message) from None
        answers.events.append((time.monotonic() - start, f"node {index}: exited {code}"))
        await asyncio.to_thread(node.start)
        answers.events.append((time.monotonic() - start, f"node {index}: ready again"))
        await asyncio.sleep(settle)
    done.set()
    await asyncio.gather(*tasks)
    answers.events.append((time.monotonic() - start, "load stopped"))
    return answers


def run(clients: int, settle: float, keep: Path | None) -> Answers:
    with (
        tempfile.TemporaryDirectory(prefix="pixeldrive-rolling-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        redis = start_redis(stack, work)
        postgres = start_postgres(stack)
        database = create_database(postgres, "rolling")
        nodes = []
        sealing = base64.b64encode(secrets.token_bytes(32)).decode()  # shared by the nodes
        for name in ("one", "two"):
            state = work / f"state-{name}"
            state.mkdir()
            env = pixeldrive_env(
                state,
                1,
                PIXELDRIVE_REDIS_URL=redis.url(0),
                PIXELDRIVE_DATABASE_URL=database,
                PIXELDRIVE_SECRETS__KEY=sealing,
            )
            node = Node(free_port(), env, work / f"{name}.log")
            node.start()
            stack.callback(lambda n=node: n.proc is not None and stop(n.proc))
            nodes.append(node)
        base = stack.enter_context(nginx(free_port(), [n.port for n in nodes], work))
        answers = asyncio.run(load(base, clients, nodes, settle))
        tracebacks = sum(n.log.read_text(errors="replace").count("Traceback") for n in nodes)
        answers.events.append((0.0, f"tracebacks in the nodes' logs: {tracebacks}"))
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for log in work.glob("*.log"):
                shutil.copy(log, keep / log.name)
        return answers


def report(answers: Answers, clients: int, settle: float) -> str:
    rows = []
    for (kind, status), count in sorted(answers.statuses.items(), key=str):
        lat = answers.latencies[f"{kind} {status}"]
        rows.append(
            [
                kind,
                status,
                f"{count:,}",
                f"{percentile(lat, 50):.1f}",
                f"{percentile(lat, 99):.1f}",
                f"{max(lat):.1f}",
            ]
        )
    allowed = {("hit", 200), ("render", 201), ("render", 503)}
    lost = sum(c for k, c in answers.statuses.items() if k not in allowed)
    title = (
        f"**A rolling restart of two nodes behind nginx** ({clients} clients through "
        f"nginx, {HITS_PER_RENDER} hits per new og-card render; each node SIGTERMed and "
        f"started again in turn, {settle:g} s of load between steps)"
    )
    events = "\n".join(f"- {t:6.1f} s: {what}" for t, what in sorted(answers.events))
    checks = table(
        ["check", "value", "aim", "met"],
        [
            [
                "answers other than 200 (hits), 201 and 503 (renders)",
                lost,
                "0",
                "yes" if lost == 0 else "**no**",
            ],
            [
                "503s without Retry-After",
                answers.bare_503,
                "0",
                "yes" if answers.bare_503 == 0 else "**no**",
            ],
        ],
    )
    answers_table = table(["request", "answer", "count", "p50 ms", "p99 ms", "max ms"], rows)
    return f"{title}\n\n{answers_table}\n\n{checks}\n\n{events}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between steps")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--keep-logs", type=Path, help="copy the nodes' and nginx's logs here")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    machine = machine_line()
    answers = run(args.clients, args.settle, args.keep_logs)
    facts = f"{machine}\n- Python {python_version()}, source {source_state()}"
    command = command_line("rolling.py", list(argv or sys.argv[1:]))
    text = section(BEGIN, END, report(answers, args.clients, args.settle), facts, command, started)
    print(text)
    if args.write:
        write_readme(text, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())

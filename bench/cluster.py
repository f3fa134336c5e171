#!/usr/bin/env python3
"""PixelDrive cluster benchmark: renders per second with one and with two nodes sharing a
real Redis and PostgreSQL, hits across nodes, and batch throughput.

1. renders: a closed loop of `--clients` clients, each posting a new unique og-card title
   as soon as its last one is answered, for `--duration` seconds, against
   (a) one embedded node (no Redis, no PostgreSQL; `PIXELDRIVE_WORKERS=2`), the reference;
   (b) one cluster node (Redis + PostgreSQL; `PIXELDRIVE_WORKERS=2`);
   (c) two cluster nodes (`PIXELDRIVE_WORKERS=1` each) sharing one Redis database and one
       PostgreSQL database, the client sending its requests to them in turn (round-robin
       by the client, no proxy).
   The three are measured side by side, interleaved, `--rounds` times. With the same total
   number of workers on the same cores, (b) and (c) against (a) measure what cluster
   coordination costs (the lock, the shared tier, the spec and the ledger row), not scaling.
2. hits across nodes: the images node A drew in (c) are fetched from node B, whose own
   tiers have never seen them (a Redis-tier hit each), then again (B's memory tier), then
   from node A restarted on its state dir (its disk tier).
3. batches: `POST /v1/batches` with `--items` unique titles to node A of the two-node
   cluster, polled until done; the same number of single renders through both nodes at
   `--clients` concurrency; and the same two on the embedded node.

Everything runs on 127.0.0.1: redis-server and PostgreSQL on free ports in a temporary
directory, the nodes with auth off (allowed on loopback binds). Run it with
``bench/cluster`` (installs redis-server and PostgreSQL if missing); ``--write`` puts the
figures into bench/README.md between the ``cluster`` markers.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import aiohttp
from common import (
    CLK_TCK,
    HOST,
    command_line,
    fmt_ms,
    free_port,
    machine_line,
    percentile,
    pixeldrive_command,
    pixeldrive_env,
    process_tree,
    progress,
    python_version,
    running,
    scan_proc,
    section,
    source_state,
    stop,
    table,
    tail,
    wait_ready,
    write_readme,
)

BEGIN, END = "<!-- cluster:begin -->", "<!-- cluster:end -->"
TEMPLATE = "og-card"
JSON_HEADERS = {"Content-Type": "application/json"}
REQUEST_TIMEOUT_S = 60.0
BATCH_POLL_S = 0.1
BATCH_DEADLINE_S = 600.0
PG_STATS_PAUSE_S = 1.5  # PostgreSQL backends flush their counters about once a second
REDIS_MAXMEMORY = "1gb"  # above what a full run stores, so no image is evicted mid-run
EMBEDDED, ONE, TWO = "embedded, 1 node", "cluster, 1 node", "cluster, 2 nodes"
CONFIGS = (EMBEDDED, ONE, TWO)


# ---- statistics ---------------------------------------------------------------------------


# ---- redis-server and PostgreSQL ----------------------------------------------------------


def wait_redis(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited ({proc.returncode}):\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.5) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return
        time.sleep(0.02)
    raise RuntimeError(f"redis-server did not answer PING:\n{tail(log)}")


@dataclass(frozen=True, slots=True)
class Redis:
    port: int
    pid: int

    def url(self, db: int) -> str:
        return f"redis://{HOST}:{self.port}/{db}"


def start_redis(stack: contextlib.ExitStack, work: Path) -> Redis:
    """redis-server as README's "Scaling out" asks: append-only file (fsync every second,
    Redis's default), volatile-lru. Stopped (SIGTERM) when `stack` closes."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: run bench/cluster, which installs it")
    port = free_port()
    directory = work / "redis"
    directory.mkdir()
    conf = directory / "redis.conf"
    conf.write_text(
        f"port {port}\nbind {HOST}\ndir {directory}\nappendonly yes\nappendfsync everysec\n"
        f'save ""\nmaxmemory {REDIS_MAXMEMORY}\nmaxmemory-policy volatile-lru\n'
    )
    log = work / "redis.log"
    proc = stack.enter_context(running([binary, str(conf)], dict(os.environ), log))
    wait_redis(port, proc, log)
    return Redis(port, proc.pid)


def postgres_bin() -> Path:
    """The directory of initdb and pg_ctl: PATH, else Debian's newest versioned one."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3])
    )
    if not versions:
        raise SystemExit("PostgreSQL is not installed: run bench/cluster, which installs it")
    return versions[-1].parent


def as_postgres() -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as `postgres`."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass(frozen=True, slots=True)
class Postgres:
    port: int
    data: Path

    def url(self, database: str) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def pid(self) -> int:
        """The postmaster's pid (first line of postmaster.pid); 0 if unreadable."""
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return 0


def start_postgres(stack: contextlib.ExitStack) -> Postgres:
    """initdb into a temporary directory, start on a free port with PostgreSQL's default
    durability (fsync and synchronous_commit on); `pg_ctl stop -m fast` and the directory
    removed when `stack` closes."""
    binaries = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="pixeldrive-bench-pg-"))  # the postgres user enters it
    stack.callback(shutil.rmtree, root, True)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, log, port = root / "data", root / "postgres.log", free_port()

    def pg(program: str, *args: str) -> None:
        done = subprocess.run(
            [*as_postgres(), str(binaries / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed:\n{done.stdout}\n{done.stderr}")

    pg("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses={HOST} -c max_connections=200"
    pg("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "start")

    def stop_postgres() -> None:
        with contextlib.suppress(RuntimeError, subprocess.SubprocessError):
            pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")

    stack.callback(stop_postgres)
    return Postgres(port, data)


def redis_commandstats(port: int) -> Counter[str]:
    """Calls per command since redis-server started (`INFO commandstats`)."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(b"INFO commandstats\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            data += chunk
            header, _, rest = data.partition(b"\r\n")
            if not chunk or (header.startswith(b"$") and len(rest) >= int(header[1:])):
                break
    return Counter(
        {
            m.group(1): int(m.group(2))
            for m in re.finditer(r"^cmdstat_(\S+?):calls=(\d+)", data.decode(), re.MULTILINE)
        }
    )


def postgres_commits(server: Postgres, database: str) -> int:
    """Transactions committed in `database`, from pg_stat_database (flushed by the
    backends about once a second, so read it after a pause)."""
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as db:
        db.execute("SELECT pg_stat_clear_snapshot()")
        row = db.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    return int(row[0]) if row else 0


def create_database(server: Postgres, name: str) -> str:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return server.url(name)


# ---- nodes --------------------------------------------------------------------------------


@dataclass(slots=True)
class Node:
    """One `pixeldrive serve`: its URL, process, log and state dir (kept for a restart)."""

    name: str
    base: str
    proc: subprocess.Popen[bytes]
    log: Path
    state: Path
    logs: list[Path] = field(default_factory=list)


def start_node(
    stack: contextlib.ExitStack,
    name: str,
    workers: int,
    work: Path,
    *,
    state: Path | None = None,
    **extra: str,
) -> Node:
    """`pixeldrive serve` (auth off, loopback) on a free port; ready when this returns;
    stopped when `stack` closes. `state`: reuse a state dir (a restart), else a new one."""
    state = state or work / f"state-{name}"
    state.mkdir(exist_ok=True)
    port = free_port()
    env = pixeldrive_env(state, workers, **extra)
    log = work / f"{name}-{time.monotonic_ns()}.log"
    proc = stack.enter_context(running(pixeldrive_command(port), env, log))
    base = f"http://{HOST}:{port}"
    asyncio.run(wait_ready(base, proc, log))
    return Node(name, base, proc, log, state, [log])


async def metrics(base: str) -> dict[str, float]:
    """The node's /metrics as {"name{labels}": value}."""
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as resp:
        text = await resp.text()
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                found[name] = float(value)
    return found


def metric(values: dict[str, float], name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for sample, value in values.items():
        sample_name, _, rest = sample.partition("{")
        if sample_name != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if all(have.get(k) == v for k, v in labels.items()):
            total += value
    return total


def renders_ok(base: str) -> float:
    return metric(asyncio.run(metrics(base)), "pixeldrive_renders_total", outcome="ok")


def tier_hits(base: str) -> dict[str, float]:
    values = asyncio.run(metrics(base))
    return {
        tier: metric(values, "pixeldrive_cache_requests_total", tier=tier, result="hit")
        for tier in ("memory", "disk", "redis")
    }


@dataclass(frozen=True, slots=True)
class LogFindings:
    warnings: int
    errors: int
    tracebacks: int
    examples: tuple[str, ...]


def read_logs(logs: Sequence[Path]) -> LogFindings:
    """WARNING and ERROR lines (JSON or plain) and tracebacks in the nodes' logs."""
    warnings = errors = tracebacks = 0
    examples: dict[str, None] = {}
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            tracebacks += "Traceback (most recent call last)" in line
            level, message = "", line
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    level = str(record.get("level", ""))
                    message = f"{record.get('logger')}: {record.get('message')}"
            else:
                match = re.match(r"^\S+ \S+ (WARNING|ERROR|CRITICAL) (.*)$", line)
                level, message = (match.group(1), match.group(2)) if match else ("", line)
            if level == "WARNING":
                warnings += 1
            elif level in ("ERROR", "CRITICAL"):
                errors += 1
            else:
                continue
            if len(examples) < 4:
                examples[re.sub(r"\d+", "N", f"{level} {message}")[:160]] = None
    return LogFindings(warnings, errors, tracebacks, tuple(examples))


# ---- CPU of the processes involved --------------------------------------------------------


def tree_ticks(roots: Sequence[int]) -> tuple[int, int]:
    """(ticks of the root processes themselves, ticks of all their descendants, the
    roots' reaped children included)."""
    procs = scan_proc()
    own = children = 0
    for root in roots:
        if root not in procs:
            continue
        own += procs[root].cpu
        children += procs[root].reaped
        children += sum(procs[pid].cpu for pid in process_tree(root, procs) if pid != root)
    return own, children


@dataclass(frozen=True, slots=True)
class CpuShare:
    """CPU seconds spent during a measurement by each group of processes."""

    servers: float  # the nodes' own processes: event loop and its threads
    workers: float  # the nodes' render processes
    redis: float
    postgres: float
    client: float  # this process: the load generator


class CpuMeter:
    def __init__(self, nodes: Sequence[Node], redis: int, postgres: int) -> None:
        self.nodes = [n.proc.pid for n in nodes]
        self.stores = [p for p in (redis, postgres) if p]
        self.redis, self.postgres = redis, postgres
        self.result = CpuShare(0, 0, 0, 0, 0)

    def _sample(self) -> tuple[int, int, int, int, float]:
        servers, workers = tree_ticks(self.nodes)
        redis = sum(tree_ticks([self.redis])) if self.redis else 0
        postgres = sum(tree_ticks([self.postgres])) if self.postgres else 0
        t = os.times()
        return servers, workers, redis, postgres, t.user + t.system

    def __enter__(self) -> CpuMeter:
        self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        d = [b - a for a, b in zip(self._start, end, strict=True)]
        self.result = CpuShare(
            d[0] / CLK_TCK, d[1] / CLK_TCK, d[2] / CLK_TCK, d[3] / CLK_TCK, float(d[4])
        )


# ---- 1. renders per second, closed loop ---------------------------------------------------


def render_payload(title: str) -> bytes:
    return json.dumps({"template": TEMPLATE, "fields": {"title": title}}).encode()


def client_session(limit: int = 64) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )


@dataclass(slots=True)
class Loop:
    """One closed-loop run: every 201's latency, the other answers, and the image paths
    each node handed out."""

    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    other: Counter[int | str] = field(default_factory=Counter)
    cached: int = 0  # 201s with "cached": true (none expected: every title is new)
    paths: dict[int, list[str]] = field(default_factory=dict)  # node index → image paths
    cpu: CpuShare | None = None
    redis_calls: Counter[str] = field(default_factory=Counter)  # the whole redis-server
    pg_commits: int = 0  # this configuration's database

    @property
    def renders(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.renders / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return sum(self.other.values())


async def post_render(
    session: aiohttp.ClientSession, base: str, title: str
) -> tuple[int | str, dict[str, object]]:
    try:
        async with session.post(
            f"{base}/v1/renders", data=render_payload(title), headers=JSON_HEADERS
        ) as resp:
            body = await resp.read()
            status = resp.status
    except TimeoutError:
        return "timeout", {}
    except aiohttp.ClientError as exc:
        return type(exc).__name__, {}
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {}


async def warm_up(bases: Sequence[str], clients: int, tag: str) -> None:
    """One render per client, so every worker has drawn before the clock starts."""
    async with client_session() as session:
        await asyncio.gather(
            *(
                post_render(session, bases[i % len(bases)], f"Warm {tag} {i}")
                for i in range(clients)
            )
        )


async def closed_loop(bases: Sequence[str], clients: int, seconds: float, tag: str) -> Loop:
    """`clients` clients, each posting a new title as soon as its last one is answered,
    for `seconds`; request j goes to bases[j % len(bases)]."""
    numbers = itertools.count()
    async with client_session() as session:
        loop = asyncio.get_running_loop()
        result = Loop(0.0, paths={i: [] for i in range(len(bases))})
        start = loop.time()
        deadline = start + seconds

        async def client() -> None:
            while loop.time() < deadline:
                j = next(numbers)
                node = j % len(bases)
                sent = loop.time()
                status, body = await post_render(session, bases[node], f"Load {tag} {j:06d}")
                if status == 201:
                    result.latencies_ms.append((loop.time() - sent) * 1000)
                    result.cached += bool(body.get("cached"))
                    result.paths[node].append(str(body["url"]))
                else:
                    result.other[status] += 1

        await asyncio.gather(*(client() for _ in range(clients)))
        result.seconds = loop.time() - start
    return result


@dataclass(slots=True)
class Setup:
    """One configuration under test: its nodes, and the stores' pids for the CPU meter."""

    name: str
    nodes: list[Node]
    redis: Redis | None = None
    postgres: Postgres | None = None
    database: str = ""

    @property
    def redis_pid(self) -> int:
        return self.redis.pid if self.redis else 0

    @property
    def postgres_pid(self) -> int:
        return self.postgres.pid() if self.postgres else 0

    @property
    def bases(self) -> list[str]:
        return [n.base for n in self.nodes]


def store_counts(setup: Setup) -> tuple[Counter[str], int]:
    redis = redis_commandstats(setup.redis.port) if setup.redis else Counter()
    commits = postgres_commits(setup.postgres, setup.database) if setup.postgres else 0
    return redis, commits


def measure_loop(setup: Setup, clients: int, seconds: float) -> Loop:
    tag = secrets.token_hex(3)
    asyncio.run(warm_up(setup.bases, clients, tag))
    redis0, commits0 = store_counts(setup)
    with CpuMeter(setup.nodes, setup.redis_pid, setup.postgres_pid) as cpu:
        result = asyncio.run(closed_loop(setup.bases, clients, seconds, tag))
    result.cpu = cpu.result
    if setup.redis or setup.postgres:
        time.sleep(PG_STATS_PAUSE_S)
        redis1, commits1 = store_counts(setup)
        result.redis_calls = redis1 - redis0
        result.pg_commits = commits1 - commits0
    return result


# ---- 2. hits across nodes -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetches:
    """GETs of distinct image paths, `concurrency` at a time."""

    label: str
    seconds: float
    latencies_ms: tuple[float, ...]
    other: Counter[int | str]
    tiers: dict[str, float]  # the node's cache hits per tier during the pass (/metrics)
    renders: float  # renders the node drew during the pass (none expected)

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


async def fetch_all(
    base: str, paths: Sequence[str], concurrency: int
) -> tuple[float, list[float], Counter[int | str]]:
    todo = iter(paths)
    latencies: list[float] = []
    other: Counter[int | str] = Counter()
    async with client_session() as session:
        loop = asyncio.get_running_loop()

        async def client() -> None:
            for path in todo:
                sent = loop.time()
                try:
                    async with session.get(base + path) as resp:
                        await resp.read()
                        status: int | str = resp.status
                except (TimeoutError, aiohttp.ClientError) as exc:
                    status = type(exc).__name__
                if status == 200:
                    latencies.append((loop.time() - sent) * 1000)
                else:
                    other[status] += 1

        start = loop.time()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return loop.time() - start, latencies, other


def measure_fetches(label: str, node: Node, paths: Sequence[str], concurrency: int) -> Fetches:
    tiers0, renders0 = tier_hits(node.base), renders_ok(node.base)
    seconds, latencies, other = asyncio.run(fetch_all(node.base, paths, concurrency))
    tiers1, renders1 = tier_hits(node.base), renders_ok(node.base)
    tiers = {t: tiers1[t] - tiers0[t] for t in tiers1}
    return Fetches(label, seconds, tuple(latencies), other, tiers, renders1 - renders0)


# ---- 3. batches ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchRun:
    label: str
    items: int
    seconds: float
    done: int
    failed: int
    per_node: tuple[float, ...]  # renders each node drew meanwhile (/metrics)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


async def run_batch(base: str, items: int, tag: str) -> tuple[float, dict[str, object]]:
    payload = {
        "template": TEMPLATE,
        "items": [{"title": f"Batch {tag} {i:04d}"} for i in range(items)],
    }
    async with client_session() as session:
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with session.post(f"{base}/v1/batches", json=payload) as resp:
            created = await resp.json(content_type=None)
            if resp.status != 202:
                raise RuntimeError(f"POST /v1/batches → {resp.status}: {created}")
        url = f"{base}/v1/batches/{created['id']}"
        while loop.time() - start < BATCH_DEADLINE_S:
            async with session.get(url) as resp:
                status = await resp.json(content_type=None)
            if status.get("status") == "done":
                return loop.time() - start, status
            await asyncio.sleep(BATCH_POLL_S)
    raise RuntimeError(f"batch not done after {BATCH_DEADLINE_S:g} s: {status}")


def measure_batch(label: str, submit: Node, nodes: Sequence[Node], items: int) -> BatchRun:
    before = [renders_ok(n.base) for n in nodes]
    seconds, status = asyncio.run(run_batch(submit.base, items, secrets.token_hex(3)))
    after = [renders_ok(n.base) for n in nodes]
    results = status.get("results") or []
    failed = [r for r in results if isinstance(r, dict) and "error" in r]  # type: ignore[union-attr]
    note = ""
    if failed:
        note = f"first error: {json.dumps(failed[0])[:160]}"
    return BatchRun(
        label,
        items,
        seconds,
        int(status.get("done", 0)),  # type: ignore[arg-type]
        int(status.get("failed", 0)),  # type: ignore[arg-type]
        tuple(b - a for a, b in zip(before, after, strict=True)),
        note,
    )


async def singles(
    bases: Sequence[str], items: int, concurrency: int, tag: str
) -> tuple[float, int, Counter[int | str]]:
    todo = iter(range(items))
    other: Counter[int | str] = Counter()
    done = 0
    async with client_session() as session:
        loop = asyncio.get_running_loop()

        async def client() -> None:
            nonlocal done
            for i in todo:
                status, _ = await post_render(
                    session, bases[i % len(bases)], f"Single {tag} {i:04d}"
                )
                if status == 201:
                    done += 1
                else:
                    other[status] += 1

        start = loop.time()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return loop.time() - start, done, other


def measure_singles(label: str, nodes: Sequence[Node], items: int, concurrency: int) -> BatchRun:
    before = [renders_ok(n.base) for n in nodes]
    seconds, done, other = asyncio.run(
        singles([n.base for n in nodes], items, concurrency, secrets.token_hex(3))
    )
    after = [renders_ok(n.base) for n in nodes]
    note = ", ".join(f"{k}: {v}" for k, v in other.items())
    return BatchRun(
        label,
        items,
        seconds,
        done,
        sum(other.values()),
        tuple(b - a for a, b in zip(before, after, strict=True)),
        note,
    )


# ---- the run ------------------------------------------------------------------------------


@dataclass(slots=True)
class Results:
    clients: int
    duration: float
    rounds: int
    items: int
    loops: dict[str, list[Loop]] = field(default_factory=lambda: {c: [] for c in CONFIGS})
    fetches: list[Fetches] = field(default_factory=list)
    cross_keys: int = 0
    batches: list[BatchRun] = field(default_factory=list)
    logs: dict[str, LogFindings] = field(default_factory=dict)

    def rate(self, config: str) -> float:
        runs = self.loops[config]
        seconds = sum(r.seconds for r in runs)
        return sum(r.renders for r in runs) / seconds if seconds else 0.0

    def latencies(self, config: str) -> list[float]:
        return [x for r in self.loops[config] for x in r.latencies_ms]


def install_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every process started is stopped."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def run(args: argparse.Namespace) -> Results:
    results = Results(args.clients, args.duration, args.rounds, args.items)
    with (
        tempfile.TemporaryDirectory(prefix="pixeldrive-cluster-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        try:
            progress("starting redis-server and PostgreSQL")
            redis = start_redis(stack, work)
            postgres = start_postgres(stack)
            db_one = create_database(postgres, "pd_one")
            db_two = create_database(postgres, "pd_two")
            progress("starting the nodes: 1 embedded, 1 cluster (2 workers), 2 cluster (1 worker)")
            embedded = start_node(stack, "embedded", 2, work)
            # Cluster mode seals the keys' signing secrets with a key every node shares.
            sealing = base64.b64encode(secrets.token_bytes(32)).decode()
            one = start_node(
                stack,
                "one",
                2,
                work,
                PIXELDRIVE_REDIS_URL=redis.url(1),
                PIXELDRIVE_DATABASE_URL=db_one,
                PIXELDRIVE_SECRETS__KEY=sealing,
            )
            two_env = {
                "PIXELDRIVE_REDIS_URL": redis.url(0),
                "PIXELDRIVE_DATABASE_URL": db_two,
                "PIXELDRIVE_SECRETS__KEY": sealing,
            }
            node_a = start_node(stack, "A", 1, work, **two_env)
            node_b = start_node(stack, "B", 1, work, **two_env)
            setups = {
                EMBEDDED: Setup(EMBEDDED, [embedded]),
                ONE: Setup(ONE, [one], redis, postgres, "pd_one"),
                TWO: Setup(TWO, [node_a, node_b], redis, postgres, "pd_two"),
            }

            # 1. renders per second, the three interleaved.
            for r in range(args.rounds):
                for config in CONFIGS:
                    progress(
                        f"renders, round {r + 1}/{args.rounds}: {config}, "
                        f"{args.clients} clients for {args.duration:g} s"
                    )
                    loop = measure_loop(setups[config], args.clients, args.duration)
                    results.loops[config].append(loop)
                    progress(
                        f"  {loop.rate:.1f} renders/s, p50 "
                        f"{fmt_ms(percentile(loop.latencies_ms, 50))} ms, errors {loop.errors}"
                    )

            # 2. A's images on B (Redis tier), again (B's memory), on A restarted (disk).
            paths = [p for loop in results.loops[TWO] for p in loop.paths.get(0, [])]
            results.cross_keys = len(paths)
            progress(f"hits across nodes: {len(paths)} images drawn on A, fetched from B")
            results.fetches.append(
                measure_fetches("B, first fetch: A's image from Redis", node_b, paths, args.clients)
            )
            results.fetches.append(
                measure_fetches("B, second fetch: its memory tier", node_b, paths, args.clients)
            )
            progress("restarting node A on its state dir (memory tier empty, disk tier kept)")
            logs_a = node_a.logs
            stop(node_a.proc)
            node_a = start_node(stack, "A", 1, work, state=node_a.state, **two_env)
            node_a.logs = [*logs_a, *node_a.logs]
            results.fetches.append(
                measure_fetches(
                    "A restarted, first fetch: its disk tier", node_a, paths, args.clients
                )
            )
            results.fetches.append(
                measure_fetches(
                    "A restarted, second fetch: its memory tier", node_a, paths, args.clients
                )
            )

            # 3. batches, then the same number of single renders.
            progress(f"batch of {args.items} to node A of the two-node cluster")
            results.batches.append(
                measure_batch(f"{TWO}: batch posted to A", node_a, [node_a, node_b], args.items)
            )
            progress(f"{args.items} single renders through A and B, {args.clients} at a time")
            results.batches.append(
                measure_singles(
                    f"{TWO}: single POSTs, A and B in turn",
                    [node_a, node_b],
                    args.items,
                    args.clients,
                )
            )
            progress(f"batch of {args.items} to the embedded node")
            results.batches.append(
                measure_batch(f"{EMBEDDED}: batch", embedded, [embedded], args.items)
            )
            results.batches.append(
                measure_singles(f"{EMBEDDED}: single POSTs", [embedded], args.items, args.clients)
            )
            progress(f"batch of {args.items} to an embedded node with batch.concurrency = 4")
            wide = start_node(stack, "embedded-c4", 2, work, PIXELDRIVE_BATCH__CONCURRENCY="4")
            asyncio.run(warm_up([wide.base], 2, secrets.token_hex(3)))
            results.batches.append(
                measure_batch(f"{EMBEDDED}: batch, `batch.concurrency` 4", wide, [wide], args.items)
            )
            nodes = {EMBEDDED: [embedded, wide], ONE: [one], TWO: [node_a, node_b]}
        finally:
            stack.close()  # stop the nodes, Redis and PostgreSQL before reading the logs
            if args.keep_logs is not None:
                args.keep_logs.mkdir(parents=True, exist_ok=True)
                for log in work.glob("*.log"):
                    shutil.copy(log, args.keep_logs / log.name)
        for config, group in nodes.items():
            results.logs[config] = read_logs([log for n in group for log in n.logs])
    return results


# ---- report -------------------------------------------------------------------------------


def renders_table(results: Results) -> str:
    rows: list[list[object]] = []
    for config in CONFIGS:
        runs = results.loops[config]
        lat = results.latencies(config)
        rows.append(
            [
                config,
                {EMBEDDED: "2", ONE: "2", TWO: "1 + 1"}[config],
                f"**{results.rate(config):.1f}**",
                " / ".join(f"{r.rate:.1f}" for r in runs),
                f"{sum(r.renders for r in runs):,}",
                fmt_ms(percentile(lat, 50)),
                fmt_ms(percentile(lat, 99)),
                sum(r.errors for r in runs),
                sum(r.cached for r in runs),
            ]
        )
    title = (
        f"**1. Renders per second** (closed loop: {results.clients} clients, each posting a new "
        f"og-card title as soon as its last is answered, {results.duration:g} s per run, "
        f"{results.rounds} round{'s' * (results.rounds > 1)} with the three interleaved; "
        "two nodes: the client sends request *j* to node *j* mod 2)"
    )
    headers = ["configuration", "workers", "renders/s", "each round", "renders", "p50 ms"]
    headers += ["p99 ms", "errors", "`cached: true`"]
    return f"{title}\n\n" + table(headers, rows)


def ratios_table(results: Results) -> str:
    emb, one, two = (results.rate(c) for c in CONFIGS)

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "—"

    per_round = [
        (e.rate, o.rate, t.rate)
        for e, o, t in zip(*(results.loops[c] for c in CONFIGS), strict=True)
    ]
    rows = [
        [
            "cluster 1 node / embedded",
            ratio(one, emb),
            " / ".join(ratio(o, e) for e, o, _ in per_round),
        ],
        [
            "cluster 2 nodes / cluster 1 node",
            ratio(two, one),
            " / ".join(ratio(t, o) for _, o, t in per_round),
        ],
        [
            "cluster 2 nodes / embedded",
            ratio(two, emb),
            " / ".join(ratio(t, e) for e, _, t in per_round),
        ],
    ]
    return "**Ratios** (renders/s; same total workers on the same 2 cores)\n\n" + table(
        ["ratio", "value", "each round"], rows
    )


def cpu_table(results: Results) -> str:
    rows: list[list[object]] = []
    for config in CONFIGS:
        runs = [r for r in results.loops[config] if r.cpu is not None and r.renders]
        renders = sum(r.renders for r in runs)
        if not renders:
            continue

        def per(attr: str, runs: list[Loop] = runs, renders: int = renders) -> str:
            return f"{1000 * sum(getattr(r.cpu, attr) for r in runs) / renders:.1f}"

        cells = [per(a) for a in ("servers", "workers", "redis", "postgres", "client")]
        total = sum(float(c) for c in cells)
        rows.append([config, *cells, f"{total:.1f}"])
    title = (
        "**CPU per render** (ms of CPU time per 201, from /proc: the nodes' own processes "
        "(event loop and threads), their render workers, redis-server, PostgreSQL (the "
        "postmaster and its backends), and the load generator)"
    )
    headers = ["configuration", "nodes' processes", "render workers", "redis", "PostgreSQL"]
    headers += ["load generator", "total"]
    return f"{title}\n\n" + table(headers, rows)


def stores_table(results: Results) -> str:
    rows: list[list[object]] = []
    for config in (ONE, TWO):
        runs = [r for r in results.loops[config] if r.renders]
        renders = sum(r.renders for r in runs)
        if not renders:
            continue
        calls: Counter[str] = Counter()
        for r in runs:
            calls.update(r.redis_calls)
        calls.pop("info", None)  # ours
        top = ", ".join(f"`{c}` {n / renders:.2f}" for c, n in calls.most_common(6))
        commits = sum(r.pg_commits for r in runs)
        rows.append([config, f"{calls.total() / renders:.2f}", top, f"{commits / renders:.2f}"])
    title = (
        "**Shared stores per render** (Redis: `INFO commandstats` of the whole redis-server "
        "over the runs, so the idle nodes' batch polls (`xreadgroup`, `xautoclaim`) are in "
        "it too; PostgreSQL: `xact_commit` of the configuration's database, which the "
        "backends report about once a second, so ± a second's worth)"
    )
    headers = ["configuration", "Redis commands", "most called, per render", "PostgreSQL commits"]
    return f"{title}\n\n" + table(headers, rows)


def fetches_table(results: Results) -> str:
    rows: list[list[object]] = []
    for f in results.fetches:
        tiers = ", ".join(f"{t} {int(n):,}" for t, n in f.tiers.items() if n)
        rows.append(
            [
                f.label,
                f"{f.rate:,.0f}",
                fmt_ms(percentile(f.latencies_ms, 50)),
                fmt_ms(percentile(f.latencies_ms, 99)),
                sum(f.other.values()),
                tiers or "—",
                int(f.renders),
            ]
        )
    title = (
        f"**2. Hits across nodes** ({results.cross_keys:,} distinct PNGs that node A drew in "
        f"part 1, each fetched once per pass, {results.clients} GETs at a time; tiers and "
        "renders from the node's `/metrics` over the pass)"
    )
    headers = ["pass", "requests/s", "p50 ms", "p99 ms", "errors", "hits by tier", "renders drawn"]
    return f"{title}\n\n" + table(headers, rows)


def batches_table(results: Results) -> str:
    rows: list[list[object]] = []
    for b in results.batches:
        split = " / ".join(f"{int(n):,}" for n in b.per_node)
        rows.append(
            [
                b.label,
                b.items,
                f"{b.seconds:.1f}",
                f"**{b.rate:.1f}**",
                b.done,
                b.failed,
                split,
                b.note,
            ]
        )
    title = (
        f"**3. Batches** ({results.items} unique og-card titles; a batch is timed from the "
        f"POST until `GET /v1/batches/{{id}}` (polled every {BATCH_POLL_S:g} s) says done; "
        f"single POSTs: {results.clients} clients, each taking the next title)"
    )
    headers = ["run", "items", "seconds", "items/s", "done", "failed"]
    headers += ["drawn per node (A / B)", "note"]
    return f"{title}\n\n" + table(headers, rows)


def cpu_per_render(results: Results, config: str) -> float:
    """ms of CPU time per render, every process counted (the table's total)."""
    runs = [r for r in results.loops[config] if r.cpu is not None]
    renders = sum(r.renders for r in runs)
    total = sum(
        r.cpu.servers + r.cpu.workers + r.cpu.redis + r.cpu.postgres + r.cpu.client
        for r in runs
        if r.cpu is not None
    )
    return 1000 * total / renders if renders else 0.0


def capacity_lines(results: Results) -> str:
    emb, one = results.rate(EMBEDDED), results.rate(ONE)
    per_worker = emb / 2
    factor = min(1.0, one / emb) if emb else 0.0  # a cluster is not assumed faster
    cpu = {c: cpu_per_render(results, c) for c in (EMBEDDED, ONE)}
    lines = [
        "**4. Capacity** (an estimate, not a measurement)",
        "",
        f"- One embedded node with 2 workers drew {emb:.1f} og-card PNGs/s here: "
        f"**{per_worker:.1f} renders/s per worker (core)**, on cores shared with the load "
        "generator and the nodes' event loops.",
        f"- Linear estimate for N cluster nodes of K cores, one worker per core: "
        f"N × K × {per_worker:.1f} × {factor:.2f} (the cluster/embedded ratio above, at most "
        "1; the CPU a render costs in all, "
        f"{cpu[EMBEDDED]:.1f} ms embedded and {cpu[ONE]:.1f} ms in a cluster, "
        f"suggests {cpu[EMBEDDED] / cpu[ONE] if cpu[ONE] else 0:.2f} once the cores are busy) "
        f"≈ N × K × {per_worker * factor:.1f} renders/s. For example, 4 nodes of 4 cores: "
        f"≈ {4 * 4 * per_worker * factor:,.0f}/s; 8 nodes of 8 cores: "
        f"≈ {8 * 8 * per_worker * factor:,.0f}/s.",
        "- Not measured: more than two nodes, nodes on separate machines, or the shared "
        "stores' limits (README's [Capacity](../README.md#capacity): Redis bandwidth first, "
        "about 2,500 images of 50 KB a second at 1 Gbit/s).",
    ]
    return "\n".join(lines)


def log_table(results: Results) -> str:
    rows = [
        [c, f.errors, f.warnings, f.tracebacks, "; ".join(f"`{e}`" for e in f.examples[:2])]
        for c, f in results.logs.items()
    ]
    return "**Node logs** (every node of each configuration, the whole run)\n\n" + table(
        ["configuration", "ERROR lines", "WARNING lines", "tracebacks", "first messages"], rows
    )


def report(results: Results) -> str:
    parts = [
        renders_table(results),
        ratios_table(results),
        cpu_table(results),
        stores_table(results),
        fetches_table(results),
        batches_table(results),
        capacity_lines(results),
        log_table(results),
    ]
    return "\n\n".join(parts)


def versions() -> str:
    def first_line(cmd: list[str]) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        return "unknown"

    redis = re.search(r"v=(\S+)", first_line(["redis-server", "--version"]))
    postgres = re.search(r"\) (\d[\d.]*)", first_line([str(postgres_bin() / "postgres"), "-V"]))
    return (
        f"redis-server {redis.group(1) if redis else 'unknown'}, "
        f"PostgreSQL {postgres.group(1) if postgres else 'unknown'}"
    )


def machine_facts() -> str:
    return (
        f"{machine_line()}\n"
        f"- Python {python_version()}, aiohttp {aiohttp.__version__}, {versions()}, "
        f"PixelDrive {version('pixeldrive')} at {source_state()}\n"
        "- nodes: `pixeldrive serve` on 127.0.0.1, auth off (allowed on loopback), default "
        "queue depth; cluster nodes share one redis-server (append-only, fsync every second, "
        f"`maxmemory {REDIS_MAXMEMORY}`, volatile-lru) and one PostgreSQL (its default "
        "fsync and synchronous_commit), a database and a Redis db per configuration; "
        "everything, load generator included, on this machine\n"
        "- **What this measures.** The embedded node, the cluster node and the two cluster "
        "nodes all have 2 render workers on the same 2 cores. So the cluster rows measure "
        "what coordination costs (lock, shared tier, specs and ledger in the shared stores, "
        "and the stores' own CPU on the same cores), not scaling: more nodes only help on "
        "more cores."
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds per closed-loop run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--items", type=int, default=200, help="items per batch")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds of part 1")
    parser.add_argument(
        "--quick", action="store_true", help="5 s runs, 1 round, 60 items (about 2 minutes)"
    )
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    parser.add_argument("--keep-logs", type=Path, help="copy the nodes' logs into this dir")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.items = 5.0, 1, 60
    if args.duration <= 0 or args.clients < 1 or args.items < 1 or args.rounds < 1:
        parser.error("--duration must be > 0, --clients, --items and --rounds ≥ 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    install_sigterm()
    started = dt.datetime.now(dt.UTC)
    facts = machine_facts()
    results = run(args)
    body = report(results)
    print(f"{facts}\n\n{body}")
    if args.write:
        text = section(BEGIN, END, body, facts, command_line("cluster.py", argv), started)
        write_readme(text, BEGIN, END)
        progress("bench/README.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

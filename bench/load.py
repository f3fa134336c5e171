#!/usr/bin/env python3
"""PixelDrive load benchmark: a minute at a fixed rate, three ways.

1. hits: wrk holds 64 connections on one cached og-card PNG for a minute;
2. overload: the render capacity is measured (closed loop), then an open-loop generator
   offers 3× that rate of unique renders for a minute; only 201 and 503 may come back, the
   503s fast, and the server must be healthy afterwards;
3. mix: 90 % hits on a pool of rendered images and 10 % new renders, at a fixed rate the
   server can sustain;
4. connections: 1,000 idle connections held against the server while 500 clients post
   unique renders (waiting `Retry-After` after a 503) and a few read cached images: only
   201 and 503, the 503s fast, every hit served (`connections.py`).

Each scenario gets its own fresh `pixeldrive serve` (auth off, fresh state dir); the RSS of
the server and all its descendants is sampled every second. Run it with ``bench/load``
(installs wrk if needed); ``--write`` puts the figures into bench/README.md between the
``load`` markers. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import aiohttp
import connections
from common import (
    CLK_TCK,
    README,
    ROOT,
    Server,
    Wrk,
    command_line,
    fmt_ms,
    machine_line,
    ms,
    percentile,
    process_tree,
    progress,
    python_version,
    rss_bytes,
    run_wrk,
    scan_proc,
    section,
    source_state,
    start_pixeldrive,
    table,
    write_readme,
    wrk_version,
)

from pixeldrive.core.config import ServerSettings

BEGIN, END = "<!-- load:begin -->", "<!-- load:end -->"
PHASES = ("hits", "overload", "mix", "connections")
TEMPLATE = "og-card"
WRK_THREADS, WRK_CONNECTIONS = 2, 64
CAPACITY_SECONDS = 15  # closed-loop capacity measurement (shorter when --duration is short)
OVERLOAD_FACTOR = 3.0  # offered render rate / capacity
MIX_HIT_SHARE = 0.9
MIX_RENDER_LOAD = 0.6  # the mix's render rate / capacity (0.8 got 503s: see README)
HIT_POOL = 50  # distinct images the mix's hits choose from
CONNECTOR_LIMIT = 512  # the open-loop client's connection limit: never the bottleneck
REQUEST_TIMEOUT_S = 30.0
HEALTH_DEADLINE_S = 5.0  # after the overload: /readyz 200 and a render 201 within this
FLAT_TOLERANCE = 0.10  # memory at the end within ±10 % of memory at 10 s
AIM_503_P99_MS = 50.0
SAMPLE_EVERY_S = 1.0
MIB = 1024 * 1024


# ---- statistics ---------------------------------------------------------------------------


# ---- the server's memory and CPU: the server process and every descendant ------------------


def machine_busy_ticks() -> int:
    """CPU ticks spent on anything but idle and iowait, all CPUs (steal included)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    return sum(fields) - fields[3] - fields[4]


def own_cpu_seconds() -> float:
    """This process (the load generator) and its waited-for children (wrk)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass(frozen=True, slots=True)
class MemSample:
    at: float  # seconds since sampling started
    total: int  # bytes: the server and all its descendants
    main: int  # bytes: the server process alone
    processes: int


@dataclass(frozen=True, slots=True)
class Cpu:
    """Cores busy on average during a phase: the server (all its processes), the load
    generator (this process and wrk), and everything else on the machine."""

    server: float
    main: float  # of `server`: the server process itself (event loop and its threads)
    generator: float
    other: float


class Sampler:
    """Every second, in a thread: the RSS of the server's process tree, and its CPU time;
    the machine's CPU time from entry to exit."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY_S) -> None:
        self.pid = pid
        self.every = every
        self.samples: list[MemSample] = []
        self.cpu = Cpu(0.0, 0.0, 0.0, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self._t0 = 0.0
        self._ticks: dict[int, int] = {}  # last seen CPU ticks per process of the tree
        self._base: dict[int, int] = {}
        self._start = (0, 0.0)
        self._main = (-1, 0)  # the server process's own CPU ticks: first and last seen

    def _sample(self) -> None:
        procs = scan_proc()
        pids = process_tree(self.pid, procs)
        for pid in pids:
            stat = procs[pid]
            # Per process, its last-seen ticks: a recycled worker keeps what it used until
            # its last sample (adding the server's cutime as well would count it twice).
            self._ticks[pid] = stat.cpu
        self._main = (
            self._main[0] if self._main[0] >= 0 else procs[self.pid].cpu,
            procs[self.pid].cpu,
        )
        sizes = {pid: rss_bytes(pid) for pid in pids}
        at = time.monotonic() - self._t0
        self.samples.append(MemSample(at, sum(sizes.values()), sizes[self.pid], len(pids)))

    def _run(self) -> None:
        tick = 0
        while True:
            self._sample()
            if tick == 0:
                self._base = dict(self._ticks)
            tick += 1
            if self._stop.wait(max(0.0, self._t0 + tick * self.every - time.monotonic())):
                self._sample()  # one at the very end too
                return

    def __enter__(self) -> Sampler:
        self._t0 = time.monotonic()
        self._start = (machine_busy_ticks(), own_cpu_seconds())
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        elapsed = time.monotonic() - self._t0
        busy = (machine_busy_ticks() - self._start[0]) / CLK_TCK
        own = own_cpu_seconds() - self._start[1]
        server = sum(t - self._base.get(pid, 0) for pid, t in self._ticks.items()) / CLK_TCK
        other = max(0.0, busy - own - server)
        main = (self._main[1] - self._main[0]) / CLK_TCK
        self.cpu = Cpu(server / elapsed, main / elapsed, own / elapsed, other / elapsed)

    @property
    def seen(self) -> int:
        return len(self._ticks)


@dataclass(frozen=True, slots=True)
class Memory:
    """Peak RSS, RSS near 10 s and at the end of a phase (bytes); and the CPU meanwhile."""

    peak: int
    early: int
    early_at: float
    end: int
    end_at: float
    main_start: int  # the server process alone, first sample
    main_end: int
    processes: int  # the most at once
    seen: int  # distinct processes seen: more than `processes` when a worker was replaced
    cpu: Cpu

    @property
    def change(self) -> float:
        return self.end / self.early - 1

    @property
    def flat(self) -> bool:
        return abs(self.change) <= FLAT_TOLERANCE


def summarise(sampler: Sampler, duration: float) -> Memory:
    samples = sampler.samples
    early_at = min(10.0, duration / 2)
    early = min(samples, key=lambda s: abs(s.at - early_at))
    end = samples[-1]
    return Memory(
        peak=max(s.total for s in samples),
        early=early.total,
        early_at=early.at,
        end=end.total,
        end_at=end.at,
        main_start=samples[0].main,
        main_end=end.main,
        processes=max(s.processes for s in samples),
        seen=sampler.seen,
        cpu=sampler.cpu,
    )


# ---- the server's log ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogFindings:
    errors: int  # lines logged at ERROR or CRITICAL
    warnings: int
    tracebacks: int
    examples: tuple[str, ...]  # distinct ERROR/WARNING messages, first few


_LEVEL = re.compile(r"^\S+ \S+ (ERROR|CRITICAL|WARNING) (\S+) (.*)$")


def _level_of(line: str) -> tuple[str, str, str] | None:
    """(level, logger, message) of a log line, JSON or plain text, if WARNING or worse."""
    if line.startswith("{"):
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            level = str(record.get("level", ""))
            if level in ("WARNING", "ERROR", "CRITICAL"):
                return level, str(record.get("logger")), str(record.get("message"))
        return None
    match = _LEVEL.match(line)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def read_log(log: Path) -> LogFindings:
    errors = warnings = tracebacks = 0
    examples: dict[str, None] = {}
    for line in log.read_text(errors="replace").splitlines():
        if "Traceback (most recent call last)" in line:
            tracebacks += 1
        found = _level_of(line)
        if found is None:
            continue
        level, logger, message = found
        if level == "WARNING":
            warnings += 1
        else:
            errors += 1
        example = re.sub(r"\d+", "N", f"{level} {logger}: {message}")[:200]
        if len(examples) < 5:
            examples[example] = None
    return LogFindings(errors, warnings, tracebacks, tuple(examples))


# ---- HTTP helpers -------------------------------------------------------------------------


def render_payload(title: str) -> bytes:
    return json.dumps({"template": TEMPLATE, "fields": {"title": title}}).encode()


JSON_HEADERS = {"Content-Type": "application/json"}
Requested = contextlib.AbstractAsyncContextManager[aiohttp.ClientResponse]


async def post_render(session: aiohttp.ClientSession, base: str, title: str) -> dict[str, object]:
    async with session.post(
        f"{base}/v1/renders", data=render_payload(title), headers=JSON_HEADERS
    ) as resp:
        body: dict[str, object] = await resp.json(content_type=None)
        if resp.status != 201:
            raise RuntimeError(f"POST /v1/renders → {resp.status}: {body}")
        return body


async def render_pool(base: str, titles: Sequence[str], concurrency: int) -> list[str]:
    """Render every title (at most `concurrency` at once, below the queue depth): the
    image URLs, in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(session: aiohttp.ClientSession, title: str) -> str:
        async with gate:
            return str((await post_render(session, base, title))["url"])

    async with aiohttp.ClientSession() as session:
        return list(await asyncio.gather(*(one(session, t) for t in titles)))


def client_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONNECTOR_LIMIT),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """One request of an open-loop phase."""

    kind: str  # "render" or "hit"
    status: int | str  # the HTTP status, or the exception's name
    latency_ms: float  # from sending to the whole answer read
    lag_ms: float  # how late the send was against its schedule (the generator's own delay)
    done_at: float  # seconds since the phase started
    retry_after: str | None  # the Retry-After header's value
    x_cache: str | None
    image_bytes: int  # a 201: the image's size from its body; a hit: the bytes received


async def fetch(
    session: aiohttp.ClientSession,
    kind: str,
    request: Callable[[], Requested],
    scheduled: float,
    t0: float,
) -> Answer:
    loop = asyncio.get_running_loop()
    sent = loop.time()
    status: int | str
    retry_after: str | None = None
    x_cache: str | None = None
    body = b""
    try:
        async with request() as resp:
            body = await resp.read()
            status = resp.status
            retry_after = resp.headers.get("Retry-After")
            x_cache = resp.headers.get("X-Cache")
    except TimeoutError:
        status = "timeout"
    except aiohttp.ClientError as exc:
        status = type(exc).__name__
    done = loop.time()
    size = len(body)
    if status == 201:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            size = int(json.loads(body)["bytes"])
    return Answer(
        kind,
        status,
        (done - sent) * 1000,
        (sent - scheduled) * 1000,
        done - t0,
        retry_after,
        x_cache,
        size,
    )


RequestMaker = Callable[
    [aiohttp.ClientSession, int, float, float], Awaitable[Answer]
]  # (session, i, scheduled, t0) → Answer


async def open_loop(rate: float, duration: float, make: RequestMaker) -> list[Answer]:
    """Send request i at t0 + i/rate for `duration` seconds, each in its own task, never
    waiting for an answer before the next send; then wait for every answer."""
    loop = asyncio.get_running_loop()
    tasks: list[asyncio.Task[Answer]] = []
    count = int(rate * duration)
    async with client_session() as session:
        t0 = loop.time() + 0.05
        for i in range(count):
            at = t0 + i / rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(make(session, i, at, t0)))
        return list(await asyncio.gather(*tasks))


# ---- 1. hits with wrk ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hits:
    path: str
    size: int
    wrk: Wrk
    memory: Memory


async def fetch_hit(url: str) -> bytes:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        data = await resp.read()
        if resp.status != 200 or resp.headers.get("X-Cache") != "hit":
            raise RuntimeError(f"GET {url} → {resp.status}, X-Cache {resp.headers.get('X-Cache')}")
        return data


async def first_image(base: str) -> str:
    async with aiohttp.ClientSession() as session:
        body = await post_render(session, base, "Load benchmark: one image, many readers")
    return str(body["url"])


def measure_hits(server: Server, duration: int) -> Hits:
    path = asyncio.run(first_image(server.base))
    data = asyncio.run(fetch_hit(server.base + path))
    progress(f"hits: wrk -c{WRK_CONNECTIONS} for {duration} s on {path}")
    with Sampler(server.proc.pid) as sampler:
        wrk = run_wrk(server.base + path, duration, WRK_THREADS, WRK_CONNECTIONS)
    return Hits(path, len(data), wrk, summarise(sampler, duration))


# ---- 2. capacity, then overload -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Capacity:
    clients: int
    seconds: float
    renders: int
    latencies_ms: tuple[float, ...]
    other: Counter[int | str]

    @property
    def rate(self) -> float:
        return self.renders / self.seconds


async def measure_capacity(base: str, clients: int, seconds: float, tag: str) -> Capacity:
    """Closed loop: `clients` clients each posting a new unique title as soon as the last
    one is answered, for `seconds`: renders per second."""
    numbers = itertools.count()
    async with client_session() as session:
        # Warm-up: every worker has drawn once before the clock starts.
        await asyncio.gather(
            *(post_render(session, base, f"Warm-up {tag} {i}") for i in range(clients))
        )
        loop = asyncio.get_running_loop()
        latencies: list[float] = []
        other: Counter[int | str] = Counter()
        start = loop.time()
        deadline = start + seconds

        async def client() -> None:
            while loop.time() < deadline:
                sent = loop.time()
                title = f"Capacity {tag} {next(numbers):06d}"
                async with session.post(
                    f"{base}/v1/renders", data=render_payload(title), headers=JSON_HEADERS
                ) as resp:
                    await resp.read()
                    if resp.status == 201:
                        latencies.append((loop.time() - sent) * 1000)
                    else:
                        other[resp.status] += 1

        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = loop.time() - start
    return Capacity(clients, elapsed, len(latencies), tuple(latencies), other)


@dataclass(frozen=True, slots=True)
class Health:
    readyz: int | str
    render: int | str
    attempts: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.readyz == 200 and self.render == 201 and self.seconds <= HEALTH_DEADLINE_S


async def check_health(base: str, tag: str) -> Health:
    """After the overload: /readyz, then one new render, retried until a 201 or 5 s."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    ready: int | str
    render: int | str = "none"
    attempts = 0
    async with client_session() as session:
        try:
            async with session.get(f"{base}/readyz") as resp:
                ready = resp.status
        except aiohttp.ClientError as exc:
            ready = type(exc).__name__
        while loop.time() - start < HEALTH_DEADLINE_S:
            attempts += 1
            try:
                async with session.post(
                    f"{base}/v1/renders",
                    data=render_payload(f"Afterwards {tag}"),
                    headers=JSON_HEADERS,
                ) as resp:
                    await resp.read()
                    render = resp.status
            except aiohttp.ClientError as exc:
                render = type(exc).__name__
            if render == 201:
                break
            await asyncio.sleep(0.2)
    return Health(ready, render, attempts, loop.time() - start)


@dataclass(frozen=True, slots=True)
class OpenLoop:
    """An open-loop phase: what was offered and every answer."""

    rate: float
    duration: float
    answers: list[Answer]
    memory: Memory
    extra: dict[str, object] = field(default_factory=dict)

    def of(self, kind: str, status: int | str | None = None) -> list[Answer]:
        return [
            a for a in self.answers if a.kind == kind and (status is None or a.status == status)
        ]

    def statuses(self) -> Counter[tuple[str, int | str]]:
        return Counter((a.kind, a.status) for a in self.answers)

    def lag_p99_ms(self) -> float:
        return percentile([a.lag_ms for a in self.answers], 99)

    def per_second(self, kind: str, status: int) -> list[int]:
        """Answers of that kind and status completed in each whole second of the phase."""
        buckets = Counter(int(a.done_at) for a in self.of(kind, status))
        return [buckets.get(s, 0) for s in range(int(self.duration))]


@dataclass(frozen=True, slots=True)
class Overload:
    capacity: Capacity
    load: OpenLoop
    health: Health


def overload_request(base: str, tag: str) -> RequestMaker:
    async def make(session: aiohttp.ClientSession, i: int, at: float, t0: float) -> Answer:
        def request() -> Requested:
            payload = render_payload(f"Overload {tag} {i:06d}")
            return session.post(f"{base}/v1/renders", data=payload, headers=JSON_HEADERS)

        return await fetch(session, "render", request, at, t0)

    return make


def measure_overload(server: Server, workers: int, duration: int) -> Overload:
    tag = secrets.token_hex(3)
    seconds = capacity_seconds(duration)
    progress(f"overload: capacity, {2 * workers} closed-loop clients for {seconds:g} s")
    capacity = asyncio.run(measure_capacity(server.base, 2 * workers, seconds, tag))
    rate = OVERLOAD_FACTOR * capacity.rate
    progress(
        f"overload: capacity {capacity.rate:.1f} renders/s; offering {rate:.1f}/s for {duration} s"
    )
    with Sampler(server.proc.pid) as sampler:
        answers = asyncio.run(open_loop(rate, duration, overload_request(server.base, tag)))
        health = asyncio.run(check_health(server.base, tag))
    memory = summarise(sampler, duration)
    return Overload(capacity, OpenLoop(rate, duration, answers, memory), health)


def capacity_seconds(duration: int) -> float:
    return float(min(CAPACITY_SECONDS, max(5, duration // 4)))


# ---- 3. the mix ---------------------------------------------------------------------------


def mix_request(base: str, pool: Sequence[str], tag: str) -> RequestMaker:
    every = round(1 / (1 - MIX_HIT_SHARE))  # one render in every 10 requests

    async def make(session: aiohttp.ClientSession, i: int, at: float, t0: float) -> Answer:
        if i % every == 0:

            def request() -> Requested:
                payload = render_payload(f"Mix {tag} {i:06d}")
                return session.post(f"{base}/v1/renders", data=payload, headers=JSON_HEADERS)

            return await fetch(session, "render", request, at, t0)
        url = base + pool[(i * 7) % len(pool)]
        return await fetch(session, "hit", lambda: session.get(url), at, t0)

    return make


def measure_mix(server: Server, workers: int, duration: int, capacity: float) -> OpenLoop:
    tag = secrets.token_hex(3)
    titles = [f"Pool {tag} {i:03d}" for i in range(HIT_POOL)]
    pool = asyncio.run(render_pool(server.base, titles, 2 * workers))
    render_rate = MIX_RENDER_LOAD * capacity
    rate = render_rate / (1 - MIX_HIT_SHARE)
    progress(
        f"mix: {rate:.0f} requests/s for {duration} s "
        f"({render_rate:.1f} renders/s, {rate - render_rate:.0f} hits/s)"
    )
    with Sampler(server.proc.pid) as sampler:
        answers = asyncio.run(open_loop(rate, duration, mix_request(server.base, pool, tag)))
    memory = summarise(sampler, duration)
    return OpenLoop(rate, duration, answers, memory, {"render_rate": render_rate})


# ---- 4. connections ------------------------------------------------------------------------


def measure_connections(
    server: Server, workers: int, duration: int, *, patient: bool
) -> tuple[connections.Flood, Memory]:
    tag = secrets.token_hex(3)
    titles = [f"Pool {tag} {i:03d}" for i in range(connections.HIT_POOL)]
    paths = asyncio.run(render_pool(server.base, titles, 2 * workers))
    connections.raise_file_limit()
    progress(
        f"connections: {connections.IDLE} idle, {connections.RENDER_CLIENTS} render clients, "
        f"{connections.HIT_CLIENTS} hit clients for {duration} s"
    )
    with Sampler(server.proc.pid) as sampler:
        flood = asyncio.run(connections.run(server.base, duration, tag, paths, patient=patient))
    return flood, summarise(sampler, duration)


# ---- the run ------------------------------------------------------------------------------


@dataclass(slots=True)
class Results:
    workers: int
    duration: int
    hits: Hits | None = None
    overload: Overload | None = None
    mix: OpenLoop | None = None
    flood: connections.Flood | None = None
    flood_memory: Memory | None = None
    capacity: float | None = None
    logs: dict[str, LogFindings] = field(default_factory=dict)

    def overload_load(self) -> OpenLoop | None:
        return self.overload.load if self.overload is not None else None


@contextlib.contextmanager
def server_for(phase: str, workers: int, work: Path, results: Results) -> Iterator[Server]:
    """A fresh server for one phase; its log is read after it has stopped."""
    progress(f"{phase}: starting pixeldrive serve ({workers} workers)")
    with contextlib.ExitStack() as stack:
        server = start_pixeldrive(stack, workers, work)
        try:
            yield server
        finally:
            stack.close()  # stop the server (and its workers) before reading its log
            results.logs[phase] = read_log(server.log)


def run(
    phases: Sequence[str],
    workers: int,
    duration: int,
    keep_logs: Path | None,
    *,
    patient: bool = True,
) -> Results:
    results = Results(workers, duration)
    with tempfile.TemporaryDirectory(prefix="pixeldrive-load-") as tmp:
        work = Path(tmp)
        try:
            if "hits" in phases:
                with server_for("hits", workers, work, results) as server:
                    results.hits = measure_hits(server, duration)
            if "overload" in phases:
                with server_for("overload", workers, work, results) as server:
                    results.overload = measure_overload(server, workers, duration)
                    results.capacity = results.overload.capacity.rate
            if "mix" in phases:
                with server_for("mix", workers, work, results) as server:
                    if results.capacity is None:
                        seconds = capacity_seconds(duration)
                        progress(f"mix: capacity, {2 * workers} clients for {seconds:g} s")
                        tag = secrets.token_hex(3)
                        capacity = asyncio.run(
                            measure_capacity(server.base, 2 * workers, seconds, tag)
                        )
                        results.capacity = capacity.rate
                    results.mix = measure_mix(server, workers, duration, results.capacity)
            if "connections" in phases:
                with server_for("connections", workers, work, results) as server:
                    results.flood, results.flood_memory = measure_connections(
                        server, workers, duration, patient=patient
                    )
        finally:
            if keep_logs is not None:
                keep_logs.mkdir(parents=True, exist_ok=True)
                for log in work.glob("*.log"):
                    shutil.copy(log, keep_logs / log.name)
    return results


# ---- report -------------------------------------------------------------------------------


def mib(value: float) -> str:
    return f"{value / MIB:,.0f}"


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def latency_cells(answers: Sequence[Answer]) -> list[str]:
    values = [a.latency_ms for a in answers]
    return [fmt_ms(percentile(values, q)) for q in (50, 90, 99)] + [
        fmt_ms(max(values) if values else float("nan"))
    ]


def checks_table(results: Results) -> str:
    rows: list[list[object]] = []
    if results.hits is not None:
        w, mem = results.hits.wrk, results.hits.memory
        rows.append(["hits: non-2xx answers + socket errors", w.errors, "0", yes(w.errors == 0)])
        rows.append(
            [
                f"hits: server RSS at {mem.end_at:.0f} s vs at {mem.early_at:.0f} s",
                f"{mem.change:+.1%}",
                f"within ±{FLAT_TOLERANCE:.0%}",
                yes(mem.flat),
            ]
        )
    if results.overload is not None:
        load, health = results.overload.load, results.overload.health
        others = sum(1 for a in load.answers if a.status not in (201, 503))
        p99 = percentile([a.latency_ms for a in load.of("render", 503)], 99)
        rows.append(["overload: answers other than 201 and 503", others, "0", yes(others == 0)])
        rows.append(
            [
                "overload: p99 of the 503s, ms",
                fmt_ms(p99),
                f"< {AIM_503_P99_MS:g}",
                yes(p99 < AIM_503_P99_MS),
            ]
        )
        rows.append(
            [
                "overload: healthy afterwards (/readyz, then a new render)",
                f"{health.readyz}, {health.render} after {health.seconds:.2f} s",
                f"200, 201 within {HEALTH_DEADLINE_S:g} s",
                yes(health.ok),
            ]
        )
    if results.mix is not None:
        bad = sum(
            1
            for a in results.mix.answers
            if (a.kind, a.status) not in (("hit", 200), ("render", 201))
        )
        rows.append(
            ["mix: answers other than 200 (hits) and 201 (renders)", bad, "0", yes(not bad)]
        )
    if results.flood is not None:
        rows += connections_checks(results.flood)
    return "**Checks**\n\n" + table(["check", "value", "aim", "met"], rows)


def connections_checks(flood: connections.Flood) -> list[list[object]]:
    p99 = flood.p99_503()
    hits = len(flood.of("hit", 200))
    return [
        [
            "connections: answers other than 201, 503 (renders) and 200 (hits)",
            flood.unexpected(),
            "0",
            yes(flood.unexpected() == 0),
        ],
        [
            "connections: p99 of the 503s, ms",
            fmt_ms(p99),
            f"< {AIM_503_P99_MS:g}",
            yes(p99 < AIM_503_P99_MS),
        ],
        ["connections: hits served (200)", f"{hits:,}", "> 0", yes(hits > 0)],
    ]


def hits_table(hits: Hits, duration: int) -> str:
    w = hits.wrk
    cmd = f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{duration}s --latency URL"
    title = f"**1. Cache hits** (`{cmd}`, `{hits.path}`, {hits.size:,} bytes of PNG)"
    row = [
        f"{w.rps:,.0f}",
        f"{w.requests:,}",
        ms(w.p50_ms),
        ms(w.p90_ms),
        ms(w.p99_ms),
        w.non2xx,
        w.socket_errors,
    ]
    headers = ["requests/s", "requests", "p50 ms", "p90 ms", "p99 ms", "non-2xx", "socket errors"]
    return f"{title}\n\n" + table(headers, [row])


def capacity_table(capacity: Capacity) -> str:
    lat = capacity.latencies_ms
    title = (
        f"**2a. Render capacity** (closed loop: {capacity.clients} clients, each posting a new "
        f"og-card title as soon as the last is answered, {capacity.seconds:.0f} s)"
    )
    row = [
        f"{capacity.rate:.1f}",
        capacity.renders,
        fmt_ms(percentile(lat, 50)),
        fmt_ms(percentile(lat, 99)),
        sum(capacity.other.values()),
    ]
    return f"{title}\n\n" + table(
        ["renders/s", "renders (201)", "p50 ms", "p99 ms", "other answers"], [row]
    )


def answers_rows(load: OpenLoop) -> list[list[object]]:
    rows: list[list[object]] = []
    for (kind, status), count in sorted(load.statuses().items(), key=lambda kv: str(kv[0])):
        answers = load.of(kind, status)
        rows.append([kind, status, f"{count:,}", f"{count / load.duration:,.1f}"])
        rows[-1] += latency_cells(answers)
    return rows


ANSWER_HEADERS = ["request", "answer", "count", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms"]


def overload_table(overload: Overload) -> str:
    load, cap = overload.load, overload.capacity
    sent = len(load.answers)
    title = (
        f"**2b. Overload** (open loop: unique og-card renders offered at {load.rate:.1f}/s = "
        f"{OVERLOAD_FACTOR:g}× capacity for {load.duration:g} s, {sent:,} sent, each at its "
        "scheduled time whatever the answers; latency from send to the whole answer)"
    )
    lines = [f"{title}\n\n" + table(ANSWER_HEADERS, answers_rows(load))]
    ok = load.per_second("render", 201)
    retry = Counter(a.retry_after for a in load.of("render", 503))
    no_retry = retry.pop(None, 0)
    if ok:
        lines.append(
            f"- 201s per second: median {statistics.median(ok):.0f}, lowest {min(ok)}, "
            f"highest {max(ok)}; {load.statuses()[('render', 201)] / load.duration:.1f}/s "
            f"= {load.statuses()[('render', 201)] / load.duration / cap.rate:.2f}× capacity"
        )
    values = ", ".join(f"{v} s × {n:,}" for v, n in sorted(retry.items(), key=_seconds))
    lines.append(f"- 503s without `Retry-After`: {no_retry}; its values: {values or 'none'}")
    lines.append(f"- the generator's own lateness, p99: {load.lag_p99_ms():.1f} ms")
    health = overload.health
    lines.append(
        f"- afterwards: `/readyz` {health.readyz}; a new render {health.render} after "
        f"{health.seconds:.2f} s ({health.attempts} attempt{'s' * (health.attempts > 1)})"
    )
    return "\n".join(lines)


def _seconds(item: tuple[str | None, int]) -> float:
    try:
        return float(item[0] or "nan")
    except ValueError:
        return float("inf")


def mix_table(mix: OpenLoop) -> str:
    render_rate = float(mix.extra["render_rate"])  # type: ignore[arg-type]
    title = (
        f"**3. Mix** (open loop: {mix.rate:.0f} requests/s for {mix.duration:g} s; "
        f"{1 - MIX_HIT_SHARE:.0%} new renders = {render_rate:.1f}/s = {MIX_RENDER_LOAD:g}× "
        f"capacity, {MIX_HIT_SHARE:.0%} GETs of {HIT_POOL} rendered PNGs)"
    )
    lines = [f"{title}\n\n" + table(ANSWER_HEADERS, answers_rows(mix))]
    misses = sum(1 for a in mix.of("hit", 200) if a.x_cache != "hit")
    lines.append(f"- hits not served from memory (`X-Cache` ≠ hit): {misses}")
    lines.append(f"- the generator's own lateness, p99: {mix.lag_p99_ms():.1f} ms")
    return "\n".join(lines)


def phase_memory(results: Results) -> list[tuple[str, Memory, int]]:
    """(phase, memory, bytes of new images rendered while it was sampled)."""
    phases: list[tuple[str, Memory, int]] = []
    if results.hits is not None:
        phases.append(("hits", results.hits.memory, 0))
    for name, load in (("overload", results.overload_load()), ("mix", results.mix)):
        if load is not None:
            drawn = sum(a.image_bytes for a in load.answers if a.status == 201)
            phases.append((name, load.memory, drawn))
    if results.flood is not None and results.flood_memory is not None:
        drawn = sum(r.image_bytes for r in results.flood.replies if r.status == 201)
        phases.append(("connections", results.flood_memory, drawn))
    return phases


def memory_table(results: Results) -> str:
    rows: list[list[object]] = []
    for name, mem, drawn in phase_memory(results):
        rows.append(
            [
                name,
                mib(mem.peak),
                f"{mib(mem.early)} at {mem.early_at:.0f} s",
                f"{mib(mem.end)} at {mem.end_at:.0f} s",
                f"{mem.change:+.1%}",
                f"{mib(mem.main_start)} → {mib(mem.main_end)}",
                mib(drawn),
                f"{mem.processes} ({mem.seen - mem.processes} replaced)",
            ]
        )
    headers = ["phase", "peak MiB", "early MiB", "end MiB", "end vs early"]
    headers += ["server process alone MiB", "new images rendered MiB", "processes"]
    title = (
        "**Server memory** (VmRSS of `pixeldrive serve` plus every descendant, summed, "
        "sampled every second during the phase; new images rendered: the bytes of the "
        "201s in the phase, which the memory tier keeps, up to `cache.memory_bytes` = 256 MiB)"
    )
    return f"{title}\n\n" + table(headers, rows)


def cpu_table(results: Results) -> str:
    rows = [
        [
            name,
            f"{m.cpu.server:.2f}",
            f"{m.cpu.main:.2f}",
            f"{m.cpu.server - m.cpu.main:.2f}",
            f"{m.cpu.generator:.2f}",
            f"{m.cpu.other:.2f}",
        ]
        for name, m, _ in phase_memory(results)
    ]
    title = (
        f"**CPU** (cores busy on average, of {nproc()}: the server's processes — its own "
        "process (event loop and threads) and its children (render workers) — then the load "
        "generator (Python, or wrk) and everything else on the machine, steal included)"
    )
    headers = ["phase", "server", "server process", "its children", "load generator", "other"]
    return f"{title}\n\n" + table(headers, rows)


def nproc() -> int:
    return os.cpu_count() or 1


def log_table(results: Results) -> str:
    rows = [
        [phase, f.errors, f.warnings, f.tracebacks, "; ".join(f"`{e}`" for e in f.examples[:2])]
        for phase, f in results.logs.items()
    ]
    return "**Server log** (each phase's server)\n\n" + table(
        ["phase", "ERROR lines", "WARNING lines", "tracebacks", "first messages"], rows
    )


def report(results: Results) -> str:
    parts = [checks_table(results)]
    if results.hits is not None:
        parts.append(hits_table(results.hits, results.duration))
    if results.overload is not None:
        parts += [capacity_table(results.overload.capacity), overload_table(results.overload)]
    if results.mix is not None:
        parts.append(mix_table(results.mix))
    if results.flood is not None:
        parts.append(connections.report(results.flood, ServerSettings().head_timeout))
    parts += [memory_table(results), cpu_table(results), log_table(results)]
    return "\n\n".join(parts)


def machine_facts(workers: int) -> str:

    return (
        f"{machine_line()}\n"
        f"- Python {python_version()}, aiohttp {aiohttp.__version__}, wrk {wrk_version()}, "
        f"PixelDrive {version('pixeldrive')} at {source_state()}\n"
        f"- server: `pixeldrive serve`, `PIXELDRIVE_WORKERS={workers}`, default queue depth "
        "and render timeout, auth off, a fresh state dir per phase; the load generators run "
        "on the same machine"
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=60, help="seconds per phase")
    parser.add_argument("--workers", type=int, default=2, help="PIXELDRIVE_WORKERS")
    parser.add_argument("--only", choices=PHASES, help="run one phase only")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    parser.add_argument("--keep-logs", type=Path, help="copy the servers' logs into this dir")
    parser.add_argument(
        "--impatient",
        action="store_true",
        help="connections phase: render clients post again at once after a 503",
    )
    args = parser.parse_args(argv)
    if args.duration < 2 or args.workers < 1:
        parser.error("--duration must be ≥ 2 and --workers ≥ 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    phases = (args.only,) if args.only else PHASES
    started = dt.datetime.now(dt.UTC)
    facts = machine_facts(args.workers)
    clock = time.monotonic()
    results = run(phases, args.workers, args.duration, args.keep_logs, patient=not args.impatient)
    facts += "\n- load average at the end " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = section(BEGIN, END, report(results), facts, command_line("load.py", argv), started)
    print(text)
    for phase, findings in results.logs.items():
        for example in findings.examples:
            print(f"server log ({phase}): {example}", file=sys.stderr)
    print(f"\n(benchmark took {time.monotonic() - clock:.0f} s)")
    if args.write:
        write_readme(text, BEGIN, END)
        print(f"wrote {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

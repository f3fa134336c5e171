#!/usr/bin/env python3
"""PixelDrive memory benchmark: 10,000 distinct renders against a small memory tier.

One `pixeldrive serve` (2 workers, auth off, fresh state dir) with the memory tier bounded
to a few MiB and workers recycled after a few hundred tasks. A closed loop of clients posts
unique small og-card PNGs (``width=300``) until N have been drawn, while a thread samples
the VmRSS of the server process and of each of its descendants every half second. Then:
is the memory flat over the last half (±10 %)? Does the memory tier keep within its
bound (``pixeldrive_cache_bytes{tier="memory"}`` from /metrics)? Were the workers
replaced after ``max_tasks_per_worker`` (new worker pids)?

Run it with ``bench/memory`` or as part of ``bench/run``; ``--write`` puts the figures into
bench/README.md between the ``memory`` markers. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import re
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import renders
from common import (
    command_line,
    machine_line,
    process_tree,
    progress,
    publish,
    python_version,
    rss_bytes,
    scan_proc,
    section,
    start_pixeldrive,
    table,
)

BEGIN, END = "<!-- memory:begin -->", "<!-- memory:end -->"
WORKERS = 2
CLIENTS = 4
SETTLE_SECONDS = 3.0
WIDTH = 300
MEMORY_BYTES = 4 * 2**20
MAX_TASKS = 1000
FLAT_TOLERANCE = 0.10
SAMPLE_EVERY_S = 0.5
MIB = 2**20


# ---- sampling -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    renders: int  # drawn so far
    total: int  # bytes: the server and every descendant
    server: int  # bytes: the server process alone
    workers: int  # bytes: the render workers


def is_worker(pid: int) -> bool:
    """A render worker: a process running pixeldrive.render.worker's main."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"pixeldrive.render.worker" in cmdline


class Sampler:
    """Every half second, in a thread: the tree's VmRSS, and every worker pid seen."""

    def __init__(self, pid: int, counter: list[int]) -> None:
        self.pid = pid
        self.counter = counter  # counter[0]: renders drawn so far, updated by the clients
        self.samples: list[Sample] = []
        self.worker_pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory", daemon=True)

    def _sample(self) -> None:
        pids = process_tree(self.pid, scan_proc())
        sizes = {pid: rss_bytes(pid) for pid in pids}
        workers = [pid for pid in pids if pid != self.pid and is_worker(pid)]
        self.worker_pids.update(workers)
        worker_rss = sum(sizes[pid] for pid in workers)
        total = sum(sizes.values())
        self.samples.append(Sample(self.counter[0], total, sizes[self.pid], worker_rss))

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(SAMPLE_EVERY_S):
                self._sample()
                return

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ---- the run ------------------------------------------------------------------------------


async def drive(base: str, total: int, counter: list[int]) -> tuple[float, int]:
    """Post unique small og-card PNGs from `CLIENTS` clients until `total` were drawn:
    (seconds, answers other than 201)."""
    numbers = itertools.count()
    failures = 0

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while counter[0] < total:
            body = renders.payload("og-card", f"Memory {next(numbers)}", "png", width=WIDTH)
            async with session.post(f"{base}/v1/renders", json=body) as resp:
                answer = await resp.json(content_type=None)
            if resp.status != 201 or answer["cached"]:
                failures += 1
            else:
                counter[0] += 1

    started = time.monotonic()
    async with renders.client_session(CLIENTS) as session:
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
    return time.monotonic() - started, failures


async def scrape(base: str) -> dict[str, float]:
    """The /metrics values this benchmark reads, by name{labels}."""
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as resp:
        text = await resp.text()
    wanted = ("pixeldrive_cache_bytes", "pixeldrive_cache_entries", "pixeldrive_pool_restarts")
    found = {}
    for line in text.splitlines():
        match = re.match(r"^(\w+(?:\{[^}]*\})?) ([0-9.e+-]+)$", line)
        if match and match.group(1).startswith(wanted):
            found[match.group(1)] = float(match.group(2))
    return found


@dataclass(frozen=True, slots=True)
class Results:
    renders: int
    seconds: float
    failures: int
    samples: list[Sample]
    worker_pids: int
    metrics: dict[str, float]
    memory_bytes: int
    max_tasks: int


def run(total: int, memory_bytes: int, max_tasks: int) -> Results:
    counter = [0]
    with (
        tempfile.TemporaryDirectory(prefix="pixeldrive-memory-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        server = start_pixeldrive(
            stack,
            WORKERS,
            Path(tmp),
            PIXELDRIVE_CACHE__MEMORY_BYTES=str(memory_bytes),
            PIXELDRIVE_RENDER__MAX_TASKS_PER_WORKER=str(max_tasks),
        )
        progress(f"{total:,} renders, {WIDTH} px wide, {CLIENTS} clients, {WORKERS} workers")
        with Sampler(server.proc.pid, counter) as sampler:
            seconds, failures = asyncio.run(drive(server.base, total, counter))
            # The end is read once a worker recycled by the last renders is up again: at
            # the moment of recycling the tree holds one worker fewer, which is not a
            # change in what the server keeps.
            time.sleep(SETTLE_SECONDS)
        metrics = asyncio.run(scrape(server.base))
    return Results(
        counter[0],
        seconds,
        failures,
        sampler.samples,
        len(sampler.worker_pids),
        metrics,
        memory_bytes,
        max_tasks,
    )


# ---- report -------------------------------------------------------------------------------


def at_renders(samples: Sequence[Sample], n: float) -> Sample:
    return min(samples, key=lambda s: abs(s.renders - n))


@dataclass(frozen=True, slots=True)
class Flatness:
    half: Sample
    end: Sample
    peak_last_half: int

    def change(self, pick: str) -> float:
        return getattr(self.end, pick) / getattr(self.half, pick) - 1

    @property
    def flat(self) -> bool:
        return (
            abs(self.change("total")) <= FLAT_TOLERANCE
            and self.peak_last_half <= (1 + FLAT_TOLERANCE) * self.half.total
        )


def flatness(results: Results) -> Flatness:
    half = at_renders(results.samples, results.renders / 2)
    last_half = [s for s in results.samples if s.renders >= half.renders]
    end = results.samples[-1]
    return Flatness(half, end, max(s.total for s in last_half))


def recycled(results: Results) -> tuple[int, bool]:
    """(worker processes expected over the run with recycling, whether as many were seen)."""
    per_worker = results.renders / WORKERS
    expected = WORKERS * (1 + int(per_worker // results.max_tasks)) if results.max_tasks else 2
    # Not exact: the split between the workers is uneven.
    return expected, results.worker_pids >= expected - 1


def mib(value: float) -> str:
    return f"{value / MIB:.1f}"


def report(results: Results) -> str:
    f = flatness(results)
    tier = results.metrics.get('pixeldrive_cache_bytes{tier="memory"}', float("nan"))
    entries = results.metrics.get('pixeldrive_cache_entries{tier="memory"}', float("nan"))
    expected, ok = recycled(results)
    restarts = results.metrics.get("pixeldrive_pool_restarts_total", 0.0)
    checks = [
        [
            "memory flat over the last half (server + workers, end vs half-way; peak of "
            "the last half vs half-way)",
            f"{f.change('total'):+.1%}; peak {f.peak_last_half / f.half.total - 1:+.1%}",
            "within ±10 %",
            "MET" if f.flat else "**NOT MET**",
        ],
        [
            'memory tier bytes / its bound (`pixeldrive_cache_bytes{tier="memory"}`)',
            f"{mib(tier)} / {mib(results.memory_bytes)} MiB ({entries:.0f} images)",
            "≤ 1.0",
            "MET" if tier <= results.memory_bytes else "**NOT MET**",
        ],
        [
            f"workers recycled after `max_tasks_per_worker` = {results.max_tasks}",
            f"{results.worker_pids} worker processes seen ({restarts:.0f} counted as "
            "timeout/crash restarts)",
            f"about {expected}",
            "MET" if ok else "**NOT MET**",
        ],
        ["renders that failed or came back cached", results.failures, "0", ""],
    ]
    rows = []
    for label, n in (
        ("start", 0),
        ("a quarter", 0.25),
        ("half-way", 0.5),
        ("three quarters", 0.75),
    ):
        s = at_renders(results.samples, n * results.renders)
        rows.append([label, f"{s.renders:,}", mib(s.total), mib(s.server), mib(s.workers)])
    end = results.samples[-1]
    rows.append(["end", f"{end.renders:,}", mib(end.total), mib(end.server), mib(end.workers)])
    rate = results.renders / results.seconds
    title = (
        f"**RSS during the run** ({results.renders:,} distinct og-card PNGs, {WIDTH} px wide, "
        f"in {results.seconds:.0f} s = {rate:.0f}/s; MiB)"
    )
    return (
        "**Checks**\n\n"
        + table(["check", "measured", "aim", ""], checks)
        + f"\n\n{title}\n\n"
        + table(["point", "renders", "server + workers", "server", "workers"], rows)
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=10_000, help="distinct renders")
    parser.add_argument("--memory-bytes", type=int, default=MEMORY_BYTES, help="memory tier")
    parser.add_argument("--max-tasks", type=int, default=MAX_TASKS, help="per worker")
    parser.add_argument("--quick", action="store_true", help="smoke test: 600 renders, 150 tasks")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.renders, args.max_tasks = 600, 150
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    facts = f"{machine_line()}\n- Python {python_version()}, aiohttp {aiohttp.__version__}"
    results = run(args.renders, args.memory_bytes, args.max_tasks)
    server = (
        f"- server: `pixeldrive serve`, {WORKERS} workers, "
        f"`PIXELDRIVE_CACHE__MEMORY_BYTES={args.memory_bytes}`, "
        f"`PIXELDRIVE_RENDER__MAX_TASKS_PER_WORKER={args.max_tasks}`, auth off, fresh state dir"
    )
    text = section(
        BEGIN, END, report(results), f"{facts}\n{server}", command_line("memory.py", argv), started
    )
    publish(text, BEGIN, END, write=args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())

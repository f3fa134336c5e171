"""Renders through the HTTP API, as clients send them: cold latency one at a time, and
closed-loop throughput with unique or repeated payloads. Imported by ``bench/core.py``
and ``bench/memory.py``; nothing here loads cairo."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from common import wrk_command
from rivals import Samples

WARMUP = 4
# The text field each bundled template's unique payloads vary (short enough for every
# template's max_length).
VARIED = {"og-card": "title", "product": "name", "certificate": "learner", "quote": "quote"}


def payload(template: str, value: str, fmt: str, **extra: Any) -> dict[str, Any]:
    return {"template": template, "fields": {VARIED[template]: value}, "format": fmt, **extra}


def client_session(limit: int = 64) -> aiohttp.ClientSession:
    timeout = aiohttp.ClientTimeout(total=60)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit), timeout=timeout)


async def post_render(
    session: aiohttp.ClientSession, base: str, body: dict[str, Any]
) -> tuple[float, dict[str, Any]]:
    """One POST /v1/renders: (milliseconds until the 201 body is read, that body)."""
    start = time.perf_counter()
    async with session.post(f"{base}/v1/renders", json=body) as resp:
        answer: dict[str, Any] = await resp.json(content_type=None)
    elapsed = (time.perf_counter() - start) * 1000
    if resp.status != 201:
        raise RuntimeError(f"POST /v1/renders {body} → {resp.status}: {answer}")
    return elapsed, answer


async def cold(
    session: aiohttp.ClientSession, base: str, template: str, fmt: str, runs: int
) -> Samples:
    """`runs` sequential misses (each payload unique) after a few untimed warm-up misses."""
    for i in range(WARMUP):
        await post_render(session, base, payload(template, f"Warm-up {fmt} {i}", fmt))
    samples = []
    for i in range(runs):
        ms, answer = await post_render(session, base, payload(template, f"Bench {fmt} {i}", fmt))
        if answer["cached"]:
            raise RuntimeError(f"expected an uncached render, got {answer}")
        samples.append(ms)
    return Samples(tuple(samples))


async def repeated(
    session: aiohttp.ClientSession, base: str, body: dict[str, Any], runs: int
) -> Samples:
    """The same payload again and again: every answer comes from cache."""
    samples = []
    for _ in range(runs):
        ms, answer = await post_render(session, base, body)
        if not answer["cached"]:
            raise RuntimeError(f"expected a cached render, got {answer}")
        samples.append(ms)
    return Samples(tuple(samples))


# ---- closed loop --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Latency as wrk reports it: the median and p99 of every request, in milliseconds."""

    median: float
    p99: float


@dataclass(frozen=True, slots=True)
class Throughput:
    """A closed-loop run: answers per second, how many were drawn (cached false) and how
    many came from cache, latency of all of them, and any answer other than 201."""

    clients: int
    repeat_share: float
    seconds: float
    drawn: int
    cached: int
    latency: Samples | Quantiles
    other: Counter[int]

    @property
    def rate(self) -> float:
        return (self.drawn + self.cached) / self.seconds


LUA = Path(__file__).with_name("renders.lua")
RESULT = re.compile(
    r"RENDERS drawn=(\d+) cached=(\d+) other=(\d+) p50_us=(\d+) p99_us=(\d+) duration_us=(\d+)"
)


def wrk_loop(
    base: str, clients: int, seconds: int, template: str, tag: str, repeat_share: float = 0.0
) -> Throughput:
    """A closed loop of og-card-style renders driven by wrk (`renders.lua`):
    `clients` connections over two threads, each sending its next POST when the last
    answer is in. wrk spends a few microseconds of CPU per request where an aiohttp
    client spends about a millisecond, on the same two cores as the server it measures."""
    tenths = round(repeat_share * 10)
    asyncio.run(_warm_up(base, template, tag, clients))
    command = [*wrk_command(min(2, clients), clients, seconds), "-s", str(LUA), base]
    command += ["--", tag, str(tenths), template, VARIED[template]]
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    found = RESULT.search(out)
    if found is None:
        raise RuntimeError(f"cannot parse the wrk script's output:\n{out}")
    drawn, cached, other, p50, p99, duration = map(int, found.groups())
    return Throughput(
        clients,
        repeat_share,
        duration / 1e6,
        drawn,
        cached,
        Quantiles(p50 / 1000, p99 / 1000),
        Counter({0: other}) if other else Counter(),
    )


async def _warm_up(base: str, template: str, tag: str, clients: int) -> None:
    async with client_session(clients) as session:
        bodies = [payload(template, f"Warm-up {tag} {i}", "png") for i in range(clients)]
        await asyncio.gather(*(post_render(session, base, body) for body in bodies))


async def fill_pool(base: str, template: str, fmt: str, tag: str, pool: int = 16) -> None:
    """Render the payloads `renders.lua` repeats, so that each repeat is a cache hit."""
    async with client_session() as session:
        for i in range(pool):
            await post_render(session, base, payload(template, f"Repeat {tag} {i}", fmt))

"""Renders through the HTTP API, as clients send them: cold latency one at a time, and
closed-loop throughput with unique or repeated payloads. Imported by ``bench/core.py``
and ``bench/memory.py``; nothing here loads cairo."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
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
class Throughput:
    """A closed-loop run: answers per second, how many were drawn (cached false) and how
    many came from cache, latency of all of them, and any answer other than 201."""

    clients: int
    repeat_share: float
    seconds: float
    drawn: int
    cached: int
    latency: Samples
    other: Counter[int]

    @property
    def rate(self) -> float:
        return (self.drawn + self.cached) / self.seconds


Body = Callable[[int], dict[str, Any]]


async def closed_loop(
    base: str, clients: int, seconds: float, make: Body, repeat_share: float = 0.0
) -> Throughput:
    """`clients` clients, each sending request n = make(n) as soon as its last answer is
    read, for `seconds` after one untimed request per client."""
    numbers = itertools.count()
    drawn = cached = 0
    latencies: list[float] = []
    other: Counter[int] = Counter()
    async with client_session(clients) as session:
        await asyncio.gather(*(post_render(session, base, make(-1 - i)) for i in range(clients)))
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + seconds

        async def client() -> None:
            nonlocal drawn, cached
            while loop.time() < deadline:
                sent = loop.time()
                async with session.post(f"{base}/v1/renders", json=make(next(numbers))) as resp:
                    answer = await resp.json(content_type=None)
                if resp.status != 201:
                    other[resp.status] += 1
                    continue
                latencies.append((loop.time() - sent) * 1000)
                if answer["cached"]:
                    cached += 1
                else:
                    drawn += 1

        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = loop.time() - start
    return Throughput(
        clients, repeat_share, elapsed, drawn, cached, Samples(tuple(latencies) or (0.0,)), other
    )


def with_repeats(template: str, fmt: str, tag: str, share: float, pool: int = 16) -> Body:
    """Request n repeats one of `pool` earlier payloads for `share` of n (spread evenly:
    n % 10 < share × 10), else asks for a new image. Negative n (warm-ups) fill the pool."""
    tenths = round(share * 10)

    def make(n: int) -> dict[str, Any]:
        if n >= 0 and n % 10 < tenths:
            return payload(template, f"Repeat {tag} {n % pool}", fmt)
        return payload(template, f"New {tag} {n}", fmt)

    return make


async def fill_pool(base: str, template: str, fmt: str, tag: str, pool: int = 16) -> None:
    """Render the payloads `with_repeats` repeats, so that each repeat is a cache hit."""
    async with client_session() as session:
        for i in range(pool):
            await post_render(session, base, payload(template, f"Repeat {tag} {i}", fmt))

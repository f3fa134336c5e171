"""Prometheus metrics, one registry per application: what is counted as it happens, and
what is read from the pool and the cache when Prometheus scrapes."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Protocol, runtime_checkable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from pixeldrive.cache.tiered import TieredCache
from pixeldrive.core.errors import InvalidInput, Overloaded, RenderTimeout
from pixeldrive.render.job import RenderJob, RenderOutput
from pixeldrive.render.pool import Place, RenderPool
from pixeldrive.text.report import TextReport

# Renders take from a few milliseconds (small PNG) to the 10 s default time limit.
RENDER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A memory hit is answered in well under a millisecond; a cold render takes seconds.
HTTP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5, 10)
OUTCOMES = ("ok", "invalid", "timeout", "failed", "overloaded")
# What the pool raises, by type (RenderFailed and anything else: "failed").
_OUTCOME_OF = ((InvalidInput, "invalid"), (RenderTimeout, "timeout"), (Overloaded, "overloaded"))


class Metrics:
    """The application's metrics in its own `CollectorRegistry` (never the global one,
    so several apps in one process never collide). Events are pushed through the
    methods below; `watch()` adds the values read at scrape time."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, formats: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self._render_seconds = Histogram(
            "pixeldrive_render_seconds",
            "Wall time of renders that drew pixels, admission included",
            ["format"],
            buckets=RENDER_BUCKETS,
            registry=r,
        )
        self._renders = Counter(
            "pixeldrive_renders",
            "Renders sent to the pool, by outcome",
            ["format", "outcome"],
            registry=r,
        )
        # What every request touches (cache lookups, responses) is counted in plain ints
        # and read at scrape time: prometheus_client's children take a lock per increment,
        # which was a fifth of a cache hit's time in the application. Only the event loop
        # writes them.
        self._tally = _Tally()
        r.register(self._tally)
        for fmt in formats:  # series exist from the start, so rate() sees the first event
            self._render_seconds.labels(fmt)
            for outcome in OUTCOMES:
                self._renders.labels(fmt, outcome)

    def watch(self, pool: RenderPool, cache: TieredCache) -> None:
        """Report the pool's and the cache's state, read from them at each scrape."""
        for tier in cache.tiers:
            for hit in (True, False):
                self._tally.cache.setdefault((tier.name, hit), 0)
        self.registry.register(_LiveState(pool, cache))

    def cache_lookup(self, tier: str, hit: bool) -> None:
        """A `TieredCache` lookup observer (on the event loop)."""
        counts = self._tally.cache
        counts[tier, hit] = counts.get((tier, hit), 0) + 1

    def render(self, fmt: str, outcome: str, seconds: float | None = None) -> None:
        """One render's outcome; `seconds` for those that drew pixels."""
        self._renders.labels(fmt, outcome).inc()
        if seconds is not None:
            self._render_seconds.labels(fmt).observe(seconds)

    def response(self, route: str, method: str, status: int, seconds: float) -> None:
        """One HTTP response (on the event loop); `route` is a path template, never a raw
        path."""
        tally = self._tally
        key = (route, method, status // 100)
        tally.responses[key] = tally.responses.get(key, 0) + 1
        latency = tally.latency.get(route)
        if latency is None:
            latency = tally.latency[route] = _Latency()
        latency.counts[bisect_left(HTTP_BUCKETS, seconds)] += 1
        latency.total += seconds

    def exposition(self) -> bytes:
        """The registry in the Prometheus text format (`content_type`)."""
        return generate_latest(self.registry)


class _Latency:
    """One route's answer times: a count per bucket of HTTP_BUCKETS (+Inf last), and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(HTTP_BUCKETS) + 1)
        self.total = 0.0


class _Tally:
    """A collector for the counts kept as plain numbers: cache lookups per (tier, hit),
    responses per (route, method, status class), answer times per route."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, bool], int] = {}
        self.responses: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, _Latency] = {}

    def collect(self) -> Iterator[Metric]:
        cache = CounterMetricFamily(
            "pixeldrive_cache_requests", "Cache lookups per tier", labels=["tier", "result"]
        )
        for (tier, hit), count in sorted(self.cache.items()):
            cache.add_metric([tier, "hit" if hit else "miss"], count)
        yield cache
        responses = CounterMetricFamily(
            "pixeldrive_http_responses",
            "HTTP responses by route template, method and status class",
            labels=["route", "method", "status"],
        )
        for (route, method, status), count in sorted(self.responses.items()):
            responses.add_metric([route, method, f"{status}xx"], count)
        yield responses
        seconds = HistogramMetricFamily(
            "pixeldrive_http_request_seconds", "Time to answer, by route template", labels=["route"]
        )
        bounds = [repr(float(b)) for b in HTTP_BUCKETS] + ["+Inf"]  # "0.0005", "5.0"
        for route, latency in sorted(self.latency.items()):
            cumulative = list(accumulate(latency.counts))
            seconds.add_metric([route], list(zip(bounds, cumulative, strict=True)), latency.total)
        yield seconds


class MeteredPool:
    """A `RenderPool` seen from outside: each render timed and counted by outcome, so
    the render package itself stays free of metrics."""

    def __init__(self, pool: RenderPool, metrics: Metrics) -> None:
        self._pool = pool
        self._metrics = metrics

    async def render(self, job: RenderJob, place: Place | None = None) -> RenderOutput:
        started = time.perf_counter()
        try:
            output = await self._pool.render(job, place)
        except Exception as exc:
            self._metrics.render(job.format, outcome_of(exc))
            raise
        self._metrics.render(job.format, "ok", time.perf_counter() - started)
        return output

    async def layout(self, job: RenderJob) -> dict[str, TextReport]:
        return await self._pool.layout(job)

    def idle(self) -> bool:
        return self._pool.idle()

    def hold(self, fmt: str) -> Place:
        """The pool's place; a refusal is counted as a render of `fmt` refused."""
        try:
            return self._pool.hold(fmt)
        except Overloaded:
            self._metrics.render(fmt, "overloaded")
            raise


def outcome_of(exc: Exception) -> str:
    """The outcome label of a render that raised: RenderFailed, and anything the pool
    did not expect, is "failed"."""
    return next((outcome for kind, outcome in _OUTCOME_OF if isinstance(exc, kind)), "failed")


@runtime_checkable
class _CountingTier(Protocol):
    """A tier that counts its troubles (the disk tier)."""

    name: str
    corrupt: int
    errors: int
    evictions: int


class _LiveState:
    """A custom collector: values that live in the pool and the cache, read at scrape
    time instead of being pushed on every change."""

    def __init__(self, pool: RenderPool, cache: TieredCache) -> None:
        self._pool = pool
        self._cache = cache

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "pixeldrive_queue_depth", "Renders in flight (running or queued)", self._pool.in_flight
        )
        yield GaugeMetricFamily(
            "pixeldrive_pool_workers", "Render worker processes", self._pool.limits.workers
        )
        yield CounterMetricFamily(
            "pixeldrive_pool_restarts",
            "Workers replaced after a timeout or a crash",
            self._pool.restarts,
        )
        yield from self._cache_families()

    def _cache_families(self) -> Iterator[Metric]:
        size = GaugeMetricFamily("pixeldrive_cache_bytes", "Bytes held per tier", labels=["tier"])
        entries = GaugeMetricFamily(
            "pixeldrive_cache_entries", "Entries held per tier", labels=["tier"]
        )
        for name, stats in self._cache.stats().items():
            size.add_metric([name], stats.bytes)
            entries.add_metric([name], stats.entries)
        yield size
        yield entries
        counting = [t for t in self._cache.tiers if isinstance(t, _CountingTier)]
        for field, help_text in (
            ("corrupt", "Corrupt entries found and deleted"),
            ("errors", "I/O errors, answered as misses or skipped writes"),
            ("evictions", "Entries evicted to stay within the size limit"),
        ):
            family = CounterMetricFamily(f"pixeldrive_cache_{field}", help_text, labels=["tier"])
            for tier in counting:
                family.add_metric([tier.name], getattr(tier, field))
            yield family

"""The render process pool: bounded admission, per-render time limits, dead workers replaced."""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
from collections.abc import Callable
from concurrent.futures import CancelledError as FutureCancelled
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import pebble

from pixeldrive.errors import (
    InvalidInput,
    Overloaded,
    RenderFailed,
    RenderTimeout,
    TemplateInvalid,
)
from pixeldrive.render import worker
from pixeldrive.render.job import JobError, JobFailed, RenderJob, RenderOutput, WorkerConfig
from pixeldrive.text.report import TextReport

log = logging.getLogger("pixeldrive.render.pool")


@dataclass(frozen=True, slots=True)
class PoolLimits:
    workers: int
    queue_depth: int
    timeout: float
    max_tasks_per_worker: int


class RenderPool:
    """Renders jobs in worker processes (pebble), never on the event loop.

    Admission is bounded: at most `workers + queue_depth` renders are in flight; the next
    is refused at once with Overloaded (503 + Retry-After) instead of queueing without
    end. A render past `timeout` has its worker killed and replaced (RenderTimeout, 504);
    a worker that dies mid-render is replaced and that render fails (RenderFailed, 500).
    """

    def __init__(self, limits: PoolLimits, config: WorkerConfig) -> None:
        self.limits = limits
        self._config = config
        self._pool: pebble.ProcessPool | None = None
        self._in_flight = 0
        self.restarts = 0
        self.completed = 0
        self._recent_ms = 50.0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def capacity(self) -> int:
        return self.limits.workers + self.limits.queue_depth

    async def start(self) -> None:
        """Start the workers and wait until each has initialised (fonts, CairoSVG)."""
        self._pool, pings = await asyncio.to_thread(self._spawn)
        await asyncio.gather(*(asyncio.wrap_future(p) for p in pings))
        log.info("render pool up: %d workers", self.limits.workers)

    def _spawn(self) -> tuple[pebble.ProcessPool, list[Future[int]]]:
        # Spawned, not forked: the server has threads, and a fork would copy their locks.
        # pebble starts its processes on the first schedule, which writes to pipes: this
        # runs in a thread, off the event loop.
        pool = pebble.ProcessPool(
            max_workers=self.limits.workers,
            max_tasks=self.limits.max_tasks_per_worker,
            initializer=worker.init_worker,
            initargs=[self._config],
            context=multiprocessing.get_context("spawn"),
        )
        return pool, [pool.schedule(worker.ping) for _ in range(self.limits.workers)]

    async def close(self) -> None:
        """Stop accepting, let running renders finish, and join the workers."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(pool.join, 30)

    def alive(self) -> bool:
        return self._pool is not None and self._pool.active

    async def layout(self, job: RenderJob) -> dict[str, TextReport]:
        """Fill and set the text of one job without drawing it (a dry run); admitted and
        bounded like a render."""
        reports: dict[str, TextReport] = await self._run(worker.layout, job)
        return reports

    async def render(self, job: RenderJob) -> RenderOutput:
        """Render one job; raises Overloaded, RenderTimeout, RenderFailed or InvalidInput."""
        output: RenderOutput = await self._run(worker.run, job)
        # The worker's own time per render: the wall time would count the queue twice.
        drawing = output.draw_ms + output.encode_ms
        self._recent_ms = 0.8 * self._recent_ms + 0.2 * drawing
        return output

    async def _run(self, task: Callable[[RenderJob], Any], job: RenderJob) -> Any:
        """Run `task(job)` in a worker; raises Overloaded, RenderTimeout, RenderFailed or
        InvalidInput."""
        if self._pool is None:
            raise RenderFailed("the render pool is not running")
        if self._in_flight >= self.capacity:
            raise Overloaded(
                f"{self._in_flight} renders are in flight, the limit is {self.capacity}",
                headers={"Retry-After": str(self._retry_after())},
            )
        self._in_flight += 1
        try:
            future = self._pool.schedule(task, args=[job], timeout=self.limits.timeout)
            output = await asyncio.wrap_future(future)
        except TimeoutError as exc:
            self.restarts += 1
            raise RenderTimeout(
                f"the render took longer than {self.limits.timeout:g} s and was stopped"
            ) from exc
        except pebble.ProcessExpired as exc:
            self.restarts += 1
            raise RenderFailed(f"the render worker died (exit code {exc.exitcode})") from exc
        except (JobError, TemplateInvalid) as exc:
            raise InvalidInput(str(exc)) from exc
        except (JobFailed, FutureCancelled) as exc:
            raise RenderFailed(str(exc) or "the render was cancelled") from exc
        except Exception as exc:
            # The process boundary: anything else (a broken pool, an encoder error) is a
            # failed render for this request alone, named by type, never a raw 500.
            raise RenderFailed(f"the render failed: {type(exc).__name__}") from exc
        finally:
            self._in_flight -= 1
        self.completed += 1
        return output

    def _retry_after(self) -> int:
        """Seconds until the queue ahead has drained: its renders, spread over the workers."""
        waves = self._in_flight / max(1, self.limits.workers)
        return max(1, math.ceil(waves * self._recent_ms / 1000))

"""The render pool alone, without HTTP: renders per second with 1 and 2 workers.

`core.py`'s closed loops measure the whole server; on a 2-core machine its event loop and
the load generator share the cores with the workers, so *2 workers / 1 worker* there is
bounded by the server's CPU per render as well as by the pool. This measures the pool by
itself, in this process, the way the service drives it (`RenderPool.render`), so the two
figures side by side say which of the two limits the scaling.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from dataclasses import dataclass

from common import CLK_TCK, process_tree, scan_proc


@dataclass(frozen=True, slots=True)
class PoolRun:
    workers: int
    renders: int
    seconds: float
    workers_cores: float  # CPU of the worker processes, in cores
    caller_cores: float  # CPU of this process (the event loop driving the pool), in cores

    @property
    def rate(self) -> float:
        return self.renders / self.seconds


def measure_pool(workers: int, seconds: float, clients: int = 4) -> PoolRun:
    """`clients` coroutines, each rendering a new og-card PNG as soon as its last is done."""
    return asyncio.run(_measure(workers, seconds, clients))


async def _measure(workers: int, seconds: float, clients: int) -> PoolRun:
    from pixeldrive.core.config import PROJECT_ROOT, load_settings
    from pixeldrive.render.job import RenderJob
    from pixeldrive.render.pool import PoolLimits, RenderPool
    from pixeldrive.templates.model import compile_template
    from pixeldrive.wiring import worker_config

    source = PROJECT_ROOT / "svg_templates" / "og-card.svg"
    template = compile_template("og-card", source.read_bytes(), max_image_bytes=5 * 2**20)
    numbers = itertools.count()

    def job() -> RenderJob:
        fields = template.validate({"title": f"Pool {workers} {next(numbers)}"})
        return RenderJob(template.version, str(source), fields, 1200, 630, "png")

    pool = RenderPool(PoolLimits(workers, clients, 30.0, 0), worker_config(load_settings()))
    await pool.start()
    try:
        await asyncio.gather(*(pool.render(job()) for _ in range(clients)))
        done = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds

        async def client() -> None:
            nonlocal done
            while loop.time() < deadline:
                await pool.render(job())
                done += 1

        before, started = _cpu(), time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        after, elapsed = _cpu(), time.perf_counter() - started
    finally:
        await pool.close()
    own, kids = ((a - b) / elapsed for a, b in zip(after, before, strict=True))
    return PoolRun(workers, done, elapsed, kids, own)


def _cpu() -> tuple[float, float]:
    """CPU seconds so far: this process, and its live children."""
    procs = scan_proc()
    me = os.getpid()
    kids = sum(procs[p].cpu for p in process_tree(me, procs) if p != me)
    return procs[me].cpu / CLK_TCK, kids / CLK_TCK

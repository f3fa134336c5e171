"""RenderPool with real worker processes: renders, time limits, dead workers, overload."""

from __future__ import annotations

import asyncio
import base64
import io
import math
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.core.errors import InvalidInput, Overloaded, RenderFailed, RenderTimeout
from pixeldrive.render.fetcher import make_fetcher
from pixeldrive.render.job import RenderJob, WorkerConfig
from pixeldrive.render.pool import PoolLimits, RenderPool
from pixeldrive.render.rasterize import rasterize
from pixeldrive.templates.version import template_version
from tests.procs import cpu_seconds, drawing, worker_pids
from tests.waiting import eventually

CONFIG = WorkerConfig(fontconfig_file=str(PROJECT_ROOT / "conf" / "fonts.conf"))
SLOW_SECONDS = 3.0  # what the slow template should take in one worker
PROBE_CIRCLES = 12_000

NORMAL = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120">'
    b'<rect data-pd-field="bg" width="240" height="120" fill="#ffffff"/>'
    b'<text data-pd-field="title" x="10" y="60" style="font-size:24px;font-family:sans-serif">'
    b"Hello</text></svg>"
)
BAD_IMAGE = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    ' width="40" height="40"><image width="40" height="40" xlink:href="data:image/png;base64,'
    + base64.b64encode(b"\x89PNG but then garbage, not an image at all" * 4).decode()
    + '"/></svg>'
).encode()


def circles(count: int) -> bytes:
    """CairoSVG walks the tree in Python: thousands of small circles take seconds."""
    body = "".join(
        f'<circle cx="{i % 200}" cy="{(i // 200) % 200}" r="1.5" fill="#{i % 4096:03x}"/>'
        for i in range(count)
    )
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200">{body}</svg>'.encode()


@dataclass(frozen=True)
class Jobs:
    normal: RenderJob
    slow: RenderJob
    bad_image: RenderJob
    slow_count: int


def job(directory: Path, name: str, data: bytes, size: tuple[int, int], **fields: Any) -> RenderJob:
    path = directory / f"{name}.svg"
    path.write_bytes(data)
    return RenderJob(template_version(data), str(path), fields, *size, format="png")


@pytest.fixture(scope="module")
def jobs(tmp_path_factory: pytest.TempPathFactory) -> Jobs:
    """The templates, written to disk once. The slow one is sized from a measurement in this
    process so that it takes about SLOW_SECONDS (at least 2 s) on this machine."""
    fetcher = make_fetcher(2**20, 10**7)
    started = time.perf_counter()
    rasterize(circles(PROBE_CIRCLES), 200, 200, fetcher)
    per_circle = (time.perf_counter() - started) / PROBE_CIRCLES
    count = max(30_000, math.ceil(SLOW_SECONDS / per_circle))
    assert count * per_circle >= 2.0
    directory = tmp_path_factory.mktemp("pool-templates")
    return Jobs(
        normal=job(directory, "normal", NORMAL, (240, 120), title="Hi", bg="#336699"),
        slow=job(directory, "slow", circles(count), (200, 200)),
        bad_image=job(directory, "bad-image", BAD_IMAGE, (40, 40)),
        slow_count=count,
    )


PoolFactory = Callable[..., Awaitable[RenderPool]]


@pytest.fixture
async def make_pool() -> AsyncIterator[PoolFactory]:
    pools: list[RenderPool] = []

    async def make(**overrides: Any) -> RenderPool:
        limits = {"workers": 1, "queue_depth": 4, "timeout": 20.0, "max_tasks_per_worker": 0}
        pool = RenderPool(PoolLimits(**(limits | overrides)), CONFIG)
        pools.append(pool)
        await pool.start()
        return pool

    try:
        yield make
    finally:
        for pool in pools:
            await pool.close()


async def worker_pid(pool: RenderPool) -> int:
    (pid,) = pool.pids()
    return pid


async def render_normal(pool: RenderPool, jobs: Jobs, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        output = await pool.render(jobs.normal)
    image = Image.open(io.BytesIO(output.data))
    assert image.format == "PNG"
    assert image.size == (output.width, output.height) == (240, 120)


async def test_a_normal_render_succeeds(make_pool: PoolFactory, jobs: Jobs) -> None:
    pool = await make_pool()
    assert pool.alive()
    await render_normal(pool, jobs)
    await render_normal(pool, jobs)
    assert pool.in_flight == 0
    assert pool.restarts == 0


async def test_timeout_stops_the_render_and_the_next_one_succeeds(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    pool = await make_pool(timeout=0.5)
    before = await worker_pid(pool)
    started = time.perf_counter()
    with pytest.raises(RenderTimeout) as exc:
        await pool.render(jobs.slow)
    elapsed = time.perf_counter() - started
    assert exc.value.status == 504
    assert 0.5 <= elapsed < 2.5, f"the slow render was not stopped in time ({elapsed:.2f} s)"
    assert pool.restarts == 1
    assert pool.in_flight == 0
    await render_normal(pool, jobs)
    assert await worker_pid(pool) != before, "the timed-out worker was replaced"
    assert pool.alive()


async def test_a_killed_worker_fails_its_render_and_is_replaced(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    pool = await make_pool()
    pid = await worker_pid(pool)
    idle = cpu_seconds(pid)
    task = asyncio.create_task(pool.render(jobs.slow))
    await eventually(lambda: drawing(pid, idle), "the worker started on the slow render")
    assert not task.done()
    os.kill(pid, signal.SIGKILL)
    async with asyncio.timeout(10):
        with pytest.raises(RenderFailed) as exc:
            await task
    assert exc.value.status == 500
    assert pool.restarts == 1
    started = time.perf_counter()
    await render_normal(pool, jobs, within=5.0)
    assert time.perf_counter() - started < 5.0
    assert await worker_pid(pool) != pid
    assert pool.in_flight == 0


async def test_overload_is_refused_at_once_with_retry_after(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    # The timeout only shortens the test: the slow render is cut after 1 s.
    pool = await make_pool(queue_depth=0, timeout=1.0)
    slow = asyncio.create_task(pool.render(jobs.slow))
    # One turn of the loop, not a timed wait: the task runs up to its first await, and a
    # render is admitted before that (`pool.render` has not awaited anything yet).
    await asyncio.sleep(0)
    assert pool.in_flight == 1
    started = time.perf_counter()
    with pytest.raises(Overloaded) as exc:
        await pool.render(jobs.normal)
    assert time.perf_counter() - started < 0.05
    assert not slow.done(), "the refusal must not wait for the render in flight"
    assert exc.value.status == 503
    retry_after = exc.value.headers["Retry-After"]
    assert retry_after.isdigit()
    assert int(retry_after) >= 1
    assert pool.in_flight == 1, "a refused render is not counted"
    with pytest.raises(RenderTimeout):
        await slow
    await render_normal(pool, jobs)


async def test_queue_depth_admits_that_many_beyond_the_busy_workers(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    pool = await make_pool(queue_depth=1, timeout=1.0)
    slow = asyncio.create_task(pool.render(jobs.slow))
    queued = asyncio.create_task(pool.render(jobs.normal))
    await asyncio.sleep(0)  # one turn of the loop: both are admitted in their first step
    assert pool.in_flight == 2
    with pytest.raises(Overloaded):
        await pool.render(jobs.normal)
    with pytest.raises(RenderTimeout):
        await slow
    output = await queued
    assert (output.width, output.height) == (240, 120)
    assert pool.in_flight == 0


async def test_a_held_place_is_counted_from_the_check_and_used_by_its_render_once(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    pool = await make_pool(queue_depth=1, timeout=5.0)
    first, second = pool.hold("png"), pool.hold("png")
    assert pool.in_flight == 2, "a place counts from the check, before any render is sent"
    with pytest.raises(Overloaded):
        pool.hold("png")  # the crowd behind them is refused at the check itself
    second.release()
    second.release()  # giving back twice gives back once
    assert pool.in_flight == 1
    render = asyncio.create_task(pool.render(jobs.normal, first))
    await asyncio.sleep(0)
    assert pool.in_flight == 1, "the render takes its held place: not counted twice"
    first.release()  # used: no longer the caller's to give back
    assert pool.in_flight == 1
    output = await render
    assert (output.width, output.height) == (240, 120)
    assert pool.in_flight == 0
    # A place already given back is no place: the render takes (and counts) a new one.
    stale = pool.hold("png")
    stale.release()
    assert (await pool.render(jobs.normal, stale)).width == 240
    assert pool.in_flight == 0


async def test_a_worker_killed_while_the_pool_closes_is_still_reaped(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    """The pool closes while a timed-out worker's reaping waits for a thread (every one
    of the default executor's threads busy): the reaping must still happen later, not be
    cancelled with the pool's task before it began, leaving the process unreaped."""
    pool = await make_pool(queue_depth=0, timeout=0.5)
    (old,) = [w.process for w in pool._workers.values()]
    loop = asyncio.get_running_loop()
    busy = [loop.run_in_executor(None, time.sleep, 1.5) for _ in range(40)]
    with pytest.raises(RenderTimeout):
        await pool.render(jobs.slow)
    await pool.close()  # cancels the slot's task in the middle of replacing the worker
    await asyncio.gather(*busy)
    await eventually(lambda: old.returncode is not None, "the killed worker was reaped")


async def test_a_bad_embedded_image_is_invalid_input_and_the_pool_keeps_working(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    pool = await make_pool()
    pid = await worker_pid(pool)
    with pytest.raises(InvalidInput) as exc:
        await pool.render(jobs.bad_image)
    assert exc.value.status == 422
    assert pool.restarts == 0
    await render_normal(pool, jobs)
    assert await worker_pid(pool) == pid, "an input error does not cost a worker"


async def test_a_missing_source_is_render_failed(
    make_pool: PoolFactory, jobs: Jobs, tmp_path: Path
) -> None:
    pool = await make_pool()
    gone = RenderJob("fedcba9876543210", str(tmp_path / "gone.svg"), {}, 30, 15, "png")
    with pytest.raises(RenderFailed):
        await pool.render(gone)


async def test_render_after_close_fails_cleanly(make_pool: PoolFactory, jobs: Jobs) -> None:
    pool = await make_pool()
    await pool.close()
    assert not pool.alive()
    with pytest.raises(RenderFailed, match="not running"):
        await pool.render(jobs.normal)


async def test_a_worker_is_recycled_after_its_share_of_renders(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    pool = await make_pool(max_tasks_per_worker=2)
    first = await worker_pid(pool)
    await render_normal(pool, jobs)
    assert await worker_pid(pool) == first
    await render_normal(pool, jobs)  # its second: replaced once it is answered
    await render_normal(pool, jobs)  # drawn by the replacement
    second = await worker_pid(pool)
    assert second != first
    assert pool.restarts == 0, "recycling is not a failure"
    assert pool.completed == 3


async def test_a_caller_that_goes_away_does_not_cost_the_worker(
    make_pool: PoolFactory, jobs: Jobs
) -> None:
    pool = await make_pool()
    pid = await worker_pid(pool)
    idle = cpu_seconds(pid)
    waiting = asyncio.create_task(pool.render(jobs.slow))
    await eventually(lambda: drawing(pid, idle), "the worker started on the slow render")
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pool.in_flight == 1, "the render holds its worker until it ends"
    await render_normal(pool, jobs, within=20.0)  # queued behind the slow one
    assert pool.in_flight == 0
    assert pool.restarts == 0
    assert await worker_pid(pool) == pid
    assert pool.completed == 2


async def test_close_lets_admitted_renders_finish(make_pool: PoolFactory, jobs: Jobs) -> None:
    pool = await make_pool()
    renders = [asyncio.create_task(pool.render(jobs.normal)) for _ in range(3)]
    # One turn of the loop, not a timed wait: each task is admitted in its first step. Not
    # a poll of in_flight == 3 either: by the next poll the first may have finished.
    await asyncio.sleep(0)
    await pool.close()
    for task in renders:
        output = await task
        assert (output.width, output.height) == (240, 120)
    assert not pool.alive()
    assert pool.pids() == []


async def test_a_pool_whose_workers_cannot_start_fails_to_start_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    bad = WorkerConfig(fontconfig_file=str(tmp_path / "missing-fonts.conf"))
    pool = RenderPool(PoolLimits(2, 0, 5.0, 0), bad)
    before = set(worker_pids(live=True))
    with pytest.raises(RenderFailed, match="failed to start"):
        await pool.start()
    assert not pool.alive()
    assert set(worker_pids(live=True)) <= before, "no worker left running"


async def test_an_unexpected_error_fails_that_render_and_keeps_the_slot(
    make_pool: PoolFactory, jobs: Jobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pixeldrive.render import pool as pool_module

    pool = await make_pool()
    real = pool_module._Worker.send
    calls = 0

    async def send_once_broken(self: Any, message: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ValueError("not picklable, say")
        await real(self, message)

    monkeypatch.setattr(pool_module._Worker, "send", send_once_broken)
    with pytest.raises(RenderFailed, match="ValueError"):
        await pool.render(jobs.normal)
    assert pool.in_flight == 0
    await render_normal(pool, jobs, within=30.0)  # on a fresh worker
    assert pool.alive()


def test_the_workers_first_recycles_are_spread_out() -> None:
    from types import SimpleNamespace

    pool = RenderPool(
        PoolLimits(workers=4, queue_depth=0, timeout=1.0, max_tasks_per_worker=1000), CONFIG
    )
    first, later = SimpleNamespace(first=True), SimpleNamespace(first=False)
    shares = [pool._share(slot, first) for slot in range(4)]  # type: ignore[arg-type]
    assert shares == [1000, 750, 500, 250]
    assert {pool._share(slot, later) for slot in range(4)} == {1000}  # type: ignore[arg-type]
    never = RenderPool(PoolLimits(2, 0, 1.0, 0), CONFIG)
    assert never._share(1, first) == math.inf  # type: ignore[arg-type]

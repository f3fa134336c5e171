"""The render process pool: bounded admission, per-render time limits, dead workers replaced.

Each worker is a new Python process (`python -c`, render/worker.py's `main`) joined to
the server by one socket pair: it imports the render path and nothing else, where
multiprocessing's spawn would re-import the server's own main module (the command line,
the web app, pydantic) in every worker and start a resource tracker beside them. The event loop
writes a job (a pickle with a length in front) and reads the answer as a stream, so a
render costs the server two socket writes and two reads, with no thread in between. A
pool with threads (pebble, concurrent.futures) hands every job and result through two or
three threads and the GIL: pebble cost the server 0.53 ms of CPU per render, this pool
0.33 ms (2 workers driven in-process).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import pickle
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pixeldrive
from pixeldrive.core.errors import (
    FieldProblem,
    InvalidInput,
    Overloaded,
    RenderFailed,
    RenderTimeout,
)
from pixeldrive.render.job import FRAME, RenderJob, RenderOutput, WorkerConfig
from pixeldrive.text.report import TextReport

log = logging.getLogger("pixeldrive.render.pool")
STOP_SECONDS = 5.0  # a worker asked to stop has this long before it is killed
START_SECONDS = 60.0  # a new worker must be ready (fonts, CairoSVG, a first draw) by then
# What a worker runs; tests and benchmarks know a worker by this in its command line.
WORKER_CODE = "from pixeldrive.render.worker import main; main()"
# The directory pixeldrive is imported from: first on a worker's path, so that it runs the
# same code as the server whether or not the package is installed.
PACKAGE_ROOT = str(Path(pixeldrive.__file__).resolve().parent.parent)


@dataclass(frozen=True, slots=True)
class PoolLimits:
    workers: int
    queue_depth: int
    timeout: float
    max_tasks_per_worker: int


@dataclass(slots=True)
class _Task:
    name: str  # what the worker runs: "run" or "layout"
    job: RenderJob
    done: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class _Worker:
    """One render process and the server's end of its socket."""

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.process = process
        self.reader = reader
        self.writer = writer
        self.tasks = 0
        self.first = False  # the first worker of its slot (see RenderPool._share)

    @property
    def pid(self) -> int:
        return self.process.pid

    async def send(self, message: object) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer.write(FRAME.pack(len(data)) + data)
        await self.writer.drain()

    async def receive(self) -> Any:
        (size,) = FRAME.unpack(await self.reader.readexactly(FRAME.size))
        # Only our own worker writes to this socket pair: nothing untrusted is unpickled.
        return pickle.loads(await self.reader.readexactly(size))  # noqa: S301

    def kill(self) -> None:
        # Popen.kill does nothing once the process has been waited for, so a pid that
        # has since been reused is never signalled.
        with contextlib.suppress(OSError):
            self.process.kill()
        self.writer.close()

    async def join(self, seconds: float) -> None:
        """Wait up to `seconds` for the process to exit (and reap it if it has)."""
        await _reap(self.process, seconds)

    async def stop(self) -> None:
        """Ask the worker to exit; kill it if it has not within STOP_SECONDS."""
        with contextlib.suppress(OSError, RuntimeError):
            await self.send(None)
        self.writer.close()
        await self.join(STOP_SECONDS)
        if self.process.returncode is None:
            self.kill()
            await self.join(STOP_SECONDS)

    async def exit_code(self) -> int | None:
        await self.join(1.0)
        return self.process.returncode


class Place:
    """A place in the pool's admission bound (`RenderPool.hold`): used by the render it
    was held for, or given back by `release` (then a no-op) if none comes."""

    __slots__ = ("_pool",)

    def __init__(self, pool: RenderPool) -> None:
        self._pool: RenderPool | None = pool

    def used_by(self, pool: RenderPool) -> bool:
        """Hand the place to a render in `pool`; False if it is not one of its places
        still held."""
        if self._pool is not pool:
            return False
        self._pool = None
        return True

    def release(self) -> None:
        if self._pool is not None:
            self._pool._give_back()
            self._pool = None


class RenderPool:
    """Renders jobs in worker processes, never on the event loop.

    Admission is bounded: at most `workers + queue_depth` renders are in flight; the next
    is refused at once with Overloaded (503 + Retry-After) instead of queueing without
    end. A render past `timeout` has its worker killed and replaced (RenderTimeout, 504);
    a worker that dies mid-render is replaced and that render fails (RenderFailed, 500).
    A worker is replaced by a fresh one after `max_tasks_per_worker` renders (0: never).
    """

    def __init__(self, limits: PoolLimits, config: WorkerConfig) -> None:
        self.limits = limits
        self._config = config
        self._queue: asyncio.Queue[_Task] = asyncio.Queue()
        self._runners: list[asyncio.Task[None]] = []
        self._workers: dict[int, _Worker] = {}  # by slot
        self._running = False
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

    def pids(self) -> list[int]:
        """The process ids of the workers now serving."""
        return [w.pid for w in self._workers.values()]

    async def start(self) -> None:
        """Start the workers and wait until each has initialised (fonts, CairoSVG)."""
        spawned = await asyncio.gather(
            *(self._spawn() for _ in range(self.limits.workers)), return_exceptions=True
        )
        workers = [w for w in spawned if isinstance(w, _Worker)]
        failed = [e for e in spawned if isinstance(e, BaseException)]
        if failed:
            await asyncio.gather(*(w.stop() for w in workers))
            raise failed[0]
        self._workers = dict(enumerate(workers))
        for first in workers:
            first.first = True
        self._running = True
        self._runners = [
            asyncio.create_task(self._serve(slot), name=f"render-worker-{slot}")
            for slot in self._workers
        ]
        log.info("render pool up: %d workers", self.limits.workers)

    async def _spawn(self) -> _Worker:
        """A new worker process, once it has said it is ready; RenderFailed if it cannot
        start. Nothing is left running when it fails or is cancelled."""
        ours, theirs = socket.socketpair()
        # Starting a Python process (fork and exec) is not for the event loop.
        starting = asyncio.ensure_future(asyncio.to_thread(_start, theirs.fileno()))
        try:
            process = await asyncio.shield(starting)
        except asyncio.CancelledError:
            # The thread starts the process anyway: wait for it, then stop and reap it.
            with contextlib.suppress(Exception):
                started = await starting
                started.kill()
                await _reap(started, STOP_SECONDS)
            ours.close()
            raise
        except Exception as exc:
            ours.close()
            raise RenderFailed(f"a render worker could not be started: {exc}") from exc
        finally:
            theirs.close()
        spawned: _Worker | None = None
        try:
            reader, writer = await asyncio.open_connection(sock=ours)
            spawned = _Worker(process, reader, writer)
            async with asyncio.timeout(START_SECONDS):
                await spawned.send(self._config)
                ready = await spawned.receive()
            if ready != ("ready", process.pid):
                raise RenderFailed(f"a render worker answered {ready!r} instead of being ready")
        except BaseException as exc:
            if spawned is not None:
                spawned.kill()
            else:
                ours.close()
                process.kill()
            await _reap(process, STOP_SECONDS)
            if isinstance(exc, RenderFailed | asyncio.CancelledError):
                raise
            raise RenderFailed(
                f"a render worker failed to start (exit code {process.returncode})"
            ) from exc
        return spawned

    async def close(self) -> None:
        """Stop accepting, let admitted renders finish, and stop the workers."""
        if not self._running:
            return
        self._running = False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await self._queue.join()
        for runner in self._runners:
            runner.cancel()
        await asyncio.gather(*self._runners, return_exceptions=True)
        self._runners = []
        workers, self._workers = list(self._workers.values()), {}
        await asyncio.gather(*(w.stop() for w in workers))
        while not self._queue.empty():  # admitted but never started (close timed out)
            _fail(self._queue.get_nowait(), RenderFailed("the render pool was stopped"))
            self._in_flight -= 1
            self._queue.task_done()

    def alive(self) -> bool:
        return self._running and bool(self._workers)

    async def layout(self, job: RenderJob) -> dict[str, TextReport]:
        """Fill and set the text of one job without drawing it (a dry run); admitted and
        bounded like a render."""
        reports: dict[str, TextReport] = await self._run("layout", job)
        return reports

    async def render(self, job: RenderJob, place: Place | None = None) -> RenderOutput:
        """Render one job, in `place` when one is held (else one is taken now); raises
        Overloaded, RenderTimeout, RenderFailed or InvalidInput."""
        output: RenderOutput = await self._run("run", job, place)
        # The worker's own time per render: the wall time would count the queue twice.
        drawing = output.draw_ms + output.encode_ms
        self._recent_ms = 0.8 * self._recent_ms + 0.2 * drawing
        return output

    def idle(self) -> bool:
        """Whether a worker would take a job sent now at once: work that can wait (an
        encode for a later request) is sent only then, never queued ahead of renders."""
        return self._running and self._in_flight < self.limits.workers

    def hold(self, fmt: str) -> Place:
        """A place for one render of `fmt`, counted in flight from now, in the same step
        as the check: Overloaded (503 + Retry-After) when none is left. Callers hold one
        before they set anything up for a render, so a crowd arriving in one turn of the
        loop cannot all pass the check and be refused later, deep in the render's own
        task (with its job, cache writer and traceback made for nothing)."""
        if self._in_flight >= self.capacity:
            raise Overloaded(
                f"no room for a {fmt} render: {self._in_flight} renders are in flight, "
                f"the limit is {self.capacity}",
                headers={"Retry-After": str(self._retry_after())},
            )
        self._in_flight += 1
        return Place(self)

    def _give_back(self) -> None:
        self._in_flight -= 1

    async def _run(self, name: str, job: RenderJob, place: Place | None = None) -> Any:
        if not self._running:
            raise RenderFailed("the render pool is not running")
        if place is None or not place.used_by(self):
            self.hold(job.format).used_by(self)  # none held: one taken and used at once
        task = _Task(name, job)
        # Retrieved here so that a failure nobody awaits any more is not logged as such.
        task.done.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._queue.put_nowait(task)
        # A caller that goes away does not take the render with it: the worker finishes
        # it (the next caller of the same image may be waiting for the same bytes).
        return await asyncio.shield(task.done)

    async def _serve(self, slot: int) -> None:
        """One worker slot: take the next task, run it, then replace the worker if it
        died, timed out or has done its share. A task always gets its answer, and the
        slot outlives any error."""
        while True:
            task = await self._queue.get()
            then: str | None = None
            try:
                then = await self._one(slot, task)
            except asyncio.CancelledError:
                _fail(task, RenderFailed("the render pool was stopped"))
                raise
            except Exception as exc:
                log.exception("render worker slot %d failed", slot)
                _fail(task, RenderFailed(f"the render failed: {type(exc).__name__}"))
                then = "replace"
            finally:
                # Counted out before any replacement starts: a new worker takes a second
                # to be ready, and the admission bound must not count finished renders.
                self._in_flight -= 1
                self._queue.task_done()
            if then is not None:
                await self._replace(slot, gracefully=then == "retire")

    async def _one(self, slot: int, task: _Task) -> str | None:
        """Run one task on the slot's worker; say what should happen to the worker next:
        None (keep it), "replace" (it is dead or killed) or "retire" (recycle it)."""
        current = self._workers.get(slot)
        if current is None:  # its last replacement failed to start: try again now
            try:
                current = self._workers[slot] = await self._spawn()
            except RenderFailed as exc:
                _fail(task, exc)
                return None
        try:
            async with asyncio.timeout(self.limits.timeout):
                await current.send((task.name, task.job))
                kind, value = await current.receive()
        except TimeoutError:
            self.restarts += 1
            current.kill()
            seconds = f"{self.limits.timeout:g}"
            _fail(task, RenderTimeout(f"the render took longer than {seconds} s and was stopped"))
            return "replace"
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.restarts += 1
            code = await current.exit_code()
            current.kill()
            _fail(task, RenderFailed(f"the render worker died (exit code {code})"))
            return "replace"
        current.tasks += 1
        if kind == "ok":
            self.completed += 1
            if not task.done.done():
                task.done.set_result(value)
        else:
            _fail(task, _invalid(value) if kind == "input" else RenderFailed(value))
        return "retire" if current.tasks >= self._share(slot, current) else None

    def _share(self, slot: int, current: _Worker) -> float:
        """Renders before `current` is recycled. A slot's first worker retires early in
        proportion to the slot's number, so that the workers are never all being
        replaced at once (each replacement takes a slot away while it starts)."""
        limit = self.limits.max_tasks_per_worker
        if not limit:
            return math.inf
        if current.first:
            return max(1, limit - slot * limit // max(1, self.limits.workers))
        return limit

    async def _replace(self, slot: int, *, gracefully: bool) -> None:
        # The old worker is gone before the new one starts: never three processes' worth
        # of memory for two slots.
        old = self._workers.pop(slot, None)
        if old is not None and gracefully:
            await old.stop()
        elif old is not None:
            old.kill()
            await old.join(STOP_SECONDS)
        try:
            self._workers[slot] = await self._spawn()
        except RenderFailed:
            # The slot stays empty; its next task tries to start a worker again.
            log.exception("render worker slot %d could not be replaced", slot)

    def _retry_after(self) -> int:
        """Seconds until the queue ahead has drained: its renders, spread over the workers."""
        waves = self._in_flight / max(1, self.limits.workers)
        return max(1, math.ceil(waves * self._recent_ms / 1000))


def _start(channel: int) -> subprocess.Popen[bytes]:
    """A render process holding file descriptor `channel`, its end of the socket pair."""
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (PACKAGE_ROOT, path)))}
    return subprocess.Popen(  # noqa: S603 - this interpreter, our own code, no shell
        [sys.executable, "-c", WORKER_CODE, str(channel), str(os.getpid())],
        pass_fds=(channel,),
        stdin=subprocess.DEVNULL,
        env=env,
    )


async def _reap(process: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait up to `seconds` for `process` to exit, and reap it, in a thread. The wait is
    shielded: a caller cancelled meanwhile (the pool closing while a worker is replaced)
    leaves it to finish, where a cancelled thread job that had not begun would never
    reap the process."""
    await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, _wait, process, seconds))


def _wait(process: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait up to `seconds` for `process` to exit; no error if it has not."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(seconds)


def _fail(task: _Task, error: Exception) -> None:
    if not task.done.done():
        task.done.set_exception(error)


def _invalid(value: tuple[str, tuple[tuple[str, str], ...]]) -> InvalidInput:
    """A worker's ("input", …) answer: why, and the fields at fault."""
    detail, problems = value
    return InvalidInput(detail, errors=tuple(FieldProblem(f, m) for f, m in problems))

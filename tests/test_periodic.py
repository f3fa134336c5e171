"""A watcher runs its step every interval, outlives any failure (logging the unexpected
ones with their traceback, passing the outages their own layer logs) and stops only
when cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from pixeldrive.core.periodic import every

log = logging.getLogger("tests.periodic")


class Outage(Exception):
    pass


async def test_every_failure_is_outlived_and_only_the_unexpected_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []
    results: list[BaseException | None] = [Outage(), RuntimeError("bad"), None, None]
    fourth = asyncio.Event()

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 4:
            fourth.set()
        failure = results[len(calls) - 1] if len(calls) <= len(results) else None
        if failure is not None:
            raise failure

    caplog.set_level(logging.ERROR, logger="tests.periodic")
    task = asyncio.create_task(every(0.01, step, what="the step", log=log, expected=(Outage,)))
    await asyncio.wait_for(fourth.wait(), 10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    failed = [r for r in caplog.records if r.name == "tests.periodic"]
    assert [r.getMessage() for r in failed] == ["the step failed"]
    assert failed[0].exc_info is not None


@pytest.mark.parametrize(("at_once", "runs_before_the_interval"), [(True, 1), (False, 0)])
async def test_the_first_run_waits_unless_asked_at_once(
    at_once: bool, runs_before_the_interval: int
) -> None:
    calls: list[None] = []

    async def step() -> None:
        calls.append(None)

    task = asyncio.create_task(every(60, step, what="x", log=log, at_once=at_once))
    await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(calls) == runs_before_the_interval

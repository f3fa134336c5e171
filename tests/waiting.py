"""Waiting for something to happen: poll a condition until a deadline.

A test that sleeps for a fixed time and then assumes something happened is slow when the
machine is fast and flaky when it is slow (a shared 2-core VM drifts 2-5x). These wait for
the thing itself; the generous default deadline only matters when it never happens.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable

TIMEOUT = 30.0
INTERVAL = 0.02

What = str | Callable[[], str]  # what should happen; a callable is asked only on failure


def _never(what: What, within: float) -> AssertionError:
    said = what() if callable(what) else what
    return AssertionError(f"did not happen within {within:g} s: {said}")


async def eventually(
    check: Callable[[], object],
    what: What,
    *,
    within: float = TIMEOUT,
    interval: float = INTERVAL,
) -> None:
    """Until `check()` (a plain or an async function) is true, poll it every `interval`
    seconds; AssertionError naming `what` if it is still false after `within` seconds.
    An exception from `check` (an assertion that must hold while waiting) ends the wait."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() >= deadline:
            raise _never(what, within)
        await asyncio.sleep(interval)


def wait_until(
    check: Callable[[], object],
    what: What,
    *,
    within: float = TIMEOUT,
    interval: float = INTERVAL,
) -> None:
    """`eventually` for code without an event loop (a test driving a server process)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() >= deadline:
            raise _never(what, within)
        time.sleep(interval)

"""A background step repeated forever: the watchers that keep a node's copies fresh and
its report published. One failure never stops them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def every(
    interval: float,
    step: Callable[[], Awaitable[object]],
    *,
    what: str,
    log: logging.Logger,
    expected: tuple[type[Exception], ...] = (),
    at_once: bool = False,
) -> None:
    """Run `step` every `interval` seconds until cancelled (the first time at once when
    `at_once`). An `expected` failure (an outage its own layer already logs) passes; any
    other is logged as "`what` failed" with its traceback, and the next turn comes."""
    if not at_once:
        await asyncio.sleep(interval)
    while True:
        try:
            await step()
        except expected:
            pass
        except Exception:  # the watcher must outlive any one failure
            log.exception("%s failed", what)
        await asyncio.sleep(interval)

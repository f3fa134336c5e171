"""Single-flight: concurrent callers for the same key share one execution."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """`await flight.do(key, fn)` runs `fn()` once per key at a time; callers arriving
    while it runs await the same result (or exception).

    The work runs in its own task and callers await it shielded, so a caller that goes
    away (a client disconnect cancels its handler) never cancels the work others wait on.
    """

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    def running(self, key: str) -> bool:
        """Whether a run for `key` is under way (a caller now would join it)."""
        return key in self._running

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """(result, shared): `shared` is True when another caller's run was joined."""
        task = self._running.get(key)
        shared = task is not None
        if task is None:
            task = self.start(key, fn)
        return await asyncio.shield(task), shared

    def start(self, key: str, fn: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        """The run for `key`: the one under way, else `fn()` started now. Nobody need
        await it (work done for a later caller); callers of `do` meanwhile join it."""
        task = self._running.get(key)
        if task is None:
            task = asyncio.ensure_future(fn())
            self._running[key] = task
            task.add_done_callback(lambda _t: self._running.pop(key, None))
        return task

"""One Redis connection per node, watched: a failed call marks it down, a background
task reconnects with backoff, and callers skip Redis while it is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.driver_info import DriverInfo
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from pixeldrive.core.errors import PixelDriveError

log = logging.getLogger("pixeldrive.redis")

# What says "Redis cannot be reached", by type: everything else (a wrong type, a script
# error, OOM under maxmemory) is an answer from a live server and is not a fault of the link.
UNREACHABLE: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
)
MIN_BACKOFF = 0.1
MAX_BACKOFF = 2.0


class SharedStoreDown(PixelDriveError):
    """Redis is unreachable and nothing local can stand in for it (503)."""

    status = 503
    title = "Shared store unavailable"
    slug = "shared-store-down"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "1"})


class RedisLink:
    """The node's client plus its health.

    `run(fn)` calls `fn(client)`; when Redis cannot be reached it marks the link down,
    starts the reconnect loop and raises SharedStoreDown. While the link is down `run`
    raises at once, without a network round trip, so a dead Redis costs the hot path
    nothing. `up` is what readiness reports. Owned by the app: `open()` then `close()`.
    """

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        # One immediate retry, no backoff: a pooled connection that broke while Redis
        # restarted fails once and reconnects; a Redis that is really down fails fast.
        self.client: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
            # Named here: left out, redis-py reads its version from the package metadata
            # (a file read) for every new connection, on the event loop.
            driver_info=DriverInfo(name="pixeldrive", lib_version=redis.__version__),
        )
        self.up = False
        self.last_error = "not connected yet"
        self._reconnect: asyncio.Task[None] | None = None
        self._on_up: list[Callable[[], Awaitable[None]]] = []

    def on_reconnect(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Call `callback` each time the link comes back up (e.g. to re-send writes)."""
        self._on_up.append(callback)

    async def open(self) -> None:
        """Connect; a Redis that is not there yet leaves the link down and reconnecting
        (the node starts and serves from its local tiers)."""
        try:
            await self.client.ping()  # type: ignore[misc]
        except UNREACHABLE as exc:
            self._down(exc)
        else:
            self.up, self.last_error = True, ""

    async def close(self) -> None:
        if self._reconnect is not None:
            self._reconnect.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect
        await self.client.aclose()

    async def run(self, fn: Callable[[Redis], Any]) -> Any:
        """`await fn(client)`; SharedStoreDown when Redis is down or just went down.

        Typed `Any`: redis-py annotates its commands as returning `Awaitable[X] | X`
        (one annotation for its sync and async clients), so callers check what they get.
        """
        if not self.up:
            raise SharedStoreDown(f"Redis is unavailable: {self.last_error}")
        try:
            return await fn(self.client)
        except UNREACHABLE as exc:
            self._down(exc)
            raise SharedStoreDown(f"Redis is unavailable: {self.last_error}") from exc

    async def check(self) -> bool:
        """Ping now (readiness): True when Redis answers."""
        if not self.up:
            return False
        try:
            await self.run(lambda client: client.ping())
        except SharedStoreDown:
            return False
        return True

    def _down(self, exc: BaseException) -> None:
        if self.up or self._reconnect is None:
            log.warning("Redis is unreachable, serving from local tiers: %s", exc)
        self.up, self.last_error = False, f"{type(exc).__name__}: {exc}"
        if self._reconnect is None or self._reconnect.done():
            self._reconnect = asyncio.create_task(self._reconnect_forever())

    async def _reconnect_forever(self) -> None:
        delay = MIN_BACKOFF
        while not self.up:
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
            try:
                await self.client.ping()  # type: ignore[misc]
            except UNREACHABLE as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                continue
            self.up, self.last_error = True, ""
            log.warning("Redis is reachable again")
        for callback in self._on_up:
            try:
                await callback()
            except SharedStoreDown:
                return  # down again: the next reconnect calls the callbacks again
            except Exception:
                log.exception("a Redis reconnect callback failed")

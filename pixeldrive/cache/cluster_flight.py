"""Single-flight across nodes: a short Redis lock per variant; the nodes that lose it wait
for the winner's bytes in the shared tier instead of drawing them again."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis

from pixeldrive.cache.redis_tier import RedisTier
from pixeldrive.storage.redis_link import RedisLink, SharedStoreDown

T = TypeVar("T")
LOCK_PREFIX = "pd:lock:"
FIRST_POLL = 0.02
MAX_POLL = 0.25

# Delete the lock only if it still holds our token: a lock that expired and was taken by
# another node is not ours to release.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class ClusterFlight(Generic[T]):
    """`await flight.do(variant, draw, found)`: runs `draw()` on one node at a time per
    variant; elsewhere waits for the bytes to reach the shared tier and returns
    `found(bytes)`.

    The lock lives `lock_seconds` (longer than a render may take), so a node that dies
    holding it delays the others by that much at most; a waiter that has seen neither
    bytes nor a free lock by then draws itself. With Redis down, every node draws: the
    local single-flight in front of this one still merges each node's own callers.
    Returns `(result, shared)`: `shared` is True when another node drew it.
    """

    def __init__(self, link: RedisLink, tier: RedisTier, *, lock_seconds: float) -> None:
        self._link = link
        self._tier = tier
        self._lock_ms = int(lock_seconds * 1000)
        self._wait = lock_seconds + 1.0

    @property
    def tier_name(self) -> str:
        """The tier a peer's bytes come from (what `X-Cache`/`cached` report)."""
        return self._tier.name

    async def do(
        self,
        variant: str,
        draw: Callable[[], Awaitable[T]],
        publish: Callable[[T], bytes],
        found: Callable[[bytes], T],
    ) -> tuple[T, bool]:
        deadline = time.monotonic() + self._wait
        while True:
            token = await self._acquire(variant)
            if token is not None:
                return await self._draw_holding(variant, token, draw, publish), False
            data = await self._await_peer(variant, deadline)
            if data is not None:
                return found(data), True
            if time.monotonic() >= deadline:
                return await draw(), False

    async def _draw_holding(
        self,
        variant: str,
        token: str,
        draw: Callable[[], Awaitable[T]],
        publish: Callable[[T], bytes],
    ) -> T:
        try:
            result = await draw()
            # In the shared tier before the lock goes, so a waiter that sees the lock
            # free finds the bytes rather than drawing them again.
            await self._tier.put(variant, publish(result))
            return result
        finally:
            if token:
                await self._release(variant, token)

    async def _acquire(self, variant: str) -> str | None:
        """A token when this node holds the lock; "" when Redis is down (draw without
        one); None when another node holds it."""
        token = secrets.token_hex(16)

        def claim(r: Redis) -> Any:
            return r.set(LOCK_PREFIX + variant, token, nx=True, px=self._lock_ms)

        try:
            return token if await self._link.run(claim) else None
        except SharedStoreDown:
            return ""

    async def _release(self, variant: str, token: str) -> None:
        def release(r: Redis) -> Any:
            return r.eval(RELEASE, 1, LOCK_PREFIX + variant, token)

        try:
            await asyncio.shield(self._link.run(release))
        except SharedStoreDown:
            return  # it expires by itself

    async def _await_peer(self, variant: str, deadline: float) -> bytes | None:
        """Poll, backing off, until the bytes appear (returned), the lock is gone or the
        deadline passes (None: try the lock again, or draw)."""
        delay = FIRST_POLL
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_POLL)
            data = await self._tier.get(variant)
            if data is not None:
                return data
            try:
                held = await self._link.run(lambda r: r.exists(LOCK_PREFIX + variant))
            except SharedStoreDown:
                return None
            if not held:
                return await self._tier.get(variant)
        return None

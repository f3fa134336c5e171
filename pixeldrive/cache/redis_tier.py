"""The shared cache tier in Redis: every node's images, checksummed, behind its own tiers."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from cachetools import TTLCache
from redis.asyncio import Redis
from redis.exceptions import RedisError

from pixeldrive.cache.framing import DIGEST_SIZE, header, unframe
from pixeldrive.cache.tier import TierStats
from pixeldrive.storage.redis_link import RedisLink, SharedStoreDown

MAGIC = b"PDR1"
HEADER_SIZE = len(MAGIC) + DIGEST_SIZE
PREFIX = "pd:img:"
RECENT_SECONDS = 60.0

log = logging.getLogger("pixeldrive.cache.redis_tier")


class RedisTier:
    """Cache tier storing each variant as the Redis string `pd:img:<variant>`.

    Bounded by Redis itself, not by this class: entries carry a TTL of `ttl_seconds`
    (0: none), and the server's `maxmemory` with `maxmemory-policy volatile-lru` evicts
    the least recently used images first while never touching specs or batches (which
    have no TTL). A value larger than `max_entry_bytes` is not stored. A corrupt value
    is deleted and reported as a miss. While Redis is down every call is a miss or a
    no-op at once (see RedisLink): the node goes on from its own tiers.
    """

    name = "redis"

    def __init__(self, link: RedisLink, *, ttl_seconds: int = 0, max_entry_bytes: int) -> None:
        self._link = link
        self._ttl_ms = ttl_seconds * 1000 or None
        self._max_entry_bytes = max_entry_bytes
        # Variants this node stored a moment ago: a second put of the same key (the
        # single-flight winner publishes before the cache's background write) is skipped,
        # a key always naming the same bytes.
        self._recent: TTLCache[str, bool] = TTLCache(maxsize=4096, ttl=RECENT_SECONDS)
        self.corrupt = 0
        self.errors = 0
        self.evictions = 0  # Redis evicts, not this node: always 0 here

    async def get(self, variant: str) -> bytes | None:
        raw = await self._call(lambda r: r.get(PREFIX + variant))
        if not isinstance(raw, bytes):
            return None
        payload = unframe(MAGIC, raw)
        if payload is None:
            self.corrupt += 1
            log.warning("corrupt shared cache entry %s: deleted, will be drawn again", variant)
            await self.delete(variant)
        else:
            self._recent[variant] = True  # promotion to the tiers above rewrites nothing
        return payload

    async def put(self, variant: str, data: bytes) -> None:
        if len(data) + HEADER_SIZE > self._max_entry_bytes or variant in self._recent:
            return
        value = header(MAGIC, data) + data
        if await self._call(lambda r: r.set(PREFIX + variant, value, px=self._ttl_ms)):
            self._recent[variant] = True

    async def delete(self, variant: str) -> None:
        self._recent.pop(variant, None)
        await self._call(lambda r: r.delete(PREFIX + variant))

    def stats(self) -> TierStats:
        """Shared by every node and bounded by Redis: its size is Redis's to report
        (`INFO memory`), so this tier reports none of its own."""
        return TierStats(entries=0, bytes=0)

    async def _call(self, fn: Callable[[Redis], Awaitable[Any]]) -> Any:
        """Best effort, as the CacheTier contract asks: unreachable (link down) and a
        refusing server (OOM under a `noeviction` policy, say) are both a miss."""
        try:
            return await self._link.run(fn)
        except SharedStoreDown:
            return None
        except RedisError as exc:
            self.errors += 1
            log.warning("shared cache tier: %s", exc)
            return None

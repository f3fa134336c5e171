"""Render specs shared through Redis, so a URL minted on one node renders on every node."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from pixeldrive.core.render_spec import RenderSpec
from pixeldrive.storage.redis_link import RedisLink, SharedStoreDown
from pixeldrive.storage.specs import SpecStore

PREFIX = "pd:spec:"
MAX_UNSYNCED = 100_000

log = logging.getLogger("pixeldrive.storage.redis")


class RedisSpecStore:
    """Specs in Redis (`pd:spec:<key>`, no TTL: never evicted under `volatile-lru`),
    written through to the node's own store first.

    The local store keeps the node working while Redis is away: a save then lands
    locally only and is re-sent when the link comes back (up to `MAX_UNSYNCED` keys,
    after which the oldest are sent first and the rest stay local), and a load falls
    back to it. Redis answers first otherwise, because a key may have been minted on
    another node.
    """

    def __init__(self, link: RedisLink, local: SpecStore) -> None:
        self._link = link
        self._local = local
        self._unsynced: dict[str, RenderSpec] = {}
        link.on_reconnect(self.sync)

    async def save(self, key: str, spec: RenderSpec) -> None:
        await self._local.save(key, spec)
        if not await self._send(key, spec):
            if len(self._unsynced) >= MAX_UNSYNCED:
                self._unsynced.pop(next(iter(self._unsynced)))
            self._unsynced[key] = spec

    async def load(self, key: str) -> RenderSpec | None:
        try:
            raw = await self._link.run(lambda r: r.get(PREFIX + key))
        except (SharedStoreDown, RedisError):
            raw = None
        if not isinstance(raw, bytes):
            return await self._local.load(key)
        spec = RenderSpec.from_canonical(raw)
        await self._local.save(key, spec)  # this node can draw it again without Redis
        return spec

    async def sync(self) -> None:
        """Send the specs saved while Redis was away (called on reconnect)."""
        while self._unsynced:
            key, spec = next(iter(self._unsynced.items()))
            if not await self._send(key, spec):
                return
            self._unsynced.pop(key, None)

    @property
    def unsynced(self) -> int:
        return len(self._unsynced)

    async def _send(self, key: str, spec: RenderSpec) -> bool:
        canonical = spec.canonical()
        try:
            await self._link.run(lambda r: r.set(PREFIX + key, canonical, nx=True))
        except SharedStoreDown:
            return False
        except RedisError as exc:  # a live server refusing (OOM): keep it for later
            log.warning("spec %s not shared: %s", key, exc)
            return False
        return True

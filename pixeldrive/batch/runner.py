"""The batch consumer: takes items from the queue, renders each through the render
pipeline (quota, ledger and cache exactly as a single render), records its result."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from cachetools import LRUCache

from pixeldrive.batch.queue import Batch, BatchQueue, Delivery
from pixeldrive.core.errors import InvalidInput, NotFound, Overloaded, PixelDriveError
from pixeldrive.storage.redis_link import SharedStoreDown

log = logging.getLogger("pixeldrive.batch")
IDLE_SECONDS = 0.5  # between attempts while the queue is unreachable
OVERLOAD_BACKOFF = (0.05, 2.0)


ItemRenderer = Callable[[Batch, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Renders one item of a batch as a single render would: `{url, key, bytes, cached}`.
Raises what a single render raises (a PixelDriveError, or ValueError for an item that is
not a valid render request)."""


class BatchRunner:
    """Keeps up to `concurrency` items rendering at once (the node's share of the work;
    no more, so items it cannot start stay in the queue for other nodes). An item whose
    render is refused for overload is retried with backoff for up to `retry_seconds`.
    When the runner closes (the node stops) it takes nothing more, gives the items in
    flight `finish_seconds` to finish, and hands the others back to the queue at once, so
    another node takes them now rather than after the claim timeout."""

    def __init__(
        self,
        queue: BatchQueue,
        render: ItemRenderer,
        *,
        concurrency: int,
        retry_seconds: float = 60.0,
        finish_seconds: float = 5.0,
    ) -> None:
        self._queue = queue
        self._render_item = render
        self._concurrency = concurrency
        self._retry_seconds = retry_seconds
        self._finish_seconds = finish_seconds
        self._active: dict[asyncio.Task[None], Delivery] = {}
        self._closing: asyncio.Future[None] | None = None
        self._batches: LRUCache[str, Batch] = LRUCache(maxsize=256)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop taking items; let those in flight finish for a while, hand back the rest.
        A second call waits for the first (the server starts draining batches as soon as
        it is told to stop; its parts close later)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close())
        await asyncio.shield(self._closing)

    async def _close(self) -> None:
        if self._task is not None:
            await _cancelled(self._task)
        if self._active:
            await asyncio.wait(list(self._active), timeout=self._finish_seconds)
        unfinished = dict(self._active)
        for task in unfinished:
            await _cancelled(task)
        if unfinished:
            try:
                await self._queue.hand_back(list(unfinished.values()))
                log.info("handed back %d batch items for other nodes", len(unfinished))
            except SharedStoreDown:
                log.warning(
                    "%d batch items not handed back: the claim timeout frees them", len(unfinished)
                )
        await self._queue.close()

    async def _run(self) -> None:
        while True:
            free = self._concurrency - len(self._active)
            if free <= 0:
                await asyncio.wait(list(self._active), return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                deliveries = await self._queue.take(free)
            except SharedStoreDown:
                await asyncio.sleep(IDLE_SECONDS)
                continue
            except Exception:  # a bug or an odd answer must not stop the node's batches
                log.exception("taking batch items failed")
                await asyncio.sleep(IDLE_SECONDS)
                continue
            for delivery in deliveries:
                task = asyncio.create_task(self._process(delivery))
                self._active[task] = delivery
                task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._active.pop(task, None)

    async def _process(self, delivery: Delivery) -> None:
        try:
            batch = await self._batch(delivery.batch_id)
            if batch is None:
                gone = NotFound(f"batch {delivery.batch_id!r} is no longer known")
                result: dict[str, Any] = {"error": gone.problem()}
            else:
                result = await self._result(batch, delivery.fields)
            await self._queue.finish(delivery, result)
        except SharedStoreDown:
            log.warning(
                "batch %s item %d: result not recorded, it will be redelivered",
                delivery.batch_id,
                delivery.index,
            )
        except Exception:
            log.exception("batch %s item %d failed", delivery.batch_id, delivery.index)

    async def _batch(self, batch_id: str) -> Batch | None:
        batch = self._batches.get(batch_id)
        if batch is None:
            batch = await self._queue.batch(batch_id)
            if batch is not None:
                self._batches[batch_id] = batch
        return batch

    async def _result(self, batch: Batch, fields: dict[str, Any]) -> dict[str, Any]:
        """One item rendered (or found) as POST /v1/renders would: `{url, key, bytes,
        cached}`, or `{error: problem}`. Overload is waited out, not recorded."""
        delay, deadline = OVERLOAD_BACKOFF[0], time.monotonic() + self._retry_seconds
        while True:
            try:
                return await self._render_item(batch, fields)
            except Overloaded as exc:
                if time.monotonic() + delay > deadline:
                    return {"error": exc.problem()}
                await asyncio.sleep(delay)
                delay = min(delay * 2, OVERLOAD_BACKOFF[1])
            except PixelDriveError as exc:
                return {"error": exc.problem()}
            except ValueError as exc:  # the item is not a valid render request
                invalid = InvalidInput(f"the item is not a valid render request: {exc}")
                return {"error": invalid.problem()}


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

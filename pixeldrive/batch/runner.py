"""The batch consumer: takes items from the queue, renders each through the render
service (quota, ledger and cache exactly as a single render), records its result."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from cachetools import LRUCache

from pixeldrive.batch.queue import Batch, BatchQueue, Delivery
from pixeldrive.errors import InvalidInput, Overloaded, PixelDriveError
from pixeldrive.models import RenderRequest
from pixeldrive.redis_link import SharedStoreDown
from pixeldrive.render.formats import FORMATS
from pixeldrive.service import RenderService

log = logging.getLogger("pixeldrive.batch")
IDLE_SECONDS = 0.5  # between attempts while the queue is unreachable
OVERLOAD_BACKOFF = (0.05, 2.0)


def problem_of(exc: PixelDriveError) -> dict[str, Any]:
    """The problem document a single render would have answered with."""
    problem: dict[str, Any] = {
        "type": f"/problems/{exc.slug}",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
    if exc.errors:
        problem["errors"] = [{"field": p.field, "message": p.message} for p in exc.errors]
    return problem


class BatchRunner:
    """Keeps up to `concurrency` items rendering at once (the node's share of the work;
    no more, so items it cannot start stay in the queue for other nodes). An item whose
    render is refused for overload is retried with backoff for up to `retry_seconds`.
    Items in flight when the runner stops are not acknowledged: the queue hands them out
    again."""

    def __init__(
        self,
        queue: BatchQueue,
        service: RenderService,
        *,
        concurrency: int,
        retry_seconds: float = 60.0,
    ) -> None:
        self._queue = queue
        self._service = service
        self._concurrency = concurrency
        self._retry_seconds = retry_seconds
        self._active: set[asyncio.Task[None]] = set()
        self._batches: LRUCache[str, Batch] = LRUCache(maxsize=256)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._active) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._queue.close()

    async def _run(self) -> None:
        while True:
            free = self._concurrency - len(self._active)
            if free <= 0:
                await asyncio.wait(self._active, return_when=asyncio.FIRST_COMPLETED)
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
                self._active.add(task)
                task.add_done_callback(self._active.discard)

    async def _process(self, delivery: Delivery) -> None:
        try:
            batch = await self._batch(delivery.batch_id)
            if batch is None:
                result: dict[str, Any] = {"error": _gone(delivery.batch_id)}
            else:
                result = await self.render_item(batch, delivery.fields)
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

    async def render_item(self, batch: Batch, fields: dict[str, Any]) -> dict[str, Any]:
        """One item rendered (or found) as POST /v1/renders would: `{url, key, bytes,
        cached}`, or `{error: problem}`. Overload is waited out, not recorded."""
        delay, deadline = OVERLOAD_BACKOFF[0], time.monotonic() + self._retry_seconds
        while True:
            try:
                return await self._render(batch, fields)
            except Overloaded as exc:
                if time.monotonic() + delay > deadline:
                    return {"error": problem_of(exc)}
                await asyncio.sleep(delay)
                delay = min(delay * 2, OVERLOAD_BACKOFF[1])
            except PixelDriveError as exc:
                return {"error": problem_of(exc)}
            except ValueError as exc:  # the item is not a valid render request
                return {"error": problem_of(_invalid(exc))}

    async def _render(self, batch: Batch, fields: dict[str, Any]) -> dict[str, Any]:
        service, principal = self._service, batch.principal
        fmt = FORMATS[batch.format]
        principal.require("batch", template=batch.template, format=fmt.name)
        request = RenderRequest(template=batch.template, fields=fields, **batch.options)
        request = await service.fetch_images(request)
        key, spec = service.prepare(request)
        principal.require("batch", pixels=spec.width * spec.height)
        rendered = await service.render(key, spec, fmt, principal)
        return {
            "url": f"/v1/images/{key}.{fmt.ext}",
            "key": key,
            "bytes": len(rendered.data),
            "cached": rendered.cached,
        }


def _gone(batch_id: str) -> dict[str, Any]:
    return {
        "type": "/problems/not-found",
        "title": "Not found",
        "status": 404,
        "detail": f"batch {batch_id!r} is no longer known",
    }


def _invalid(exc: ValueError) -> PixelDriveError:
    return InvalidInput(f"the item is not a valid render request: {exc}")

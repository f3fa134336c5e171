"""The in-process batch queue (embedded mode, no Redis): items wait in memory."""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pixeldrive.batch.queue import Batch, Delivery, Progress

WAIT_SECONDS = 1.0


@dataclass
class _State:
    batch: Batch
    results: list[dict[str, Any] | None]
    done: int = 0
    failed: int = 0
    started: bool = False


class MemoryQueue:
    """A `BatchQueue` in this process: an asyncio queue of items and a dict of batches.

    Nothing survives a restart: a node without Redis has nobody to hand its work to.
    The last `keep` batches are kept; older finished ones are forgotten.
    """

    def __init__(self, *, keep: int = 1000) -> None:
        self._keep = keep
        self._batches: OrderedDict[str, _State] = OrderedDict()
        self._pending: asyncio.Queue[Delivery] = asyncio.Queue()

    async def submit(self, batch: Batch, items: Sequence[dict[str, Any]]) -> None:
        self._batches[batch.id] = _State(batch, [None] * len(items))
        for index, fields in enumerate(items):
            self._pending.put_nowait(Delivery(batch.id, index, fields, f"{batch.id}/{index}"))
        self._forget_old()

    async def progress(self, batch_id: str) -> Progress | None:
        state = self._batches.get(batch_id)
        if state is None:
            return None
        return Progress(state.batch, state.done, state.failed, state.started, list(state.results))

    async def batch(self, batch_id: str) -> Batch | None:
        state = self._batches.get(batch_id)
        return None if state is None else state.batch

    async def take(self, limit: int) -> list[Delivery]:
        taken: list[Delivery] = []
        with contextlib.suppress(TimeoutError):
            taken.append(await asyncio.wait_for(self._pending.get(), WAIT_SECONDS))
        while taken and len(taken) < limit and not self._pending.empty():
            taken.append(self._pending.get_nowait())
        for delivery in taken:
            state = self._batches.get(delivery.batch_id)
            if state is not None:
                state.started = True
        return taken

    async def finish(self, delivery: Delivery, result: dict[str, Any]) -> None:
        state = self._batches.get(delivery.batch_id)
        if state is None or state.results[delivery.index] is not None:
            return
        state.results[delivery.index] = result
        if "error" in result:
            state.failed += 1
        else:
            state.done += 1

    async def close(self) -> None:
        return None

    def _forget_old(self) -> None:
        for batch_id in list(self._batches):
            if len(self._batches) <= self._keep:
                return
            state = self._batches[batch_id]
            if state.done + state.failed >= state.batch.total:
                del self._batches[batch_id]

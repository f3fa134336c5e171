"""The batch queue's contract: what a batch is, what a worker takes, what it records."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Any, Literal, Protocol

from pixeldrive.auth.principal import Principal

Status = Literal["queued", "running", "done"]


@dataclass(frozen=True, slots=True)
class Batch:
    """A submitted batch: what every item is rendered with, and who is billed."""

    id: str
    template: str
    format: str
    options: dict[str, Any]  # width, height, scale, quality: those given
    principal: Principal
    total: int
    created: float = field(default_factory=time.time)

    @staticmethod
    def new_id() -> str:
        return "b" + secrets.token_hex(12)

    def to_json(self) -> str:
        data = {f.name: getattr(self, f.name) for f in dataclass_fields(self)}
        data["principal"] = self.principal.as_record()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Batch:
        data = json.loads(raw)
        principal = Principal.from_record(data.pop("principal"))
        return cls(principal=principal, **data)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One item handed to a worker: `ref` is the queue's own handle (a stream id)."""

    batch_id: str
    index: int
    fields: dict[str, Any]
    ref: str


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a batch stands; `results[i]` is item i's result, None until it finishes."""

    batch: Batch
    done: int
    failed: int
    started: bool
    results: list[dict[str, Any] | None]

    @property
    def status(self) -> Status:
        if self.done + self.failed >= self.batch.total:
            return "done"
        return "running" if self.started or self.done or self.failed else "queued"


@dataclass(frozen=True, slots=True)
class QueueStats:
    """The queue at a glance: `kind` ("redis" or "sqlite"), the items not finished yet,
    and of those the ones a worker holds now."""

    kind: str
    open_items: int
    held_items: int


class BatchQueue(Protocol):
    """Where batches wait and their results gather. Delivery is at least once: an item
    may be handed out again (its worker died before `finish`); `finish` records only the
    first result per item, so a repeat changes nothing (its render key makes the repeated
    render itself a cache hit)."""

    async def submit(self, batch: Batch, items: Sequence[dict[str, Any]]) -> None:
        """Store the batch and queue every item; when it returns, nothing is lost.
        SharedStoreDown (503) when the queue cannot accept."""

    async def progress(self, batch_id: str) -> Progress | None:
        """The batch's state, or None for an unknown (or expired) id."""

    async def batch(self, batch_id: str) -> Batch | None:
        """The batch itself (what workers need to render an item)."""

    async def take(self, limit: int) -> list[Delivery]:
        """Up to `limit` items for this node, waiting up to about a second for some;
        includes items taken over from a node that stopped working on them. May raise
        SharedStoreDown."""

    async def finish(self, delivery: Delivery, result: dict[str, Any]) -> None:
        """Record the item's result (the first one wins) and acknowledge it."""

    async def hand_back(self, deliveries: Sequence[Delivery]) -> None:
        """Give items this node holds back to the queue at once, for any node to take
        (a node that stops), not after `claim_timeout`. Items no longer held here (taken
        over, or finished) are left alone."""

    async def stats(self) -> QueueStats:
        """How many items wait or are held, over every batch (operators' view)."""

    async def close(self) -> None:
        """Stop handing out items."""

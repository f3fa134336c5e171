"""Batches in the embedded database: a `batches` row per batch (its JSON, counters), a
`batch_items` row per item (its fields, who holds it, its result). Plain data in and out:
`batch.sqlite_queue` makes batches of it. Every write is one transaction. SQLite only
(the claim orders by rowid): cluster mode keeps its batches in Redis."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pixeldrive.storage.sql import Connection, transaction


@dataclass(frozen=True, slots=True)
class ItemRow:
    """An item handed to a worker: its batch, its index, its fields (JSON)."""

    batch_id: str
    item: int
    fields: str


@dataclass(frozen=True, slots=True)
class BatchRow:
    """A batch as stored: its JSON, counters, and the results so far (index → JSON)."""

    batch: str
    done: int
    failed: int
    started: bool
    results: dict[int, str]


# One statement, in a write transaction: the items are chosen and marked as held
# together, so two takers (two connections, two processes on one file) never hold the
# same item. An item is free when it has no result and nobody holds it, or its holder
# has held it since before `stale`. SQLite's rowid is the order items were queued in, and
# NULL sorts first: waiting items in queue order, then the longest held, all read in
# order from the index of open items (`batch_items_open`), with no sort.
CLAIM = """
UPDATE batch_items SET claimer = ?, claimed = ?
WHERE rowid IN (
    SELECT rowid FROM batch_items
    WHERE result IS NULL AND (claimed IS NULL OR claimed < ?)
    ORDER BY claimed, rowid LIMIT ?
)
RETURNING rowid, batch_id, item, fields
"""
# The first result wins: a repeat (an item delivered again) matches no row.
RECORD = (
    "UPDATE batch_items SET result = ?, claimer = NULL, claimed = NULL"
    " WHERE batch_id = ? AND item = ? AND result IS NULL"
)
COUNT_DONE = "UPDATE batches SET done = done + 1 WHERE id = ?"
COUNT_FAILED = "UPDATE batches SET failed = failed + 1 WHERE id = ?"
MARK_FINISHED = (
    "UPDATE batches SET finished = ? WHERE id = ? AND finished IS NULL AND done + failed >= total"
)


def insert_batch(
    db: Connection, batch_id: str, batch: str, items: Sequence[str], now: float
) -> None:
    """Store a batch (JSON) and its items (fields JSON, in order), all or nothing."""
    with transaction(db):
        db.execute(
            "INSERT INTO batches (id, batch, total, done, failed, started, created)"
            " VALUES (?, ?, ?, 0, 0, 0, ?)",
            (batch_id, batch, len(items), now),
        )
        db.executemany(
            "INSERT INTO batch_items (batch_id, item, fields) VALUES (?, ?, ?)",
            [(batch_id, index, fields) for index, fields in enumerate(items)],
        )


def claim(db: Connection, claimer: str, now: float, stale: float, limit: int) -> list[ItemRow]:
    """Up to `limit` free items, now held by `claimer` (waiting ones first, oldest batch
    first and in order, then ones taken over); their batches are marked started."""
    with transaction(db):
        rows = sorted(db.execute(CLAIM, (claimer, now, stale, limit)).fetchall())
        started = sorted({str(row[1]) for row in rows})
        db.executemany("UPDATE batches SET started = 1 WHERE id = ?", [(b,) for b in started])
    return [ItemRow(str(r[1]), int(r[2]), str(r[3])) for r in rows]  # in queue order


def release(db: Connection, gone: Callable[[str], bool]) -> int:
    """Free the unfinished items of every holder `gone` says has stopped (a process that
    died holding them); returns how many items were freed."""
    with transaction(db):
        holders = db.execute(
            "SELECT DISTINCT claimer FROM batch_items WHERE result IS NULL AND claimer IS NOT NULL"
        ).fetchall()
        freed = 0
        for (holder,) in holders:
            if gone(str(holder)):
                freed += db.execute(
                    "UPDATE batch_items SET claimer = NULL, claimed = NULL"
                    " WHERE claimer = ? AND result IS NULL",
                    (holder,),
                ).rowcount
    return freed


def record(db: Connection, batch_id: str, item: int, result: str, failed: bool, now: float) -> bool:
    """Record an item's result (JSON) and count it, unless it has one already (the
    first wins); the batch is marked finished with its last result. True when recorded."""
    with transaction(db):
        if db.execute(RECORD, (result, batch_id, item)).rowcount != 1:
            return False
        db.execute(COUNT_FAILED if failed else COUNT_DONE, (batch_id,))
        db.execute(MARK_FINISHED, (now, batch_id))
    return True


def batch_json(db: Connection, batch_id: str) -> str | None:
    row = db.execute("SELECT batch FROM batches WHERE id = ?", (batch_id,)).fetchone()
    return None if row is None else str(row[0])


def progress(db: Connection, batch_id: str) -> BatchRow | None:
    """The batch, its counters and its results so far; None for an unknown id."""
    row = db.execute(
        "SELECT batch, done, failed, started FROM batches WHERE id = ?", (batch_id,)
    ).fetchone()
    if row is None:
        return None
    results = db.execute(
        "SELECT item, result FROM batch_items WHERE batch_id = ? AND result IS NOT NULL",
        (batch_id,),
    ).fetchall()
    return BatchRow(
        str(row[0]),
        int(row[1]),
        int(row[2]),
        bool(row[3]),
        {int(item): str(result) for item, result in results},
    )


def forget_finished(db: Connection, before: float) -> int:
    """Delete batches (their items with them) finished before `before`; how many."""
    return db.execute(
        "DELETE FROM batches WHERE finished IS NOT NULL AND finished < ?", (before,)
    ).rowcount


def open_counts(db: Connection) -> tuple[int, int]:
    """(items without a result, those of them held by a worker)."""
    row = db.execute(
        "SELECT count(*), count(claimer) FROM batch_items WHERE result IS NULL"
    ).fetchone()
    return int(row[0]), int(row[1])


def hand_back(db: Connection, holder: str, items: Sequence[tuple[str, int]]) -> int:
    """Free these items of `holder` (still unfinished, still its own); returns how many."""
    freed = 0
    with transaction(db):
        for batch_id, item in items:
            freed += db.execute(
                "UPDATE batch_items SET claimer = NULL, claimed = NULL"
                " WHERE batch_id = ? AND item = ? AND claimer = ? AND result IS NULL",
                (batch_id, item, holder),
            ).rowcount
    return freed

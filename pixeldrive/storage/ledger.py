"""The usage ledger: renders (billed, once per key and image) and cache hits (free)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from pixeldrive.storage.sqlite import transaction


@dataclass(frozen=True, slots=True)
class RenderEntry:
    """A render that drew pixels, billed to `key_id`; `variant` is `{key}.{ext}`."""

    key_id: str
    variant: str
    template: str
    format: str
    pixels: int
    ms: float
    bytes: int
    at: float
    day: str
    month: str


@dataclass(frozen=True, slots=True)
class HitCount:
    key_id: str
    day: str
    template: str
    count: int
    bytes: int


def record_render(db: sqlite3.Connection, entry: RenderEntry) -> bool:
    """Record a render once: the same key drawing the same image again (after an
    eviction, or a retry after a crash) is not billed twice. True when newly recorded."""
    cursor = db.execute(
        "INSERT INTO renders (key_id, variant, template, format, pixels, ms, bytes, day,"
        " month, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key_id, variant) DO NOTHING",
        (
            entry.key_id,
            entry.variant,
            entry.template,
            entry.format,
            entry.pixels,
            entry.ms,
            entry.bytes,
            entry.day,
            entry.month,
            entry.at,
        ),
    )
    return cursor.rowcount == 1


def billed_before(db: sqlite3.Connection, key_id: str, variant: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM renders WHERE key_id = ? AND variant = ?", (key_id, variant)
    ).fetchone()
    return row is not None


def record_hits(db: sqlite3.Connection, counts: list[HitCount]) -> None:
    """Add hit counts, all in one transaction."""
    with transaction(db):
        db.executemany(
            "INSERT INTO hits (key_id, day, template, count, bytes) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (key_id, day, template) DO UPDATE SET"
            " count = count + excluded.count, bytes = bytes + excluded.bytes",
            [(c.key_id, c.day, c.template, c.count, c.bytes) for c in counts],
        )


def renders_in_month(db: sqlite3.Connection, key_id: str, month: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM renders WHERE key_id = ? AND month = ?", (key_id, month)
    ).fetchone()
    return int(row[0])


UsageRow = tuple[str, int, int, int]  # (day or template, renders, cache_hits, bytes)


def usage(db: sqlite3.Connection, key_id: str, by: str) -> list[UsageRow]:
    """Totals per `day` or per `template`: renders, cache hits, bytes served."""
    if by not in ("day", "template"):
        raise ValueError(by)
    rows = db.execute(
        f"""
        SELECT {by}, sum(renders), sum(hits), sum(bytes) FROM (
            SELECT {by}, count(*) AS renders, 0 AS hits, sum(bytes) AS bytes
            FROM renders WHERE key_id = ? GROUP BY {by}
            UNION ALL
            SELECT {by}, 0, sum(count), sum(bytes) FROM hits WHERE key_id = ? GROUP BY {by}
        ) GROUP BY {by} ORDER BY {by}
        """,  # noqa: S608  # `by` is one of two literal column names, checked above
        (key_id, key_id),
    ).fetchall()
    return [(str(r[0]), int(r[1]), int(r[2]), int(r[3] or 0)) for r in rows]

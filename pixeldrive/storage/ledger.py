"""The usage ledger: renders (billed, once per key and image) and cache hits (free).

The same SQL runs on SQLite and PostgreSQL (see `storage.sql`)."""

from __future__ import annotations

from dataclasses import astuple, dataclass

from pixeldrive.storage.sql import Connection, transaction


@dataclass(frozen=True, slots=True)
class RenderEntry:
    """A render that drew pixels, billed to `key_id`; `variant` is `{key}.{ext}`. The
    fields are the columns of a `renders` row, in order (`at` is `created`)."""

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
    """The columns of a `hits` row, in order."""

    key_id: str
    day: str
    template: str
    count: int
    bytes: int


RENDER_INSERT = (
    "INSERT INTO renders (key_id, variant, template, format, pixels, ms, bytes, created,"
    " day, month) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (key_id, variant) DO NOTHING"
)
HITS_UPSERT = (
    "INSERT INTO hits (key_id, day, template, count, bytes) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (key_id, day, template) DO UPDATE SET"
    " count = hits.count + excluded.count, bytes = hits.bytes + excluded.bytes"
)


def record_render(db: Connection, entry: RenderEntry) -> bool:
    """Record a render once: the same key drawing the same image again (after an
    eviction, or a retry after a crash) is not billed twice. True when newly recorded."""
    return db.execute(RENDER_INSERT, astuple(entry)).rowcount == 1


def billed_before(db: Connection, key_id: str, variant: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM renders WHERE key_id = ? AND variant = ?", (key_id, variant)
    ).fetchone()
    return row is not None


def record_hits(db: Connection, counts: list[HitCount]) -> None:
    """Add hit counts, all in one transaction."""
    with transaction(db):
        db.executemany(HITS_UPSERT, [astuple(c) for c in counts])


def renders_in_month(db: Connection, key_id: str, month: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM renders WHERE key_id = ? AND month = ?", (key_id, month)
    ).fetchone()
    return int(row[0])


UsageRow = tuple[str, str, int, int, int]  # (day, template, renders, cache_hits, bytes)


def usage(db: Connection, key_id: str) -> list[UsageRow]:
    """Totals per day and template: renders, cache hits, bytes served. The caller sums
    them per day or per template over the templates it may see (a token narrowed to some
    templates sees only theirs)."""
    rows = db.execute(
        """
        SELECT day, template, sum(renders), sum(hits), sum(bytes) FROM (
            SELECT day, template, count(*) AS renders, 0 AS hits, sum(bytes) AS bytes
            FROM renders WHERE key_id = ? GROUP BY day, template
            UNION ALL
            SELECT day, template, 0, sum(count), sum(bytes) FROM hits WHERE key_id = ?
            GROUP BY day, template
        ) AS per GROUP BY day, template ORDER BY day, template
        """,
        (key_id, key_id),
    ).fetchall()
    return [(str(r[0]), str(r[1]), int(r[2]), int(r[3]), int(r[4] or 0)) for r in rows]


Spooled = tuple[list[RenderEntry], list[HitCount]]


def spooled(db: Connection, limit: int = 1000) -> Spooled:
    """Up to `limit` render rows and hit counts held in a spool (see `storage.spool`)."""
    renders = db.execute(
        "SELECT key_id, variant, template, format, pixels, ms, bytes, created, day, month"
        " FROM renders LIMIT ?",
        (limit,),
    ).fetchall()
    hits = db.execute(
        "SELECT key_id, day, template, count, bytes FROM hits LIMIT ?", (limit,)
    ).fetchall()
    return [RenderEntry(*row) for row in renders], [HitCount(*row) for row in hits]


def take_in(db: Connection, renders: list[RenderEntry], hits: list[HitCount]) -> None:
    """Add spooled rows to this ledger in one transaction. Renders already there are
    skipped (their primary key), so a replay cut short and run again bills nothing twice."""
    with transaction(db):
        if renders:
            db.executemany(RENDER_INSERT, [astuple(e) for e in renders])
        if hits:
            db.executemany(HITS_UPSERT, [astuple(c) for c in hits])


def forget(db: Connection, renders: list[RenderEntry], hits: list[HitCount]) -> None:
    """Remove replayed rows from a spool. Hit counts are subtracted, not deleted: hits
    spooled since they were read stay for the next replay."""
    with transaction(db):
        db.executemany(
            "DELETE FROM renders WHERE key_id = ? AND variant = ?",
            [(e.key_id, e.variant) for e in renders],
        )
        db.executemany(
            "UPDATE hits SET count = count - ?, bytes = bytes - ?"
            " WHERE key_id = ? AND day = ? AND template = ?",
            [(c.count, c.bytes, c.key_id, c.day, c.template) for c in hits],
        )
        db.execute("DELETE FROM hits WHERE count <= 0")

"""Templates people upload: the version each uploaded id serves, and every version's bytes.

Both tables live in the keys-and-ledger database, so in cluster mode every node serves
the same uploads. Deleting a template removes its id only: the bytes of its versions
stay, because a URL minted for a version must keep drawing the same pixels.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from pixeldrive.storage.sql import Connection, transaction


@dataclass(frozen=True, slots=True)
class UploadedTemplate:
    """One uploaded id, as stored: the columns of an `uploaded_templates` row."""

    id: str
    version: str
    uploaded_at: float


def save_template(db: Connection, template_id: str, version: str, data: bytes) -> bool:
    """Store a version's bytes (once per version) and make it what `template_id` serves,
    in one transaction; True when the id held a template before."""
    now = time.time()
    with transaction(db, lock="pixeldrive-templates"):
        _keep_version(db, version, data, now)
        before = db.execute(
            "SELECT 1 FROM uploaded_templates WHERE id = ?", (template_id,)
        ).fetchone()
        db.execute(
            "INSERT INTO uploaded_templates (id, version, uploaded_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET version = excluded.version,"
            " uploaded_at = excluded.uploaded_at",
            (template_id, version, now),
        )
    return before is not None


def import_templates(db: Connection, uploads: Iterable[tuple[str, str, bytes]]) -> list[str]:
    """Store (id, version, bytes) uploads an older release kept only on a node's disk, in
    one transaction; an id the database already holds keeps what it holds. The ids
    stored."""
    now = time.time()
    stored = []
    with transaction(db, lock="pixeldrive-templates"):
        for template_id, version, data in uploads:
            _keep_version(db, version, data, now)
            added = db.execute(
                "INSERT INTO uploaded_templates (id, version, uploaded_at) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                (template_id, version, now),
            )
            if added.rowcount == 1:
                stored.append(template_id)
    return stored


def _keep_version(db: Connection, version: str, data: bytes, now: float) -> None:
    db.execute(
        "INSERT INTO template_versions (version, data, size, created) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (version) DO NOTHING",
        (version, data, len(data), now),
    )


def list_templates(db: Connection) -> list[UploadedTemplate]:
    """Every uploaded id and its version, by id (small: no bytes)."""
    rows = db.execute(
        "SELECT id, version, uploaded_at FROM uploaded_templates ORDER BY id"
    ).fetchall()
    return [UploadedTemplate(str(r[0]), str(r[1]), float(r[2])) for r in rows]


def delete_template(db: Connection, template_id: str) -> bool:
    """Remove an uploaded id (its versions' bytes stay: URLs name them); False when none."""
    return db.execute("DELETE FROM uploaded_templates WHERE id = ?", (template_id,)).rowcount == 1


def template_source(db: Connection, version: str) -> bytes | None:
    """The bytes of a stored template version; None when there is none."""
    row = db.execute("SELECT data FROM template_versions WHERE version = ?", (version,)).fetchone()
    return bytes(row[0]) if row else None

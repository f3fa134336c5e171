"""Fonts people upload: a row per name (one face each) and the files by their sha256.

Both tables live in the keys-and-ledger database, so in cluster mode every node reads the
same fonts. Deleting a font removes its name only: its file stays, because a stored
render spec may name it by digest, and that URL must keep drawing the same pixels.
"""

from __future__ import annotations

import json
import time
from dataclasses import astuple, dataclass

from pixeldrive.core.errors import Conflict
from pixeldrive.storage.sql import Connection, transaction


@dataclass(frozen=True, slots=True)
class FontRecord:
    """One uploaded face, as stored: the columns of a `fonts` row, in order. `names` is
    every family name the face answers to, as JSON; `kind` what it was uploaded as."""

    name: str
    digest: str
    family: str
    names: str
    style: str
    weight: int
    weight_max: int
    italic: bool
    glyphs: int
    size: int
    kind: str
    fs_type: int
    copyright: str
    licence: str
    licence_url: str
    uploaded_at: float

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(json.loads(self.names))


COLUMNS = (
    "name, digest, family, names, style, weight, weight_max, italic, glyphs, size, kind,"
    " fs_type, copyright, licence, licence_url, uploaded_at"
)
_UPDATES = ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in COLUMNS.split(",")[1:])


def _record(row: tuple[object, ...]) -> FontRecord:
    values = list(row)
    values[7] = bool(values[7])  # italic: an integer in both databases
    return FontRecord(*values)  # type: ignore[arg-type]  # columns match the dataclass order


def save_font(db: Connection, record: FontRecord, ext: str, data: bytes) -> bool:
    """Store a face under its name (replacing what the name held) and its file, in one
    transaction; True when the name held a font before. Conflict (409) when another name
    holds the same face (family, weights and style): which of the two draws would
    otherwise depend on their digests."""
    with transaction(db, lock="pixeldrive-fonts"):
        rows = db.execute(f"SELECT {COLUMNS} FROM fonts").fetchall()  # noqa: S608
        existing = [_record(row) for row in rows]
        for other in existing:
            if other.name != record.name and _same_face(other, record):
                raise Conflict(
                    f"font {other.name!r} is already {other.family} {other.style} "
                    f"(weight {other.weight}): replace it (PUT /v1/fonts/{other.name}) "
                    "or remove it first"
                )
        db.execute(
            "INSERT INTO font_files (digest, ext, data, size, created) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (digest) DO NOTHING",
            (record.digest, ext, data, len(data), time.time()),
        )
        placeholders = ", ".join("?" * len(COLUMNS.split(",")))
        db.execute(
            f"INSERT INTO fonts ({COLUMNS}) VALUES ({placeholders})"  # noqa: S608
            f" ON CONFLICT (name) DO UPDATE SET {_UPDATES}",
            _row(record),
        )
    return any(other.name == record.name for other in existing)


def _row(record: FontRecord) -> tuple[object, ...]:
    values = list(astuple(record))
    values[7] = int(record.italic)
    return tuple(values)


def _same_face(a: FontRecord, b: FontRecord) -> bool:
    return (a.family.casefold(), a.weight, a.weight_max, a.italic) == (
        b.family.casefold(),
        b.weight,
        b.weight_max,
        b.italic,
    )


def list_fonts(db: Connection) -> list[FontRecord]:
    rows = db.execute(f"SELECT {COLUMNS} FROM fonts ORDER BY family, weight, name").fetchall()  # noqa: S608
    return [_record(row) for row in rows]


def delete_font(db: Connection, name: str) -> bool:
    """Remove a font's name (its file stays: specs may name it); False when none."""
    return db.execute("DELETE FROM fonts WHERE name = ?", (name,)).rowcount == 1


def font_file(db: Connection, digest: str) -> tuple[str, bytes] | None:
    """The extension and bytes of a stored font file; None when there is none."""
    row = db.execute("SELECT ext, data FROM font_files WHERE digest = ?", (digest,)).fetchone()
    return (str(row[0]), bytes(row[1])) if row else None

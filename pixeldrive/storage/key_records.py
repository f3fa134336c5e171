"""API key records: stored hashed, with their signing secret, scopes and quota."""

from __future__ import annotations

import time
from dataclasses import astuple, dataclass

from pixeldrive.storage.sql import Connection


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One API key as stored. `secret_hash` is a hash of the key's secret part: the key
    itself is never at rest. `scopes` is JSON (the auth layer gives it meaning)."""

    id: str
    name: str
    secret_hash: bytes
    signing_secret: str
    scopes: str
    quota: int | None
    created: float
    revoked: float | None

    @property
    def active(self) -> bool:
        return self.revoked is None


COLUMNS = "id, name, secret_hash, signing_secret, scopes, quota, created, revoked"


def _record(row: tuple[object, ...]) -> KeyRecord:
    # Both drivers give a blob as bytes (sqlite3 by default, psycopg 3 for BYTEA).
    return KeyRecord(*row)  # type: ignore[arg-type]  # columns match the dataclass order


def insert_key(db: Connection, record: KeyRecord) -> None:
    db.execute(
        f"INSERT INTO api_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        astuple(record),
    )


def find_key(db: Connection, key_id: str) -> KeyRecord | None:
    row = db.execute(f"SELECT {COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()  # noqa: S608
    return _record(row) if row else None


def list_keys(db: Connection) -> list[KeyRecord]:
    rows = db.execute(f"SELECT {COLUMNS} FROM api_keys ORDER BY created").fetchall()  # noqa: S608
    return [_record(row) for row in rows]


def count_keys(db: Connection) -> int:
    return int(db.execute("SELECT count(*) FROM api_keys").fetchone()[0])


def revoke_key(db: Connection, key_id: str) -> bool:
    """Mark a key revoked; False when there is no such active key."""
    cursor = db.execute(
        "UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL", (time.time(), key_id)
    )
    return cursor.rowcount == 1

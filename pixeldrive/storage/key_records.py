"""API key records: stored hashed, with their signing secret (encrypted at rest by the
`SecretBox` every reader and writer passes in), scopes and quota."""

from __future__ import annotations

import time
from dataclasses import astuple, dataclass, replace

from pixeldrive.storage.sealed_secrets import SecretBox
from pixeldrive.storage.sql import Connection


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One API key. `secret_hash` is a hash of the key's secret part: the key itself is
    never at rest. `signing_secret` is plain here, and sealed in the database. `scopes`
    is JSON (the auth layer gives it meaning)."""

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


def _record(row: tuple[object, ...], box: SecretBox) -> KeyRecord:
    # Both drivers give a blob as bytes (sqlite3 by default, psycopg 3 for BYTEA).
    record = KeyRecord(*row)  # type: ignore[arg-type]  # columns match the dataclass order
    return replace(record, signing_secret=box.open(record.signing_secret, bound_to=record.id))


def insert_key(db: Connection, box: SecretBox, record: KeyRecord) -> None:
    sealed = replace(record, signing_secret=box.seal(record.signing_secret, bound_to=record.id))
    db.execute(
        f"INSERT INTO api_keys ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
        astuple(sealed),
    )


def find_key(db: Connection, box: SecretBox, key_id: str) -> KeyRecord | None:
    row = db.execute(f"SELECT {COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()  # noqa: S608
    return _record(row, box) if row else None


def list_keys(db: Connection, box: SecretBox) -> list[KeyRecord]:
    rows = db.execute(f"SELECT {COLUMNS} FROM api_keys ORDER BY created").fetchall()  # noqa: S608
    return [_record(row, box) for row in rows]


def count_keys(db: Connection) -> int:
    return int(db.execute("SELECT count(*) FROM api_keys").fetchone()[0])


def revoke_key(db: Connection, key_id: str) -> bool:
    """Mark a key revoked; False when there is no such active key."""
    cursor = db.execute(
        "UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL", (time.time(), key_id)
    )
    return cursor.rowcount == 1

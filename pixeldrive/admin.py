"""Key administration on the state database, synchronous: for the CLI and start-up.

SQLite in WAL mode lets these run while servers use the same file; a server sees a
revocation within `access.key_cache_seconds`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from pixeldrive.auth.keys import NewKey, new_key
from pixeldrive.auth.scopes import Scopes
from pixeldrive.config import Settings
from pixeldrive.storage.keys import (
    KeyRecord,
    count_keys,
    find_key,
    insert_key,
    list_keys,
    revoke_key,
)
from pixeldrive.storage.sqlite import connect, transaction


@contextmanager
def _database(settings: Settings) -> Iterator[sqlite3.Connection]:
    db = connect(settings.database_path)
    try:
        yield db
    finally:
        db.close()


def create_key(
    settings: Settings, name: str, scopes: Scopes | None = None, quota: int | None = None
) -> NewKey:
    made = new_key(name, scopes or Scopes.everything(), quota)
    with _database(settings) as db:
        insert_key(db, made.record)
    return made


def first_admin_key(settings: Settings) -> NewKey | None:
    """On a fresh state, an admin key (everything allowed); None when keys exist."""
    with _database(settings) as db, transaction(db):
        if count_keys(db):
            return None
        made = new_key("admin", Scopes.everything())
        insert_key(db, made.record)
        return made


def all_keys(settings: Settings) -> list[KeyRecord]:
    with _database(settings) as db:
        return list_keys(db)


def key(settings: Settings, key_id: str) -> KeyRecord | None:
    with _database(settings) as db:
        return find_key(db, key_id)


def revoke(settings: Settings, key_id: str) -> bool:
    with _database(settings) as db:
        return revoke_key(db, key_id)

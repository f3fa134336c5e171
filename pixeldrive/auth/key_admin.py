"""Key administration on the keys database, synchronous: for the CLI and start-up.

The keys database is PostgreSQL when `database_url` is set, else the state's SQLite file
(WAL mode lets these run while servers use it). A server sees a revocation within
`access.key_cache_seconds`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from pixeldrive.auth.api_keys import NewKey, new_key
from pixeldrive.auth.scopes import Scopes
from pixeldrive.core.config import Settings
from pixeldrive.storage.database import connection
from pixeldrive.storage.key_records import (
    KeyRecord,
    count_keys,
    find_key,
    insert_key,
    list_keys,
    revoke_key,
)
from pixeldrive.storage.sql import Connection, transaction


def _database(settings: Settings) -> AbstractContextManager[Connection]:
    return connection(settings.database_url, settings.database_path)


def create_key(
    settings: Settings, name: str, scopes: Scopes | None = None, quota: int | None = None
) -> NewKey:
    made = new_key(name, scopes or Scopes.everything(), quota)
    with _database(settings) as db:
        insert_key(db, made.record)
    return made


def first_admin_key(settings: Settings) -> NewKey | None:
    """On a fresh state, an admin key (everything allowed); None when keys exist."""
    # Locked: two nodes starting at once on a fresh database make one admin key.
    with _database(settings) as db, transaction(db, lock="pixeldrive-first-key"):
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

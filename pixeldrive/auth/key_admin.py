"""Key administration on the keys database, synchronous: for the CLI and start-up.

The keys database is PostgreSQL when `database_url` is set, else the state's SQLite file
(WAL mode lets these run while servers use it). A server sees a revocation within
`access.key_cache_seconds`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

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
from pixeldrive.storage.private_files import SECRETS_DIR, write_private
from pixeldrive.storage.sealed_secrets import SecretBox, key_source, open_box
from pixeldrive.storage.sql import Connection, transaction


@contextmanager
def _keys(settings: Settings, *, create: bool = True) -> Iterator[tuple[Connection, SecretBox]]:
    """The keys database and the box of its signing secrets (SecretsKeyError when the
    key is missing or wrong). With `create=False` a state that has no database yet is
    FileNotFoundError, and nothing is created."""
    source = key_source(settings)
    with connection(settings.database_url, settings.database_path, create=create) as db:
        yield db, open_box(db, source)


def create_key(
    settings: Settings, name: str, scopes: Scopes | None = None, quota: int | None = None
) -> NewKey:
    made = new_key(name, scopes or Scopes.everything(), quota)
    with _keys(settings) as (db, box):
        insert_key(db, box, made.record)
    return made


def first_admin_key(settings: Settings) -> NewKey | None:
    """On a fresh state, an admin key (everything allowed); None when keys exist."""
    # Locked: two nodes starting at once on a fresh database make one admin key.
    with _keys(settings) as (db, box), transaction(db, lock="pixeldrive-first-key"):
        if count_keys(db):
            return None
        made = new_key("admin", Scopes.everything())
        insert_key(db, box, made.record)
        return made


ADMIN_KEY_FILE = f"{SECRETS_DIR}/admin-key.env"


def save_admin_key(settings: Settings, made: NewKey) -> Path:
    """Write the first admin key, once, to `$STATE_DIR/secrets/admin-key.env` (0600 in a
    0700 directory) as shell lines that `.` loads; returns its path. The key is written
    there rather than printed: a server's output ends up in log files under any process
    manager (and a terminal can be a logged one: `docker run -t`, tmux, script)."""
    path = settings.state_dir / ADMIN_KEY_FILE
    made_at = datetime.fromtimestamp(made.record.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"# PixelDrive's first API key (admin: everything allowed), made {made_at}.\n"
        "# Load it into a shell with:  . <this file>   (then use $PD_KEY)\n"
        "# Keep it somewhere safe, then delete this file. Lost it? pixeldrive keys create --admin\n"
        f"export PD_KEY={made.key}\n"
        f"export PD_KEY_ID={made.record.id}\n"
        f"export PD_SIGNING_SECRET={made.signing_secret}\n"
    )
    write_private(path, text.encode(), replace=True)  # a fresh database's key replaces an old one
    return path


def all_keys(settings: Settings) -> list[KeyRecord]:
    """Every key (FileNotFoundError on a state that has none: nothing is created)."""
    with _keys(settings, create=False) as (db, box):
        return list_keys(db, box)


def key(settings: Settings, key_id: str) -> KeyRecord | None:
    """One key (FileNotFoundError on a state that has none: nothing is created)."""
    with _keys(settings, create=False) as (db, box):
        return find_key(db, box, key_id)


def revoke(settings: Settings, key_id: str) -> bool:
    """Revoke a key (FileNotFoundError on a state that has none: nothing is created)."""
    with _keys(settings, create=False) as (db, _):
        return revoke_key(db, key_id)

"""One schema for both databases: numbered migrations, run once each, recorded in a table."""

from __future__ import annotations

import time

from pixeldrive.storage.sql import Connection, Dialect, dialect_of, transaction

# Type names per dialect. SQLite's are what the first migrations always wrote (existing
# state files are unchanged); PostgreSQL needs 8-byte numbers (a day's bytes overflow
# INTEGER, Unix times lose their fraction in REAL) and BYTEA for blobs.
TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {"int": "INTEGER", "real": "REAL", "blob": "BLOB"},
    "postgresql": {"int": "BIGINT", "real": "DOUBLE PRECISION", "blob": "BYTEA"},
}

# Each step runs once, in order, inside one transaction with its record. Append only:
# a step that has shipped is never edited (existing databases have already run it).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS render_specs (
        key TEXT PRIMARY KEY,
        template TEXT NOT NULL,
        version TEXT NOT NULL,
        spec TEXT NOT NULL,
        created {real} NOT NULL
    )
    """,
    """
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash {blob} NOT NULL,
        signing_secret TEXT NOT NULL,
        scopes TEXT NOT NULL,
        quota {int},
        created {real} NOT NULL,
        revoked {real}
    );
    CREATE TABLE renders (
        key_id TEXT NOT NULL,
        variant TEXT NOT NULL,
        template TEXT NOT NULL,
        format TEXT NOT NULL,
        pixels {int} NOT NULL,
        ms {real} NOT NULL,
        bytes {int} NOT NULL,
        day TEXT NOT NULL,
        month TEXT NOT NULL,
        created {real} NOT NULL,
        PRIMARY KEY (key_id, variant)
    );
    CREATE INDEX renders_by_month ON renders (key_id, month);
    CREATE TABLE hits (
        key_id TEXT NOT NULL,
        day TEXT NOT NULL,
        template TEXT NOT NULL,
        count {int} NOT NULL,
        bytes {int} NOT NULL,
        PRIMARY KEY (key_id, day, template)
    );
    """,
    # Fonts people upload (storage/fonts.py): a name per face, and the sanitised files by
    # their sha256. A file outlives its name: stored render specs name files by digest.
    """
    CREATE TABLE font_files (
        digest TEXT PRIMARY KEY,
        ext TEXT NOT NULL,
        data {blob} NOT NULL,
        size {int} NOT NULL,
        created {real} NOT NULL
    );
    CREATE TABLE fonts (
        name TEXT PRIMARY KEY,
        digest TEXT NOT NULL REFERENCES font_files (digest),
        family TEXT NOT NULL,
        names TEXT NOT NULL,
        style TEXT NOT NULL,
        weight {int} NOT NULL,
        weight_max {int} NOT NULL,
        italic {int} NOT NULL,
        glyphs {int} NOT NULL,
        size {int} NOT NULL,
        kind TEXT NOT NULL,
        fs_type {int} NOT NULL,
        copyright TEXT NOT NULL,
        licence TEXT NOT NULL,
        licence_url TEXT NOT NULL,
        uploaded_at {real} NOT NULL
    );
    """,
    # Signing secrets are encrypted at rest (storage/sealed_secrets.py); this row, sealed
    # with the same key, tells a wrong key from the right one before anything is read.
    """
    CREATE TABLE sealing_key_check (
        id {int} PRIMARY KEY,
        sealed TEXT NOT NULL,
        created {real} NOT NULL
    );
    """,
    # The embedded batch queue (storage/batch_rows.py): a row per batch, a row per item.
    # Cluster mode keeps batches in Redis; there these tables stay empty.
    """
    CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        batch TEXT NOT NULL,
        total {int} NOT NULL,
        done {int} NOT NULL,
        failed {int} NOT NULL,
        started {int} NOT NULL,
        created {real} NOT NULL,
        finished {real}
    );
    CREATE INDEX batches_by_finished ON batches (finished);
    CREATE TABLE batch_items (
        batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
        item {int} NOT NULL,
        fields TEXT NOT NULL,
        claimer TEXT,
        claimed {real},
        result TEXT,
        PRIMARY KEY (batch_id, item)
    );
    CREATE INDEX batch_items_open ON batch_items (claimed) WHERE result IS NULL;
    """,
    # Templates people upload (storage/templates.py): every accepted version's bytes by
    # their version (a hash of them), and the version each uploaded id serves now. A
    # version outlives its id: URLs minted for it keep drawing the same pixels.
    """
    CREATE TABLE template_versions (
        version TEXT PRIMARY KEY,
        data {blob} NOT NULL,
        size {int} NOT NULL,
        created {real} NOT NULL
    );
    CREATE TABLE uploaded_templates (
        id TEXT PRIMARY KEY,
        version TEXT NOT NULL REFERENCES template_versions (version),
        uploaded_at {real} NOT NULL
    );
    """,
)


def statements(step: str, dialect: Dialect) -> list[str]:
    """The statements of one migration step, with the dialect's type names."""
    return [s for s in step.format(**TYPES[dialect]).split(";") if s.strip()]


def migrate(db: Connection) -> int:
    """Bring the schema up to date; returns the number of steps now applied. Safe to run
    from several processes or nodes at once: the whole of it is one locked transaction."""
    dialect = dialect_of(db)
    with transaction(db, lock="pixeldrive-migrations"):
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            f" (version INTEGER PRIMARY KEY, applied {TYPES[dialect]['real']} NOT NULL)"
        )
        done = _applied(db, dialect)
        for number, step in enumerate(MIGRATIONS[done:], start=done + 1):
            for statement in statements(step, dialect):
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, applied) VALUES (?, ?)",
                (number, time.time()),
            )
            if dialect == "sqlite":
                # Kept in step for older builds, which read only the file header.
                db.execute(f"PRAGMA user_version = {number}")
    return max(done, len(MIGRATIONS))


def _applied(db: Connection, dialect: Dialect) -> int:
    recorded = int(
        db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
    )
    if dialect == "sqlite":
        # State files made before the table existed count their steps in PRAGMA user_version.
        recorded = max(recorded, int(db.execute("PRAGMA user_version").fetchone()[0]))
    return recorded

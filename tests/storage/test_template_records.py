"""Uploaded templates in the database (storage/templates.py), on a real SQLite file: the
version each id serves, every version's bytes kept after a replacement or a delete, and
an older release's local uploads stored without overriding what the database holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pixeldrive.storage.sqlite import connect
from pixeldrive.storage.templates import (
    delete_template,
    import_templates,
    list_templates,
    save_template,
    template_source,
)

ONE, TWO = b"<svg>one</svg>", b"<svg>two</svg>"


def served(db: sqlite3.Connection) -> dict[str, str]:
    return {t.id: t.version for t in list_templates(db)}


def test_an_upload_is_stored_replaced_and_removed_while_its_versions_stay(
    tmp_path: Path,
) -> None:
    db = connect(tmp_path / "db.sqlite3")
    assert save_template(db, "card", "v1", ONE) is False
    assert served(db) == {"card": "v1"}
    assert save_template(db, "card", "v2", TWO) is True
    assert save_template(db, "badge", "v1", ONE) is False  # the same bytes, stored once
    assert served(db) == {"badge": "v1", "card": "v2"}
    assert db.execute("SELECT count(*) FROM template_versions").fetchone()[0] == 2
    assert delete_template(db, "card") is True
    assert delete_template(db, "card") is False
    assert served(db) == {"badge": "v1"}
    assert template_source(db, "v1") == ONE
    assert template_source(db, "v2") == TWO  # URLs minted for it keep drawing
    assert template_source(db, "v3") is None


def test_local_uploads_are_imported_without_overriding_the_database(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite3")
    save_template(db, "card", "v2", TWO)
    stored = import_templates(db, [("card", "v1", ONE), ("badge", "v1", ONE)])
    assert stored == ["badge"]
    assert served(db) == {"badge": "v1", "card": "v2"}
    assert template_source(db, "v1") == ONE

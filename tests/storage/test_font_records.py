"""Uploaded fonts in the database (storage/fonts.py), on a real SQLite file: a name per
face, files by digest, a file kept after its name goes, one face under one name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pixeldrive.core.errors import Conflict
from pixeldrive.storage.fonts import FontRecord, delete_font, font_file, list_fonts, save_font
from pixeldrive.storage.sqlite import connect

RECORD = FontRecord(
    "acme", "d" * 64, "Acme", '["Acme"]', "Regular", 400, 400, False, 60, 1000, "woff2",
    0, "© Acme", "OFL", "https://openfontlicense.org", 1.0,
)  # fmt: skip


def test_a_font_is_stored_replaced_and_removed_while_its_file_stays(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite3")
    assert save_font(db, RECORD, "ttf", b"font one") is False
    assert list_fonts(db) == [RECORD]
    assert RECORD.families == ("Acme",)
    newer = dataclasses.replace(RECORD, digest="e" * 64, uploaded_at=2.0)
    assert save_font(db, newer, "otf", b"font two") is True
    assert list_fonts(db) == [newer]
    assert delete_font(db, "acme") is True
    assert delete_font(db, "acme") is False
    assert list_fonts(db) == []
    assert font_file(db, "d" * 64) == ("ttf", b"font one")  # specs may still name it
    assert font_file(db, "e" * 64) == ("otf", b"font two")
    assert font_file(db, "f" * 64) is None


def test_one_face_is_held_by_one_name(tmp_path: Path) -> None:
    db = connect(tmp_path / "db.sqlite3")
    save_font(db, RECORD, "ttf", b"font one")
    twin = dataclasses.replace(RECORD, name="acme-copy", family="ACME", digest="e" * 64)
    with pytest.raises(Conflict, match="acme"):
        save_font(db, twin, "ttf", b"font two")
    assert [r.name for r in list_fonts(db)] == ["acme"]
    assert font_file(db, "e" * 64) is None  # the transaction took nothing
    bold = dataclasses.replace(twin, weight=700, weight_max=700)
    assert save_font(db, bold, "ttf", b"font two") is False

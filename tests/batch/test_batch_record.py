"""A queued batch keeps who is billed: its principal survives the trip through JSON (the
SQLite and Redis queues store it so), whatever checks it has passed in this process."""

from __future__ import annotations

from pixeldrive.auth.principal import Principal
from pixeldrive.auth.scopes import Scopes
from pixeldrive.batch.queue import Batch


def test_a_batch_survives_json_after_its_principal_was_used() -> None:
    scopes = Scopes(templates=("og-*",), formats=("png",), max_pixels=10_000)
    principal = Principal("k1", scopes, "token", quota=5, expires_at=1_900_000_000)
    principal.require("batch", template="og-card", format="png")  # remembered in-process
    batch = Batch(Batch.new_id(), "og-card", "png", {"width": 100}, principal, total=3)
    again = Batch.from_json(batch.to_json())
    assert again == batch
    assert again.principal.scopes == scopes
    assert again.principal.via == "token"
    assert again.principal.quota == 5

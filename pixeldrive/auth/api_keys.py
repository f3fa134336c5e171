"""API keys: how they look, how they are made, how a presented key is checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from pixeldrive.auth.scopes import Scopes
from pixeldrive.storage.key_records import KeyRecord

PREFIX = "pd"
KEY_RE = re.compile(r"pd_(?P<id>[a-z2-7]{12})_(?P<secret>[A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key as created: `key` is shown once and never stored."""

    record: KeyRecord
    key: str

    @property
    def signing_secret(self) -> str:
        return self.record.signing_secret


def hash_secret(secret: str) -> bytes:
    """The stored form of a key's secret part. The secret is 256 random bits, so a plain
    SHA-256 is as strong as a slow password hash and costs microseconds per request."""
    return hashlib.sha256(secret.encode()).digest()


def new_key(
    name: str, scopes: Scopes, quota: int | None = None, *, now: float | None = None
) -> NewKey:
    key_id = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:12]
    secret = secrets.token_urlsafe(32)
    record = KeyRecord(
        id=key_id,
        name=name,
        secret_hash=hash_secret(secret),
        signing_secret=secrets.token_urlsafe(32),
        scopes=scopes.model_dump_json(),
        quota=quota,
        created=time.time() if now is None else now,
        revoked=None,
    )
    return NewKey(record, f"{PREFIX}_{key_id}_{secret}")


def split_key(presented: str) -> tuple[str, str] | None:
    """(key id, secret) of something shaped like a key, else None."""
    match = KEY_RE.fullmatch(presented)
    return (match.group("id"), match.group("secret")) if match else None


def secret_matches(record: KeyRecord, secret: str) -> bool:
    """Constant-time comparison of the presented secret with the stored hash."""
    return hmac.compare_digest(hash_secret(secret), record.secret_hash)


def scopes_of(record: KeyRecord) -> Scopes:
    return Scopes.model_validate_json(record.scopes)

"""How a tier stores an entry so that a cut or altered one is detected: a magic tag, the
SHA-256 of the payload, then the payload."""

from __future__ import annotations

import hashlib

DIGEST_SIZE = hashlib.sha256().digest_size


def header(magic: bytes, data: bytes) -> bytes:
    """What goes before `data`: `magic` and the digest."""
    return magic + hashlib.sha256(data).digest()


def unframe(magic: bytes, raw: bytes) -> bytes | None:
    """The payload of a well-formed entry, or None when it is short, foreign or torn."""
    start = len(magic) + DIGEST_SIZE
    if len(raw) < start or not raw.startswith(magic):
        return None
    payload = memoryview(raw)[start:]
    return bytes(payload) if hashlib.sha256(payload).digest() == raw[len(magic) : start] else None

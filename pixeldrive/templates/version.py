"""A template version: the hash of its bytes. Apart from templates/model.py so that a
render worker can check a version without importing the schema's validators."""

from __future__ import annotations

import hashlib


def template_version(data: bytes) -> str:
    """The version of a template: a hash of its bytes (part of every cache key)."""
    return hashlib.sha256(data).hexdigest()[:16]

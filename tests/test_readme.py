"""The README's promises that code can check: its signing snippet and test vector."""

from __future__ import annotations

import re
from typing import Any

from pixeldrive.auth import url_signature
from pixeldrive.core.config import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
VECTOR_FIELDS = [
    ("title", "Hello, world!"),
    ("subtitle", "ünïcode & more/1+1"),
    ("accent", "#ff0066"),
    ("kid", "k_test"),
    ("exp", "1893456000"),
]


def readme_snippet() -> dict[str, Any]:
    block = README.split("The algorithm, in\nany language:", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # our own README
    return namespace


def published(name: str) -> str:
    match = re.search(rf"^{name}:\s+(\S+)$", README, re.M)
    assert match is not None, name
    return match.group(1)


def test_the_readme_snippet_computes_the_published_vector() -> None:
    sig = readme_snippet()["sign"]("pd-test-secret", "/v1/t/og-card.png", VECTOR_FIELDS)
    assert sig == published("sig")


def test_the_library_agrees_with_the_published_vector() -> None:
    path = "/v1/t/og-card.png"
    assert url_signature.canonical(path, VECTOR_FIELDS) == published("canonical")
    assert url_signature.signature("pd-test-secret", path, VECTOR_FIELDS) == published("sig")

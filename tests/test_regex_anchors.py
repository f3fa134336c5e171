"""No regular expression in the project ends a match with `$`: in Python it also matches
before a final newline, so `^[a-z]+$` accepts "abc\\n" (a template id ending in a newline
was stored that way). Identifiers are checked with `fullmatch`, searches anchor with `\\Z`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pixeldrive.core.config import PROJECT_ROOT

SOURCES = sorted((PROJECT_ROOT / "pixeldrive").rglob("*.py"))
REGEX_CALLS = {"compile", "match", "search", "fullmatch", "sub", "subn", "split", "findall"}
_ESCAPE = re.compile(r"\\.", re.DOTALL)
_CLASS = re.compile(r"\[\^?\]?[^\]]*\]")


def dollar_anchors(pattern: str) -> bool:
    """Whether `pattern` uses `$` as an anchor (not escaped, not inside a class)."""
    return "$" in _CLASS.sub("", _ESCAPE.sub("", pattern))


def regex_literals(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in REGEX_CALLS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in {"re", "regex"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_pattern_anchors_with_dollar(path: Path) -> None:
    bad = [
        f"line {line}: {pattern}"
        for line, pattern in regex_literals(path)
        if dollar_anchors(pattern)
    ]
    assert bad == [], "use fullmatch, or \\Z in a search"


@pytest.mark.parametrize(
    ("pattern", "anchored"),
    [(r"^a$", True), (r"a(?:b|$)", True), (r"\$\d+", False), (r"[$]x", False), (r"[^$]", False)],
)
def test_the_check_sees_anchors(pattern: str, anchored: bool) -> None:
    assert dollar_anchors(pattern) is anchored


def test_the_check_reads_the_source() -> None:
    assert any("fullmatch" in p.read_text() for p in SOURCES)
    assert sum(len(regex_literals(p)) for p in SOURCES) > 30

"""The architecture of STYLE.md, enforced: imports point down the layers, never up."""

from __future__ import annotations

import ast
from pathlib import Path

import pixeldrive

PACKAGE = Path(pixeldrive.__file__).parent
# package → what it must never import
FORBIDDEN = {
    "pixeldrive.templates": (
        "pixeldrive.http",
        "pixeldrive.storage",
        "pixeldrive.render",
        "pixeldrive.cache",
        "pixeldrive.service",
        "pixeldrive.cli",
        "pixeldrive.observe",
    ),
    # The text engine: fonts, shaping, layout; below render, beside templates.
    "pixeldrive.text": (
        "pixeldrive.http",
        "pixeldrive.storage",
        "pixeldrive.render",
        "pixeldrive.cache",
        "pixeldrive.service",
        "pixeldrive.cli",
        "pixeldrive.config",
        "pixeldrive.observe",
        "prometheus_client",
    ),
    "pixeldrive.render": (
        "pixeldrive.http",
        "pixeldrive.storage",
        "pixeldrive.cache",
        "pixeldrive.service",
        "pixeldrive.cli",
        "pixeldrive.config",
        "pixeldrive.observe",  # the pool is observed from outside
        "prometheus_client",
    ),
    "pixeldrive.cache": (
        "pixeldrive.http",
        "pixeldrive.storage",
        "pixeldrive.service",
        "pixeldrive.cli",
        "pixeldrive.observe",  # observers are passed in (TieredCache's on_lookup)
        "prometheus_client",
    ),
    "pixeldrive.storage": ("pixeldrive.http", "pixeldrive.service", "pixeldrive.cli"),
    "pixeldrive.service": ("pixeldrive.http", "pixeldrive.cli", "prometheus_client"),
    "pixeldrive.observe": (
        "pixeldrive.http",
        "pixeldrive.service",
        "pixeldrive.storage",
        "pixeldrive.cli",
        "aiohttp",
    ),
    # Remote images: a security boundary that depends on settings and errors only.
    "pixeldrive.images": (
        "pixeldrive.http",
        "pixeldrive.service",
        "pixeldrive.storage",
        "pixeldrive.render",
        "pixeldrive.cache",
        "pixeldrive.templates",
        "pixeldrive.auth",
        "pixeldrive.observe",
        "pixeldrive.factory",
        "pixeldrive.cli",
    ),
    "pixeldrive": ("pixeldrive.cli",),
}
# The worker process must stay import-light: no web server, no settings machinery.
WORKER_FORBIDDEN = (
    "aiohttp",
    "pydantic_settings",
    "pixeldrive.config",
    "pixeldrive.http",
    "pixeldrive.observe",
    "prometheus_client",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def all_modules() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def owner(module: str) -> str:
    best = ""
    for package in FORBIDDEN:
        if (module == package or module.startswith(package + ".")) and len(package) > len(best):
            best = package
    return best


def test_imports_point_down_the_layers() -> None:
    violations = []
    for module, imported in all_modules().items():
        if module == "pixeldrive.cli":
            continue
        for target in imported:
            for banned in FORBIDDEN.get(owner(module), ()):
                if target == banned or target.startswith(banned + "."):
                    violations.append(f"{module} imports {target}")
    assert violations == []


def test_the_worker_imports_nothing_heavy() -> None:
    modules = all_modules()
    seen: set[str] = set()
    todo = ["pixeldrive.render.worker"]
    while todo:
        current = todo.pop()
        if current in seen or current not in modules:
            continue
        seen.add(current)
        todo.extend(m for m in modules[current] if m.startswith("pixeldrive"))
    heavy = {
        f"{m} imports {t}"
        for m in seen
        for t in modules[m]
        if any(t == b or t.startswith(b + ".") for b in WORKER_FORBIDDEN)
    }
    assert heavy == set()


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from pixeldrive.http.app import create_app\n")
    assert "pixeldrive.http.app" in imports_of(bad)


def test_public_endpoints_in_the_table_are_the_public_handlers() -> None:
    from pixeldrive.http.routes import ENDPOINTS

    for endpoint in ENDPOINTS:
        assert getattr(endpoint.handler, "public", False) == endpoint.public, endpoint.path

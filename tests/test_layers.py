"""The architecture of ARCHITECTURE.md, enforced: every package of pixeldrive/ sits in one
layer, and imports (at module level and inside functions alike) point down, never across or
up. So the package graph has no cycle, and the worker stays import-light."""

from __future__ import annotations

import ast
from pathlib import Path

import pixeldrive

PACKAGE = Path(pixeldrive.__file__).parent
# Top to bottom. A package may import the packages of the layers below its own, never one
# of its own layer or above. `pixeldrive` itself (the version) counts as the bottom layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),  # the command line: an entry point
    ("http",),  # the aiohttp app: the other entry point
    ("wiring",),  # settings → the running parts, for both
    ("service", "observe"),  # the render pipeline, uploads, batches; metrics and logs
    ("batch", "render", "cache", "lint"),
    ("auth",),  # keys, tokens, signed URLs, scopes, metering
    ("text",),  # the text engine
    ("templates", "remote_images"),  # the SVG document model; fetching remote images
    ("storage",),  # SQLite, PostgreSQL, Redis
    ("core",),  # errors, settings, formats, the render spec
)
LAYER_OF = {f"pixeldrive.{name}": depth for depth, names in enumerate(LAYERS) for name in names}
LAYER_OF["pixeldrive"] = len(LAYERS)
# The worker process must stay import-light: no web server, no settings machinery.
WORKER_FORBIDDEN = (
    "aiohttp",
    "pydantic_settings",
    "pixeldrive.core.config",
    "pixeldrive.http",
    "pixeldrive.observe",
    "prometheus_client",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "pixeldrive":  # `from pixeldrive import wiring`: a module
                found.update(f"pixeldrive.{a.name}" for a in node.names if _is_module(a.name))
    return found


def _is_module(name: str) -> bool:
    return (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()


def all_modules() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def package_of(module: str) -> str | None:
    """The layered package `module` belongs to; None for a module outside pixeldrive."""
    parts = module.split(".")
    if parts[0] != "pixeldrive":
        return None
    return "pixeldrive" if len(parts) == 1 else f"pixeldrive.{parts[1]}"


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, imported in all_modules().items():
        source = package_of(module)
        assert source is not None
        targets = {package_of(t) for t in imported} - {None, source}
        graph.setdefault(source, set()).update(t for t in targets if t is not None)
    return graph


def test_every_package_has_a_layer() -> None:
    assert set(package_graph()) <= set(LAYER_OF), set(package_graph()) - set(LAYER_OF)


def test_imports_point_down_the_layers() -> None:
    violations = [
        f"{source} (layer {LAYER_OF[source]}) imports {target} (layer {LAYER_OF[target]})"
        for source, targets in package_graph().items()
        for target in targets
        if LAYER_OF[target] <= LAYER_OF[source]
    ]
    assert violations == []


def test_no_cycle_between_packages() -> None:
    graph = package_graph()
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " → ".join((*path, node))
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, (*path, node))
        done.add(node)

    for node in sorted(graph):
        visit(node, ())


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
    bad.write_text(
        "def late():\n    from pixeldrive.http.app import create_app\n"
        "from pixeldrive import wiring\n"
    )
    assert {"pixeldrive.http.app", "pixeldrive.wiring"} <= imports_of(bad)
    assert package_of("pixeldrive.http.app") == "pixeldrive.http"
    assert LAYER_OF["pixeldrive.http"] < LAYER_OF["pixeldrive.storage"]

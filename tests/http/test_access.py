"""Access is declared in the route table and enforced in one place: no handler checks a
scope itself, and every route says who may call it."""

from __future__ import annotations

import ast
from pathlib import Path

import pixeldrive
from pixeldrive.http.routes import ENDPOINTS

HTTP = Path(pixeldrive.__file__).parent / "http"


def test_no_handler_checks_scopes_itself() -> None:
    calls = {
        path.name
        for path in sorted(HTTP.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"require", "allows_template"}
    }
    # The access middleware, and the template list (filtered, not refused, by scope).
    assert calls == {"access.py", "templates.py"}


def test_every_route_says_who_may_call_it() -> None:
    for endpoint in ENDPOINTS:
        if endpoint.access == "public":
            assert endpoint.operation is None, endpoint.path
            continue
        if endpoint.renders:  # the pipeline checks the operation with template and format
            assert endpoint.operation == "render", endpoint.path
        if endpoint.template_param is not None:
            assert f"{{{endpoint.template_param}}}" in endpoint.path, endpoint.path
            assert endpoint.operation is not None, endpoint.path
    credential_only = {
        e.path for e in ENDPOINTS if e.access != "public" and not e.operation and not e.admin
    }
    # The template list (filtered by the caller's scopes) and the font list (what any
    # credential may read: the families its templates can name).
    assert credential_only == {"/v1/templates", "/v1/fonts"}
    # An admin key's view: a credential whose scopes allow everything.
    admin = {e.path for e in ENDPOINTS if e.admin}
    assert admin == {"/v1/cluster"}
    assert all(e.access == "credential" and e.operation is None for e in ENDPOINTS if e.admin)

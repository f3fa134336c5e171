"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.http.auth import public
from pixeldrive.http.keys import DATABASE, POOL, TEMPLATES


@public
async def healthz(request: web.Request) -> web.Response:
    """The process answers: nothing more is checked."""
    return web.json_response({"status": "ok"})


@public
async def readyz(request: web.Request) -> web.Response:
    """Ready when the render pool is up and the database answers; 503 names what is not."""
    checks = {
        "render_pool": request.app[POOL].alive(),
        "database": await request.app[DATABASE].ping(),
        "templates": bool(request.app[TEMPLATES].all()),
    }
    ready = all(checks.values())
    return web.json_response(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )

"""Liveness and readiness."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.http.api_models import Health, Readiness
from pixeldrive.http.app_keys import SERVICES


async def healthz(request: web.Request) -> web.Response:
    """The process answers: nothing more is checked."""
    return web.json_response(Health(status="ok").model_dump())


async def readyz(request: web.Request) -> web.Response:
    """Ready when the render pool is up and the database (and Redis, in cluster mode)
    answer; 503 names what is not. A Redis that comes back is ready again by itself."""
    services = request.app[SERVICES]
    checks = {
        "render_pool": services.pool.alive(),
        "database": await services.accounts.ping(),
        "templates": bool(services.templates.all()),
    }
    if services.redis is not None:  # cluster mode: the shared tier, specs and batch queue
        checks["redis"] = await services.redis.check()
    ready = all(checks.values())
    answer = Readiness(status="ready" if ready else "not ready", checks=checks)
    return web.json_response(answer.model_dump(), status=200 if ready else 503)

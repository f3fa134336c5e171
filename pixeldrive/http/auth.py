"""Authentication as a middleware: every route needs credentials unless marked public."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from pixeldrive.auth.principal import LOCAL
from pixeldrive.http.keys import AUTH, PRINCIPAL, SETTINGS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)


def public(handler: H) -> H:
    """Mark a handler as needing no credentials (health, docs, the playground, and
    signed URLs, which carry their own)."""
    handler.public = True  # type: ignore[attr-defined]
    return handler


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sets request[PRINCIPAL], or answers 401 naming what is missing or wrong."""
    route = request.match_info.route
    if request.match_info.http_exception is not None or getattr(route.handler, "public", False):
        return await handler(request)
    if request.app[SETTINGS].server.auth == "off":
        request[PRINCIPAL] = LOCAL
    else:
        header = request.headers.get("Authorization")
        request[PRINCIPAL] = await request.app[AUTH].principal(header)
    return await handler(request)

"""GET /v1/usage: the caller's renders, cache hits and bytes, per day and per template."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.http.keys import METER, PRINCIPAL


async def get_usage(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    principal.require("usage:read")
    return web.json_response(await request.app[METER].usage(principal.key_id))

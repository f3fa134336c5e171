"""GET /v1/usage: the caller's renders, cache hits and bytes, per day and per template."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.http.keys import METER, PRINCIPAL
from pixeldrive.models import Usage


async def get_usage(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    principal.require("usage:read")
    usage = Usage.model_validate(await request.app[METER].usage(principal.key_id))
    return web.json_response(usage.model_dump())

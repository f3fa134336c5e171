"""GET /v1/usage: the caller's renders, cache hits and bytes, per day and per template
(of the templates its scopes cover)."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.http.api_models import Usage
from pixeldrive.http.app_keys import PRINCIPAL, SERVICES


async def get_usage(request: web.Request) -> web.Response:
    usage = Usage.model_validate(await request.app[SERVICES].meter.usage(request[PRINCIPAL]))
    return web.json_response(usage.model_dump())

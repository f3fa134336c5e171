"""GET /v1/cluster: the nodes seen in the last minute, what each runs and holds, and the
batch queue (an admin key's view)."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from pixeldrive.http.api_models import ClusterStatusBody
from pixeldrive.http.app_keys import SERVICES


async def get_cluster(request: web.Request) -> web.Response:
    status = await request.app[SERVICES].cluster.status()
    body = ClusterStatusBody.model_validate(asdict(status))
    return web.json_response(body.model_dump(mode="json"))

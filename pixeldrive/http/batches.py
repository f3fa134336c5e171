"""POST /v1/batches and GET /v1/batches/{id}: many field sets for one template, queued."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.http.api_models import BatchCreated, BatchRequest, BatchStatus
from pixeldrive.http.app_keys import PRINCIPAL, SERVICES, SETTINGS
from pixeldrive.http.bodies import read_json


async def create_batch(request: web.Request) -> web.Response:
    """Checked (template, scopes, size), queued, answered 202 at once: the workers of
    every node render the items; GET the `url` for progress and results."""
    body = await read_json(request, BatchRequest)
    fmt = body.format or request.app[SETTINGS].encode.default_format
    batch = await request.app[SERVICES].batches.submit(request[PRINCIPAL], body, body.items, fmt)
    url = f"/v1/batches/{batch.id}"
    created = BatchCreated(id=batch.id, url=url, status="queued", total=batch.total)
    return web.json_response(created.model_dump(), status=202, headers={"Location": url})


async def get_batch(request: web.Request) -> web.Response:
    """Progress and, per item in order, its URL or its problem (null while pending).
    A batch is visible to the key that submitted it only."""
    batch_id = request.match_info["id"]
    progress = await request.app[SERVICES].batches.progress(request[PRINCIPAL], batch_id)
    status = BatchStatus(
        id=batch_id,
        status=progress.status,
        template=progress.batch.template,
        format=progress.batch.format,
        total=progress.batch.total,
        done=progress.done,
        failed=progress.failed,
        results=[],
    )
    body = status.model_dump()
    body["results"] = progress.results  # as recorded: {url, key, bytes, cached} | {error}
    return web.json_response(body)

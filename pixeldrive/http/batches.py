"""POST /v1/batches and GET /v1/batches/{id}: many field sets for one template, queued."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.batch.models import BatchCreated, BatchRequest, BatchStatus
from pixeldrive.batch.queue import Batch
from pixeldrive.errors import FieldProblem, InvalidInput, NotFound
from pixeldrive.http.bodies import read_json
from pixeldrive.http.keys import BATCHES, PRINCIPAL, SERVICE, SETTINGS

OPTIONS = ("width", "height", "scale", "quality")


async def create_batch(request: web.Request) -> web.Response:
    """Checked (template, scopes, size), queued, answered 202 at once: the workers of
    every node render the items; GET the `url` for progress and results."""
    body = await read_json(request, BatchRequest)
    settings, principal = request.app[SETTINGS], request[PRINCIPAL]
    fmt = body.format or settings.encode.default_format
    principal.require("batch", template=body.template, format=fmt)
    request.app[SERVICE].templates.get(body.template)  # 404 for an unknown template
    limit = settings.batch.max_items
    if len(body.items) > limit:
        raise InvalidInput(
            f"a batch holds at most {limit} items; this one has {len(body.items)}",
            errors=(FieldProblem("items", f"at most {limit} items"),),
        )
    options = {name: getattr(body, name) for name in OPTIONS if getattr(body, name) is not None}
    batch = Batch(Batch.new_id(), body.template, fmt, options, principal, len(body.items))
    await request.app[BATCHES].submit(batch, body.items)
    url = f"/v1/batches/{batch.id}"
    created = BatchCreated(id=batch.id, url=url, status="queued", total=batch.total)
    return web.json_response(created.model_dump(), status=202, headers={"Location": url})


async def get_batch(request: web.Request) -> web.Response:
    """Progress and, per item in order, its URL or its problem (null while pending).
    A batch is visible to the key that submitted it only."""
    batch_id = request.match_info["id"]
    progress = await request.app[BATCHES].progress(batch_id)
    if progress is None or progress.batch.principal.key_id != request[PRINCIPAL].key_id:
        raise NotFound(f"no batch {batch_id!r}")
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

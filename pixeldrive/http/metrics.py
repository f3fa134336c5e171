"""GET /metrics, and the middleware that counts every response for it."""

from __future__ import annotations

import time

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from pixeldrive.http.app_keys import METRICS

UNMATCHED = "unmatched"


def route_of(request: web.Request) -> str:
    """The matched route's path template ("/v1/images/{name}"), never the raw path, so
    the label's values stay few; "unmatched" when no route matched (404, 405)."""
    info = request.match_info
    resource = info.route.resource
    if info.http_exception is not None or resource is None:
        return UNMATCHED
    return resource.canonical


def method_of(request: web.Request) -> str:
    # Any token is a valid method on the wire; a label must not grow with what clients send.
    return request.method if request.method in hdrs.METH_ALL else "other"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts each response by route, method and status class, and times it. Placed
    outside problems_middleware, so the problem documents it makes are counted too."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects pass through problems_middleware
        _count(request, exc.status, started)
        raise
    _count(request, response.status, started)
    return response


def _count(request: web.Request, status: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    request.app[METRICS].response(route_of(request), method_of(request), status, elapsed)


async def get_metrics(request: web.Request) -> web.Response:
    """The application's metrics in the Prometheus text format."""
    metrics = request.app[METRICS]
    return web.Response(body=metrics.exposition(), headers={"Content-Type": metrics.content_type})

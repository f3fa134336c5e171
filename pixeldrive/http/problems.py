"""Errors as RFC 9457 problem documents, rendered in one middleware."""

from __future__ import annotations

import json
import logging
import random
import re
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from pixeldrive.core.errors import PixelDriveError, problem_body
from pixeldrive.observe.logs import current_request_id

log = logging.getLogger("pixeldrive.http")
PROBLEM_TYPE = "application/problem+json"
REQUEST_ID = web.RequestKey("request_id", str)
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

# aiohttp's own HTTP errors keep their status; these get a clearer detail.
HTTP_DETAILS = {
    404: "no such resource",
    405: "method not allowed on this resource",
    413: "the request body is larger than the server accepts",
}


def problem_response(
    body: dict[str, Any], request_id: str, headers: dict[str, str] | None = None
) -> web.Response:
    """A problem document (`problem_body`) answered with its request id."""
    body["request_id"] = request_id
    return web.Response(
        status=body["status"],
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type=PROBLEM_TYPE,
        headers={**(headers or {}), "X-Request-Id": request_id},
    )


# Request ids name log lines; they need to be unique, not unpredictable, and a system
# random call per request showed on the cache-hit path.
_ids = random.Random()  # noqa: S311


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-Id", "")
    return given if _SAFE_ID.fullmatch(given) else f"{_ids.getrandbits(64):016x}"


@web.middleware
async def problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes a problem document with a request id; never a traceback.
    The id is also set in `current_request_id`, so every log line of the request has it."""
    request_id = _request_id(request)
    request[REQUEST_ID] = request_id
    # Not reset on the way out: the request's own task ends with it, and the access log
    # line, written after this returns, should carry the id as well.
    current_request_id.set(request_id)
    try:
        response = await handler(request)
    except PixelDriveError as exc:
        if exc.report:
            log.warning(
                "%s %s → %d %s [%s]",
                request.method,
                request.path,
                exc.status,
                exc.detail,
                request_id,
            )
        return problem_response(exc.problem(), request_id, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        detail = HTTP_DETAILS.get(exc.status, exc.reason)
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return problem_response(
            problem_body(exc.status, exc.reason, detail, f"http-{exc.status}"), request_id, allow
        )
    except Exception:
        log.exception("unhandled error on %s %s [%s]", request.method, request.path, request_id)
        failed = "the server failed; the request id names it in the logs"
        return problem_response(problem_body(500, "Internal error", failed, "internal"), request_id)
    response.headers["X-Request-Id"] = request_id
    return response

"""Reading request bodies: size-limited, parsed by pydantic, errors naming the field."""

from __future__ import annotations

import asyncio
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from pixeldrive.core.errors import (
    BadRequest,
    BodyIncomplete,
    FieldProblem,
    InvalidInput,
    TooLarge,
)
from pixeldrive.http.app_keys import SETTINGS

M = TypeVar("M", bound=BaseModel)
PARSE_IN_THREAD = 64 * 1024  # bigger bodies are parsed off the event loop
CHUNK = 256 * 1024
_ROOT_TYPES = {"model_type", "model_attributes_type", "dict_type"}


async def read_body(request: web.Request, limit: int | None = None) -> bytes:
    """The raw body; 413 over the size limit (checked before reading when announced).
    `limit` replaces `server.max_body_bytes` for one route (font uploads)."""
    server_limit = request.app[SETTINGS].server.max_body_bytes
    limit = server_limit if limit is None else limit
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the body is {request.content_length} bytes; the limit is {limit}")
    try:
        if limit > server_limit:  # past the app's client_max_size: read in pieces, counted
            return await _read_up_to(request, limit)
        return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise TooLarge(f"the body is larger than the limit of {limit} bytes") from exc
    except ConnectionResetError as exc:  # aiohttp's word for a peer gone mid-body
        raise BodyIncomplete("the connection closed before the body was complete") from exc


async def _read_up_to(request: web.Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"the body is larger than the limit of {limit} bytes")
    return bytes(body)


async def read_json(request: web.Request, model: type[M]) -> M:
    """The body as `model`: 413 over the size limit, 400 when it is not a JSON object,
    422 listing each invalid field."""
    body = await read_body(request)
    if len(body) > PARSE_IN_THREAD:
        return await asyncio.to_thread(_parse, body, model)
    return _parse(body, model)


def _parse(body: bytes, model: type[M]) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        first = errors[0]
        if first["type"] == "json_invalid":
            raise BadRequest(f"the body is not valid JSON: {first['msg']}") from exc
        if first["type"] in _ROOT_TYPES and not first["loc"]:
            raise BadRequest("the body must be a JSON object") from exc
        problems = tuple(
            FieldProblem(".".join(str(p) for p in e["loc"]) or "body", _message(e)) for e in errors
        )
        raise InvalidInput("the request body is invalid", errors=problems) from exc


def _message(error: object) -> str:
    assert isinstance(error, dict)
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "required field is missing"
    return str(error["msg"])

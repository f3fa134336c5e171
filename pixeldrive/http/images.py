"""GET /v1/images/{key}[.{ext}]: content-addressed images, re-rendered when evicted."""

from __future__ import annotations

import re

from aiohttp import web

from pixeldrive.errors import NotFound
from pixeldrive.http.keys import PRINCIPAL, SERVICE, SETTINGS
from pixeldrive.http.respond import (
    image_response,
    negotiate_format,
    not_modified,
    validator_headers,
)
from pixeldrive.render.formats import BY_EXT, ImageFormat

NAME_RE = re.compile(r"^(?P<key>[0-9a-f]{32})(?:\.(?P<ext>[a-z]{3,4}))?$")


def parse_name(request: web.Request, name: str) -> tuple[str, ImageFormat, bool]:
    """(key, format, negotiated) of `KEY` or `KEY.EXT`; NotFound for anything else."""
    match = NAME_RE.match(name)
    if match is None:
        raise NotFound("no image by that name: a key is 32 hex digits, then .png/.jpg/.webp/.avif")
    ext = match.group("ext")
    if ext is None:
        preference = request.app[SETTINGS].encode.preference
        return match.group("key"), negotiate_format(request, preference), True
    if ext not in BY_EXT:
        raise NotFound(f"no format with extension .{ext}; use png, jpg, webp or avif")
    return match.group("key"), BY_EXT[ext], False


async def get_image(request: web.Request) -> web.StreamResponse:
    key, fmt, negotiated = parse_name(request, request.match_info["name"])
    service, principal = request.app[SERVICE], request[PRINCIPAL]
    principal.require("render", template=await service.template_of(key), format=fmt.name)
    headers = validator_headers(key, fmt, negotiated=negotiated)
    data = service.peek(key, fmt, principal)
    if data is not None:
        # The hot path: a memory hit is answered without touching anything else.
        if not_modified(request, headers["ETag"]):
            return web.Response(status=304, headers=headers)
        headers["X-Cache"] = "hit"
        return web.Response(body=data, content_type=fmt.mime, headers=headers)
    rendered = await service.image(key, fmt, principal)
    return image_response(request, rendered, negotiated=negotiated)

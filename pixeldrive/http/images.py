"""GET /v1/images/{key}[.{ext}]: content-addressed images, re-rendered when evicted."""

from __future__ import annotations

import re

from aiohttp import web

from pixeldrive.errors import NotFound
from pixeldrive.http.keys import SERVICE, SETTINGS
from pixeldrive.http.respond import (
    image_response,
    negotiate_format,
    not_modified,
    validator_headers,
)
from pixeldrive.render.formats import BY_EXT
from pixeldrive.service import Rendered

NAME_RE = re.compile(r"^(?P<key>[0-9a-f]{32})(?:\.(?P<ext>[a-z]{3,4}))?$")


async def get_image(request: web.Request) -> web.StreamResponse:
    match = NAME_RE.match(request.match_info["name"])
    if match is None:
        raise NotFound("no image by that name: a key is 32 hex digits, then .png/.jpg/.webp/.avif")
    key, ext = match.group("key"), match.group("ext")
    negotiated = ext is None
    if ext is None:
        fmt = negotiate_format(request, request.app[SETTINGS].encode.preference)
    elif ext in BY_EXT:
        fmt = BY_EXT[ext]
    else:
        raise NotFound(f"no format with extension .{ext}; use png, jpg, webp or avif")
    service = request.app[SERVICE]
    headers = validator_headers(key, fmt, negotiated=negotiated)
    data = service.cached_bytes(key, fmt)
    if data is not None:
        # The hot path: a memory hit is answered without awaiting anything.
        if not_modified(request, headers["ETag"]):
            return web.Response(status=304, headers=headers)
        headers["X-Cache"] = "hit"
        return web.Response(body=data, content_type=fmt.mime, headers=headers)
    rendered: Rendered = await service.image(key, fmt)
    return image_response(request, rendered, negotiated=negotiated)

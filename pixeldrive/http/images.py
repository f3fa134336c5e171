"""GET /v1/images/{key}[.{ext}]: content-addressed images, re-rendered when evicted; for a
header credential, or signed in the query (a render's `public_url`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import web
from multidict import CIMultiDict

from pixeldrive.core.errors import NotFound
from pixeldrive.core.formats import BY_EXT, EXTENSIONS, ImageFormat
from pixeldrive.http.app_keys import PRINCIPAL, SERVICES
from pixeldrive.http.respond import (
    IMMUTABLE,
    for_caller,
    hit_headers,
    image_response,
    negotiate_format,
    not_modified,
    stand_in_for,
    validator_headers,
)
from pixeldrive.http.signed_urls import signed_cache_control
from pixeldrive.service.pipeline import Order

NAME_RE = re.compile(r"(?P<key>[0-9a-f]{32})(?:\.(?P<ext>[a-z]{3,4}))?")


def parse_name(request: web.Request, name: str) -> tuple[str, ImageFormat, bool]:
    """(key, format, negotiated) of `KEY` or `KEY.EXT`; NotFound for anything else."""
    match = NAME_RE.fullmatch(name)
    if match is None:
        raise NotFound(
            "no image by that name: a key is 32 hex digits, then .png/.jpg/.webp/.avif/.pdf/.svg"
        )
    key, ext = match.groups()
    if ext is None:
        return key, negotiate_format(request), True
    fmt = BY_EXT.get(ext)
    if fmt is None:
        raise NotFound(f"no format with extension .{ext}; use {EXTENSIONS}")
    return key, fmt, False


async def get_image(request: web.Request) -> web.StreamResponse:
    """An image by key, for an `Authorization` header or, as a render's `public_url`,
    for the kid, exp and sig in its query."""
    key, fmt, negotiated = parse_name(request, request.match_info["name"])
    pipeline, principal = request.app[SERVICES].pipeline, request[PRINCIPAL]
    # Caches may keep a signed URL's answer only until the signature expires.
    signed = principal.via == "signed-url"
    cache_control = signed_cache_control(request) + ", immutable" if signed else IMMUTABLE
    cache_control = for_caller(request, cache_control)
    data = pipeline.peek(principal, key, fmt)
    if data is None:
        stand_in = stand_in_for(request, fmt) if negotiated else None
        rendered = await pipeline.image(Order(principal, fmt, key=key, stand_in=stand_in))
        return image_response(request, rendered, negotiated=negotiated, cache_control=cache_control)
    # The hot path: a memory hit is answered without touching anything else, with headers
    # built once per variant (a signed URL's max-age counts down, so it is set on a copy).
    headers: Mapping[str, str] = hit_headers(
        key, fmt.ext, negotiated, IMMUTABLE if signed else cache_control
    )
    if signed:
        headers = CIMultiDict(headers)
        headers["Cache-Control"] = cache_control
    if not_modified(request, headers["ETag"]):
        validators = validator_headers(key, fmt, negotiated=negotiated, cache_control=cache_control)
        return web.Response(status=304, headers=validators)
    return web.Response(body=data, headers=headers)

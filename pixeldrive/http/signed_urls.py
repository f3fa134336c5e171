"""Signed URLs: GET /v1/t/{template}[.{ext}]?fields…&kid&exp&sig renders on the fly for
<img> tags, authorised by the signature in its query (SPEC §9); POST /v1/sign makes such a
URL on the server, so a browser (the playground) never holds a key's signing secret."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from pixeldrive.auth import url_signature
from pixeldrive.core.errors import (
    BadRequest,
    Conflict,
    FieldProblem,
    Forbidden,
    InvalidInput,
    Unauthorized,
)
from pixeldrive.core.formats import BY_EXT, EXTENSIONS, FORMATS, ImageFormat
from pixeldrive.http.api_models import SignedUrl, SignRequest
from pixeldrive.http.app_keys import PRINCIPAL, SERVICES, SETTINGS
from pixeldrive.http.bodies import read_json
from pixeldrive.http.respond import image_response, negotiate_format, stand_in_for
from pixeldrive.service.pipeline import Order
from pixeldrive.service.render_request import PublicTtl, RenderRequest

RESERVED = url_signature.RESERVED
# Render options ride in the query beside the fields; field names cannot start with "_".
OPTIONS = {"_width": "width", "_height": "height", "_scale": "scale", "_quality": "quality"}


async def signed_render(request: web.Request) -> web.StreamResponse:
    template_id, dot, ext = request.match_info["name"].partition(".")
    fmt = _format(request, ext if dot else None)
    query = ((name, value) for name, value in request.query.items() if name not in RESERVED)
    order = Order(request[PRINCIPAL], fmt, _as_request(template_id, query), text_fields=True)
    order.stand_in = None if dot else stand_in_for(request, fmt)
    rendered = await request.app[SERVICES].pipeline.render(order)
    response = image_response(
        request, rendered, negotiated=not dot, cache_control=signed_cache_control(request)
    )
    response.headers["Content-Location"] = f"/v1/images/{rendered.key}.{rendered.format.ext}"
    return response


def signed_cache_control(request: web.Request) -> str:
    """Shared caches may keep a verified signed URL's answer until the signature expires,
    and no longer than `access.signed_url_max_age`: a revoked key's URLs leave them within
    it."""
    max_age = min(
        int(request.query[url_signature.EXP]) - int(time.time()),
        request.app[SETTINGS].access.signed_url_max_age,
    )
    return f"public, max-age={max(0, max_age)}"


async def public_url(request: web.Request, path: str, ttl: PublicTtl) -> tuple[str, int | None]:
    """`path` as a URL that needs no header, and when it expires (None: never). Signed
    with the caller's key (its kid) for `ttl` seconds, `access.public_url_ttl` unless
    given, "none" for no end; never longer than the token it was asked with. With
    authentication off, the path itself. Prefixed with `access.public_origin` if set."""
    access = request.app[SETTINGS].access
    origin = access.public_origin or ""
    principal = request[PRINCIPAL]
    if principal.via == "anonymous":
        return origin + path, None
    record = await request.app[SERVICES].authenticator.active(principal.key_id)
    if record is None:
        raise Unauthorized("the API key has been revoked", slug="revoked-key")
    wanted = access.public_url_ttl if ttl is None else ttl
    expires_at = url_signature.NEVER if wanted == "none" else int(time.time()) + wanted
    if principal.expires_at is not None:  # a token's URLs end with it
        expires_at = min(expires_at, principal.expires_at)
    url = url_signature.sign_url(
        path, (), kid=record.id, secret=record.signing_secret, expires_at=expires_at
    )
    return origin + url, None if expires_at == url_signature.NEVER else expires_at


def _as_request(template: str, query: Iterable[tuple[str, str]]) -> RenderRequest:
    """What a signed URL's query (but kid, exp and sig) asks for: its fields as text and
    its render options. A name given twice is a 400; a bad render option a 422 naming it
    (as `_width`, say)."""
    fields: dict[str, str] = {}
    options: dict[str, Any] = {}
    for name, value in query:
        target, key = (options, OPTIONS[name]) if name in OPTIONS else (fields, name)
        if key in target:
            raise BadRequest(f"the query names {name!r} twice")
        target[key] = value
    try:
        return RenderRequest(template=template, fields=fields, **options)
    except ValidationError as exc:
        problems = tuple(
            FieldProblem("_" + ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()
        )
        raise InvalidInput("the URL's render options are invalid", errors=problems) from exc


def _format(request: web.Request, ext: str | None) -> ImageFormat:
    if ext is None:
        return negotiate_format(request)
    if ext not in BY_EXT:
        raise BadRequest(f"no format with extension .{ext}; use {EXTENSIONS}")
    return BY_EXT[ext]


def signed_query(body: SignRequest) -> list[tuple[str, str]]:
    """The URL's query before kid/exp/sig: the fields as text, then the render options."""
    text = url_signature.as_text
    pairs = [(name, text(value)) for name, value in body.fields.items()]
    options = body.sizing()
    pairs += [(name, text(options[o])) for name, o in OPTIONS.items() if o in options]
    return pairs


async def sign(request: web.Request) -> web.Response:
    """Sign a GET /v1/t/ URL with the calling API key's signing secret. Only API keys may
    sign (a signed URL is verified against the key's own scopes, which may be wider than a
    token's): tokens get 403; with authentication off there are no keys, so 409."""
    principal = request[PRINCIPAL]
    if principal.via == "anonymous":
        raise Conflict(
            "signing needs API keys: this server runs with authentication off "
            "(server.auth = 'off'); turn it on and sign with a key",
            slug="signing-needs-keys",
        )
    if principal.via != "key":
        raise Forbidden(
            "only an API key may sign URLs: a signed URL carries the key's own scopes, "
            "which may be wider than this token's",
            slug="signing-needs-a-key",
        )
    body = await read_json(request, SignRequest)
    record = await request.app[SERVICES].authenticator.active(principal.key_id)
    if record is None:
        raise Unauthorized("the API key has been revoked", slug="revoked-key")
    # Checked now exactly as GET /v1/t/ will check it (fields as text, coerced), so the URL
    # handed out works: a 422 here names the field instead of a broken <img> later.
    query = signed_query(body)
    fmt = FORMATS[body.format] if body.format is not None else None
    order = Order(principal, fmt, _as_request(body.template, query), text_fields=True)
    await request.app[SERVICES].pipeline.check(order)
    path = f"/v1/t/{body.template}" + (f".{fmt.ext}" if fmt else "")
    expires_at = int(time.time()) + body.ttl
    try:
        url = url_signature.sign_url(
            path, query, kid=record.id, secret=record.signing_secret, expires_at=expires_at
        )
    except ValueError as exc:  # a field named kid, exp or sig
        raise InvalidInput(str(exc), errors=(FieldProblem("fields", str(exc)),)) from exc
    signed = SignedUrl(url=url, expires_at=expires_at)
    return web.json_response(signed.model_dump(), status=201)

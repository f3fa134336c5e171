"""GET /v1/t/{template}[.{ext}]?fields…&kid&exp&sig: on-the-fly renders for <img> tags,
authorised by an HMAC signature instead of a header (SPEC §9)."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from pixeldrive import signing
from pixeldrive.auth.keys import scopes_of
from pixeldrive.auth.principal import Principal
from pixeldrive.errors import BadRequest, FieldProblem, Forbidden, InvalidInput, Unauthorized
from pixeldrive.http.auth import public
from pixeldrive.http.keys import AUTH, SERVICE, SETTINGS, TEMPLATES
from pixeldrive.http.respond import image_response, negotiate_format
from pixeldrive.models import RenderRequest
from pixeldrive.render.formats import BY_EXT, ImageFormat
from pixeldrive.storage.keys import KeyRecord
from pixeldrive.templates.coerce import coerce

RESERVED = ("kid", "exp", "sig")
# Render options ride in the query beside the fields; field names cannot start with "_".
OPTIONS = {"_width": "width", "_height": "height", "_scale": "scale", "_quality": "quality"}
SIGNATURE_PROBLEMS: dict[type[signing.SignatureError], tuple[int, str, str]] = {
    signing.Unsigned: (
        401,
        "signature-missing",
        "this URL is not signed: it needs kid, exp and sig",
    ),
    signing.Malformed: (403, "signature-malformed", "the URL's kid, exp or sig is malformed"),
    signing.UnknownKey: (
        403,
        "signature-unknown-key",
        "the URL is signed with an unknown or revoked key",
    ),
    signing.Tampered: (
        403,
        "signature-tampered",
        "the signature does not match: the URL was altered",
    ),
    signing.Expired: (403, "signature-expired", "the signed URL has expired"),
}


async def _verified_key(request: web.Request) -> KeyRecord:
    kid = request.query.get("kid", "")
    record = await request.app[AUTH].active(kid) if kid else None

    def secret_for(key_id: str) -> str | None:
        return record.signing_secret if record is not None and key_id == record.id else None

    try:
        signing.verify(request.rel_url.raw_path, list(request.query.items()), secret_for)
    except signing.SignatureError as exc:
        status, slug, detail = SIGNATURE_PROBLEMS[type(exc)]
        if isinstance(exc, signing.Malformed):
            detail = f"{detail}: {exc}"  # says which of them, and how
        error = Unauthorized if status == 401 else Forbidden
        raise error(detail, slug=slug) from exc
    assert record is not None  # verify() found its secret
    return record


def _render_request(request: web.Request, template_id: str) -> RenderRequest:
    fields: dict[str, str] = {}
    options: dict[str, Any] = {}
    for name, value in request.query.items():
        if name in RESERVED:
            continue
        target = options if name in OPTIONS else fields
        key = OPTIONS.get(name, name)
        if key in target:
            raise BadRequest(f"the query names {name!r} twice")
        target[key] = value
    template = request.app[TEMPLATES].get(template_id)
    try:
        return RenderRequest(template=template_id, fields=coerce(template, fields), **options)
    except ValidationError as exc:
        problems = tuple(
            FieldProblem("_" + ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()
        )
        raise InvalidInput("the URL's render options are invalid", errors=problems) from exc


def _format(request: web.Request, ext: str | None) -> ImageFormat:
    if ext is None:
        return negotiate_format(request, request.app[SETTINGS].encode.preference)
    if ext not in BY_EXT:
        raise BadRequest(f"no format with extension .{ext}; use png, jpg, webp, avif, pdf or svg")
    return BY_EXT[ext]


@public
async def signed_render(request: web.Request) -> web.StreamResponse:
    template_id, dot, ext = request.match_info["name"].partition(".")
    record = await _verified_key(request)
    principal = Principal(record.id, scopes_of(record), "signed-url", quota=record.quota)
    fmt = _format(request, ext if dot else None)
    body = _render_request(request, template_id)
    service = request.app[SERVICE]
    key, spec = await service.prepare_for(principal, body, fmt)
    rendered = await service.render(key, spec, fmt, principal)
    # Shared caches may keep it until the signature expires (bounded by the setting).
    max_age = min(
        int(request.query["exp"]) - int(time.time()),
        request.app[SETTINGS].access.signed_url_max_age,
    )
    response = image_response(
        request, rendered, negotiated=not dot, cache_control=f"public, max-age={max(0, max_age)}"
    )
    response.headers["Content-Location"] = f"/v1/images/{key}.{fmt.ext}"
    return response

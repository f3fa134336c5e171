"""POST /v1/sign: a signed GET /v1/t/ URL made on the server, so a browser (the playground)
can hand out <img>-ready URLs without ever holding the key's signing secret."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from pixeldrive import signing
from pixeldrive.errors import Conflict, FieldProblem, Forbidden, InvalidInput, Unauthorized
from pixeldrive.http.bodies import read_json
from pixeldrive.http.keys import AUTH, PRINCIPAL, SERVICE
from pixeldrive.http.signed import OPTIONS
from pixeldrive.models import RenderRequest, SignedUrl, SignRequest
from pixeldrive.render.formats import FORMATS
from pixeldrive.templates.coerce import coerce


def _text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def signed_query(body: SignRequest) -> list[tuple[str, str]]:
    """The URL's query before kid/exp/sig: the fields as text, then the render options."""
    pairs = [(name, _text(value)) for name, value in body.fields.items()]
    options: dict[str, Any] = body.model_dump(include={"width", "height", "scale", "quality"})
    pairs += [
        (name, _text(options[option]))
        for name, option in OPTIONS.items()
        if options[option] is not None
    ]
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
    fmt = FORMATS[body.format] if body.format is not None else None
    principal.require("render", template=body.template, format=fmt.name if fmt else None)
    record = await request.app[AUTH].active(principal.key_id)
    if record is None:
        raise Unauthorized("the API key has been revoked", slug="revoked-key")
    # Validate now, exactly as GET /v1/t/ will (fields as text, coerced), so the URL
    # handed out works: a 422 here names the field instead of a broken <img> later.
    service = request.app[SERVICE]
    query = signed_query(body)
    template = service.templates.get(body.template)
    options = {OPTIONS[n]: v for n, v in query if n in OPTIONS}
    fields = coerce(template, {n: v for n, v in query if n not in OPTIONS})
    _key, spec = service.prepare(RenderRequest(template=template.id, fields=fields, **options))
    principal.require("render", pixels=spec.width * spec.height)
    path = f"/v1/t/{template.id}" + (f".{fmt.ext}" if fmt else "")
    expires_at = int(time.time()) + body.ttl
    try:
        url = signing.sign_url(
            path, query, kid=record.id, secret=record.signing_secret, expires_at=expires_at
        )
    except ValueError as exc:  # a field named kid, exp or sig
        raise InvalidInput(str(exc), errors=(FieldProblem("fields", str(exc)),)) from exc
    signed = SignedUrl(url=url, expires_at=expires_at)
    return web.json_response(signed.model_dump(), status=201)

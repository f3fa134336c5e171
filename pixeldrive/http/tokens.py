"""POST /v1/tokens: a short-lived token whose scopes narrow the caller's."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.auth.scopes import WideningError
from pixeldrive.errors import FieldProblem, Forbidden, InvalidInput
from pixeldrive.http.bodies import read_json
from pixeldrive.http.keys import AUTH, PRINCIPAL
from pixeldrive.models import TokenCreated, TokenRequest


async def create_token(request: web.Request) -> web.Response:
    principal = request[PRINCIPAL]
    principal.require("tokens")
    body = await read_json(request, TokenRequest)
    try:
        scopes = principal.scopes.narrow(body.scopes)
    except WideningError as exc:
        raise Forbidden(
            f"a token can only narrow its creator's scopes: {exc}", slug="scope-widening"
        ) from exc
    issuer = request.app[AUTH].issuer
    try:
        token, expires_at = issuer.mint(
            principal.key_id, scopes, body.ttl, parent_expires_at=principal.expires_at
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=(FieldProblem("ttl", str(exc)),)) from exc
    created = TokenCreated(token=token, expires_at=expires_at, scopes=scopes)
    return web.json_response(created.model_dump(mode="json"), status=201)

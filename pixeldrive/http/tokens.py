"""POST /v1/tokens: a short-lived token whose scopes narrow the caller's."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.auth.tokens import mint_for
from pixeldrive.http.api_models import TokenCreated, TokenRequest
from pixeldrive.http.app_keys import PRINCIPAL, SERVICES
from pixeldrive.http.bodies import read_json


async def create_token(request: web.Request) -> web.Response:
    body = await read_json(request, TokenRequest)
    issuer = request.app[SERVICES].authenticator.issuer
    token, expires_at, scopes = mint_for(issuer, request[PRINCIPAL], body.scopes, body.ttl)
    created = TokenCreated(token=token, expires_at=expires_at, scopes=scopes)
    return web.json_response(created.model_dump(mode="json"), status=201)

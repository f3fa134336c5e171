"""Access control in one middleware: what each route needs is declared in the route table
(`Endpoint.access`, `operation`, `template_param`), so no handler checks it itself."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from pixeldrive.auth.principal import LOCAL
from pixeldrive.auth.url_signature import RESERVED
from pixeldrive.core.errors import Forbidden
from pixeldrive.http.app_keys import PRINCIPAL, ROUTES, SERVICES, SETTINGS


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Sets request[PRINCIPAL], authorised for the route's operation (and the template its
    path names; a route that renders is authorised by the pipeline), or answers 401/403
    naming what is missing or wrong."""
    app = request.app
    endpoint = app[ROUTES].get(request.match_info.route)
    if endpoint is None or endpoint.access == "public":  # or no route: 404 and 405
        return await handler(request)
    authenticator = app[SERVICES].authenticator
    if endpoint.access == "signed-url" or (
        endpoint.access == "credential-or-signed-url" and _signed(request)
    ):
        query = list(request.query.items())
        principal = await authenticator.signed_url(request.rel_url.raw_path, query)
    elif app[SETTINGS].server.auth == "off":
        principal = LOCAL
    else:
        principal = await authenticator.principal(request.headers.get("Authorization"))
    if endpoint.admin and not principal.is_admin:
        raise Forbidden(
            "this needs an admin key (one whose scopes allow everything: "
            "pixeldrive keys create --admin)",
            slug="scope",
        )
    if endpoint.operation is not None and not endpoint.renders:
        param = endpoint.template_param
        principal.require(endpoint.operation, template=request.match_info[param] if param else None)
    request[PRINCIPAL] = principal
    return await handler(request)


def _signed(request: web.Request) -> bool:
    """The query carries a signature (or part of one, which is then refused as such): it
    decides, whatever the headers say, so a URL handed out works the same for everyone."""
    return bool(request.query_string) and any(name in request.query for name in RESERVED)

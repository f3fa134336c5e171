"""The application factory: the HTTP app on the running parts that `wiring` opens."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from pixeldrive.core.config import Settings
from pixeldrive.core.formats import FORMATS
from pixeldrive.http.access import access_middleware
from pixeldrive.http.app_keys import METRICS, SERVICES, SETTINGS
from pixeldrive.http.metrics import metrics_middleware
from pixeldrive.http.openapi import OPENAPI, ServedDocument
from pixeldrive.http.problems import problems_middleware
from pixeldrive.http.routes import ENDPOINTS, add_routes
from pixeldrive.observe.metrics import Metrics
from pixeldrive.wiring import open_services


async def _services(app: web.Application) -> AsyncIterator[None]:
    """Every part open while the app runs."""
    async with open_services(app[SETTINGS], metrics=app[METRICS]) as services:
        app[SERVICES] = services
        yield


def create_app(settings: Settings) -> web.Application:
    """The aiohttp application for `settings`; its parts open when it starts."""
    # Outermost first: metrics counts what problems_middleware answers (errors included);
    # problems_middleware sets the request id before anything logs and turns every
    # failure, authentication's too, into a problem document.
    app = web.Application(
        middlewares=[metrics_middleware, problems_middleware, access_middleware],
        client_max_size=settings.server.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics(formats=FORMATS)
    app[OPENAPI] = ServedDocument(ENDPOINTS)
    app.cleanup_ctx.append(_services)
    add_routes(app)
    return app

"""Typed keys for what the application holds: its settings and metrics from the start,
and the running parts (`wiring.Services`) once they are open."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from pixeldrive.auth.principal import Principal
from pixeldrive.core.config import Settings
from pixeldrive.http.endpoints import Endpoint
from pixeldrive.observe.metrics import Metrics
from pixeldrive.wiring import Services

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
ROUTES = web.AppKey("routes", dict[AbstractRoute, Endpoint])  # what each route needs
SERVICES = web.AppKey("services", Services)
PRINCIPAL = web.RequestKey("principal", Principal)

"""Typed keys for the shared objects the application holds."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.auth.authenticate import Authenticator
from pixeldrive.auth.metering import Meter
from pixeldrive.auth.principal import Principal
from pixeldrive.config import Settings
from pixeldrive.observe.metrics import Metrics
from pixeldrive.render.pool import RenderPool
from pixeldrive.service import RenderService
from pixeldrive.storage.sqlite import Database
from pixeldrive.templates.store import TemplateStore
from pixeldrive.uploads import TemplateUploads

SETTINGS = web.AppKey("settings", Settings)
TEMPLATES = web.AppKey("templates", TemplateStore)
DATABASE = web.AppKey("database", Database)
POOL = web.AppKey("pool", RenderPool)
METER = web.AppKey("meter", Meter)
AUTH = web.AppKey("authenticator", Authenticator)
SERVICE = web.AppKey("service", RenderService)
UPLOADS = web.AppKey("uploads", TemplateUploads)
METRICS = web.AppKey("metrics", Metrics)
PRINCIPAL = web.RequestKey("principal", Principal)

"""Typed keys for the shared objects the application holds."""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute

from pixeldrive.auth.authenticate import Authenticator
from pixeldrive.auth.metering import Meter
from pixeldrive.auth.principal import Principal
from pixeldrive.core.config import Settings
from pixeldrive.http.endpoints import Endpoint
from pixeldrive.observe.metrics import Metrics
from pixeldrive.render.pool import RenderPool
from pixeldrive.service.batches import BatchSubmitter
from pixeldrive.service.pipeline import RenderPipeline
from pixeldrive.service.uploads import TemplateUploads
from pixeldrive.storage.database import Database
from pixeldrive.storage.redis_link import RedisLink
from pixeldrive.templates.store import TemplateStore

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
ROUTES = web.AppKey("routes", dict[AbstractRoute, Endpoint])  # what each route needs
TEMPLATES = web.AppKey("templates", TemplateStore)
DATABASE = web.AppKey("database", Database)
POOL = web.AppKey("pool", RenderPool)
METER = web.AppKey("meter", Meter)
AUTH = web.AppKey("authenticator", Authenticator)
PIPELINE = web.AppKey("pipeline", RenderPipeline)
UPLOADS = web.AppKey("uploads", TemplateUploads)
BATCHES = web.AppKey("batches", BatchSubmitter)
REDIS = web.AppKey("redis", RedisLink)  # set in cluster mode only
PRINCIPAL = web.RequestKey("principal", Principal)

"""Typed keys for the shared objects the application holds."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.auth.authenticate import Authenticator
from pixeldrive.auth.metering import Meter
from pixeldrive.auth.principal import Principal
from pixeldrive.batch.queue import BatchQueue
from pixeldrive.config import Settings
from pixeldrive.observe.metrics import Metrics
from pixeldrive.redis_link import RedisLink
from pixeldrive.render.pool import RenderPool
from pixeldrive.service import RenderService
from pixeldrive.storage.database import Database
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
BATCHES = web.AppKey("batches", BatchQueue)
REDIS = web.AppKey("redis", RedisLink)  # set in cluster mode only
PRINCIPAL = web.RequestKey("principal", Principal)

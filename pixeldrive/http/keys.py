"""Typed keys for the shared objects the application holds."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.config import Settings
from pixeldrive.render.pool import RenderPool
from pixeldrive.service import RenderService
from pixeldrive.storage.specs import SpecStore
from pixeldrive.templates.store import TemplateStore

SETTINGS = web.AppKey("settings", Settings)
TEMPLATES = web.AppKey("templates", TemplateStore)
SPECS = web.AppKey("specs", SpecStore)
POOL = web.AppKey("pool", RenderPool)
SERVICE = web.AppKey("service", RenderService)

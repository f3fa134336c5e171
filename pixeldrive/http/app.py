"""The application factory: the single place where PixelDrive is wired together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from pixeldrive.config import Settings
from pixeldrive.factory import (
    build_cache,
    build_disk,
    build_pool,
    build_specs,
    build_templates,
    encode_options,
)
from pixeldrive.http import health, images, renders, templates
from pixeldrive.http.keys import POOL, SERVICE, SETTINGS, SPECS, TEMPLATES
from pixeldrive.http.problems import problems_middleware
from pixeldrive.render.fingerprint import renderer_fingerprint
from pixeldrive.service import RenderService


async def _resources(app: web.Application) -> AsyncIterator[None]:
    """Open every resource in order and close them in reverse, whatever happens."""
    settings = app[SETTINGS]
    store = app[TEMPLATES] = build_templates(settings)
    await store.refresh()
    specs = build_specs(settings)
    await specs.open()
    app[SPECS] = specs
    disk = build_disk(settings)
    await disk.open()
    cache = build_cache(settings, disk)
    fingerprint = await asyncio.to_thread(
        renderer_fingerprint, settings.render.fontconfig_file, encode_options(settings)
    )
    pool = app[POOL] = build_pool(settings)
    watcher: asyncio.Task[None] | None = None
    try:
        await pool.start()
        app[SERVICE] = RenderService(
            store, cache, specs, pool, fingerprint=fingerprint, limits=settings.render
        )
        if settings.templates_poll_seconds > 0:
            watcher = asyncio.create_task(store.watch(settings.templates_poll_seconds))
        yield
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await pool.close()
        await cache.drain()
        await specs.close()


def create_app(settings: Settings) -> web.Application:
    """The aiohttp application for `settings`; resources open when it starts."""
    app = web.Application(
        middlewares=[problems_middleware], client_max_size=settings.server.max_body_bytes
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_resources)
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/v1/templates", templates.list_templates)
    app.router.add_get("/v1/templates/{id}", templates.get_template)
    app.router.add_get("/v1/templates/{id}/preview", templates.preview)
    app.router.add_post("/v1/renders", renders.create_render)
    app.router.add_get("/v1/images/{name}", images.get_image)
    return app

"""The application factory: the single place where PixelDrive is wired together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from pixeldrive.auth.authenticate import Authenticator
from pixeldrive.auth.metering import Meter
from pixeldrive.config import Settings
from pixeldrive.factory import (
    build_cache,
    build_database,
    build_disk,
    build_issuer,
    build_pool,
    build_templates,
    encode_options,
)
from pixeldrive.http.auth import auth_middleware
from pixeldrive.http.keys import (
    AUTH,
    DATABASE,
    METER,
    METRICS,
    POOL,
    SERVICE,
    SETTINGS,
    TEMPLATES,
    UPLOADS,
)
from pixeldrive.http.metrics import metrics_middleware
from pixeldrive.http.problems import problems_middleware
from pixeldrive.http.routes import add_routes
from pixeldrive.images.fetch import ImageFetcher
from pixeldrive.observe.metrics import MeteredPool, Metrics
from pixeldrive.render.fingerprint import renderer_fingerprint
from pixeldrive.render.formats import FORMATS
from pixeldrive.service import RenderService
from pixeldrive.storage.specs import SQLiteSpecStore
from pixeldrive.uploads import TemplateUploads


async def _resources(app: web.Application) -> AsyncIterator[None]:
    """Open every resource in order; the exit stack closes them in reverse, whatever
    happens (pool first, so no render is left writing to a closed cache or ledger)."""
    settings, metrics = app[SETTINGS], app[METRICS]
    async with contextlib.AsyncExitStack() as stack:
        store = app[TEMPLATES] = build_templates(settings)
        await store.refresh()
        db = app[DATABASE] = build_database(settings)
        await db.open()
        stack.push_async_callback(db.close)
        meter = app[METER] = Meter(db, flush_seconds=settings.access.hits_flush_seconds)
        await meter.start()
        stack.push_async_callback(meter.close)
        issuer = await asyncio.to_thread(build_issuer, settings)
        app[AUTH] = Authenticator(db, issuer, cache_seconds=settings.access.key_cache_seconds)
        disk = build_disk(settings)
        await disk.open()
        cache = build_cache(settings, disk, on_lookup=metrics.cache_lookup)
        stack.push_async_callback(cache.drain)
        fingerprint = await asyncio.to_thread(
            renderer_fingerprint, settings.render.fontconfig_file, encode_options(settings)
        )
        images = ImageFetcher(settings.images)
        await images.open()
        stack.push_async_callback(images.close)
        pool = app[POOL] = build_pool(settings)
        stack.push_async_callback(pool.close)
        await pool.start()
        metrics.watch(pool, cache)
        renderer = MeteredPool(pool, metrics)
        app[SERVICE] = RenderService(
            store,
            cache,
            SQLiteSpecStore(db),
            renderer,
            meter,
            fingerprint=fingerprint,
            limits=settings.render,
            images=images,
        )
        app[UPLOADS] = TemplateUploads(
            store,
            renderer,
            fontconfig_file=settings.render.fontconfig_file,
            max_image_bytes=settings.render.max_data_uri_bytes,
            max_side=settings.render.max_side,
        )
        if settings.templates_poll_seconds > 0:
            watcher = asyncio.create_task(store.watch(settings.templates_poll_seconds))
            stack.push_async_callback(_cancel, watcher)
        yield


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings) -> web.Application:
    """The aiohttp application for `settings`; resources open when it starts."""
    # Outermost first: metrics counts what problems_middleware answers (errors included);
    # problems_middleware sets the request id before anything logs and turns every
    # failure, authentication's too, into a problem document.
    app = web.Application(
        middlewares=[metrics_middleware, problems_middleware, auth_middleware],
        client_max_size=settings.server.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics(formats=FORMATS)
    app.cleanup_ctx.append(_resources)
    add_routes(app)
    return app

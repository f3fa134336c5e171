"""The application factory: the single place where PixelDrive is wired together."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from pixeldrive.auth.authenticate import Authenticator
from pixeldrive.batch.runner import BatchRunner
from pixeldrive.config import Settings
from pixeldrive.factory import (
    build_accounts,
    build_batch_queue,
    build_cache,
    build_cluster_flight,
    build_database,
    build_disk,
    build_issuer,
    build_meter,
    build_pool,
    build_redis,
    build_shared_tier,
    build_specs,
    build_templates,
    encode_options,
)
from pixeldrive.http.auth import auth_middleware
from pixeldrive.http.keys import (
    AUTH,
    BATCHES,
    DATABASE,
    METER,
    METRICS,
    POOL,
    REDIS,
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
        db = build_database(settings)  # the node's SQLite file
        await db.open()
        stack.push_async_callback(db.close)
        accounts = app[DATABASE] = build_accounts(settings, db)  # keys and the ledger
        if accounts is not db:  # cluster mode: PostgreSQL, reachable at start
            await accounts.open()
            stack.push_async_callback(accounts.close)
        meter = app[METER] = build_meter(settings, accounts, db)
        await meter.start()
        stack.push_async_callback(meter.close)
        issuer = await asyncio.to_thread(build_issuer, settings)
        app[AUTH] = Authenticator(accounts, issuer, cache_seconds=settings.access.key_cache_seconds)
        link = build_redis(settings)
        if link is not None:  # cluster mode: a Redis that is down now is retried
            app[REDIS] = link
            await link.open()
            stack.push_async_callback(link.close)
        shared = build_shared_tier(settings, link) if link is not None else None
        disk = build_disk(settings)
        await disk.open()
        cache = build_cache(settings, disk, on_lookup=metrics.cache_lookup, shared=shared)
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
            build_specs(SQLiteSpecStore(db), link),
            renderer,
            meter,
            fingerprint=fingerprint,
            limits=settings.render,
            images=images,
            cluster=build_cluster_flight(settings, link, shared) if link and shared else None,
        )
        app[UPLOADS] = TemplateUploads(
            store,
            renderer,
            fontconfig_file=settings.render.fontconfig_file,
            max_image_bytes=settings.render.max_data_uri_bytes,
            max_side=settings.render.max_side,
        )
        queue = app[BATCHES] = build_batch_queue(settings, link)
        runner = BatchRunner(
            queue,
            app[SERVICE],
            concurrency=settings.batch.concurrency or settings.render.worker_count,
            retry_seconds=settings.batch.retry_seconds,
        )
        await runner.start()
        stack.push_async_callback(runner.close)
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

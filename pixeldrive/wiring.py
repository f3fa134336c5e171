"""The wiring: settings in, the running parts out. `open_services` opens everything a
render needs, in order, and closes it in reverse; the HTTP app and the command line both
run on it, so they render through the same pipeline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pixeldrive.auth.authenticate import Authenticator
from pixeldrive.auth.metering import Meter
from pixeldrive.auth.tokens import SigningKeys, TokenIssuer
from pixeldrive.batch.queue import Batch, BatchQueue
from pixeldrive.batch.redis_queue import RedisQueue
from pixeldrive.batch.runner import BatchRunner
from pixeldrive.batch.sqlite_queue import SQLiteQueue
from pixeldrive.cache.cluster_flight import ClusterFlight
from pixeldrive.cache.disk import DiskTier
from pixeldrive.cache.memory import MemoryTier
from pixeldrive.cache.redis_tier import RedisTier
from pixeldrive.cache.tier import CacheTier
from pixeldrive.cache.tiered import TieredCache
from pixeldrive.core.config import Settings
from pixeldrive.core.errors import Unauthorized
from pixeldrive.observe.metrics import MeteredPool, Metrics
from pixeldrive.remote_images.fetch import ImageFetcher
from pixeldrive.render.fingerprint import renderer_fingerprint
from pixeldrive.render.job import EncodeOptions, RenderOutput, WorkerConfig
from pixeldrive.render.pool import PoolLimits, RenderPool
from pixeldrive.service.batches import BatchSubmitter
from pixeldrive.service.cluster import ClusterView
from pixeldrive.service.fonts import FontCatalog, FontUploads
from pixeldrive.service.pipeline import Renderer, RenderPipeline
from pixeldrive.service.shared_templates import SharedTemplates
from pixeldrive.service.uploads import TemplateUploads
from pixeldrive.storage.database import Database
from pixeldrive.storage.private_files import secure_state_dir
from pixeldrive.storage.redis_link import RedisLink
from pixeldrive.storage.redis_specs import RedisSpecStore
from pixeldrive.storage.sealed_secrets import SecretBox, key_source, open_box
from pixeldrive.storage.specs import SpecStore, SQLiteSpecStore
from pixeldrive.storage.sqlite import SQLiteDatabase
from pixeldrive.templates.store import TemplateStore

# In cluster mode a key's monthly render count is re-read this often (other nodes render
# on the same ledger): a quota holds across nodes to within what they draw in this time.
QUOTA_RECOUNT_SECONDS = 2.0
CLUSTER_TOKEN_KID = "cluster-1"  # noqa: S105 (a key id, not a secret)
HEARTBEAT_SECONDS = 5.0  # a node's report lives 60 s (service/cluster.py)


def encode_options(settings: Settings) -> EncodeOptions:
    # Not the encoders': which format answers, never the bytes of one.
    negotiation = {"preference", "default_format", "fallback_format", "fast_first"}
    return EncodeOptions(**settings.encode.model_dump(exclude=negotiation))


def worker_config(settings: Settings) -> WorkerConfig:
    r = settings.render
    return WorkerConfig(
        fontconfig_file=str(r.fontconfig_file),
        encode=encode_options(settings),
        max_data_uri_bytes=r.max_data_uri_bytes,
        max_image_pixels=r.max_image_pixels,
        nice=r.worker_nice,
        missing_glyphs=r.missing_glyphs,
        fallback_fonts=r.fallback_fonts,
        han_language=r.han_language,
        backdrop_bytes=r.backdrop_bytes,
        glyph_bytes=r.glyph_cache_bytes,
    )


@dataclass(frozen=True, slots=True)
class Services:
    """The running parts, open: what the HTTP app holds (under one key), and what the
    command line renders with."""

    templates: TemplateStore
    accounts: Database  # keys and the usage ledger
    meter: Meter
    authenticator: Authenticator
    pool: RenderPool
    pipeline: RenderPipeline
    uploads: TemplateUploads
    batches: BatchSubmitter
    redis: RedisLink | None
    fonts: FontUploads
    cluster: ClusterView
    batch_runner: BatchRunner | None  # a server's; None for the command line


@dataclass(frozen=True, slots=True)
class _Stores:
    local: SQLiteDatabase  # the node's SQLite file: specs, and the ledger's spool
    accounts: Database  # keys and the usage ledger: PostgreSQL in cluster mode, else local
    meter: Meter
    redis: RedisLink | None


async def _open_stores(settings: Settings, stack: contextlib.AsyncExitStack) -> _Stores:
    """The databases, the meter on the ledger and (cluster mode) the Redis link. A
    PostgreSQL that is down now stops the start; a Redis that is down is retried."""
    local = SQLiteDatabase(settings.database_path)
    await local.open()
    stack.push_async_callback(local.close)
    accounts: Database = local
    if settings.database_url:
        from pixeldrive.storage.postgres import PostgresDatabase  # psycopg: cluster mode

        accounts = PostgresDatabase(settings.database_url)
        await accounts.open()
        stack.push_async_callback(accounts.close)
    cluster = accounts is not local
    meter = Meter(
        accounts,
        spool=local if cluster else None,  # ledger rows PostgreSQL cannot take, kept here
        flush_seconds=settings.access.hits_flush_seconds,
        recount_seconds=QUOTA_RECOUNT_SECONDS if cluster else None,
    )
    await meter.start()
    stack.push_async_callback(meter.close)
    link = None
    if settings.redis_url:
        link = RedisLink(settings.redis_url, timeout=settings.redis.timeout)
        await link.open()
        stack.push_async_callback(link.close)
    return _Stores(local, accounts, meter, link)


async def _open_cache(
    settings: Settings, link: RedisLink | None, metrics: Metrics | None
) -> tuple[TieredCache, RedisTier | None]:
    """Memory → disk → (cluster mode) the shared tier, which it also returns."""
    disk = DiskTier(settings.disk_cache_dir, settings.cache.disk_bytes)
    await disk.open()
    tiers: list[CacheTier] = [MemoryTier(settings.cache.memory_bytes), disk]
    shared = None
    if link is not None:
        r = settings.redis
        shared = RedisTier(link, ttl_seconds=r.image_ttl, max_entry_bytes=r.max_entry_bytes)
        tiers.append(shared)
    on_lookup = metrics.cache_lookup if metrics is not None else None
    return TieredCache(tiers, on_lookup=on_lookup), shared


async def _open_pool(settings: Settings, stack: contextlib.AsyncExitStack) -> RenderPool:
    r = settings.render
    limits = PoolLimits(r.worker_count, r.queue_depth, r.timeout, r.max_tasks_per_worker)
    pool = RenderPool(limits, worker_config(settings))
    stack.push_async_callback(pool.close)
    await pool.start()
    return pool


def _issuer(settings: Settings, box: SecretBox) -> TokenIssuer:
    """Reads (or creates) the token signing secrets: start-up only, off the event loop.
    In cluster mode tokens are signed with a key derived from the sealing key every node
    shares, so a token minted through one node is good on all of them; the node's own
    file still verifies the tokens it signed before."""
    keys = SigningKeys.load_or_create(settings.state_dir / "secrets" / "tokens.json")
    if settings.database_url:
        keys = keys.signing_with(CLUSTER_TOKEN_KID, box.derive("pixeldrive tokens v1"))
    return TokenIssuer(keys, max_ttl=settings.access.token_max_ttl)


def _batch_queue(settings: Settings, stores: _Stores) -> BatchQueue:
    """Redis Streams when Redis is configured (every node works on one stream); else
    the node's own SQLite file, where batches outlive the process."""
    b = settings.batch
    if stores.redis is not None:
        return RedisQueue(stores.redis, claim_timeout=b.claim_timeout, keep_seconds=b.keep_seconds)
    return SQLiteQueue(stores.local, claim_timeout=b.claim_timeout, keep_seconds=b.keep_seconds)


async def _open_pipeline(
    settings: Settings,
    stack: contextlib.AsyncExitStack,
    templates: TemplateStore,
    stores: _Stores,
    metrics: Metrics | None,
    fonts: FontCatalog,
    uploaded: SharedTemplates,
) -> tuple[RenderPool, RenderPipeline]:
    """The cache, the remote-image fetcher and the render pool, under the pipeline."""
    r, link = settings.render, stores.redis
    cache, shared = await _open_cache(settings, link, metrics)
    stack.push_async_callback(cache.drain)
    fingerprint = await asyncio.to_thread(
        renderer_fingerprint, r.fontconfig_file, encode_options(settings)
    )
    images = await stack.enter_async_context(ImageFetcher(settings.images))
    pool = await _open_pool(settings, stack)
    renderer: Renderer = pool
    if metrics is not None:
        metrics.watch(pool, cache)
        renderer = MeteredPool(pool, metrics)
    specs: SpecStore = SQLiteSpecStore(stores.local)
    cluster: ClusterFlight[RenderOutput] | None = None
    if link is not None and shared is not None:  # cluster mode
        specs = RedisSpecStore(link, specs)  # shared, written through to the local copy
        # The lock outlives a render that may finish: a node that dies holding it delays
        # the others by that much at most.
        cluster = ClusterFlight(link, shared, lock_seconds=r.timeout + 2.0)
    pipeline = RenderPipeline(
        templates,
        cache,
        specs,
        renderer,
        stores.meter,
        images,
        fingerprint=fingerprint,
        limits=r,
        cluster=cluster,
        fonts=fonts,
        sources=uploaded,
    )
    return pool, pipeline


async def _serve_batches(
    settings: Settings,
    stack: contextlib.AsyncExitStack,
    queue: BatchQueue,
    pipeline: RenderPipeline,
    authenticator: Authenticator,
) -> BatchRunner:
    async def render_item(batch: Batch, fields: dict[str, Any]) -> dict[str, Any]:
        # A key revoked while its batch waits stops it: each item asks (through the
        # authenticator's short cache) whether the key that submitted it still stands.
        principal = batch.principal
        if principal.via != "anonymous" and await authenticator.active(principal.key_id) is None:
            raise Unauthorized(
                "the API key that submitted this batch has been revoked", slug="revoked-key"
            )
        return await pipeline.render_item(batch, fields)

    runner = BatchRunner(
        queue,
        render_item,
        concurrency=settings.batch.concurrency or settings.render.worker_count,
        retry_seconds=settings.batch.retry_seconds,
    )
    await runner.start()
    stack.push_async_callback(runner.close)  # closes the queue too
    return runner


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, *, metrics: Metrics | None = None, serve: bool = True
) -> AsyncIterator[Services]:
    """Open every part in order; the exit stack closes them in reverse, whatever happens
    (pool first, so no render is left writing to a closed cache or ledger). `serve` adds
    what only a server runs: the batch workers and the template watcher."""
    async with contextlib.AsyncExitStack() as stack:
        r = settings.render
        # First: the state directory private (0700), its secret files tightened (0600).
        await asyncio.to_thread(secure_state_dir, settings.state_dir, settings.database_path)
        templates = TemplateStore(
            settings.templates_dir,
            settings.state_dir / "templates",
            max_image_bytes=r.max_data_uri_bytes,
            uploads_dir=settings.state_dir / "uploads",
        )
        await templates.refresh()
        stores = await _open_stores(settings, stack)
        # The signing secrets' key, checked against the keys database (a missing or wrong
        # one stops the start); plain secrets an older version left are sealed here.
        box = await stores.accounts.run(open_box, key_source(settings))
        issuer = await asyncio.to_thread(_issuer, settings, box)
        authenticator = Authenticator(
            stores.accounts, box, issuer, cache_seconds=settings.access.key_cache_seconds
        )
        # Fonts people uploaded, from the keys-and-ledger database (every node's, in
        # cluster mode), their files copied to this node's state directory.
        fonts = FontCatalog(stores.accounts, settings.state_dir / "fonts", r.fontconfig_file)
        await fonts.open()
        # Templates people uploaded, from the same database, mirrored to this node's
        # state directory (an older release's local uploads are stored there first).
        shared = SharedTemplates(stores.accounts, templates)
        await shared.open()
        pool, pipeline = await _open_pipeline(
            settings, stack, templates, stores, metrics, fonts, shared
        )
        uploads = TemplateUploads(
            shared,
            pipeline.renderer,
            fontconfig_file=r.fontconfig_file,
            max_image_bytes=r.max_data_uri_bytes,
            max_side=r.max_side,
            fonts=fonts,
        )
        queue = _batch_queue(settings, stores)
        cluster = ClusterView(
            pool=pool,
            templates=templates,
            queue=queue,
            workers=settings.render.workers,
            redis=stores.redis,
        )
        if serve:
            # Operators' view: this node's report, renewed well within its expiry.
            heartbeat = asyncio.create_task(cluster.watch(HEARTBEAT_SECONDS))
            stack.push_async_callback(cluster.withdraw)
            stack.push_async_callback(_cancel, heartbeat)
            batch_runner = await _serve_batches(settings, stack, queue, pipeline, authenticator)
            if settings.templates_poll_seconds > 0:
                watcher = asyncio.create_task(templates.watch(settings.templates_poll_seconds))
                stack.push_async_callback(_cancel, watcher)
            # Fonts added or removed through another node or the CLI.
            font_watcher = asyncio.create_task(fonts.watch(settings.fonts.refresh_seconds))
            stack.push_async_callback(_cancel, font_watcher)
            # Templates uploaded, replaced or removed through another node.
            upload_watcher = asyncio.create_task(shared.watch(settings.templates_refresh_seconds))
            stack.push_async_callback(_cancel, upload_watcher)
        else:
            batch_runner = None
            stack.push_async_callback(queue.close)
        batches = BatchSubmitter(queue, templates, settings.batch.max_items)
        yield Services(
            templates,
            stores.accounts,
            stores.meter,
            authenticator,
            pool,
            pipeline,
            uploads,
            batches,
            stores.redis,
            FontUploads(fonts, settings.fonts),
            cluster,
            batch_runner,
        )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

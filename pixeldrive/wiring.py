"""The wiring: settings in, the running parts out. `open_services` opens everything a
render needs, in order, and closes it in reverse; the HTTP app and the command line both
run on it, so they render through the same pipeline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pixeldrive.auth.authenticate import Authenticator
from pixeldrive.auth.metering import Meter
from pixeldrive.auth.tokens import SigningKeys, TokenIssuer
from pixeldrive.batch.memory_queue import MemoryQueue
from pixeldrive.batch.queue import BatchQueue
from pixeldrive.batch.redis_queue import RedisQueue
from pixeldrive.batch.runner import BatchRunner
from pixeldrive.cache.cluster_flight import ClusterFlight
from pixeldrive.cache.disk import DiskTier
from pixeldrive.cache.memory import MemoryTier
from pixeldrive.cache.redis_tier import RedisTier
from pixeldrive.cache.tier import CacheTier
from pixeldrive.cache.tiered import LookupObserver, TieredCache
from pixeldrive.core.config import Settings
from pixeldrive.observe.metrics import MeteredPool, Metrics
from pixeldrive.remote_images.fetch import ImageFetcher
from pixeldrive.render.fingerprint import renderer_fingerprint
from pixeldrive.render.job import EncodeOptions, RenderOutput, WorkerConfig
from pixeldrive.render.pool import PoolLimits, RenderPool
from pixeldrive.service.batches import BatchSubmitter
from pixeldrive.service.pipeline import Renderer, RenderPipeline
from pixeldrive.service.uploads import TemplateUploads
from pixeldrive.storage.database import Database
from pixeldrive.storage.redis_link import RedisLink
from pixeldrive.storage.redis_specs import RedisSpecStore
from pixeldrive.storage.specs import SpecStore, SQLiteSpecStore
from pixeldrive.storage.sqlite import SQLiteDatabase
from pixeldrive.templates.store import TemplateStore

# In cluster mode a key's monthly render count is re-read this often (other nodes render
# on the same ledger): a quota holds across nodes to within what they draw in this time.
QUOTA_RECOUNT_SECONDS = 2.0


def encode_options(settings: Settings) -> EncodeOptions:
    return EncodeOptions(**settings.encode.model_dump(exclude={"preference", "default_format"}))


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        fontconfig_file=str(settings.render.fontconfig_file),
        encode=encode_options(settings),
        max_data_uri_bytes=settings.render.max_data_uri_bytes,
        max_image_pixels=settings.render.max_image_pixels,
        nice=settings.render.worker_nice,
        missing_glyphs=settings.render.missing_glyphs,
        fallback_fonts=settings.render.fallback_fonts,
        backdrop_bytes=settings.render.backdrop_bytes,
    )


def build_pool(settings: Settings) -> RenderPool:
    r = settings.render
    limits = PoolLimits(r.worker_count, r.queue_depth, r.timeout, r.max_tasks_per_worker)
    return RenderPool(limits, worker_config(settings))


def build_templates(settings: Settings) -> TemplateStore:
    return TemplateStore(
        settings.templates_dir,
        settings.state_dir / "templates",
        max_image_bytes=settings.render.max_data_uri_bytes,
        uploads_dir=settings.state_dir / "uploads",
    )


def build_database(settings: Settings) -> SQLiteDatabase:
    return SQLiteDatabase(settings.database_path)


def build_accounts(settings: Settings, local: SQLiteDatabase) -> Database:
    """Where keys and the usage ledger live: PostgreSQL when `database_url` is set (every
    node shares it), else the node's own SQLite file `local`. Not opened yet."""
    if not settings.database_url:
        return local
    from pixeldrive.storage.postgres import PostgresDatabase  # psycopg: cluster mode only

    return PostgresDatabase(settings.database_url)


def build_meter(settings: Settings, accounts: Database, local: SQLiteDatabase) -> Meter:
    """The meter on `accounts`; in cluster mode ledger rows PostgreSQL cannot take are
    spooled into `local`, and quotas are recounted as other nodes render."""
    cluster = accounts is not local
    return Meter(
        accounts,
        spool=local if cluster else None,
        flush_seconds=settings.access.hits_flush_seconds,
        recount_seconds=QUOTA_RECOUNT_SECONDS if cluster else None,
    )


def build_issuer(settings: Settings) -> TokenIssuer:
    """Reads (or creates) the token signing secrets: start-up only, off the event loop."""
    keys = SigningKeys.load_or_create(settings.state_dir / "secrets" / "tokens.json")
    return TokenIssuer(keys, max_ttl=settings.access.token_max_ttl)


def build_disk(settings: Settings) -> DiskTier:
    return DiskTier(settings.disk_cache_dir, settings.cache.disk_bytes)


def build_cache(
    settings: Settings,
    disk: DiskTier,
    on_lookup: LookupObserver | None = None,
    shared: CacheTier | None = None,
) -> TieredCache:
    """Memory → disk → (cluster mode) the shared tier."""
    tiers: list[CacheTier] = [MemoryTier(settings.cache.memory_bytes), disk]
    return TieredCache([*tiers, shared] if shared else tiers, on_lookup=on_lookup)


def build_redis(settings: Settings) -> RedisLink | None:
    """The node's Redis link in cluster mode (`redis_url`), else None. Not connected yet."""
    if not settings.redis_url:
        return None
    return RedisLink(settings.redis_url, timeout=settings.redis.timeout)


def build_shared_tier(settings: Settings, link: RedisLink) -> RedisTier:
    r = settings.redis
    return RedisTier(link, ttl_seconds=r.image_ttl, max_entry_bytes=r.max_entry_bytes)


def build_cluster_flight(
    settings: Settings, link: RedisLink, tier: RedisTier
) -> ClusterFlight[RenderOutput]:
    # The lock outlives a render that is allowed to finish; a node that dies holding it
    # delays the others by that much at most.
    return ClusterFlight(link, tier, lock_seconds=settings.render.timeout + 2.0)


def build_specs(local: SpecStore, link: RedisLink | None) -> SpecStore:
    """In cluster mode specs are shared through Redis, written through to `local`."""
    return local if link is None else RedisSpecStore(link, local)


def build_batch_queue(settings: Settings, link: RedisLink | None) -> BatchQueue:
    """Redis Streams in cluster mode; in this process otherwise."""
    if link is None:
        return MemoryQueue()
    b = settings.batch
    return RedisQueue(link, claim_timeout=b.claim_timeout, keep_seconds=b.keep_seconds)


@dataclass(frozen=True, slots=True)
class Services:
    """The running parts, open: what the HTTP app puts under its keys, and what the
    command line renders with."""

    settings: Settings
    templates: TemplateStore
    accounts: Database  # keys and the usage ledger
    meter: Meter
    authenticator: Authenticator
    pool: RenderPool
    pipeline: RenderPipeline
    uploads: TemplateUploads
    batches: BatchSubmitter
    redis: RedisLink | None


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings, *, metrics: Metrics | None = None, serve: bool = True
) -> AsyncIterator[Services]:
    """Open every part in order; the exit stack closes them in reverse, whatever happens
    (pool first, so no render is left writing to a closed cache or ledger). `serve` adds
    what only a server runs: the batch workers and the template watcher."""
    async with contextlib.AsyncExitStack() as stack:
        templates = build_templates(settings)
        await templates.refresh()
        local = build_database(settings)  # the node's SQLite file
        await local.open()
        stack.push_async_callback(local.close)
        accounts = build_accounts(settings, local)
        if accounts is not local:  # cluster mode: PostgreSQL, reachable at start
            await accounts.open()
            stack.push_async_callback(accounts.close)
        meter = build_meter(settings, accounts, local)
        await meter.start()
        stack.push_async_callback(meter.close)
        issuer = await asyncio.to_thread(build_issuer, settings)
        authenticator = Authenticator(
            accounts, issuer, cache_seconds=settings.access.key_cache_seconds
        )
        link = build_redis(settings)
        if link is not None:  # cluster mode: a Redis that is down now is retried
            await link.open()
            stack.push_async_callback(link.close)
        shared = build_shared_tier(settings, link) if link is not None else None
        disk = build_disk(settings)
        await disk.open()
        on_lookup = metrics.cache_lookup if metrics is not None else None
        cache = build_cache(settings, disk, on_lookup=on_lookup, shared=shared)
        stack.push_async_callback(cache.drain)
        fingerprint = await asyncio.to_thread(
            renderer_fingerprint, settings.render.fontconfig_file, encode_options(settings)
        )
        images = await stack.enter_async_context(ImageFetcher(settings.images))
        pool = build_pool(settings)
        stack.push_async_callback(pool.close)
        await pool.start()
        renderer: Renderer = pool
        if metrics is not None:
            metrics.watch(pool, cache)
            renderer = MeteredPool(pool, metrics)
        pipeline = RenderPipeline(
            templates,
            cache,
            build_specs(SQLiteSpecStore(local), link),
            renderer,
            meter,
            images,
            fingerprint=fingerprint,
            limits=settings.render,
            cluster=build_cluster_flight(settings, link, shared) if link and shared else None,
        )
        uploads = TemplateUploads(
            templates,
            renderer,
            fontconfig_file=settings.render.fontconfig_file,
            max_image_bytes=settings.render.max_data_uri_bytes,
            max_side=settings.render.max_side,
        )
        queue = build_batch_queue(settings, link)
        if serve:
            runner = BatchRunner(
                queue,
                pipeline.render_item,
                concurrency=settings.batch.concurrency or settings.render.worker_count,
                retry_seconds=settings.batch.retry_seconds,
            )
            await runner.start()
            stack.push_async_callback(runner.close)
            if settings.templates_poll_seconds > 0:
                watcher = asyncio.create_task(templates.watch(settings.templates_poll_seconds))
                stack.push_async_callback(_cancel, watcher)
        else:
            stack.push_async_callback(queue.close)
        yield Services(
            settings,
            templates,
            accounts,
            meter,
            authenticator,
            pool,
            pipeline,
            uploads,
            BatchSubmitter(queue, templates, settings.batch.max_items),
            link,
        )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

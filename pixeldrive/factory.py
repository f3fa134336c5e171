"""Factories: settings in, configured components out (used by the app and the CLI)."""

from __future__ import annotations

from pixeldrive.auth.metering import Meter
from pixeldrive.auth.tokens import SigningKeys, TokenIssuer
from pixeldrive.batch.local import LocalQueue
from pixeldrive.batch.queue import BatchQueue
from pixeldrive.batch.redis import RedisQueue
from pixeldrive.cache.cluster_flight import ClusterFlight
from pixeldrive.cache.disk import DiskTier
from pixeldrive.cache.memory import MemoryTier
from pixeldrive.cache.redis import RedisTier
from pixeldrive.cache.tier import CacheTier
from pixeldrive.cache.tiered import LookupObserver, TieredCache
from pixeldrive.config import Settings
from pixeldrive.redis_link import RedisLink
from pixeldrive.render.job import EncodeOptions, RenderOutput, WorkerConfig
from pixeldrive.render.pool import PoolLimits, RenderPool
from pixeldrive.storage.database import Database as Accounts
from pixeldrive.storage.redis_specs import RedisSpecStore
from pixeldrive.storage.specs import SpecStore
from pixeldrive.storage.sqlite import Database
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


def build_database(settings: Settings) -> Database:
    return Database(settings.database_path)


def build_accounts(settings: Settings, local: Database) -> Accounts:
    """Where keys and the usage ledger live: PostgreSQL when `database_url` is set (every
    node shares it), else the node's own SQLite file `local`. Not opened yet."""
    if not settings.database_url:
        return local
    from pixeldrive.storage.postgres import PostgresDatabase  # psycopg: cluster mode only

    return PostgresDatabase(settings.database_url)


def build_meter(settings: Settings, accounts: Accounts, local: Database) -> Meter:
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
        return LocalQueue()
    b = settings.batch
    return RedisQueue(link, claim_timeout=b.claim_timeout, keep_seconds=b.keep_seconds)

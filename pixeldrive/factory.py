"""Factories: settings in, configured components out (used by the app and the CLI)."""

from __future__ import annotations

from pixeldrive.auth.tokens import SigningKeys, TokenIssuer
from pixeldrive.cache.disk import DiskTier
from pixeldrive.cache.memory import MemoryTier
from pixeldrive.cache.tiered import LookupObserver, TieredCache
from pixeldrive.config import Settings
from pixeldrive.render.job import EncodeOptions, WorkerConfig
from pixeldrive.render.pool import PoolLimits, RenderPool
from pixeldrive.storage.sqlite import Database
from pixeldrive.templates.store import TemplateStore


def encode_options(settings: Settings) -> EncodeOptions:
    return EncodeOptions(**settings.encode.model_dump(exclude={"preference", "default_format"}))


def worker_config(settings: Settings) -> WorkerConfig:
    return WorkerConfig(
        fontconfig_file=str(settings.render.fontconfig_file),
        encode=encode_options(settings),
        max_data_uri_bytes=settings.render.max_data_uri_bytes,
        max_image_pixels=settings.render.max_image_pixels,
        nice=settings.render.worker_nice,
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


def build_issuer(settings: Settings) -> TokenIssuer:
    """Reads (or creates) the token signing secrets: start-up only, off the event loop."""
    keys = SigningKeys.load_or_create(settings.state_dir / "secrets" / "tokens.json")
    return TokenIssuer(keys, max_ttl=settings.access.token_max_ttl)


def build_disk(settings: Settings) -> DiskTier:
    return DiskTier(settings.disk_cache_dir, settings.cache.disk_bytes)


def build_cache(
    settings: Settings, disk: DiskTier, on_lookup: LookupObserver | None = None
) -> TieredCache:
    return TieredCache([MemoryTier(settings.cache.memory_bytes), disk], on_lookup=on_lookup)

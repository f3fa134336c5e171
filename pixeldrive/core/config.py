"""Settings: the one place that reads the environment and the TOML configuration."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    IPvAnyNetwork,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = PROJECT_ROOT / "conf" / "pixeldrive.toml"
Format = Literal["png", "jpeg", "webp", "avif"]

# SPEC §9 names flat variables; they land in the nested models below. Any other setting can
# be reached as PIXELDRIVE_<SECTION>__<NAME> (for example PIXELDRIVE_ENCODE__AVIF_SPEED).
FLAT_ENV = {
    "PIXELDRIVE_STATE_DIR": ("state_dir",),
    "PIXELDRIVE_CACHE_DIR": ("cache_dir",),
    "PIXELDRIVE_TEMPLATES_DIR": ("templates_dir",),
    "PIXELDRIVE_WORKERS": ("render", "workers"),
    "PIXELDRIVE_QUEUE_DEPTH": ("render", "queue_depth"),
    "PIXELDRIVE_RENDER_TIMEOUT": ("render", "timeout"),
    "PIXELDRIVE_MAX_PIXELS": ("render", "max_pixels"),
    "PIXELDRIVE_REDIS_URL": ("redis_url",),
    "PIXELDRIVE_DATABASE_URL": ("database_url",),
    "PIXELDRIVE_AUTH": ("server", "auth"),
    "PIXELDRIVE_HOST": ("server", "host"),
    "PIXELDRIVE_PORT": ("server", "port"),
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    auth: Literal["on", "off"] = "on"
    max_body_bytes: int = Field(10 * 2**20, ge=1024)
    access_log: bool = False
    shutdown_timeout: float = Field(10.0, gt=0)
    head_timeout: float = Field(
        5.0,
        gt=0,
        description="seconds a connection has to send a whole request head, from its connect "
        "or from the first byte after an answer; then it is closed",
    )
    keepalive_timeout: float = Field(
        75.0, gt=0, description="seconds an idle kept-alive connection stays open"
    )
    max_connections: int = Field(
        4096, ge=1, description="open connections per node; the next is answered 503"
    )
    backlog: int = Field(1024, ge=1, description="connections the kernel queues for accept")
    log_format: Literal["json", "text"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, level: object) -> object:
        return level.upper() if isinstance(level, str) else level


class RenderSettings(_Section):
    workers: int = Field(0, ge=0, description="render processes; 0 means one per core")
    queue_depth: int = Field(16, ge=0, description="renders admitted beyond the busy workers")
    timeout: float = Field(10.0, gt=0, description="seconds before a render is killed")
    max_pixels: int = Field(25_000_000, ge=1)
    max_side: int = Field(10_000, ge=1)
    max_tasks_per_worker: int = Field(10_000, ge=0, description="recycle a worker after N; 0 never")
    max_data_uri_bytes: int = Field(5 * 2**20, ge=0)
    max_image_pixels: int = Field(40_000_000, ge=1)
    worker_nice: int = Field(10, ge=0, le=19, description="render workers' niceness")
    backdrop_bytes: int = Field(
        32 * 2**20,
        ge=0,
        description="per worker: pixels of template backdrops (all drawn before the first "
        "text field) kept to draw the next render on; 0 draws every render whole",
    )
    glyph_cache_bytes: int = Field(
        16 * 2**20,
        ge=0,
        description="per worker: glyph outlines and colour glyphs kept to draw the next "
        "render with, fewest recently used out first; 0 makes every glyph again",
    )
    fontconfig_file: Path = PROJECT_ROOT / "conf" / "fonts.conf"
    fallback_fonts: tuple[str, ...] = Field(
        (),
        description="families tried in order for characters that neither a text's font nor "
        "the families of their script have; empty: Inter, DejaVu Sans, Noto Sans Symbols, "
        "Noto Sans Symbols 2, Noto Sans Math",
    )
    han_language: str = Field(
        "zh-Hans",
        description="the forms Chinese characters take when the text names no language "
        "(lang, xml:lang) and has no Kana or Hangul: zh-Hans, zh-Hant, zh-HK, ja or ko",
    )
    missing_glyphs: Literal["refuse", "replace"] = Field(
        "refuse",
        description="a character no font has: refuse the value (422) or draw U+FFFD",
    )

    @field_validator("han_language")
    @classmethod
    def _han(cls, value: str) -> str:
        spelled = {k.lower(): k for k in ("zh-Hans", "zh-Hant", "zh-HK", "ja", "ko")}
        if value.strip().lower() not in spelled:
            raise ValueError(f"must be one of {', '.join(spelled.values())}")
        return spelled[value.strip().lower()]

    @field_validator("fontconfig_file")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        # Workers set FONTCONFIG_FILE from this; it must not depend on their cwd.
        return path.absolute()

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


class EncodeSettings(_Section):
    preference: tuple[Format, ...] = ("avif", "webp", "png", "jpeg")
    default_format: Format = "png"
    fallback_format: Format = Field(
        "png",
        description="what an extension-less image URL answers to */*, image/* or no Accept "
        "(crawlers, curl): only formats a client names explicitly compete by preference",
    )
    fast_first: tuple[Literal["avif", "webp"], ...] = Field(
        ("avif", "webp"),
        description="negotiated formats that, when they must be drawn, are answered first "
        "as PNG (if the client takes PNG) and encoded after the answer for the next "
        "request; [] always answers the negotiated format",
    )
    png_compress_level: int = Field(7, ge=0, le=9)
    png_filter: Literal["none", "adaptive"] = "none"
    jpeg_quality: int = Field(85, ge=1, le=100)
    webp_quality: int = Field(80, ge=1, le=100)
    webp_method: int = Field(1, ge=0, le=6)
    avif_quality: int = Field(64, ge=1, le=100)
    avif_speed: int = Field(8, ge=0, le=10)
    avif_tune: Literal["psnr", "ssim", "iq"] = Field(
        "psnr",
        description="what libaom tunes for: 'psnr' takes about 0.7x the time of 'iq' "
        "(libavif's default for still images) on the bundled templates, at the same PSNR",
    )


class AccessSettings(_Section):
    token_max_ttl: int = Field(30 * 86400, ge=60, description="longest token lifetime, s")
    key_cache_seconds: float = Field(2.0, ge=0, description="how long a revocation may take")
    hits_flush_seconds: float = Field(1.0, gt=0, description="hit counts are written this often")
    signed_url_max_age: int = Field(
        86400, ge=0, description="Cache-Control cap for signed URLs (/v1/t, public_url)"
    )
    public_url_ttl: int | Literal["none"] = Field(
        "none",
        description="seconds a render's public_url works when the request gives no ttl; "
        "'none': until the key is revoked (a token's URLs end with the token)",
    )
    public_origin: str | None = Field(
        None,
        description="scheme://host[:port] that public_url starts with (og:image needs an "
        "absolute URL); unset: public_url is a path, like url",
    )

    @field_validator("public_url_ttl")
    @classmethod
    def _positive_ttl(cls, ttl: int | str) -> int | str:
        if isinstance(ttl, int) and ttl < 1:
            raise ValueError("must be a positive number of seconds, or 'none'")
        return ttl

    @field_validator("public_origin")
    @classmethod
    def _origin(cls, origin: str | None) -> str | None:
        if origin is None:
            return None
        parts = urlsplit(origin)
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.query
            or parts.fragment
        ):
            raise ValueError(f"{origin!r} is not an http(s) origin such as https://img.example.com")
        return origin.rstrip("/")


class CacheSettings(_Section):
    memory_bytes: int = Field(256 * 2**20, ge=0)
    disk_bytes: int = Field(2 * 2**30, ge=0)


class RedisSettings(_Section):
    """Cluster mode's Redis (`redis_url`): the shared image tier and the cross-node lock."""

    image_ttl: int = Field(
        30 * 86400, ge=0, description="seconds a shared image lives; 0: until Redis evicts it"
    )
    max_entry_bytes: int = Field(32 * 2**20, ge=1, description="larger images are not shared")
    timeout: float = Field(2.0, gt=0, description="seconds before a Redis call counts as failed")


class BatchSettings(_Section):
    """Batches (POST /v1/batches): limits and the queue's take-over timing."""

    max_items: int = Field(1000, ge=1, description="items in one batch")
    concurrency: int = Field(0, ge=0, description="items a node renders at once; 0: workers")
    claim_timeout: float = Field(
        30.0, gt=0, description="seconds an item may sit with a silent node before another takes it"
    )
    keep_seconds: int = Field(7 * 86400, ge=60, description="a finished batch is kept this long")
    retry_seconds: float = Field(60.0, ge=0, description="an overloaded item is retried this long")


class FontSettings(_Section):
    """Fonts people upload (PUT /v1/fonts/{name}, `pixeldrive fonts add`)."""

    max_bytes: int = Field(20 * 2**20, ge=1024, description="the largest font file taken")
    max_sfnt_bytes: int = Field(
        64 * 2**20, ge=1024, description="the most a WOFF or WOFF2 file may decompress to"
    )
    sanitiser_timeout: float = Field(
        10.0, gt=0, description="seconds the OpenType Sanitizer may take over one font"
    )
    refresh_seconds: float = Field(
        2.0, gt=0, description="how long a font added or removed elsewhere takes to be seen"
    )


class ImageSettings(_Section):
    """Remote images for `image` fields: which hosts, which networks, and how much."""

    allow_hosts: tuple[str, ...] = Field(
        (), description="exact hosts or '*.example.com' (sub-domains); empty: none fetched"
    )
    allow_networks: tuple[IPvAnyNetwork, ...] = Field(
        (), description="networks fetched even though private, loopback or link-local"
    )
    schemes: tuple[Literal["https", "http"], ...] = ("https",)
    max_bytes: int = Field(10 * 2**20, ge=1)
    max_pixels: int = Field(40_000_000, ge=1)
    timeout: float = Field(5.0, gt=0, description="seconds for a whole fetch, redirects included")
    max_redirects: int = Field(3, ge=0)
    cache_bytes: int = Field(64 * 2**20, ge=0, description="fetched images kept in memory")
    cache_seconds: float = Field(600.0, gt=0, description="how long a fetched image is reused")

    @field_validator("allow_hosts")
    @classmethod
    def _host_patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            name = pattern.removeprefix("*.")
            if not name or "*" in name or any(c.isspace() or c in "/@?#" for c in name):
                raise ValueError(f"{pattern!r} is not a host or a '*.example.com' pattern")
        return patterns


SEALING_KEY_BYTES = 32  # AES-256


def parse_sealing_key(text: str) -> bytes:
    """The key that encrypts signing secrets at rest, from its text: 32 bytes written in
    base64 (standard or URL-safe, padded or not, e.g. `openssl rand -base64 32`).
    ValueError saying what is wrong, never quoting the text."""
    value = text.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except binascii.Error:
        raise ValueError("is not base64") from None
    if len(key) != SEALING_KEY_BYTES:
        raise ValueError(f"must be {SEALING_KEY_BYTES} bytes in base64, not {len(key)}")
    return key


class SecretsSettings(_Section):
    """The key that encrypts each API key's URL-signing secret in the keys database; kept
    apart from it. Embedded mode keeps it in `$STATE_DIR/secrets/signing-secrets.key`
    unless one is given; cluster mode (`database_url`) needs one given, the same on every
    node and wherever `pixeldrive keys` runs."""

    key: SecretStr | None = Field(
        None, description="the key itself, 32 bytes in base64 (PIXELDRIVE_SECRETS__KEY)"
    )
    key_file: Path | None = Field(
        None, description="a file holding the key, 32 bytes in base64 (a mounted secret)"
    )

    @field_validator("key")
    @classmethod
    def _decodes(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None:
            parse_sealing_key(key.get_secret_value())
        return key

    @model_validator(mode="after")
    def _one_source(self) -> SecretsSettings:
        if self.key is not None and self.key_file is not None:
            raise ValueError("give secrets.key or secrets.key_file, not both")
        return self


class Settings(BaseSettings):
    """Everything configurable, read once: code defaults < TOML file < environment."""

    model_config = SettingsConfigDict(
        env_prefix="PIXELDRIVE_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        # A bad value is named, never quoted back into a terminal or a log: it may be a
        # secret (secrets.key, a database_url with its password).
        hide_input_in_errors=True,
    )

    state_dir: Path = Path("var")
    cache_dir: Path | None = None
    templates_dir: Path = PROJECT_ROOT / "svg_templates"
    templates_poll_seconds: float = Field(1.0, ge=0)
    templates_refresh_seconds: float = Field(
        1.0,
        gt=0,
        description="how long a template uploaded, replaced or removed through another node"
        " takes to be seen",
    )
    redis_url: str | None = None
    database_url: str | None = None
    server: ServerSettings = ServerSettings()
    render: RenderSettings = RenderSettings()
    encode: EncodeSettings = EncodeSettings()
    cache: CacheSettings = CacheSettings()
    access: AccessSettings = AccessSettings()
    images: ImageSettings = ImageSettings()
    redis: RedisSettings = RedisSettings()
    batch: BatchSettings = BatchSettings()
    fonts: FontSettings = FontSettings()
    secrets: SecretsSettings = SecretsSettings()

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.cache_dir is None:
            object.__setattr__(self, "cache_dir", self.state_dir / "cache")
        return self

    @model_validator(mode="after")
    def _auth_off_only_on_loopback(self) -> Settings:
        if self.server.auth == "off" and not is_loopback(self.server.host):
            raise ValueError(
                f"server.auth = 'off' is refused on a non-loopback bind ({self.server.host}): "
                "anyone who can reach it could render on your machine"
            )
        return self

    @property
    def database_path(self) -> Path:
        return self.state_dir / "pixeldrive.sqlite3"

    @property
    def disk_cache_dir(self) -> Path:
        assert self.cache_dir is not None  # set by _derive_paths
        return self.cache_dir

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            _FlatEnvSource(settings_cls),
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )


class _FlatEnvSource(PydanticBaseSettingsSource):
    """Maps the flat variables of SPEC §9 onto the nested settings."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the whole mapping

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, path in FLAT_ENV.items():
            value = os.environ.get(name)
            if value is None or value == "":
                continue
            node = out
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
        return out


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def config_file() -> Path:
    """The TOML file settings are read from: PIXELDRIVE_CONFIG, else conf/pixeldrive.toml."""
    return Path(os.environ.get("PIXELDRIVE_CONFIG") or DEFAULT_CONFIG)


def state_dir_origin() -> str:
    """Which setting chose the state directory, for a message that says how to point
    elsewhere: the environment variable, the TOML file, or the default."""
    if os.environ.get("PIXELDRIVE_STATE_DIR"):
        return "PIXELDRIVE_STATE_DIR"
    toml_file = config_file()
    try:
        in_file = "state_dir" in tomllib.loads(toml_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        in_file = False  # loading the settings says what is wrong with it
    return f"state_dir in {toml_file}" if in_file else "the default state_dir"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value fails here, naming the field."""
    return Settings(**overrides)

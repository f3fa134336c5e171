"""Settings: defaults, the TOML file, the environment (flat SPEC names and nested ones)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pixeldrive.core.config import load_settings
from pixeldrive.render.job import EncodeOptions
from pixeldrive.wiring import encode_options


def test_spec_environment_names_reach_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXELDRIVE_AUTH", "off")
    monkeypatch.setenv("PIXELDRIVE_WORKERS", "3")
    monkeypatch.setenv("PIXELDRIVE_QUEUE_DEPTH", "7")
    monkeypatch.setenv("PIXELDRIVE_RENDER_TIMEOUT", "2.5")
    monkeypatch.setenv("PIXELDRIVE_MAX_PIXELS", "1000000")
    monkeypatch.setenv("PIXELDRIVE_STATE_DIR", "/tmp/pd-state")
    settings = load_settings()
    assert settings.server.auth == "off"
    assert (settings.render.workers, settings.render.queue_depth) == (3, 7)
    assert settings.render.timeout == 2.5
    assert settings.render.max_pixels == 1_000_000
    assert settings.state_dir == Path("/tmp/pd-state")
    assert settings.disk_cache_dir == Path("/tmp/pd-state/cache")


def test_nested_environment_names_and_the_toml_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "pd.toml"
    config.write_text("[encode]\navif_speed = 4\n[access]\ntoken_max_ttl = 600\n")
    monkeypatch.setenv("PIXELDRIVE_CONFIG", str(config))
    monkeypatch.setenv("PIXELDRIVE_ACCESS__KEY_CACHE_SECONDS", "0")
    settings = load_settings()
    assert settings.encode.avif_speed == 4
    assert settings.access.token_max_ttl == 600
    assert settings.access.key_cache_seconds == 0


def test_a_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXELDRIVE_WORKERS", "many")
    with pytest.raises(ValidationError, match=r"render\.workers"):
        load_settings()


def test_the_encoder_defaults_agree_everywhere() -> None:
    # conf/pixeldrive.toml, EncodeSettings and the worker's EncodeOptions say the same.
    assert encode_options(load_settings()) == EncodeOptions()


def test_an_unknown_avif_tune_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXELDRIVE_ENCODE__AVIF_TUNE", "butteraugli")
    with pytest.raises(ValidationError, match=r"encode\.avif_tune"):
        load_settings()


def test_auth_off_is_refused_off_loopback() -> None:
    assert load_settings(server={"auth": "off", "host": "127.0.0.2"}).server.auth == "off"
    assert load_settings(server={"auth": "off", "host": "::1"}).server.auth == "off"
    with pytest.raises(ValidationError, match="non-loopback"):
        load_settings(server={"auth": "off", "host": "0.0.0.0"})

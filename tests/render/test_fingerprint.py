"""The renderer fingerprint changes with whatever changes the bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.render.fingerprint import font_dirs, renderer_fingerprint
from pixeldrive.render.job import EncodeOptions

CONF = PROJECT_ROOT / "conf" / "fonts.conf"


def test_the_project_fontconfig_names_the_bundled_fonts() -> None:
    dirs = [d.resolve() for d in font_dirs(CONF)]
    assert dirs == [(PROJECT_ROOT / "svg_templates" / "fonts").resolve()]


def test_fonts_and_encoder_settings_change_the_fingerprint(tmp_path: Path) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    shutil.copy(PROJECT_ROOT / "svg_templates" / "fonts" / "Inter-Regular.otf", fonts)
    conf = tmp_path / "fonts.conf"
    conf.write_text('<fontconfig><dir prefix="relative">fonts</dir></fontconfig>')
    base = renderer_fingerprint(conf, EncodeOptions())
    assert renderer_fingerprint(conf, EncodeOptions()) == base
    assert renderer_fingerprint(conf, EncodeOptions(avif_speed=6)) != base
    shutil.copy(PROJECT_ROOT / "svg_templates" / "fonts" / "Inter-Bold.otf", fonts)
    assert renderer_fingerprint(conf, EncodeOptions()) != base

"""Fonts people bring, in the engine: a render job names uploaded font files, the worker
sets text in them (their family wins over a bundled one of the same name), and a job
without them is set in the bundled fonts as before."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from pixeldrive.core.config import PROJECT_ROOT, Settings
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob
from pixeldrive.templates.model import compile_template
from pixeldrive.text.fonts import library_for
from pixeldrive.wiring import worker_config
from tests.fontmaker import make_font

WIDTH, HEIGHT = 600, 120


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(state_dir=tmp_path_factory.mktemp("state"))


def ink_box(settings: Settings, tmp: Path, family: str, fonts: tuple[str, ...]) -> tuple[int, ...]:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="20" y="90" font-family="{family}" font-size="60">Blocks</text></svg>'
    ).encode()
    template = compile_template("t", svg, max_image_bytes=10**6)
    source = tmp / f"{template.version}.svg"
    source.write_bytes(svg)
    worker.init_worker(replace(worker_config(settings), backdrop_bytes=0))
    job = RenderJob(template.version, str(source), {}, WIDTH, HEIGHT, "png", fonts=fonts)
    image = Image.open(io.BytesIO(worker.run(job).data)).convert("L")
    box = image.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert box is not None
    return box


def test_text_is_set_in_the_uploaded_font(settings: Settings, tmp_path: Path) -> None:
    font = str(make_font(tmp_path / "blocks.ttf"))
    uploaded = ink_box(settings, tmp_path, "PD Test Blocks", (font,))
    bundled = ink_box(settings, tmp_path, "PD Test Blocks", ())  # unknown here: Inter
    # Boxes 700/1000 em tall at 60 px, standing on the baseline at y = 90.
    assert uploaded[1] == pytest.approx(90 - 42, abs=1)
    assert uploaded[3] == pytest.approx(90, abs=1)
    assert uploaded != bundled


def test_an_uploaded_family_replaces_a_bundled_one_of_the_same_name(tmp_path: Path) -> None:
    font = str(make_font(tmp_path / "inter.ttf", family="Inter", height=300))
    library = library_for(str(PROJECT_ROOT / "conf" / "fonts.conf"))
    face = library.with_files([font]).match(["Inter"])
    assert face.path == font
    assert library.match(["Inter"]).path != font  # the library itself is unchanged


def test_a_font_file_that_went_away_fails_the_render(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(worker.JobFailed):
        ink_box(settings, tmp_path, "PD Test Blocks", (str(tmp_path / "gone.ttf"),))

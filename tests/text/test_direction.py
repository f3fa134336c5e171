"""A field's direction follows its value (HTML's dir=auto): a right-to-left value in a
frame starts at the frame's right edge, a left-to-right one at its left; a positioned
text stays where the designer drew it; data-pd-dir and `direction` pin it."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from pixeldrive.core.config import Settings
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob
from pixeldrive.templates.model import compile_template
from pixeldrive.wiring import worker_config

WIDTH, HEIGHT = 800, 200
FRAME = (100, 40, 600, 120)  # x, y, width, height
ARABIC, HEBREW, LATIN = "مرحبا بالعالم", "שלום עולם", "Hello world"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(state_dir=tmp_path_factory.mktemp("state"))


def ink(settings: Settings, tmp: Path, text_attrs: str, value: str) -> tuple[int, int]:
    """(left, right) of the ink of a field set to `value`."""
    x, y, w, h = FRAME
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
        f'<rect width="100%" height="100%" fill="#fff"/>'
        f'<rect id="frame" x="{x}" y="{y}" width="{w}" height="{h}" fill="none"/>'
        f'<text data-pd-field="title" font-family="Inter" font-size="32" {text_attrs}>'
        "Title</text></svg>"
    ).encode()
    template = compile_template("t", svg, max_image_bytes=10**6)
    source = tmp / f"{template.version}.svg"
    source.write_bytes(svg)
    worker.init_worker(replace(worker_config(settings), backdrop_bytes=0))
    job = RenderJob(
        template.version, str(source), template.validate({"title": value}), WIDTH, HEIGHT, "png"
    )
    image = Image.open(io.BytesIO(worker.run(job).data)).convert("L")
    box = image.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert box is not None
    return box[0], box[2]


FRAMED = f'x="{FRAME[0]}" y="80" data-pd-box="#frame"'


@pytest.mark.parametrize("value", [ARABIC, HEBREW])
def test_a_right_to_left_value_starts_at_the_frames_right_edge(
    settings: Settings, tmp_path: Path, value: str
) -> None:
    right_edge = FRAME[0] + FRAME[2]
    left, right = ink(settings, tmp_path, FRAMED, value)
    assert right_edge - 6 <= right <= right_edge
    assert left > FRAME[0] + 100
    left, right = ink(settings, tmp_path, FRAMED, LATIN)
    assert FRAME[0] <= left <= FRAME[0] + 6
    assert right < right_edge - 100


def test_the_template_pins_the_direction(settings: Settings, tmp_path: Path) -> None:
    left, _ = ink(settings, tmp_path, FRAMED + ' data-pd-dir="ltr"', ARABIC)
    assert FRAME[0] <= left <= FRAME[0] + 6
    _, right = ink(settings, tmp_path, FRAMED + ' data-pd-dir="rtl"', LATIN)
    assert FRAME[0] + FRAME[2] - 6 <= right <= FRAME[0] + FRAME[2]
    _, right = ink(settings, tmp_path, FRAMED + ' style="direction:rtl"', LATIN)
    assert FRAME[0] + FRAME[2] - 6 <= right <= FRAME[0] + FRAME[2]


def test_a_positioned_text_keeps_its_anchor_point(settings: Settings, tmp_path: Path) -> None:
    for anchor, at in (("start", 200), ("middle", 400), ("end", 600)):
        attrs = f'x="{at}" y="80" text-anchor="{anchor}"'
        latin = ink(settings, tmp_path, attrs, LATIN)
        arabic = ink(settings, tmp_path, attrs, ARABIC)
        if anchor == "start":
            assert abs(arabic[0] - latin[0]) <= 6
        elif anchor == "end":
            assert abs(arabic[1] - latin[1]) <= 6
        else:
            assert abs((arabic[0] + arabic[1]) - (latin[0] + latin[1])) <= 12

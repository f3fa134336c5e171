"""Effects fidelity: filters, masks, blend modes, markers and paint-order drawn by
PixelDrive the way Inkscape 1.2 exports them.

Every SVG in `cases/` is written the way Inkscape 1.x writes it: its Drop Shadow, Glow and
blur filters, a layer's blend mode, a luminance mask, stock markers with context-stroke,
paint-order, and every filter primitive at least once (primitives-*.svg).
`make_expected.sh` exported each with Inkscape 1.2.2 into `expected/`; this module renders
each case through PixelDrive (the command line's file render, the worker's path) and
compares pixels. Before render/effects/, CairoSVG drew none of these filters (see
expected/README.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from pixeldrive.cli.file_renders import render_file
from pixeldrive.core.config import Settings
from tests.text_fidelity.test_inkscape_fidelity import compare

HERE = Path(__file__).parent
CASES = sorted(p.stem for p in (HERE / "cases").glob("*.svg"))

# As for text (tests/text_fidelity): a pixel differs when a channel is off by more than
# 32/255, and at most 2 % of the pixels may differ.
MAX_DIFFERING_PERCENT = 2.0
# Per-case tolerances, each with its reason.
TOLERANCE: dict[str, float] = {}


def render_case(name: str, settings: Settings, root: Path) -> Image.Image:
    shutil.copyfile(HERE / "cases" / f"{name}.svg", settings.templates_dir / f"{name}.svg")
    out = root / f"{name}.png"
    render_file(settings, name, {}, out)
    with Image.open(out) as image:
        flat = Image.new("RGBA", image.size, "white")
        flat.alpha_composite(image.convert("RGBA"))
        return flat.convert("RGB")


def test_every_case_has_an_expected_image() -> None:
    assert CASES, "no cases"
    missing = [n for n in CASES if not (HERE / "expected" / f"{n}.png").is_file()]
    assert not missing, f"run tests/effects_fidelity/make_expected.sh for {missing}"


@pytest.mark.parametrize("name", CASES)
def test_matches_inkscape(
    name: str, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    actual = render_case(name, make_settings(templates_dir=templates), tmp_path)
    with Image.open(HERE / "expected" / f"{name}.png") as image:
        expected = image.convert("RGB")
    result = compare(actual, expected)
    limit = TOLERANCE.get(name, MAX_DIFFERING_PERCENT)
    if result.differing_percent > limit:
        result.diff.save(tmp_path / f"{name}-diff.png")
        actual.save(tmp_path / f"{name}-actual.png")
    assert result.differing_percent <= limit, (
        f"{name}: {result.differing_percent:.2f} % of pixels differ (limit {limit} %), "
        f"mean {result.mean_abs_diff:.2f}; see {tmp_path}/{name}-diff.png"
    )


RESVG = HERE / "resvg"
RESVG_CASES = sorted(p.stem for p in RESVG.glob("*.svg"))
# resvg's feImage of an element and its feTile are Chrome's reading, as PixelDrive draws
# them: the same limit as Inkscape's cases.
RESVG_TOLERANCE = MAX_DIFFERING_PERCENT


@pytest.mark.parametrize("name", RESVG_CASES)
def test_matches_the_resvg_reference(
    name: str, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    shutil.copyfile(RESVG / f"{name}.svg", templates / f"{name}.svg")
    settings = make_settings(templates_dir=templates)
    with Image.open(RESVG / f"{name}.png") as image:
        expected = Image.new("RGBA", image.size, "white")
        expected.alpha_composite(image.convert("RGBA"))
    out = tmp_path / f"{name}.png"
    render_file(settings, name, {}, out, width=expected.width)
    with Image.open(out) as drawn:
        actual = Image.new("RGBA", drawn.size, "white")
        actual.alpha_composite(drawn.convert("RGBA"))
    result = compare(actual.convert("RGB"), expected.convert("RGB"))
    assert result.differing_percent <= RESVG_TOLERANCE, f"{name}: {result.differing_percent:.2f} %"

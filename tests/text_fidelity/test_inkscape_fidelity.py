"""Text fidelity: PixelDrive must draw Inkscape's text the way Inkscape 1.2 exports it.

Every SVG in `cases/` is written the way Inkscape 1.x writes text (line tspans, weights,
italics, spacing, anchors, bidi, fallback fonts, flowed text). `make_expected.sh` exported
each one with Inkscape, seeing only the project's fonts, into `expected/`. This module
renders each case through PixelDrive in-process and compares pixels. These tests are the
acceptance bar for the text engine: with CairoSVG's toy text most of them fail (see the
"before" table in expected/README.md).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from pixeldrive.cli.file_renders import render_file
from pixeldrive.core.config import Settings

HERE = Path(__file__).parent
CASES = sorted(p.stem for p in (HERE / "cases").glob("*.svg"))

# A pixel "differs" when one of its channels is off by more than this (of 255): antialiasing
# and hinting differences between Inkscape's and cairo's rasterisers stay below it, a glyph
# that is missing, misplaced by a pixel or drawn in another face does not.
CHANNEL_THRESHOLD = 32

# Most differing pixels allowed, in % of the image. Inkscape and CairoSVG both draw through
# cairo, so the same glyph outlines at the same positions differ only along a few edges;
# a 1 px shift of a 40 px line of text already costs about 2-4 %.
MAX_DIFFERING_PERCENT = 2.0

# Per-case tolerances, each with its reason. Keep this short: a looser bar hides bugs.
TOLERANCE: dict[str, float] = {}

# Cases with colour emoji, and how many pixels PixelDrive must paint in colour there.
# Inkscape 1.2 (on cairo 1.16) has no colour glyphs: Noto Color Emoji's outlines are empty,
# so it leaves each emoji's place blank (its advance kept, so the text around it is placed
# as ours is). There the pixels PixelDrive paints in colour (a channel spread above
# COLORFUL) are left out of the comparison, and there must be at least that many: the
# emoji's own drawing is checked against blackrenderer (tests/text/test_color_glyphs.py),
# its place and turn on a path in tests/text/test_text_on_path.py. Pick emoji without
# grey or white parts (🔥), so that all of their pixels are colourful.
COLOR_GLYPH_CASES: dict[str, int] = {"path-emoji": 2000}
COLORFUL = 20


@dataclass(frozen=True, slots=True)
class Comparison:
    differing_percent: float
    mean_abs_diff: float
    diff: Image.Image


def _spread(image: Image.Image) -> Image.Image:
    """Per pixel, its largest channel minus its smallest (0 for greys)."""
    r, g, b = image.getchannel(0), image.getchannel(1), image.getchannel(2)
    high = ImageChops.lighter(ImageChops.lighter(r, g), b)
    low = ImageChops.darker(ImageChops.darker(r, g), b)
    return ImageChops.subtract(high, low)


def colorful(image: Image.Image) -> Image.Image:
    """A mask (255) of the pixels painted in colour rather than grey."""
    return _spread(image.convert("RGB")).point(lambda v: 255 if v > COLORFUL else 0)


def compare(
    actual: Image.Image, expected: Image.Image, skip: Image.Image | None = None
) -> Comparison:
    """Share of pixels whose largest channel difference exceeds the threshold, the mean
    absolute difference over all channels, and an image of the differing pixels (red);
    pixels marked in `skip` do not count as differing."""
    actual, expected = actual.convert("RGB"), expected.convert("RGB")
    assert actual.size == expected.size, f"size {actual.size} != expected {expected.size}"
    delta = ImageChops.difference(actual, expected)
    largest = ImageChops.lighter(
        ImageChops.lighter(delta.getchannel(0), delta.getchannel(1)), delta.getchannel(2)
    )
    mask = largest.point(lambda v: 255 if v > CHANNEL_THRESHOLD else 0)
    if skip is not None:
        mask = ImageChops.subtract(mask, skip)
    pixels = actual.width * actual.height
    differing = mask.histogram()[255]
    # An RGB histogram is three 256-bin histograms, one after the other.
    mean = sum((i % 256) * n for i, n in enumerate(delta.histogram())) / (pixels * 3)
    # The expected image faded, with the differing pixels painted red on top.
    diff = Image.blend(expected, Image.new("RGB", expected.size, "white"), 0.7)
    diff.paste(Image.new("RGB", expected.size, (255, 0, 0)), mask=mask)
    return Comparison(100.0 * differing / pixels, mean, diff)


def render_case(name: str, settings: Settings, root: Path) -> Image.Image:
    """Render `cases/<name>.svg` through PixelDrive with no field values; the template is
    copied into `settings.templates_dir` and the PNG written under `root`."""
    shutil.copyfile(HERE / "cases" / f"{name}.svg", settings.templates_dir / f"{name}.svg")
    out = root / f"{name}.png"
    render_file(settings, name, {}, out)
    with Image.open(out) as image:
        return image.convert("RGB")


def test_every_case_has_an_expected_image() -> None:
    assert CASES, "no cases"
    missing = [n for n in CASES if not (HERE / "expected" / f"{n}.png").is_file()]
    assert not missing, f"run tests/text_fidelity/make_expected.sh for {missing}"


@pytest.mark.parametrize("name", CASES)
def test_matches_inkscape(
    name: str, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    actual = render_case(name, make_settings(templates_dir=templates), tmp_path)
    with Image.open(HERE / "expected" / f"{name}.png") as image:
        expected = image.convert("RGB")
    skip = None
    if name in COLOR_GLYPH_CASES:
        skip = colorful(actual)
        painted = skip.histogram()[255]
        assert painted >= COLOR_GLYPH_CASES[name], f"{name}: emoji not drawn ({painted} px)"
    result = compare(actual, expected, skip)
    limit = TOLERANCE.get(name, MAX_DIFFERING_PERCENT)
    if result.differing_percent > limit:
        result.diff.save(tmp_path / f"{name}-diff.png")
        pytest.fail(
            f"{name}: {result.differing_percent:.2f} % of pixels differ from Inkscape "
            f"(limit {limit} %), mean abs diff {result.mean_abs_diff:.2f}/255; "
            f"PixelDrive: {tmp_path / f'{name}.png'}, diff (red): {tmp_path / f'{name}-diff.png'}, "
            f"Inkscape: {HERE / 'expected' / f'{name}.png'}"
        )

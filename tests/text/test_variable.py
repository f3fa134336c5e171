"""A variable font's weight axis, end to end: CSS weights become instances on the axis,
and heavier instances draw heavier strokes."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pixeldrive.render.fetcher import make_fetcher
from pixeldrive.render.rasterize import rasterize
from pixeldrive.text import document
from pixeldrive.text.fonts import FontLibrary
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgtext import TextSetter

FONTS = Path(__file__).parent / "fonts"
FAMILY = "Inter Variable Test"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> FontLibrary:
    conf = tmp_path_factory.mktemp("conf") / "fonts.conf"
    conf.write_text(f"<fontconfig><dir>{FONTS}</dir></fontconfig>")
    return FontLibrary.from_fontconfig(conf, fallback=(FAMILY,))


@pytest.mark.parametrize(
    ("weight", "axis"), [(100, 100.0), (350, 350.0), (650, 650.0), (900, 900.0)]
)
def test_css_weights_are_instances_on_the_axis(
    library: FontLibrary, weight: int, axis: float
) -> None:
    face = library.match([FAMILY], weight)
    assert face.variations == (("wght", axis),)
    assert not face.synthetic_bold


def ink(library: FontLibrary, weight: int) -> int:
    """Dark pixels of a line set at `weight`."""
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="60">'
        '<rect width="400" height="60" fill="#fff"/>'
        f'<text x="10" y="45" font-family="{FAMILY}" font-weight="{weight}" '
        'font-size="36">Hamburgefonstiv</text></svg>'
    )
    root = etree.fromstring(svg.encode())
    runs = GlyphRuns()
    document.prepare(root, (), TextSetter(library, runs))
    gray = rasterize(etree.tostring(root), 400, 60, make_fetcher(2**20, 10**7), runs).convert("L")
    return sum(gray.histogram()[:128])


def test_heavier_instances_draw_more_ink(library: FontLibrary) -> None:
    thin, regular, semibold, black = (ink(library, w) for w in (100, 400, 650, 900))
    assert 0 < thin < regular < semibold < black
    # Not a synthetic emboldening of one outline: the thin instance is far lighter.
    assert thin < 0.6 * regular

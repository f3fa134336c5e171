"""Glyph runs belong to the draw that uses them: a template version's static runs live with
its entry in the worker, a render's own runs with the render. Two renders cannot see each
other's runs, a failed render leaves none behind, nothing process-wide grows with the
number of renders, and CairoSVG's tag table holds a router, no data."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator, Sized
from dataclasses import replace
from pathlib import Path
from typing import Any

import cairosvg.bounding_box
import cairosvg.surface
import pytest
from lxml import etree
from PIL import Image

from pixeldrive.core.config import Settings
from pixeldrive.render import worker
from pixeldrive.render.effects import geometry
from pixeldrive.render.fetcher import make_fetcher
from pixeldrive.render.job import RenderJob
from pixeldrive.render.rasterize import rasterize
from pixeldrive.templates.version import template_version
from pixeldrive.text import document, draw
from pixeldrive.text.fonts import library_for
from pixeldrive.text.layout import Run
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgtext import GLYPHS, PD_NS, TextSetter
from pixeldrive.wiring import worker_config

WIDTH, HEIGHT = 300, 120
FETCH = make_fetcher(2**20, 10**7)
STYLE = "font-family:Inter;font-size:28px;fill:#000"
CARD = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
    f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
    f'<text x="10" y="40" style="{STYLE}">Static secret</text>'
    f'<text data-pd-field="title" x="10" y="80" style="{STYLE}">Title</text>'
    f'<text data-pd-field="subtitle" x="10" y="110" style="{STYLE}">Sub</text></svg>'
)
NO_FONT_HAS = "\U0001cf05"  # a character none of the project's fonts has


@pytest.fixture
def config(make_settings: Any) -> Any:
    settings: Settings = make_settings()
    return replace(worker_config(settings), nice=0, backdrop_bytes=0)


def job_for(tmp_path: Path, svg: str, name: str = "card", **fields: str) -> RenderJob:
    source = tmp_path / f"{name}.svg"
    source.write_text(svg)
    version = template_version(svg.encode())
    return RenderJob(version, str(source), dict(fields), WIDTH, HEIGHT, "png")


def dark_pixels(png: bytes) -> int:
    from io import BytesIO

    gray = Image.open(BytesIO(png)).convert("L")
    return sum(gray.histogram()[:128])


def alive(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


# -- the table ------------------------------------------------------------------------------


def test_a_render_table_falls_back_to_its_parent_but_not_to_a_sibling() -> None:
    library = library_for(str(Path(__file__).parents[2] / "conf" / "fonts.conf"))
    static = GlyphRuns()
    root = etree.fromstring(CARD.encode())
    document.prepare(root, (), TextSetter(library, static))
    one, two = GlyphRuns(static), GlyphRuns(static)
    static_refs = [e.get("ref", "") for e in root.iter(GLYPHS)]
    run = static.get(static_refs[0])
    assert run is not None
    ref = one.add(run)
    assert ref not in static_refs, "references are unique along one chain"
    assert one.get(ref) is run
    assert two.get(ref) is None, "a sibling table does not see another render's runs"
    assert all(one.get(r) is static.get(r) is not None for r in static_refs)
    assert (static.kept, one.kept, two.kept) == (len(static_refs), 1, 0)


# -- in a worker ----------------------------------------------------------------------------


def test_two_renders_cannot_see_each_others_runs(
    config: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker.init_worker(config)
    handed_out: list[str] = []
    add = GlyphRuns.add

    def spy(self: GlyphRuns, run: Run) -> str:
        ref = add(self, run)
        handed_out.append(ref)
        return ref

    monkeypatch.setattr(GlyphRuns, "add", spy)
    drawn = worker.run(job_for(tmp_path, CARD, title="Private title", subtitle="More"))
    assert dark_pixels(drawn.data) > 0
    assert len(handed_out) >= 3, "the static text and both fields were set"
    # Another template whose own document refers to every run the first one had, and
    # which has no text of its own: it must draw none of them.
    glyphs = "".join(f'<pd:glyphs ref="{ref}"/>' for ref in handed_out)
    other = (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:pd="{PD_NS}" width="{WIDTH}"'
        f' height="{HEIGHT}"><rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
        f'<g fill="#000">{glyphs}</g></svg>'
    )
    assert dark_pixels(worker.run(job_for(tmp_path, other, "other")).data) == 0


def test_a_failed_render_leaves_nothing_behind(config: Any, tmp_path: Path) -> None:
    worker.init_worker(config)
    assert worker.run(job_for(tmp_path, CARD, title="Fine", subtitle="Fine")).data
    (prepared,) = worker._State.templates.values()
    static, runs = prepared.runs.kept, alive(Run)
    # The title is set (its runs kept) before the subtitle fails.
    failing = job_for(tmp_path, CARD, title="Fine too", subtitle=f"x{NO_FONT_HAS}")
    for task in ("run", "layout"):
        status, why = worker.answer(task, failing)
        assert status == "input", why
    assert prepared.runs.kept == static
    assert alive(Run) == runs
    tables = alive(GlyphRuns)
    # A version whose static text fails is not kept, nor are any of its runs.
    broken = CARD.replace("Static secret", f"Static {NO_FONT_HAS}")
    assert worker.answer("run", job_for(tmp_path, broken, "broken", title="A"))[0] == "input"
    assert list(worker._State.templates.values()) == [prepared]
    assert alive(Run) == runs
    assert alive(GlyphRuns) == tables


def _containers() -> Iterator[tuple[str, int]]:
    """Every container held at module or class level in the engine's and the renderer's
    modules (and unbounded caches: a bounded one, such as text/glyphs.py's number
    formatting, may fill up to its bound), and CairoSVG's tables, with its size."""
    names = [n for n in sys.modules if n.startswith(("pixeldrive.text", "pixeldrive.render"))]
    for name in names:
        for attr, value in vars(sys.modules[name]).items():
            holders = [(attr, value)]
            if isinstance(value, type) and value.__module__ == name:
                holders += [(f"{attr}.{a}", v) for a, v in vars(value).items()]
            for label, held in holders:
                if isinstance(held, dict | list | set) or (
                    isinstance(held, Sized) and type(held).__module__ == "collections"
                ):
                    yield f"{name}.{label}", len(held)
                if hasattr(held, "cache_info") and held.cache_info().maxsize is None:
                    yield f"{name}.{label}()", held.cache_info().currsize  # unbounded
    yield "cairosvg TAGS", len(cairosvg.surface.TAGS)
    yield "cairosvg BOUNDING_BOX_METHODS", len(cairosvg.bounding_box.BOUNDING_BOX_METHODS)


def test_nothing_process_wide_grows_with_the_number_of_renders(config: Any, tmp_path: Path) -> None:
    worker.init_worker(config)
    formats = ("png", "svg", "pdf")
    # Warm: every character used below has been shaped and drawn once.
    for value in ("0123456789", "9876543210"):
        for format in formats:
            worker.run(replace(job_for(tmp_path, CARD, title=value, subtitle=value), format=format))
    before, runs, tables = dict(_containers()), alive(Run), alive(GlyphRuns)
    for i in range(50):
        value = f"{i:02d}{50 - i:02d}"
        job = job_for(tmp_path, CARD, title=value, subtitle=value[::-1])
        worker.run(replace(job, format=formats[i % 3]))
        worker.layout(job)
    after = dict(_containers())
    grown = {k: (before.get(k), n) for k, n in after.items() if n > before.get(k, 0)}
    assert not grown
    assert alive(Run) == runs
    assert alive(GlyphRuns) == tables


# -- CairoSVG's tables ----------------------------------------------------------------------


def _is_stateless_router(handler: Any, module: Any = draw) -> bool:
    """A plain module-level function of `module`, closing over nothing."""
    return (
        type(handler).__name__ == "function"
        and handler.__module__ == module.__name__
        and getattr(module, handler.__name__) is handler
        and handler.__closure__ is None
        and not handler.__defaults__
        and not handler.__kwdefaults__
        and not vars(handler)
    )


def test_cairosvg_tables_route_our_element_and_hold_no_data(config: Any, tmp_path: Path) -> None:
    worker.init_worker(config)
    worker.run(job_for(tmp_path, CARD, title="Routed", subtitle="Routed"))
    assert _is_stateless_router(cairosvg.surface.TAGS[GLYPHS])
    assert _is_stateless_router(cairosvg.bounding_box.BOUNDING_BOX_METHODS[GLYPHS])
    # The effects add one more, as stateless: the box of an <image>, which CairoSVG lacks.
    assert _is_stateless_router(cairosvg.bounding_box.BOUNDING_BOX_METHODS["image"], geometry)
    # Nothing else of ours in them: every other entry is CairoSVG's own.
    ours = {GLYPHS: {GLYPHS}, "boxes": {GLYPHS, "image"}}
    tables = {GLYPHS: cairosvg.surface.TAGS, "boxes": cairosvg.bounding_box.BOUNDING_BOX_METHODS}
    for name, table in tables.items():
        foreign = {k for k, v in table.items() if not v.__module__.startswith("cairosvg")}
        assert foreign == ours[name]
    # Without a surface that carries runs, a glyph element draws nothing.
    svg = CARD.encode()
    root = etree.fromstring(svg)
    static = GlyphRuns()
    document.prepare(root, (), worker._setter(static))
    assert dark_pixels(cairosvg.svg2png(bytestring=etree.tostring(root))) == 0
    assert _ink(rasterize(etree.tostring(root), WIDTH, HEIGHT, FETCH, static)) > 0


def _ink(image: Image.Image) -> int:
    return sum(image.convert("L").histogram()[:128])


# -- content CairoSVG draws on surfaces of its own --------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '<defs><pattern id="p" width="300" height="120" patternUnits="userSpaceOnUse">'
        '<text x="10" y="60" font-family="Inter" font-size="40">Hi</text></pattern></defs>'
        '<rect width="300" height="120" fill="url(#p)"/>',
        '<defs><mask id="m"><text x="10" y="60" font-family="Inter" font-size="40"'
        ' fill="#fff">Hi</text></mask></defs>'
        '<rect width="300" height="120" fill="#000" mask="url(#m)"/>',
    ],
    ids=["pattern", "mask"],
)
def test_text_in_a_pattern_or_a_mask_is_drawn(config: Any, body: str) -> None:
    worker.init_worker(config)
    plain = '<text x="10" y="60" font-family="Inter" font-size="40">Hi</text>'
    inks = []
    for content in (body, plain):
        root = etree.fromstring(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>{content}</svg>'.encode()
        )
        static = GlyphRuns()
        document.prepare(root, (), worker._setter(static))
        # Drawn with a render's table over the static one, as the worker does.
        image = rasterize(etree.tostring(root), WIDTH, HEIGHT, FETCH, GlyphRuns(static))
        inks.append(_ink(image))
    assert inks[0] == inks[1] > 0

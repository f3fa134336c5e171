"""The cost of setting text: PixelDrive's engine against CairoSVG's own text, in-process.

Three measures, each a ratio taken side by side in one run (the machine is shared):

1. 100 glyphs: a one-line <text> of 100 characters, drawn by CairoSVG's toy text, and
   set by the engine (shape, lay out, keep runs in a run table) then drawn through the
   glyph tag handler. Cold = a fresh process's first time (font tables, glyph outlines); warm =
   glyph cache full. The figure is the time over an empty document's, per glyph.
2. The og-card template, filled and drawn to pixels (no encode), with CairoSVG's text
   ("before": the filled SVG handed to CairoSVG as is) and with the engine ("after": what
   the worker does: fill, set field text, draw; static text set once per version).

Usage: python bench/text.py [--runs N] [--write]   (writes the ``text`` section of
bench/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from common import ROOT, command_line, machine_line, python_version, section, table, write_readme

os.environ.setdefault("FONTCONFIG_FILE", str(ROOT / "conf" / "fonts.conf"))

BEGIN, END = "<!-- text:begin -->", "<!-- text:end -->"
LINE = ("Sphinx of black quartz, judge my vow! The quick brown fox jumps over the lazy dog. " * 2)[
    :100
]
assert len(LINE) == 100


def _doc(body: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="60">'
        '<rect width="1600" height="60" fill="#fff"/>' + body + "</svg>"
    ).encode()


TEXT = f'<text x="10" y="40" font-family="Inter" font-size="24">{LINE}</text>'


def medians_ms(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median ms of each function, calls interleaved round-robin so that a busy moment of
    the machine falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def glyph_costs(runs: int) -> dict[str, float]:
    """µs per glyph above an empty document: CairoSVG's text, the engine warm."""
    from lxml import etree

    from pixeldrive.render.rasterize import rasterize
    from pixeldrive.text import document
    from pixeldrive.text.fonts import library_for
    from pixeldrive.text.runs import GlyphRuns
    from pixeldrive.text.svgtext import TextSetter

    def fetch(*_: object, **__: object) -> dict[str, object]:
        raise ValueError("no fetches")

    library = library_for(os.environ["FONTCONFIG_FILE"])

    def toy() -> None:
        rasterize(_doc(TEXT), 1600, 60, fetch)

    def empty() -> None:
        rasterize(_doc(""), 1600, 60, fetch)

    def engine() -> None:
        root, runs = etree.fromstring(_doc(TEXT)), GlyphRuns()
        document.prepare(root, (), TextSetter(library, runs))
        rasterize(etree.tostring(root), 1600, 60, fetch, runs)

    def engine_set_only() -> None:
        root = etree.fromstring(_doc(TEXT))
        document.prepare(root, (), TextSetter(library, GlyphRuns()))

    fns = {"empty": empty, "cairosvg": toy, "engine": engine, "engine_set": engine_set_only}
    for warm in fns.values():
        warm()
    ms = medians_ms(fns, runs)
    return {  # ms per 100 glyphs → µs per glyph
        "cairosvg": (ms["cairosvg"] - ms["empty"]) * 10,
        "engine": (ms["engine"] - ms["empty"]) * 10,
        "engine_set": ms["engine_set"] * 10,
    }


COLD = """
import os, time
os.environ["FONTCONFIG_FILE"] = {conf!r}
from lxml import etree
from pixeldrive.render.rasterize import rasterize
from pixeldrive.text import document
from pixeldrive.text.fonts import library_for
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgtext import TextSetter
def fetch(*a, **k): raise ValueError
rasterize({empty!r}, 1600, 60, fetch)
start = time.perf_counter()
runs = GlyphRuns()
setter = TextSetter(library_for(os.environ["FONTCONFIG_FILE"]), runs)
root = etree.fromstring({doc!r})
document.prepare(root, (), setter)
rasterize(etree.tostring(root), 1600, 60, fetch, runs)
print((time.perf_counter() - start) * 1000)
"""


def cold_engine_ms() -> float:
    """A fresh process's first 100 glyphs (font scan, tables, outlines), in ms."""
    code = COLD.format(conf=os.environ["FONTCONFIG_FILE"], empty=_doc(""), doc=_doc(TEXT))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(out.stdout.strip().splitlines()[-1])


def og_card(runs: int) -> dict[str, float]:
    """The og-card filled with its preview values, drawn (no encode): ms, before/after."""
    from lxml import etree

    from pixeldrive.core.config import load_settings
    from pixeldrive.render import worker
    from pixeldrive.render.job import RenderJob
    from pixeldrive.render.rasterize import rasterize
    from pixeldrive.render.substitute import fill_tree
    from pixeldrive.templates.fields import discover_fields
    from pixeldrive.templates.model import compile_template
    from pixeldrive.templates.normalize import normalize
    from pixeldrive.templates.parser import parse_svg
    from pixeldrive.text.runs import GlyphRuns
    from pixeldrive.wiring import worker_config

    settings = load_settings()
    source = settings.templates_dir / "og-card.svg"
    data = source.read_bytes()
    template = compile_template("og-card", data, max_image_bytes=settings.render.max_data_uri_bytes)
    values = template.preview_values()
    worker.init_worker(worker_config(settings))
    fetcher = worker._State.fetcher
    assert fetcher is not None
    root = parse_svg(data)
    normalize(root)
    fields = discover_fields(root)
    width, height = template.width, template.height

    def before() -> None:
        rasterize(etree.tostring(fill_tree(root, fields, values)[0]), width, height, fetcher)

    job = RenderJob(template.version, str(source), values, width, height, "png")
    prepared = worker._prepared(job)

    def after() -> None:
        runs = GlyphRuns(prepared.runs)
        tree, _ = worker._filled(prepared, job, runs)
        rasterize(etree.tostring(tree), width, height, fetcher, runs)

    before()
    after()
    return medians_ms({"before": before, "after": after}, runs)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    cold = statistics.median(cold_engine_ms() for _ in range(3))
    glyphs = glyph_costs(args.runs)
    card = og_card(args.runs)
    rows = [
        ("CairoSVG's own text (toy API), per glyph", f"{glyphs['cairosvg']:.1f} µs", "1.00×"),
        (
            "engine, warm glyph cache: set + draw, per glyph",
            f"{glyphs['engine']:.1f} µs",
            f"{glyphs['engine'] / glyphs['cairosvg']:.2f}×",
        ),
        (
            "engine, warm: setting alone (shape, lay out), per glyph",
            f"{glyphs['engine_set']:.1f} µs",
            "",
        ),
        ("engine, cold process: first 100 glyphs, set + draw", f"{cold:.1f} ms", ""),
        ("og-card drawn, CairoSVG's text (before)", f"{card['before']:.1f} ms", "1.00×"),
        (
            "og-card drawn, the engine's text (after)",
            f"{card['after']:.1f} ms",
            f"{card['after'] / card['before']:.2f}×",
        ),
    ]
    body = table(("measure", "median", "ratio"), rows)
    facts = "\n".join([machine_line(), f"- Python {python_version()}, runs {args.runs}"])
    text = section(BEGIN, END, body, facts, command_line("text.py", argv), started)
    print(text)
    if args.write:
        write_readme(text, BEGIN, END)


if __name__ == "__main__":
    main(sys.argv[1:])

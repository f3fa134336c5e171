"""Drawing glyph runs inside CairoSVG: a tag handler for the engine's `<pd:glyphs>`.

CairoSVG parses path data in Python (about 80 µs a glyph); its own text takes about 30.
So a laid-out run does not go through path data at all: the glyph element carries a
reference to the run, kept in this process, and the handler appends each glyph's outline,
converted once per font and glyph into a cairo path, with two calls into cairo. CairoSVG
then fills and strokes the path with the paint the element inherits, as it would a
`<path>`: colour fields, gradients, opacity and strokes work unchanged.
"""

from __future__ import annotations

import itertools
from typing import Any

import cairocffi
from cairosvg import bounding_box, surface

from pixeldrive.text.fonts import SYNTHETIC_OBLIQUE_SHEAR, LoadedFont
from pixeldrive.text.layout import Run
from pixeldrive.text.svgtext import GLYPHS

_ffi = cairocffi.ffi
_lib = cairocffi.cairo
_runs: dict[str, Run] = {}
_per_render: list[str] = []
_counter = itertools.count()
_paths: dict[tuple[int, int], Any] = {}
_scratch = cairocffi.Context(cairocffi.RecordingSurface(cairocffi.CONTENT_ALPHA, None))


def register(run: Run, prefix: str = "r") -> str:
    """Keep `run` for drawing; the returned reference goes on its glyph element. Runs
    under the default prefix belong to one render and go with `forget_prefix("r")`."""
    ref = f"{prefix}{next(_counter)}"
    _runs[ref] = run
    if prefix == "r":
        _per_render.append(ref)
    return ref


def forget_prefix(prefix: str) -> None:
    """Drop the runs registered under `prefix` (one render's, or a template version's)."""
    if prefix == "r":  # after every render: only its own runs, not every static one
        for ref in _per_render:
            _runs.pop(ref, None)
        _per_render.clear()
        return
    for ref in [r for r in _runs if r.startswith(prefix)]:
        del _runs[ref]


def run_of(ref: str) -> Run | None:
    return _runs.get(ref)


class _CairoPen:
    """HarfBuzz draw callbacks onto the scratch context, y flipped to SVG's."""

    def __init__(self, context: cairocffi.Context) -> None:
        self.c = context
        self.x = self.y = 0.0

    def moveTo(self, p: tuple[float, float]) -> None:  # the pen protocol
        self.c.move_to(p[0], -p[1])
        self.x, self.y = p

    def lineTo(self, p: tuple[float, float]) -> None:
        self.c.line_to(p[0], -p[1])
        self.x, self.y = p

    def curveTo(self, *points: tuple[float, float]) -> None:
        (x1, y1), (x2, y2), (x, y) = points
        self.c.curve_to(x1, -y1, x2, -y2, x, -y)
        self.x, self.y = x, y

    def qCurveTo(self, *points: tuple[float, float]) -> None:
        # One quadratic segment per call from HarfBuzz; raised to a cubic for cairo.
        (qx, qy), (x, y) = points[-2], points[-1]
        x0, y0 = self.x, self.y
        self.c.curve_to(
            x0 + 2 / 3 * (qx - x0),
            -(y0 + 2 / 3 * (qy - y0)),
            x + 2 / 3 * (qx - x),
            -(y + 2 / 3 * (qy - y)),
            x,
            -y,
        )
        self.x, self.y = x, y

    def closePath(self) -> None:
        self.c.close_path()

    def endPath(self) -> None:
        pass


def glyph_cairo_path(font: LoadedFont, gid: int) -> Any:
    """The outline of `gid` as a cairo path in font units (y down), made once."""
    key = (id(font), gid)
    path = _paths.get(key)
    if path is None:
        _scratch.new_path()
        font.hb_font.draw_glyph_with_pen(gid, _CairoPen(_scratch))
        raw = _lib.cairo_copy_path(_scratch._pointer)
        path = _paths[key] = _ffi.gc(raw, _lib.cairo_path_destroy)
        _scratch.new_path()
    return path


def draw_glyphs(svg: Any, node: Any) -> None:
    """CairoSVG tag handler: append the run's outlines to the current path."""
    run = _runs.get(node.get("ref", ""))
    if run is None or not run.glyphs or run.size <= 0:
        return  # font-size 0 draws nothing (and would divide by zero below)
    context = svg.context
    pointer = context._pointer
    scale = run.size / run.font.upem
    font = run.font
    _lib.cairo_save(pointer)
    _lib.cairo_new_path(pointer)
    # One scale for the run, then a relative move per glyph in font units: two calls
    # into cairo a glyph. A synthetic slant shears about each glyph's own origin.
    _lib.cairo_scale(pointer, scale, scale)
    skew = _ffi.new("cairo_matrix_t *", (1, 0, -SYNTHETIC_OBLIQUE_SHEAR, 1, 0, 0))
    unskew = _ffi.new("cairo_matrix_t *", (1, 0, SYNTHETIC_OBLIQUE_SHEAR, 1, 0, 0))
    at_x = at_y = 0.0
    for gid, x, y in run.glyphs:
        gx, gy = x / scale, y / scale
        _lib.cairo_translate(pointer, gx - at_x, gy - at_y)
        at_x, at_y = gx, gy
        if run.skew:
            _lib.cairo_transform(pointer, skew)
            _lib.cairo_append_path(pointer, glyph_cairo_path(font, gid))
            _lib.cairo_transform(pointer, unskew)
        else:
            _lib.cairo_append_path(pointer, glyph_cairo_path(font, gid))
    _lib.cairo_restore(pointer)
    _lib.cairo_save(pointer)
    for x, y, width, height in run.rects:
        _lib.cairo_rectangle(pointer, x, y, width, height)
    _lib.cairo_restore(pointer)


def _bounding_box(svg: Any, node: Any) -> tuple[float, float, float, float] | None:
    """For gradients in objectBoundingBox units: the run's em boxes."""
    run = _runs.get(node.get("ref", ""))
    if run is None or not run.glyphs:
        return None
    scale = run.size / run.font.upem
    top = min(y for _, _, y in run.glyphs) - run.font.ascender * scale
    bottom = max(y for _, _, y in run.glyphs) - run.font.descender * scale
    left = min(x for _, x, _ in run.glyphs)
    right = max(x for _, x, _ in run.glyphs) + run.size * 0.6
    return left, top, right - left, bottom - top


def install() -> None:
    """Teach CairoSVG the glyph element (idempotent)."""
    surface.TAGS[GLYPHS] = draw_glyphs
    bounding_box.BOUNDING_BOX_METHODS[GLYPHS] = _bounding_box

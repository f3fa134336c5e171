"""Drawing glyph runs inside CairoSVG: the engine's `<pd:glyphs>` element and the surfaces
that carry the runs it refers to.

CairoSVG parses path data in Python (about 80 µs a glyph); its own text takes about 30.
So a laid-out run does not go through path data at all: the glyph element carries a
reference to the run, looked up in the run table (text/runs.py) of the draw it is part
of, and the handler appends each glyph's outline, converted once per font and glyph into
a cairo path, with two calls into cairo. CairoSVG then fills and strokes the path with the
paint the element inherits, as it would a `<path>`: colour fields, gradients, opacity and
strokes work unchanged.

Every draw that may hold glyph elements goes through a surface defined here, made with the
run table of its document (`glyph_runs`); the table lives as long as the draw's caller
keeps it, and nothing in this module keeps any.
"""

from __future__ import annotations

from typing import Any

import cairocffi
from cairosvg import bounding_box as cairosvg_boxes
from cairosvg import surface as cairosvg_surface

from pixeldrive.text.fonts import SYNTHETIC_OBLIQUE_SHEAR, LoadedFont
from pixeldrive.text.layout import Run
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgtext import GLYPHS

_ffi = cairocffi.ffi
_lib = cairocffi.cairo
# Where outlines are built before they are copied out: a path is always cleared after use.
_scratch = cairocffi.Context(cairocffi.RecordingSurface(cairocffi.CONTENT_ALPHA, None))


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
    """The outline of `gid` as a cairo path in font units (y down), made once per font
    and kept by the font."""
    paths = font.cairo_paths
    path = paths.get(gid)
    if path is None:
        _scratch.new_path()
        font.hb_font.draw_glyph_with_pen(gid, _CairoPen(_scratch))
        raw = _lib.cairo_copy_path(_scratch._pointer)
        path = paths[gid] = _ffi.gc(raw, _lib.cairo_path_destroy)
        _scratch.new_path()
    return path


def draw_run(context: cairocffi.Context, run: Run) -> None:
    """Append the run's outlines and decorations to the context's path."""
    if not run.glyphs or run.size <= 0:
        return  # font-size 0 draws nothing (and would divide by zero below)
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


def run_box(run: Run) -> tuple[float, float, float, float] | None:
    """The run's em boxes (x, y, width, height), for objectBoundingBox units."""
    if not run.glyphs:
        return None
    scale = run.size / run.font.upem
    top = min(y for _, _, y in run.glyphs) - run.font.ascender * scale
    bottom = max(y for _, _, y in run.glyphs) - run.font.descender * scale
    left = min(x for _, x, _ in run.glyphs)
    right = max(x for _, x, _ in run.glyphs) + run.size * 0.6
    return left, top, right - left, bottom - top


# -- routing CairoSVG's calls to the draw's own runs ------------------------------------


def runs_of(svg: Any, node: Any) -> GlyphRuns | None:
    """The run table a glyph element drawn on the CairoSVG surface `svg` refers to.

    Our surfaces carry it. A mask's or a pattern's content is drawn by CairoSVG on an
    SVGSurface of its own, which keeps no link to the surface it was made from: then the
    table is the one of the document the node belongs to (its root, marked by our surface
    when it started drawing). A document of its own, such as an SVG `<image>`, has none.
    """
    runs = getattr(svg, "glyph_runs", None)
    if runs is None:
        root = node
        while root.parent is not None:
            root = root.parent
        runs = getattr(root, "glyph_runs", None)
    return runs


def draw_glyphs(svg: Any, node: Any) -> None:
    """CairoSVG's handler for the glyph element: routes the node to the run it refers to
    in the draw's own table. It holds nothing itself."""
    runs = runs_of(svg, node)
    run = runs.get(node.get("ref", "")) if runs is not None else None
    if run is not None:
        draw_run(svg.context, run)


def glyphs_box(svg: Any, node: Any) -> tuple[float, float, float, float] | None:
    """CairoSVG's bounding box of a glyph element (gradients in objectBoundingBox units),
    routed the same way."""
    runs = runs_of(svg, node)
    run = runs.get(node.get("ref", "")) if runs is not None else None
    return run_box(run) if run is not None else None


# CairoSVG's Surface.draw finds an element's handler in its module-level TAGS, and
# calculate_bounding_box in BOUNDING_BOX_METHODS: an element it does not know there is
# neither drawn nor filled. So our element has an entry in each; the entries are the two
# routing functions above, which hold no data: the runs stay with the draw (on its
# surface). Set here, where the surfaces that carry runs are defined, so that no such
# surface can exist without them; setting them again (a re-import) changes nothing.
cairosvg_surface.TAGS[GLYPHS] = draw_glyphs
cairosvg_boxes.BOUNDING_BOX_METHODS[GLYPHS] = glyphs_box


class _Carrying(cairosvg_surface.Surface):  # type: ignore[misc]
    """A CairoSVG surface that draws one document with the glyph runs it refers to."""

    glyph_runs: GlyphRuns

    def __init__(
        self, tree: Any, output: Any, dpi: float, *, glyph_runs: GlyphRuns, **options: Any
    ) -> None:
        self.glyph_runs = glyph_runs
        tree.glyph_runs = glyph_runs  # for masks and patterns: see runs_of
        super().__init__(tree, output, dpi, **options)  # draws the document


class PNGWithRuns(_Carrying, cairosvg_surface.PNGSurface):  # type: ignore[misc]
    """CairoSVG's PNG (image) surface, drawing glyph elements from `glyph_runs`."""


class PDFWithRuns(_Carrying, cairosvg_surface.PDFSurface):  # type: ignore[misc]
    """CairoSVG's PDF surface, drawing glyph elements from `glyph_runs`."""


class PixelsWithRuns(PNGWithRuns):
    """Draws onto an existing cairo image surface (a backdrop's pixels) instead of a new
    one."""

    def __init__(self, tree: Any, target: Any, *, glyph_runs: GlyphRuns, **options: Any) -> None:
        self._target = target
        super().__init__(tree, None, 96, glyph_runs=glyph_runs, **options)

    def _create_surface(self, width: float, height: float) -> tuple[Any, int, int]:
        return self._target, self._target.get_width(), self._target.get_height()

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

import math
from collections.abc import Sequence
from typing import Any

import cairocffi
from cairosvg import bounding_box as cairosvg_boxes
from cairosvg import surface as cairosvg_surface
from cairosvg.helpers import paint as parse_paint

from pixeldrive.text import color_glyphs as cg
from pixeldrive.text import glyph_cache
from pixeldrive.text.affine import Box, Matrix, apply, invert, multiply
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
    """The outline of `gid` as a cairo path in font units (y down), kept in the glyph
    cache (text/glyph_cache.py)."""
    return glyph_cache.GLYPHS.get_or_make(
        (font.token, glyph_cache.CAIRO_PATH, gid), lambda: _cairo_path(font, gid), _points
    )


def _cairo_path(font: LoadedFont, gid: int) -> Any:
    _scratch.new_path()
    font.hb_font.draw_glyph_with_pen(gid, _CairoPen(_scratch))
    raw = _lib.cairo_copy_path(_scratch._pointer)
    _scratch.new_path()
    return _ffi.gc(raw, _lib.cairo_path_destroy)


def _points(path: Any) -> int:
    return int(path.num_data) * 16 + 64  # cairo_path_data_t: 16 bytes each


def draw_run(context: cairocffi.Context, run: Run) -> None:
    """Append the run's outlines and decorations to the context's path."""
    if not run.glyphs or run.size <= 0:
        return  # font-size 0 draws nothing (and would divide by zero below)
    pointer = context._pointer
    if not run.plain:
        _draw_turned(pointer, run)
        return
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


def _draw_turned(pointer: Any, run: Run) -> None:
    """draw_run for turned or stretched glyphs: each outline appended under its own matrix
    (one call to set it, one to append), after the context's own."""
    font = run.font
    base = _ffi.new("cairo_matrix_t *")
    _lib.cairo_get_matrix(pointer, base)
    outer = (base.xx, base.yx, base.xy, base.yy, base.x0, base.y0)
    _lib.cairo_save(pointer)
    _lib.cairo_new_path(pointer)
    for gid, matrix in run.matrices():
        _lib.cairo_set_matrix(pointer, _matrix(multiply(outer, matrix)))
        _lib.cairo_append_path(pointer, glyph_cairo_path(font, gid))
    _lib.cairo_restore(pointer)
    _append_rects(pointer, run)


def run_box(run: Run) -> tuple[float, float, float, float] | None:
    """The run's em boxes (x, y, width, height), for objectBoundingBox units."""
    if not run.glyphs:
        return None
    if not run.plain:
        return _turned_box(run)
    scale = run.size / run.font.upem
    top = min(y for _, _, y in run.glyphs) - run.font.ascender * scale
    bottom = max(y for _, _, y in run.glyphs) - run.font.descender * scale
    left = min(x for _, x, _ in run.glyphs)
    right = max(x for _, x, _ in run.glyphs) + run.size * 0.6
    return left, top, right - left, bottom - top


def _turned_box(run: Run) -> tuple[float, float, float, float]:
    """The box around every turned (or stretched) glyph's em box."""
    font = run.font
    corners = [
        (x, y)
        for x in (0.0, 0.6 * font.upem)
        for y in (-float(font.ascender), -float(font.descender))
    ]
    xs: list[float] = []
    ys: list[float] = []
    for _, matrix in run.matrices():
        for corner in corners:
            x, y = apply(matrix, corner)
            xs.append(x)
            ys.append(y)
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


# -- colour glyphs --------------------------------------------------------------------------
#
# A colour glyph's display list (text/color_glyphs.py) is compiled once per font and glyph
# into a flat program of (op, a, b) steps holding cairo objects made once (paths, matrices,
# gradient patterns); `_cairo_glyph` says how it is then drawn. The steps:

_FILL, _FILL_SOURCE, _PAINT, _PAINT_SOURCE, _TRANSFORM, _CLIP, _RESTORE, _CALL = range(8)
Step = tuple[int, Any, Any]

# CairoSVG's cairo and ours are one library: operators by hb.PaintCompositeMode value.
_OPERATORS: tuple[int, ...] = (
    cairocffi.OPERATOR_CLEAR,
    cairocffi.OPERATOR_SOURCE,
    cairocffi.OPERATOR_DEST,
    cairocffi.OPERATOR_OVER,
    cairocffi.OPERATOR_DEST_OVER,
    cairocffi.OPERATOR_IN,
    cairocffi.OPERATOR_DEST_IN,
    cairocffi.OPERATOR_OUT,
    cairocffi.OPERATOR_DEST_OUT,
    cairocffi.OPERATOR_ATOP,
    cairocffi.OPERATOR_DEST_ATOP,
    cairocffi.OPERATOR_XOR,
    cairocffi.OPERATOR_ADD,
    cairocffi.OPERATOR_SCREEN,
    cairocffi.OPERATOR_OVERLAY,
    cairocffi.OPERATOR_DARKEN,
    cairocffi.OPERATOR_LIGHTEN,
    cairocffi.OPERATOR_COLOR_DODGE,
    cairocffi.OPERATOR_COLOR_BURN,
    cairocffi.OPERATOR_HARD_LIGHT,
    cairocffi.OPERATOR_SOFT_LIGHT,
    cairocffi.OPERATOR_DIFFERENCE,
    cairocffi.OPERATOR_EXCLUSION,
    cairocffi.OPERATOR_MULTIPLY,
    cairocffi.OPERATOR_HSL_HUE,
    cairocffi.OPERATOR_HSL_SATURATION,
    cairocffi.OPERATOR_HSL_COLOR,
    cairocffi.OPERATOR_HSL_LUMINOSITY,
)
_CLEAR, _SRC, _DEST, _SRC_OVER, _DEST_OVER, _SRC_IN, _DEST_IN = range(7)
_EXTENDS = (cairocffi.EXTEND_PAD, cairocffi.EXTEND_REPEAT, cairocffi.EXTEND_REFLECT)  # by hb value
_MAX_PATCH = math.pi / 8  # the widest arc one mesh patch of a sweep spans


class _Replay:
    """What a program's rarer steps need while it runs: the text's colour (for foreground
    paints) and the groups popped for a mask."""

    __slots__ = ("foreground", "held")

    def __init__(self, foreground: cg.RGBA) -> None:
        self.foreground = foreground
        self.held: list[Any] = []


def _matrix(m: Matrix) -> Any:
    return _ffi.new("cairo_matrix_t *", m)


def _add_stops(pattern: Any, stops: Sequence[cg.Stop], colors: Sequence[cg.RGBA]) -> None:
    for stop, (r, g, b, a) in zip(stops, colors, strict=True):
        _lib.cairo_pattern_add_color_stop_rgba(pattern, stop.offset, r, g, b, a)


def _gradient(paint: cg.Linear | cg.Radial | cg.Sweep, foreground: cg.RGBA) -> Any:
    """A new cairo pattern (not yet owned) for a gradient, in its own coordinates."""
    colors = [cg.resolve(s.rgba, s.foreground, foreground) for s in paint.stops]
    if isinstance(paint, cg.Sweep):
        return _mesh(paint, colors)
    if isinstance(paint, cg.Linear):
        pattern = _lib.cairo_pattern_create_linear(paint.x0, paint.y0, paint.x1, paint.y1)
    else:
        pattern = _lib.cairo_pattern_create_radial(
            paint.x0, paint.y0, paint.r0, paint.x1, paint.y1, paint.r1
        )
    _add_stops(pattern, paint.stops, colors)
    _lib.cairo_pattern_set_extend(pattern, _EXTENDS[paint.extend])
    return pattern


def _mesh(sweep: cg.Sweep, colors: Sequence[cg.RGBA]) -> Any:
    """cairo has no sweep gradient: a mesh of patches, each a sector of at most π/8 whose
    arc is one cubic and whose colour goes linearly from one edge to the other, as
    hb-cairo draws them; cairo writes a mesh to PDF as a vector shading."""
    pattern = _lib.cairo_pattern_create_mesh()
    cx, cy, radius = sweep.cx, sweep.cy, sweep.radius
    for a0, c0, a1, c1 in cg.sweep_pieces(sweep, colors):
        parts = max(1, math.ceil((a1 - a0) / _MAX_PATCH))
        step = (a1 - a0) / parts
        handle = 4 / 3 * math.tan(step / 4) * radius
        for i in range(parts):
            b0, b1 = a0 + i * step, a0 + (i + 1) * step
            k0, k1 = (b0 - a0) / (a1 - a0), (b1 - a0) / (a1 - a0)
            # y down: the point at angle b is (cx + r cos b, cy - r sin b).
            x0, y0 = cx + radius * math.cos(b0), cy - radius * math.sin(b0)
            x1, y1 = cx + radius * math.cos(b1), cy - radius * math.sin(b1)
            _lib.cairo_mesh_pattern_begin_patch(pattern)
            _lib.cairo_mesh_pattern_move_to(pattern, cx, cy)
            _lib.cairo_mesh_pattern_line_to(pattern, x0, y0)
            _lib.cairo_mesh_pattern_curve_to(
                pattern,
                x0 - handle * math.sin(b0),
                y0 - handle * math.cos(b0),
                x1 + handle * math.sin(b1),
                y1 + handle * math.cos(b1),
                x1,
                y1,
            )
            _lib.cairo_mesh_pattern_line_to(pattern, cx, cy)
            for corner, k in enumerate((k0, k0, k1, k1)):
                r, g, b, a = cg.mix(c0, c1, k)
                _lib.cairo_mesh_pattern_set_corner_color_rgba(pattern, corner, r, g, b, a)
            _lib.cairo_mesh_pattern_end_patch(pattern)
    return pattern


def _source(paint: cg.Paint, matrix: Matrix | None, foreground: cg.RGBA) -> Any:
    """An owned cairo pattern for a gradient whose coordinates `matrix` maps to the user
    space it is used in; None when the matrix collapses it."""
    pattern = _ffi.gc(_gradient(paint, foreground), _lib.cairo_pattern_destroy)  # type: ignore[arg-type]
    if matrix is not None:
        inverse = invert(matrix)
        if inverse is None:
            return None
        _lib.cairo_pattern_set_matrix(pattern, _matrix(inverse))
    return pattern


# The rarer steps: called with (pointer, argument, replay).


def _fill_foreground(pointer: Any, argument: tuple[Any, float], replay: _Replay) -> None:
    path, alpha = argument
    r, g, b, a = replay.foreground
    _lib.cairo_new_path(pointer)
    if path is None:
        _lib.cairo_set_source_rgba(pointer, r, g, b, a * alpha)
        _lib.cairo_paint(pointer)
        return
    _lib.cairo_append_path(pointer, path)
    _lib.cairo_set_source_rgba(pointer, r, g, b, a * alpha)
    _lib.cairo_fill(pointer)


def _fill_dynamic(pointer: Any, argument: tuple[Any, cg.Paint, Any], replay: _Replay) -> None:
    """A gradient with a foreground stop: its pattern is made for the text's colour."""
    path, paint, matrix = argument
    pattern = _source(paint, matrix, replay.foreground)
    if pattern is None:
        return
    _lib.cairo_set_source(pointer, pattern)
    if path is None:
        _lib.cairo_paint(pointer)
        return
    _lib.cairo_new_path(pointer)
    _lib.cairo_append_path(pointer, path)
    _lib.cairo_fill(pointer)


def _push_group(pointer: Any, argument: None, replay: _Replay) -> None:
    _lib.cairo_push_group(pointer)


def _pop_group_paint(pointer: Any, operator: int, replay: _Replay) -> None:
    _lib.cairo_pop_group_to_source(pointer)
    _lib.cairo_set_operator(pointer, operator)
    _lib.cairo_paint(pointer)
    _lib.cairo_set_operator(pointer, cairocffi.OPERATOR_OVER)


def _pop_group_hold(pointer: Any, argument: None, replay: _Replay) -> None:
    replay.held.append(_ffi.gc(_lib.cairo_pop_group(pointer), _lib.cairo_pattern_destroy))


def _pop_group_mask(pointer: Any, argument: None, replay: _Replay) -> None:
    """The group held before, drawn through the alpha of the group popped now."""
    mask = _ffi.gc(_lib.cairo_pop_group(pointer), _lib.cairo_pattern_destroy)
    _lib.cairo_set_source(pointer, replay.held.pop())
    _lib.cairo_mask(pointer, mask)


def _compile(font: LoadedFont, nodes: Sequence[cg.Node], out: list[Step]) -> None:
    for node in nodes:
        if isinstance(node, cg.Fill):
            _compile_paint(font, node.gid, node.paint, node.matrix, out)
        elif isinstance(node, cg.Cover):
            _compile_paint(font, None, node.paint, None, out)
        elif isinstance(node, cg.Transform):
            out.append((_TRANSFORM, _matrix(node.matrix), None))
            _compile(font, node.body, out)
            out.append((_RESTORE, None, None))
        elif isinstance(node, cg.Clip):
            path = glyph_cairo_path(font, node.gid) if node.gid is not None else None
            out.append((_CLIP, path, node.box))
            _compile(font, node.body, out)
            out.append((_RESTORE, None, None))
        else:
            _compile_composite(font, node, out)


def _compile_paint(
    font: LoadedFont, gid: int | None, paint: cg.Paint, matrix: Matrix | None, out: list[Step]
) -> None:
    path = glyph_cairo_path(font, gid) if gid is not None else None
    if isinstance(paint, cg.Solid):
        if paint.foreground:
            out.append((_CALL, _fill_foreground, (path, paint.rgba[3])))
        elif path is None:
            out.append((_PAINT, paint.rgba, None))
        else:
            out.append((_FILL, path, paint.rgba))
    elif any(s.foreground for s in paint.stops):
        out.append((_CALL, _fill_dynamic, (path, paint, matrix)))
    else:
        pattern = _source(paint, matrix, (0.0, 0.0, 0.0, 1.0))
        if pattern is not None:
            out.append(
                (_PAINT_SOURCE, pattern, None) if path is None else (_FILL_SOURCE, path, pattern)
            )


def _compile_composite(font: LoadedFont, node: cg.Composite, out: list[Step]) -> None:
    """Source in (or dest in) backdrop draws one group through the other's alpha, which
    PDF keeps as a vector soft mask; other modes are cairo operators (PDF has the blend
    modes; cairo rasterises the Porter-Duff ones other than over there)."""
    mode, backdrop, source = node.mode, node.backdrop, node.source
    if mode in (_SRC_IN, _DEST_IN):
        first, second = (source, backdrop) if mode == _SRC_IN else (backdrop, source)
        out.append((_CALL, _push_group, None))
        _compile(font, first, out)
        out.append((_CALL, _pop_group_hold, None))
        out.append((_CALL, _push_group, None))
        _compile(font, second, out)
        out.append((_CALL, _pop_group_mask, None))
    elif mode in (_SRC, _DEST, _DEST_OVER, _CLEAR):
        # Over is associative: these are their operands drawn in some order, or nothing.
        order = {_SRC: (source,), _DEST: (backdrop,), _DEST_OVER: (source, backdrop)}
        for part in order.get(mode, ()):
            _compile(font, part, out)
    else:
        out.append((_CALL, _push_group, None))
        _compile(font, backdrop, out)
        out.append((_CALL, _push_group, None))
        _compile(font, source, out)
        out.append((_CALL, _pop_group_paint, _OPERATORS[mode]))
        out.append((_CALL, _pop_group_paint, cairocffi.OPERATOR_OVER))


def _run_program(pointer: Any, program: Sequence[Step], replay: _Replay) -> None:
    for op, a, b in program:
        if op == _FILL:
            _lib.cairo_new_path(pointer)
            _lib.cairo_append_path(pointer, a)
            _lib.cairo_set_source_rgba(pointer, *b)
            _lib.cairo_fill(pointer)
        elif op == _FILL_SOURCE:
            _lib.cairo_new_path(pointer)
            _lib.cairo_append_path(pointer, a)
            _lib.cairo_set_source(pointer, b)
            _lib.cairo_fill(pointer)
        elif op == _TRANSFORM:
            _lib.cairo_save(pointer)
            _lib.cairo_transform(pointer, a)
        elif op == _RESTORE:
            _lib.cairo_restore(pointer)
        elif op == _CLIP:
            _clip(pointer, a, b)
        elif op == _PAINT:
            _lib.cairo_set_source_rgba(pointer, *a)
            _lib.cairo_paint(pointer)
        elif op == _PAINT_SOURCE:
            _lib.cairo_set_source(pointer, a)
            _lib.cairo_paint(pointer)
        else:
            a(pointer, b, replay)


def _clip(pointer: Any, path: Any, box: Box) -> None:
    _lib.cairo_save(pointer)
    _lib.cairo_new_path(pointer)
    if path is None:
        x0, y0, x1, y1 = box
        _lib.cairo_rectangle(pointer, x0, y0, x1 - x0, y1 - y0)
    else:
        _lib.cairo_append_path(pointer, path)
    _lib.cairo_clip(pointer)


def _cairo_glyph(font: LoadedFont, gid: int, vector: bool) -> Any:
    """What draws the glyph, made once per font and glyph and kept by the font.

    On pixels: its program, replayed step by step (as fast as a recording there, within
    10 %, and exact: cairo draws a recording onto pixels through an intermediate image,
    which moves edges by a fraction of a pixel). On a vector surface (PDF): the program
    replayed once into an unbounded recording surface (font units, y down), which cairo
    copies in C and a PDF keeps as one form for all its uses; except for a glyph with a
    foreground paint, replayed with each text's colour (a recording per colour would grow
    with the colours asked for)."""
    key = (font.token, glyph_cache.CAIRO_COLOR, ~gid if vector else gid)
    return glyph_cache.GLYPHS.get_or_make(
        key, lambda: _make_cairo_glyph(font, gid, vector), lambda _: cg.size(font, gid)
    )


def _make_cairo_glyph(font: LoadedFont, gid: int, vector: bool) -> Any:
    if vector and not cg.color_glyph(font, gid).foreground:
        return _recording(_cairo_glyph(font, gid, False))
    if vector:
        return _cairo_glyph(font, gid, False)
    entry: list[Step] = []
    _compile(font, cg.color_glyph(font, gid).body, entry)
    return entry


def _recording(program: Sequence[Step]) -> Any:
    raw = _lib.cairo_recording_surface_create(cairocffi.CONTENT_COLOR_ALPHA, _ffi.NULL)
    surface = _ffi.gc(raw, _lib.cairo_surface_destroy)
    context = _lib.cairo_create(surface)
    _run_program(context, program, _Replay((0.0, 0.0, 0.0, 1.0)))
    _lib.cairo_destroy(context)
    return surface


def _foreground(svg: Any, node: Any) -> cg.RGBA | None:
    """The text's own colour (its fill) for foreground paints; None for no fill at all.
    A gradient or pattern fill lends its fallback colour, else black."""
    source, color = parse_paint(node.get("fill", "black"))
    if color == "none" or (source is None and color is None):
        return None
    r, g, b, a = svg.map_color(color or "black")
    return (float(r), float(g), float(b), float(a))


def _alpha(node: Any) -> float:
    """fill-opacity (inherited) times the element's own opacity, as CairoSVG fills a leaf."""
    try:
        alpha = float(node.get("fill-opacity", 1)) * float(node.get("opacity", 1))
    except ValueError:
        return 1.0
    return min(max(alpha, 0.0), 1.0)


def paint_color_run(svg: Any, node: Any, run: Run) -> None:
    """Paint a colour font's run onto CairoSVG's context: each glyph's display list at its
    position and the run's scale, faded by the element's fill opacity; the element's fill
    colours only foreground paints. Decorations go to the path, for CairoSVG to fill."""
    visible = node.get("visibility", "visible") != "hidden" and node.get("display") != "none"
    foreground = _foreground(svg, node)
    alpha = _alpha(node)
    if run.glyphs and run.size > 0 and visible and foreground is not None and alpha > 0:
        _paint_glyphs(svg.context._pointer, run, foreground, alpha)
    _append_rects(svg.context._pointer, run)


def _paint_glyphs(pointer: Any, run: Run, foreground: cg.RGBA, alpha: float) -> None:
    scale = run.size / run.font.upem
    font = run.font
    replay = _Replay(foreground)
    skew = _ffi.new("cairo_matrix_t *", (1, 0, -SYNTHETIC_OBLIQUE_SHEAR, 1, 0, 0))
    target = _lib.cairo_get_target(pointer)
    vector = _lib.cairo_surface_get_type(target) != cairocffi.SURFACE_TYPE_IMAGE
    _lib.cairo_save(pointer)
    _lib.cairo_new_path(pointer)
    _lib.cairo_set_fill_rule(pointer, cairocffi.FILL_RULE_WINDING)
    if alpha < 1:
        _lib.cairo_push_group(pointer)
    if run.plain:
        _lib.cairo_scale(pointer, scale, scale)
        for gid, x, y in run.glyphs:
            _lib.cairo_save(pointer)
            _lib.cairo_translate(pointer, x / scale, y / scale)
            if run.skew:
                _lib.cairo_transform(pointer, skew)
            _paint_glyph(pointer, font, gid, vector, replay)
            _lib.cairo_restore(pointer)
    else:
        for gid, matrix in run.matrices():
            _lib.cairo_save(pointer)
            _lib.cairo_transform(pointer, _matrix(matrix))
            _paint_glyph(pointer, font, gid, vector, replay)
            _lib.cairo_restore(pointer)
    if alpha < 1:
        _lib.cairo_pop_group_to_source(pointer)
        _lib.cairo_paint_with_alpha(pointer, alpha)
    _lib.cairo_restore(pointer)
    _lib.cairo_new_path(pointer)


def _paint_glyph(pointer: Any, font: LoadedFont, gid: int, vector: bool, replay: _Replay) -> None:
    """One colour glyph at the context's origin, in font units."""
    entry = _cairo_glyph(font, gid, vector)
    if isinstance(entry, list):
        _run_program(pointer, entry, replay)
    else:
        _lib.cairo_set_source_surface(pointer, entry, 0, 0)
        _lib.cairo_paint(pointer)


def _append_rects(pointer: Any, run: Run) -> None:
    """The run's decorations onto the path, as draw_run appends them."""
    _lib.cairo_save(pointer)
    for x, y, width, height in run.rects:
        _lib.cairo_rectangle(pointer, x, y, width, height)
    _lib.cairo_restore(pointer)


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
    if run is None:
        return
    # A colour run is painted, except as clip-path content (CairoSVG builds a clip from
    # the path it is given, without filling): there it gives its outlines, as any run.
    if svg.stroke_and_fill and cg.has_color(run.font):
        paint_color_run(svg, node, run)
    elif svg.stroke_and_fill:
        draw_run(svg.context, run)
    else:
        # A clip gathers every outline of the clipPath in one path: the runs of earlier
        # spans stay (draw_run starts a new path).
        context = svg.context
        earlier = context.copy_path()
        draw_run(context, run)
        outlines = context.copy_path()
        context.new_path()
        context.append_path(earlier)
        context.append_path(outlines)


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

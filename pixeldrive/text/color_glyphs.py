"""Colour glyphs (COLRv1 paint graphs, COLRv0 layers) as small immutable display lists.

HarfBuzz walks a glyph's paint graph (`hb.Font.paint_glyph`) and calls back for each
operation: transforms, clips by a glyph outline or a rectangle, solid colours (CPAL
palette 0 resolved by HarfBuzz), gradients, groups with a composite mode. A `_Recorder`
turns that stream into a tree of the nodes below, ONCE per font and glyph; the tree is kept
on the font (`LoadedFont.color_glyphs`) and replayed by text/draw.py onto cairo (raster and
PDF) and by text/svgout.py as SVG elements.

Everything here is in font units, y DOWN (the space of `LoadedFont.glyph_path` and of
text/draw.py's cairo paths): HarfBuzz's y-up coordinates are flipped as they arrive. The
recorder simplifies as it goes:

- an identity transform (HarfBuzz wraps every layer in one) is dropped;
- a clip by a glyph outline whose whole content is one paint (through transforms) becomes a
  `Fill` of that outline, the common case and the cheapest to draw;
- a group composited with src-over is inlined (src-over is associative), and a group
  composited with any other mode becomes a `Composite` of what its enclosing group held so
  far (the backdrop) and the group itself (the source), which is exactly how HarfBuzz
  emits PaintComposite.

Gradients are normalised as hb-cairo does: stops sorted, offsets stretched to [0, 1] with
the geometry moved to match; a COLRv1 three-point linear gradient (p0, p1, p2) is projected
to the two-point gradient cairo and SVG know. Sweep gradients keep their angles (radians,
counterclockwise as the font has them); `sweep_pieces` cuts one into linear pieces, which
cairo draws as mesh patches and SVG as thin wedges.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uharfbuzz as hb

from pixeldrive.text import glyph_cache
from pixeldrive.text.affine import IDENTITY, Box, Matrix, invert, map_box, multiply

if TYPE_CHECKING:
    from pixeldrive.text.fonts import LoadedFont

RGBA = tuple[float, float, float, float]  # unpremultiplied, 0..1

PAD, REPEAT, REFLECT = 0, 1, 2  # hb.PaintExtend values
SRC_OVER = int(hb.PaintCompositeMode.SRC_OVER)
TAU = 2 * math.pi


@dataclass(frozen=True, slots=True)
class Stop:
    offset: float
    rgba: RGBA
    foreground: bool  # the text's own colour, with rgba[3] as an alpha factor


@dataclass(frozen=True, slots=True)
class Solid:
    rgba: RGBA
    foreground: bool  # as Stop.foreground


@dataclass(frozen=True, slots=True)
class Linear:
    x0: float
    y0: float
    x1: float
    y1: float
    stops: tuple[Stop, ...]
    extend: int


@dataclass(frozen=True, slots=True)
class Radial:
    x0: float
    y0: float
    r0: float
    x1: float
    y1: float
    r1: float
    stops: tuple[Stop, ...]
    extend: int


@dataclass(frozen=True, slots=True)
class Sweep:
    """A sweep (conic) gradient about (cx, cy) from `start` to `end` (radians,
    counterclockwise in the font's y-up sense: the point at angle a is at
    (cx + r cos a, cy - r sin a) here). `radius` reaches every corner of the region it
    paints."""

    cx: float
    cy: float
    start: float
    end: float
    stops: tuple[Stop, ...]
    extend: int
    radius: float


Paint = Solid | Linear | Radial | Sweep


@dataclass(frozen=True, slots=True)
class Fill:
    """The outline of glyph `gid` filled with `paint`, whose coordinates are mapped to the
    outline's by `matrix` (None: the same)."""

    gid: int
    paint: Paint
    matrix: Matrix | None


@dataclass(frozen=True, slots=True)
class Cover:
    """`paint` everywhere within the current clip; `box` bounds that region here."""

    paint: Paint
    box: Box


@dataclass(frozen=True, slots=True)
class Transform:
    matrix: Matrix
    body: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Clip:
    """`body` clipped to glyph `gid`'s outline, or to `box` when gid is None."""

    gid: int | None
    box: Box
    body: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Composite:
    """`source` composited onto `backdrop` (each drawn in a group of its own) with
    `mode` (an hb.PaintCompositeMode value), the result drawn src-over; `box` bounds it."""

    mode: int
    backdrop: tuple[Node, ...]
    source: tuple[Node, ...]
    box: Box


Node = Fill | Cover | Transform | Clip | Composite


@dataclass(frozen=True, slots=True)
class ColorGlyph:
    """One glyph's paint: `body` drawn in order; `box` is its clip box (or extents);
    `foreground` tells whether any paint uses the text's own colour."""

    body: tuple[Node, ...]
    box: Box
    foreground: bool


def has_color(font: LoadedFont) -> bool:
    """Whether the font's glyphs are painted (COLRv1 or COLRv0) rather than filled."""
    face = font.hb_font.face
    return bool(face.has_color_paint or face.has_color_layers)


def color_glyph(font: LoadedFont, gid: int) -> ColorGlyph:
    """The display list of `gid`, kept in the glyph cache (text/glyph_cache.py)."""
    return glyph_cache.GLYPHS.get_or_make(
        (font.token, glyph_cache.COLOR_GLYPH, gid), lambda: _record(font, gid), glyph_cache.estimate
    )


def size(font: LoadedFont, gid: int) -> int:
    """About what `gid`'s display list, or what cairo makes of it, takes in memory."""
    return glyph_cache.estimate(color_glyph(font, gid))


# -- matrices and boxes ---------------------------------------------------------------------


# -- recording ------------------------------------------------------------------------------


class _Recorder:
    """The paint stream of one glyph folded into nodes: a stack of open frames (kind,
    argument, the nodes drawn inside so far) and of the current transform."""

    __slots__ = ("ctm", "frames", "root")

    def __init__(self, root: Box) -> None:
        self.root = root
        self.frames: list[tuple[str, Any, list[Node]]] = [("", None, [])]
        self.ctm: list[Matrix] = [IDENTITY]

    def open(self, kind: str, argument: Any) -> None:
        self.frames.append((kind, argument, []))

    def close(self) -> tuple[str, Any, list[Node]]:
        return self.frames.pop()

    @property
    def nodes(self) -> list[Node]:
        return self.frames[-1][2]

    def local_box(self) -> Box | None:
        """The glyph's box in the current coordinates (None: the transform collapses)."""
        inverse = invert(self.ctm[-1])
        return map_box(inverse, self.root) if inverse is not None else None

    def cover(self, paint: Callable[[Box], Paint | None]) -> None:
        box = self.local_box()
        made = paint(box) if box is not None else None
        if made is not None and box is not None:
            self.nodes.append(Cover(made, box))


def _rgba(color: hb.Color) -> RGBA:
    return (color.red / 255, color.green / 255, color.blue / 255, color.alpha / 255)


def _push_transform(
    xx: float, yx: float, xy: float, yy: float, dx: float, dy: float, rec: _Recorder
) -> None:
    m = (xx, -yx, -xy, yy, dx, -dy)  # conjugated by the y flip
    rec.open("T", m)
    rec.ctm.append(multiply(rec.ctm[-1], m))


def _pop_transform(rec: _Recorder) -> None:
    _, m, body = rec.close()
    rec.ctm.pop()
    if m == IDENTITY:
        rec.nodes.extend(body)
    elif body:
        rec.nodes.append(Transform(m, tuple(body)))


def _push_clip_glyph(gid: int, rec: _Recorder) -> None:
    rec.open("G", gid)


def _push_clip_rectangle(
    xmin: float, ymin: float, xmax: float, ymax: float, rec: _Recorder
) -> None:
    rec.open("R", (xmin, -ymax, xmax, -ymin))


def _pop_clip(rec: _Recorder) -> None:
    kind, argument, body = rec.close()
    if not body:
        return
    if kind == "G":
        fill = _as_fill(argument, body)
        box = rec.local_box() or rec.root
        rec.nodes.append(fill if fill is not None else Clip(argument, box, tuple(body)))
    else:
        rec.nodes.append(Clip(None, argument, tuple(body)))


def _as_fill(gid: int, body: list[Node]) -> Fill | None:
    """A clip whose content is one paint, through transforms only, as a Fill."""
    matrix: Matrix | None = None
    while len(body) == 1 and isinstance(body[0], Transform):
        node = body[0]
        matrix = node.matrix if matrix is None else multiply(matrix, node.matrix)
        body = list(node.body)
    if len(body) != 1 or not isinstance(body[0], Cover):
        return None
    paint = body[0].paint
    return Fill(gid, paint, None if isinstance(paint, Solid) else matrix)


def _color(color: hb.Color, is_foreground: bool, rec: _Recorder) -> None:
    rgba = _rgba(color)
    if is_foreground:
        rgba = (0.0, 0.0, 0.0, rgba[3])
    rec.cover(lambda _box: Solid(rgba, bool(is_foreground)))


def _stops(line: hb.ColorLine) -> tuple[list[Stop], int]:
    stops = [Stop(float(s.offset), _rgba(s.color), bool(s.is_foreground)) for s in line.color_stops]
    stops.sort(key=lambda s: s.offset)
    return stops, int(line.extend)


def _normalised(stops: list[Stop], extend: int) -> tuple[tuple[Stop, ...], float, float]:
    """Offsets stretched to [0, 1], with the first and last offsets they had (for the
    geometry to follow), when needed: cairo and SVG take offsets in [0, 1] only, and
    repeat and reflect over [0, 1] where COLRv1 repeats the stops' own span. Otherwise
    left alone (0 and 1 returned): a radial gradient then keeps its start circle (often
    a point, which SVG 1.1 can draw)."""
    low, high = stops[0].offset, stops[-1].offset
    if high == low or (extend == PAD and low >= 0 and high <= 1):
        return tuple(stops), 0.0, 1.0
    span = high - low
    return tuple(Stop((s.offset - low) / span, s.rgba, s.foreground) for s in stops), low, high


def _linear(
    line: hb.ColorLine,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    rec: _Recorder,
) -> None:
    raw, extend = _stops(line)
    if not raw:
        return
    stops, low, high = _normalised(raw, extend)
    # The gradient runs from p0 towards p1 projected onto the normal of p0p2.
    qx, qy = x2 - x0, y2 - y0
    norm = qx * qx + qy * qy
    if norm > 1e-6:
        k = ((x1 - x0) * qx + (y1 - y0) * qy) / norm
        x1, y1 = x1 - k * qx, y1 - k * qy
    ax, ay = x0 + low * (x1 - x0), y0 + low * (y1 - y0)
    bx, by = x0 + high * (x1 - x0), y0 + high * (y1 - y0)
    rec.cover(lambda _box: Linear(ax, -ay, bx, -by, stops, extend))


def _radial(
    line: hb.ColorLine,
    x0: float,
    y0: float,
    r0: float,
    x1: float,
    y1: float,
    r1: float,
    rec: _Recorder,
) -> None:
    raw, extend = _stops(line)
    if not raw:
        return
    stops, low, high = _normalised(raw, extend)

    def at(t: float) -> tuple[float, float, float]:
        return x0 + t * (x1 - x0), -(y0 + t * (y1 - y0)), r0 + t * (r1 - r0)

    (ax, ay, ar), (bx, by, br) = at(low), at(high)
    rec.cover(lambda _box: Radial(ax, ay, ar, bx, by, br, stops, extend))


def _sweep(
    line: hb.ColorLine, cx: float, cy: float, start: float, end: float, rec: _Recorder
) -> None:
    stops, extend = _stops(line)
    if not stops:
        return

    def made(box: Box) -> Sweep:
        radius = max(math.hypot(x - cx, y + cy) for x in box[::2] for y in box[1::2])
        return Sweep(cx, -cy, start, end, tuple(stops), extend, radius)

    rec.cover(made)


def _push_group(rec: _Recorder) -> None:
    rec.open("P", None)


def _pop_group(mode: hb.PaintCompositeMode, rec: _Recorder) -> None:
    _, _, source = rec.close()
    code = int(mode)
    if code == SRC_OVER:
        rec.nodes.extend(source)
        return
    box = rec.local_box() or rec.root
    kind, _, enclosing = rec.frames[-1]
    # HarfBuzz emits PaintComposite as group(backdrop, group(source) popped with the mode)
    # popped src-over: what the enclosing group holds so far is the backdrop.
    backdrop = tuple(enclosing) if kind == "P" else ()
    if kind == "P":
        enclosing.clear()
    enclosing.append(Composite(code, backdrop, tuple(source), box))


def _paint_funcs() -> hb.PaintFuncs:
    funcs = hb.PaintFuncs()
    funcs.set_push_transform_func(_push_transform)
    funcs.set_pop_transform_func(_pop_transform)
    funcs.set_push_clip_glyph_func(_push_clip_glyph)
    funcs.set_push_clip_rectangle_func(_push_clip_rectangle)
    funcs.set_pop_clip_func(_pop_clip)
    funcs.set_color_func(_color)
    funcs.set_linear_gradient_func(_linear)
    funcs.set_radial_gradient_func(_radial)
    funcs.set_sweep_gradient_func(_sweep)
    funcs.set_push_group_func(_push_group)
    funcs.set_pop_group_func(_pop_group)
    return funcs


_FUNCS = _paint_funcs()


def _glyph_box(font: LoadedFont, gid: int) -> Box:
    """A box around everything the glyph paints, y down: its extents (its COLRv1 clip box
    when it has one, which HarfBuzz also clips to) or else its em box, grown by a quarter
    em. It bounds what a paint covers within the clips, so it may be larger, not smaller:
    extents computed from paint may miss a little (a font whose side bearings disagree
    with its outlines)."""
    extents = font.hb_font.get_glyph_extents(gid)
    if extents is not None and extents.width and extents.height:
        x0, x1 = sorted((extents.x_bearing, extents.x_bearing + extents.width))
        y0, y1 = sorted((-extents.y_bearing, -(extents.y_bearing + extents.height)))
    else:
        x0, y0, x1, y1 = 0, -font.ascender, font.upem, -font.descender
    grow = font.upem / 4
    return float(x0 - grow), float(y0 - grow), float(x1 + grow), float(y1 + grow)


def _record(font: LoadedFont, gid: int) -> ColorGlyph:
    box = _glyph_box(font, gid)
    rec = _Recorder(box)
    # Opaque black foreground: a foreground paint's colour then carries only its own alpha.
    font.hb_font.paint_glyph(gid, _FUNCS, rec, 0, hb.Color(0, 0, 0, 255))
    body = tuple(rec.frames[0][2])
    return ColorGlyph(body, box, any(_uses_foreground(n) for n in body))


def _uses_foreground(node: Node) -> bool:
    if isinstance(node, Fill | Cover):
        paint = node.paint
        if isinstance(paint, Solid):
            return paint.foreground
        return any(s.foreground for s in paint.stops)
    if isinstance(node, Composite):
        return any(_uses_foreground(n) for n in (*node.backdrop, *node.source))
    return any(_uses_foreground(n) for n in node.body)


# -- colours and sweeps, for both replays ---------------------------------------------------


def resolve(rgba: RGBA, foreground: bool, text: RGBA) -> RGBA:
    """A paint's colour with the text's own colour put in for a foreground paint."""
    if foreground:
        return (text[0], text[1], text[2], text[3] * rgba[3])
    return rgba


def mix(c0: RGBA, c1: RGBA, t: float) -> RGBA:
    """Interpolated in premultiplied space, as COLRv1 asks; returned unpremultiplied."""
    a = c0[3] + t * (c1[3] - c0[3])
    if a <= 0:
        return (0.0, 0.0, 0.0, 0.0)
    r, g, b = ((c0[i] * c0[3] + t * (c1[i] * c1[3] - c0[i] * c0[3])) / a for i in range(3))
    return (r, g, b, a)


Piece = tuple[float, RGBA, float, RGBA]  # angle0, colour0, angle1, colour1; linear between


def sweep_pieces(sweep: Sweep, colors: Iterable[RGBA]) -> list[Piece]:
    """The sweep over the whole turn [0, 2π] as linear pieces, each stop's colour taken
    from `colors` (the stops' colours, foreground resolved), extend mode applied."""
    points = [(s.offset, c) for s, c in zip(sweep.stops, colors, strict=True)]
    start, end = sweep.start, sweep.end
    if end < start:
        start, end = end, start
        points = [(1 - t, c) for t, c in reversed(points)]
    span = end - start
    angles = [(start + t * span, c) for t, c in points]
    if sweep.extend == PAD or span * (points[-1][0] - points[0][0]) < 1e-4:
        if span <= 0 and sweep.extend != PAD:
            return []
        raw = _padded(angles)
    else:
        raw = _repeated(angles, sweep.extend == REFLECT)
    return [piece for p in raw if (piece := _within_turn(p)) is not None]


def _padded(angles: list[tuple[float, RGBA]]) -> list[Piece]:
    first, last = angles[0], angles[-1]
    pieces: list[Piece] = [(min(0.0, first[0]) - 1, first[1], first[0], first[1])]
    pieces += [(a0, c0, a1, c1) for (a0, c0), (a1, c1) in itertools.pairwise(angles)]
    pieces.append((last[0], last[1], max(TAU, last[0]) + 1, last[1]))
    return pieces


def _repeated(angles: list[tuple[float, RGBA]], reflect: bool) -> list[Piece]:
    base, period = angles[0][0], angles[-1][0] - angles[0][0]
    first = math.floor((0 - angles[-1][0]) / period)
    last = math.ceil((TAU - base) / period)
    pieces: list[Piece] = []
    for k in range(first, min(last, first + 1000) + 1):
        shift = k * period
        if reflect and k % 2:
            mirrored = [(base + period - (a - base), c) for a, c in reversed(angles)]
            seq = [(a + shift, c) for a, c in mirrored]
        else:
            seq = [(a + shift, c) for a, c in angles]
        pieces += [(a0, c0, a1, c1) for (a0, c0), (a1, c1) in itertools.pairwise(seq)]
    return pieces


def _within_turn(piece: Piece) -> Piece | None:
    """The part of a piece within [0, 2π], colours interpolated at the cuts."""
    a0, c0, a1, c1 = piece
    if a1 <= a0 or a1 <= 0 or a0 >= TAU:
        return None
    lo, hi = max(a0, 0.0), min(a1, TAU)
    return lo, mix(c0, c1, (lo - a0) / (a1 - a0)), hi, mix(c0, c1, (hi - a0) / (a1 - a0))

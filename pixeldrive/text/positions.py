"""Per-character positions: SVG's `x`/`y`/`dx`/`dy`/`rotate` lists, `textLength`, and text
on a path, applied to shaped glyphs.

The text is shaped as usual (kerning, joining, fallback fonts, emoji, bidi) and placed on a
line; then each character's adjustments move its glyphs, as SVG 2's text layout algorithm
does: `dx`/`dy` shift a character and everything after it (in logical order), `rotate`
turns its glyphs about their origins, `textLength` adds space between characters or
scales the glyphs across. A character with a position of its own (a dx or dy other than
0, a rotation other than the one before) is shaped apart from the one before it, as
Inkscape shapes it (`shaping_cuts`): no ligature, kerning or joining across it, so a
ligature stays whole only where none of its characters is positioned. Absolute `x`/`y`
start new chunks (svgtext).

On a path (`fit_to_path`) the placed line is bent as Inkscape does: the midpoint of each
glyph cluster's advance goes to the point at that distance along the path, turned to the
path's direction there (the chord between the cluster's ends on the path, Polyline.chord);
a cluster whose midpoint is off the path is not drawn.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import accumulate

import regex

from pixeldrive.text import bidi
from pixeldrive.text.affine import Point
from pixeldrive.text.layout import PlacedLine, Run, decorate
from pixeldrive.text.pathline import Polyline
from pixeldrive.text.shape import Item, Shaped


@dataclass(slots=True)
class Adjust:
    """Adjustments of one chunk's characters, one entry per character in logical order:
    shifts (px; each shifts the rest of the chunk too), rotations (degrees, clockwise),
    extra space after the character and horizontal scale (textLength)."""

    dx: list[float] = field(default_factory=list)
    dy: list[float] = field(default_factory=list)
    rotate: list[float] = field(default_factory=list)
    extra: list[float] = field(default_factory=list)
    stretch: list[float] = field(default_factory=list)
    touched: bool = False  # any adjustment at all (else the line is placed as any other)

    def append(self, dx: float, dy: float, rotate: float) -> None:
        self.dx.append(dx)
        self.dy.append(dy)
        self.rotate.append(rotate)
        self.extra.append(0.0)
        self.stretch.append(1.0)
        if dx or dy or rotate:
            self.touched = True

    def space(self, i: int, extra: float) -> None:
        """Extra space after character i (textLength)."""
        self.extra[i] += extra
        self.touched = True

    def scale(self, i: int, factor: float) -> None:
        """Scale character i across (textLength)."""
        self.stretch[i] *= factor
        self.touched = True

    def pad(self, count: int) -> None:
        """`count` more characters without adjustments."""
        if count > 0:
            self.dx.extend([0.0] * count)
            self.dy.extend([0.0] * count)
            self.rotate.extend([0.0] * count)
            self.extra.extend([0.0] * count)
            self.stretch.extend([1.0] * count)

    def extend(self, other: Adjust) -> None:
        for name in ("dx", "dy", "rotate", "extra", "stretch"):
            getattr(self, name).extend(getattr(other, name))
        self.touched = self.touched or other.touched

    @property
    def plain(self) -> bool:
        """Nothing to adjust: the line is placed as any other."""
        return not self.touched

    @property
    def shifted(self) -> bool:
        """Does any character but the first have a position of its own?"""
        return self.touched and (any(self.dx[1:]) or any(self.dy[1:]) or len(set(self.rotate)) > 1)

    def positioned(self, i: int) -> bool:
        """Does character i (not the first) have a position of its own: a shift, or a
        rotation other than the one before?"""
        return bool(self.dx[i] or self.dy[i] or self.rotate[i] != self.rotate[i - 1])


def shaping_cuts(text: str, adjust: Adjust) -> list[int]:
    """Where the text must be shaped in separate pieces: before each character with a
    position of its own (as Inkscape cuts its spans), unless it is not the start of a
    grapheme (a mark stays with its base)."""
    if not adjust.shifted:
        return []
    graphemes = {m.start() for m in regex.finditer(r"\X", text)}
    size = min(len(text), len(adjust.dx))
    return [i for i in range(1, size) if adjust.positioned(i) and i in graphemes]


@dataclass(slots=True)
class Cluster:
    """A glyph cluster as placed: where its advance starts (shifts included), its advance
    (stretched), the space added after it, and its glyphs as (run, index in run)."""

    left: float
    width: float = 0.0
    extra: float = 0.0  # after it in its own direction: on its left in right-to-left text
    rtl: bool = False
    glyphs: list[tuple[Run, int]] = field(default_factory=list)

    @property
    def right(self) -> float:
        return self.left + self.width + (0.0 if self.rtl else self.extra)


@dataclass(slots=True)
class Placed:
    """A line with per-character adjustments: the line, its clusters in visual order, and
    the shift of its last character (where text after it continues)."""

    line: PlacedLine
    clusters: list[Cluster]
    shift: tuple[float, float]


class _Placer:
    """Walks a shaped line's glyphs in visual order, adjusting each by its character."""

    def __init__(
        self, shaped: Shaped, x: float, baseline: float, synthetic: set[int], adjust: Adjust
    ) -> None:
        self.shaped = shaped
        self.baseline = baseline
        self.synthetic = synthetic
        self.adjust = adjust
        self.pen = x
        self.sx = list(accumulate(adjust.dx)) or [0.0]
        self.sy = list(accumulate(adjust.dy)) or [0.0]
        self.turned = any(adjust.rotate)
        self.runs: list[Run] = []
        self.clusters: list[Cluster] = []
        self._current = -1  # the cluster (its first character) being placed
        self._pending = 0.0  # space after the last cluster (left to right), not yet added
        starts = sorted({c for item in shaped.items for c in item.clusters})
        # The space textLength adds after each character, summed per cluster.
        self.extra = dict.fromkeys(starts, 0.0)
        for i, space in enumerate(adjust.extra[: len(shaped.text)]):
            if space:
                self.extra[starts[bisect_right(starts, i) - 1]] += space

    def _run(self, item: Item, stretch: float) -> Run:
        span = self.shaped.spans[item.span]
        skew = item.span in self.synthetic
        run = self.runs[-1] if self.runs else None
        if (
            run is None
            or run.owner != span.owner
            or run.font is not item.font
            or run.size != item.size
            or run.skew != skew
            or run.stretch != stretch
        ):
            run = Run(span.owner, item.font, item.size, skew, stretch=stretch)
            run.angles = [] if self.turned else None
            self.runs.append(run)
        return run

    def item(self, item: Item) -> None:
        span = self.shaped.spans[item.span]
        lift = span.baseline_shift
        first = item.clusters[0] if item.clusters else item.start
        start = self.pen + self.sx[first]
        cluster: Cluster | None = None
        for gid, advance, (ox, oy), c in zip(
            item.gids, item.advances, item.offsets, item.clusters, strict=True
        ):
            stretch = self.adjust.stretch[c]
            run = self._run(item, stretch)
            if cluster is None or c != self._current:
                cluster = self._close_and_open(c, item.level % 2 == 1)
            run.glyphs.append((gid, self.pen + ox * stretch + self.sx[c], self._y(c, oy, lift)))
            if run.angles is not None:
                run.angles.append(math.radians(self.adjust.rotate[c]))
            cluster.glyphs.append((run, len(run.glyphs) - 1))
            cluster.width += advance * stretch
            self.pen += advance * stretch
        if span.decoration and self.runs:
            end = self.pen + self.sx[item.clusters[-1] if item.clusters else first]
            shifted = self.baseline - lift + self.sy[first]
            decorate(self.runs[-1], item.font, item.size, span.decoration, start, end, shifted)

    def _y(self, c: int, oy: float, lift: float) -> float:
        return self.baseline + oy - lift + self.sy[c]

    def _close_and_open(self, c: int, rtl: bool) -> Cluster:
        """A new cluster at the pen; textLength's space goes after the last one, or
        before this one in right-to-left text (after it in reading order)."""
        extra = self.extra.get(c, 0.0)
        self.pen += self._pending + (extra if rtl else 0.0)
        self._pending = 0.0 if rtl else extra
        self._current = c
        cluster = Cluster(self.pen + self.sx[c], extra=extra, rtl=rtl)
        self.clusters.append(cluster)
        return cluster

    def done(self, x: float) -> Placed:
        self.pen += self._pending
        lefts = [c.left for c in self.clusters] or [x]
        rights = [c.right for c in self.clusters] or [x]
        line = PlacedLine(self.runs, min(lefts), max(rights), self.baseline)
        return Placed(line, self.clusters, (self.sx[-1], self.sy[-1]))


def place_adjusted(
    shaped: Shaped, x: float, baseline: float, synthetic: set[int], adjust: Adjust
) -> Placed:
    """Glyph runs of a one-line chunk starting at x on the baseline (as layout.place), each
    character adjusted by `adjust`."""
    placer = _Placer(shaped, x, baseline, synthetic, adjust)
    order = bidi.visual_order([item.level for item in shaped.items])
    for index in order:
        placer.item(shaped.items[index])
    return placer.done(x)


# -- on a path ------------------------------------------------------------------------


def _turn(path: Polyline, cluster: Cluster, middle: float) -> tuple[Point, Point] | None:
    """Where a cluster's midpoint goes, and the direction it turns to: the chord between
    its ends on the path when both are on it (Inkscape's), else the path's direction at
    the midpoint. None when the midpoint is off the path."""
    here = path.at(middle)
    if here is None:
        return None
    start = middle - cluster.width / 2
    chord = path.chord(start, start + cluster.width) if start >= 0 else None
    return here[0], chord or here[1]


def fit_to_path(placed: Placed, path: Polyline, offset: float) -> PlacedLine:
    """The placed line (laid out from x = 0) bent along `path`, starting `offset` along
    it: each cluster moved and turned as a whole, clusters off the path dropped.
    Decorations are not drawn on a path."""
    line = placed.line
    hidden: set[tuple[int, int]] = set()
    for cluster in placed.clusters:
        middle = offset + cluster.left + cluster.width / 2
        turn = _turn(path, cluster, middle)
        if turn is None:
            hidden.update((id(run), index) for run, index in cluster.glyphs)
            continue
        (px, py), (tx, ty) = turn
        angle = math.atan2(ty, tx)
        centre = cluster.left + cluster.width / 2
        for run, index in cluster.glyphs:
            gid, gx, gy = run.glyphs[index]
            along, across = gx - centre, gy - line.baseline
            run.glyphs[index] = (gid, px + tx * along - ty * across, py + ty * along + tx * across)
            if run.angles is None:
                run.angles = [0.0] * len(run.glyphs)
            run.angles[index] += angle
    for run in line.runs:
        run.rects = []
        keep = [i for i in range(len(run.glyphs)) if (id(run), i) not in hidden]
        angles = run.angles or [0.0] * len(run.glyphs)
        run.glyphs = [run.glyphs[i] for i in keep]
        run.angles = [angles[i] for i in keep]
    return PlacedLine([r for r in line.runs if r.glyphs], line.left, line.right, line.baseline)

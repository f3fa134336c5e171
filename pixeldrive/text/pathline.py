"""Paths that text follows: an SVG path (or basic shape) flattened once into a polyline with
cumulative lengths, where a distance along it gives a point and a direction.

The path data is read by fontTools' SVG path parser (every command, relative and absolute;
arcs become cubics), the element's own `transform` is applied to the control points, and
each curve is cut into straight pieces no farther than `TOLERANCE` px from it. Each point
keeps the curve's own direction there (none at a corner), so that a glyph is turned by the
curve, not by the piece it falls on. A moveto starts a new subpath and adds nothing to the
length, as SVG measures paths. Basic shapes
are the paths SVG 2 makes of them: a circle or ellipse starts at its rightmost point and
goes clockwise (on screen), a rectangle at its top left corner (after a corner's radius).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from fontTools.svgLib.path import parse_path
from lxml import etree

from pixeldrive.templates.parser import local_name
from pixeldrive.text.affine import IDENTITY, Matrix, Point, apply, multiply

TOLERANCE = 0.1  # px: how far a straight piece may stray from the curve it stands for
_MAX_PIECES = 4096  # per curve
_TRANSFORM = re.compile(r"(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _one_transform(name: str, v: list[float]) -> Matrix | None:
    if name == "matrix":
        return (v[0], v[1], v[2], v[3], v[4], v[5]) if len(v) == 6 else None
    if name == "translate" and v:
        return (1.0, 0.0, 0.0, 1.0, v[0], v[1] if len(v) > 1 else 0.0)
    if name == "scale" and v:
        return (v[0], 0.0, 0.0, v[1] if len(v) > 1 else v[0], 0.0, 0.0)
    if name == "rotate" and v:
        cos, sin = math.cos(math.radians(v[0])), math.sin(math.radians(v[0]))
        turn: Matrix = (cos, sin, -sin, cos, 0.0, 0.0)
        if len(v) == 3:  # about (cx, cy)
            there = (1.0, 0.0, 0.0, 1.0, v[1], v[2])
            back = (1.0, 0.0, 0.0, 1.0, -v[1], -v[2])
            return multiply(there, multiply(turn, back))
        return turn
    if name in ("skewX", "skewY") and v:
        tan = math.tan(math.radians(v[0]))
        return (1.0, 0.0, tan, 1.0, 0.0, 0.0) if name == "skewX" else (1.0, tan, 0.0, 1.0, 0.0, 0.0)
    return None


def parse_transform(value: str | None) -> Matrix:
    """An SVG `transform` attribute as one matrix (an unreadable one counts as none)."""
    matrix = IDENTITY
    for name, arguments in _TRANSFORM.findall(value or ""):
        step = _one_transform(name, [float(n) for n in _NUMBER.findall(arguments)])
        if step is not None:
            matrix = multiply(matrix, step)
    return matrix


# -- basic shapes as path data ---------------------------------------------------------


def _numbers(element: etree._Element, *names: str) -> list[float]:
    out = []
    for name in names:
        match = _NUMBER.match((element.get(name) or "0").strip())
        out.append(float(match.group()) if match else 0.0)
    return out


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> str | None:
    if rx <= 0 or ry <= 0:
        return None
    arc = f"A{rx} {ry} 0 0 1"
    return (
        f"M{cx + rx} {cy}{arc} {cx} {cy + ry}{arc} {cx - rx} {cy}"
        f"{arc} {cx} {cy - ry}{arc} {cx + rx} {cy}Z"
    )


def _rect(element: etree._Element) -> str | None:
    x, y, w, h = _numbers(element, "x", "y", "width", "height")
    if w <= 0 or h <= 0:
        return None
    rx_set, ry_set = element.get("rx") is not None, element.get("ry") is not None
    rx, ry = _numbers(element, "rx", "ry")
    rx, ry = (rx if rx_set else ry), (ry if ry_set else rx)
    rx, ry = min(max(rx, 0.0), w / 2), min(max(ry, 0.0), h / 2)
    if not rx or not ry:
        return f"M{x} {y}H{x + w}V{y + h}H{x}Z"
    arc = f"A{rx} {ry} 0 0 1"
    return (
        f"M{x + rx} {y}H{x + w - rx}{arc} {x + w} {y + ry}V{y + h - ry}"
        f"{arc} {x + w - rx} {y + h}H{x + rx}{arc} {x} {y + h - ry}V{y + ry}{arc} {x + rx} {y}Z"
    )


def _points(element: etree._Element, close: bool) -> str | None:
    numbers = _NUMBER.findall(element.get("points") or "")
    if len(numbers) < 4:
        return None
    pairs = [f"{numbers[i]} {numbers[i + 1]}" for i in range(0, len(numbers) - 1, 2)]
    return "M" + "L".join(pairs) + ("Z" if close else "")


def path_data(element: etree._Element) -> str | None:
    """The path data of a path or basic shape (None: anything else, or nothing to follow)."""
    name = local_name(element)
    if name == "path":
        return element.get("d") or None
    if name == "circle":
        cx, cy, r = _numbers(element, "cx", "cy", "r")
        return _ellipse(cx, cy, r, r)
    if name == "ellipse":
        cx, cy, rx, ry = _numbers(element, "cx", "cy", "rx", "ry")
        return _ellipse(cx, cy, rx, ry)
    if name == "rect":
        return _rect(element)
    if name == "line":
        x1, y1, x2, y2 = _numbers(element, "x1", "y1", "x2", "y2")
        return f"M{x1} {y1}L{x2} {y2}"
    if name in ("polyline", "polygon"):
        return _points(element, close=name == "polygon")
    return None


# -- flattening ---------------------------------------------------------------------------


def _pieces(deviation: float) -> int:
    """How many equal steps of the parameter keep a curve within TOLERANCE of its chords,
    given its largest second difference (a bound on the chord error: deviation / n²)."""
    return min(max(1, math.ceil(math.sqrt(deviation / TOLERANCE))), _MAX_PIECES)


_SMOOTH = math.cos(math.radians(2))  # segments meeting at less than 2° join smoothly


def _unit(dx: float, dy: float) -> Point | None:
    size = math.hypot(dx, dy)
    return (dx / size, dy / size) if size > 1e-9 else None


def _leaving(points: Sequence[Point]) -> Point | None:
    """The direction a curve leaves its first point in: towards the first control point
    that is not on it."""
    x0, y0 = points[0]
    for x, y in points[1:]:
        direction = _unit(x - x0, y - y0)
        if direction is not None:
            return direction
    return None


def _cubic(p: Sequence[Point], t: float) -> tuple[Point, Point | None]:
    """The point of a cubic at t, and its direction there."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = p
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    e, f, g = u * u, 2 * u * t, t * t
    dx = e * (x1 - x0) + f * (x2 - x1) + g * (x3 - x2)
    dy = e * (y1 - y0) + f * (y2 - y1) + g * (y3 - y2)
    return (a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3), _unit(dx, dy)


def _quadratic(p: Sequence[Point], t: float) -> tuple[Point, Point | None]:
    """The point of a quadratic at t, and its direction there."""
    (x0, y0), (x1, y1), (x2, y2) = p
    u = 1 - t
    point = (u * u * x0 + 2 * u * t * x1 + t * t * x2, u * u * y0 + 2 * u * t * y1 + t * t * y2)
    return point, _unit(u * (x1 - x0) + t * (x2 - x1), u * (y1 - y0) + t * (y2 - y1))


class _Flattener:
    """A fontTools pen that collects subpaths of points, transformed, curves cut up, each
    point with the path's direction there (None at a corner, where it turns)."""

    def __init__(self, matrix: Matrix) -> None:
        self.matrix = matrix
        self.subpaths: list[list[Point]] = []
        self.tangents: list[list[Point | None]] = []
        self._first: Point | None = None  # the direction the subpath starts in
        self._last: Point | None = None  # the direction it arrived at its last point in

    def _at(self) -> Point:
        return self.subpaths[-1][-1]

    def _segment(
        self,
        start: Point | None,
        end: Point | None,
        inner: list[Point],
        inner_tangents: list[Point | None],
        to: Point,
    ) -> None:
        """A segment leaving in direction `start`, through `inner` points, to `to`."""
        if start is None or end is None:
            return  # no length: nothing to follow
        tangents = self.tangents[-1]
        if self._last is None:
            tangents[-1] = start  # the subpath's start
        elif self._last[0] * start[0] + self._last[1] * start[1] < _SMOOTH:
            tangents[-1] = None  # a corner
        self._first = self._first or start
        self._last = end
        self.subpaths[-1].extend([*inner, to])
        tangents.extend([*inner_tangents, end])

    def moveTo(self, p: Point) -> None:  # the pen protocol
        self.subpaths.append([apply(self.matrix, p)])
        self.tangents.append([None])
        self._first = self._last = None

    def lineTo(self, p: Point) -> None:
        (x0, y0), (x1, y1) = self._at(), apply(self.matrix, p)
        direction = _unit(x1 - x0, y1 - y0)
        self._segment(direction, direction, [], [], (x1, y1))

    def _curve(
        self,
        controls: list[Point],
        n: int,
        at: Callable[[Sequence[Point], float], tuple[Point, Point | None]],
    ) -> None:
        inner = [at(controls, i / n) for i in range(1, n)]
        end = _leaving(controls[::-1])
        self._segment(
            _leaving(controls),
            end and (-end[0], -end[1]),
            [point for point, _ in inner],
            [tangent for _, tangent in inner],
            controls[-1],
        )

    def curveTo(self, *points: Point) -> None:
        controls = [self._at(), *(apply(self.matrix, p) for p in points)]
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = controls
        # Chord error of n equal steps is at most 3/4 · max |P0 - 2P1 + P2|, |P1 - 2P2 + P3| / n².
        second = max(
            math.hypot(x0 - 2 * x1 + x2, y0 - 2 * y1 + y2),
            math.hypot(x1 - 2 * x2 + x3, y1 - 2 * y2 + y3),
        )
        self._curve(controls, _pieces(0.75 * second), _cubic)

    def qCurveTo(self, *points: Point) -> None:
        controls = [self._at(), *(apply(self.matrix, p) for p in points[-2:])]
        (x0, y0), (x1, y1), (x2, y2) = controls
        self._curve(
            controls, _pieces(0.25 * math.hypot(x0 - 2 * x1 + x2, y0 - 2 * y1 + y2)), _quadratic
        )

    def closePath(self) -> None:
        # The parser has drawn the closing line already. Where the end meets the start in
        # one direction the path goes on through its first point, else that is a corner.
        line, tangents, first, last = self.subpaths[-1], self.tangents[-1], self._first, self._last
        if len(line) < 3 or first is None or last is None or math.dist(line[0], line[-1]) > 1e-6:
            return
        if first[0] * last[0] + first[1] * last[1] < _SMOOTH:
            tangents[0] = tangents[-1] = None

    def endPath(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Polyline:
    """A flattened path: `points` in order, `lengths[i]` the distance along the path to
    point i, `subpath[i]` the subpath point i belongs to (a jump between subpaths adds no
    length), `tangents[i]` the path's own direction at point i (None at a corner);
    `bounds` each subpath's first and last point."""

    points: tuple[Point, ...]
    lengths: tuple[float, ...]
    subpath: tuple[int, ...]
    tangents: tuple[Point | None, ...]
    bounds: tuple[tuple[int, int], ...]

    @classmethod
    def of(
        cls, subpaths: Sequence[Sequence[Point]], tangents: Sequence[Sequence[Point | None]]
    ) -> Polyline:
        points: list[Point] = []
        lengths: list[float] = []
        owner: list[int] = []
        directions: list[Point | None] = []
        bounds: list[tuple[int, int]] = []
        total = 0.0
        for line, marks in ((s, t) for s, t in zip(subpaths, tangents, strict=True) if s):
            bounds.append((len(points), len(points) + len(line) - 1))
            for k, point in enumerate(line):
                total += math.dist(line[k - 1], point) if k else 0.0
                points.append(point)
                lengths.append(total)
                owner.append(len(bounds) - 1)
            directions.extend(marks)
        return cls(tuple(points), tuple(lengths), tuple(owner), tuple(directions), tuple(bounds))

    @property
    def length(self) -> float:
        return self.lengths[-1] if self.lengths else 0.0

    def reversed(self) -> Polyline:
        """The same path walked from its end (textPath side="right")."""
        lines = [self.points[a : b + 1][::-1] for a, b in reversed(self.bounds)]
        marks = [
            [None if t is None else (-t[0], -t[1]) for t in self.tangents[a : b + 1][::-1]]
            for a, b in reversed(self.bounds)
        ]
        return Polyline.of(lines, marks)

    def _segment(self, distance: float) -> int | None:
        """The index i of the piece (point i-1 to point i) holding `distance`, a piece of
        some length within one subpath; None off the path."""
        lengths = self.lengths
        if not lengths or distance < 0 or distance > lengths[-1] or lengths[-1] <= 0:
            return None
        i = max(bisect_left(lengths, distance), 1)
        while i < len(lengths) and (
            lengths[i] <= lengths[i - 1] or self.subpath[i] != self.subpath[i - 1]
        ):
            i += 1
        while i >= len(lengths) or lengths[i] <= lengths[i - 1]:
            i -= 1  # past the last piece of length: back to it (distance is the very end)
        return i

    def at(self, distance: float) -> tuple[Point, Point] | None:
        """The point `distance` along the path and the unit direction there: along a
        piece of a flattened curve it turns from the curve's direction at one end to that
        at the other (so it is the curve's own, not its pieces'); None off the path."""
        i = self._segment(distance)
        if i is None:
            return None
        (x0, y0), (x1, y1) = self.points[i - 1], self.points[i]
        span = self.lengths[i] - self.lengths[i - 1]
        t = min(max((distance - self.lengths[i - 1]) / span, 0.0), 1.0)
        here = ((x1 - x0) / span, (y1 - y0) / span)
        start, end = self.tangents[i - 1] or here, self.tangents[i] or here
        tangent = _unit(start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t)
        return (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t), tangent or here

    def chord(self, start: float, end: float) -> Point | None:
        """The direction from the point at `start` to the one at `end`, when both are on
        the path and on one subpath (as Inkscape turns a glyph); else None. Along a curve
        it is the mean of the two ends' directions: the true chord's direction to the
        second order, where the flattened pieces' own chord would be off by their angle."""
        a, b = self._segment(start), self._segment(end)
        if a is None or b is None or self.subpath[a] != self.subpath[b]:
            return None
        p, q = self.at(start), self.at(end)
        if p is None or q is None:
            return None
        if all(self.tangents[k] is not None for k in range(a, b)):
            return _unit(p[1][0] + q[1][0], p[1][1] + q[1][1])
        return _unit(q[0][0] - p[0][0], q[0][1] - p[0][1])  # around a corner


@lru_cache(maxsize=256)
def flatten(data: str, transform: str | None = None) -> Polyline | None:
    """Path data (and the transform of its element) as a polyline, made once per path;
    None for data that does not parse or has no length."""
    pen = _Flattener(parse_transform(transform))
    try:
        parse_path(data, pen)
    except (ValueError, IndexError, TypeError):
        return None
    line = Polyline.of(pen.subpaths, pen.tangents)
    return line if line.length > 0 else None


def polyline_of(element: etree._Element) -> Polyline | None:
    """The polyline of a path or basic shape, its own `transform` applied."""
    data = path_data(element)
    return flatten(data, element.get("transform")) if data else None

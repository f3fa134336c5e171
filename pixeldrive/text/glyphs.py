"""Glyph outlines as relative SVG path data, cut so that a line of text is one cheap join."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import uharfbuzz as hb

Point = tuple[float, float]

# Coordinates are kept as integer hundredths of a font unit: relative steps then add up
# exactly, so rounding never drifts along a contour (variable and CFF fonts have fractions).
_H = 100


@dataclass(frozen=True, slots=True)
class GlyphPath:
    """One glyph's outline in font units, y down, relative to the glyph origin.

    `first` is the first moveto point (None for an empty glyph such as a space); `body` is
    everything after that moveto in relative commands (`m l c q z`), so it can be placed
    anywhere by prefixing one `m dx dy`; `end` is the current point after `body`.
    """

    first: Point | None
    body: str
    end: Point


@lru_cache(maxsize=1 << 16)
def _num(value: int) -> str:
    """Hundredths as the shortest decimal: integers bare, else up to two decimals, never an
    exponent. Cached: outlines repeat the same few hundred deltas."""
    if value % _H == 0:
        return str(value // _H)
    return f"{value / _H:.2f}".rstrip("0")


def _pair(x: int, y: int) -> str:
    """Two numbers, separated by a space unless the second brings its own minus sign (valid
    SVG; CairoSVG's `normalize` inserts a space before every `-`)."""
    return _join(_num(x), _num(y))


def _join(left: str, right: str) -> str:
    return left + right if right[0] == "-" else left + " " + right


class _Recorder:
    """Drawing state for one glyph: HarfBuzz calls the functions below with it."""

    __slots__ = ("cx", "cy", "first", "out", "previous", "sx", "sy")

    def __init__(self) -> None:
        self.cx = self.cy = self.sx = self.sy = 0
        self.first: tuple[int, int] | None = None
        self.out: list[str] = []
        self.previous = ""

    def emit(self, letter: str, numbers: str) -> None:
        """A repeated `l`, `c` or `q` is left implicit, as SVG allows."""
        if letter == self.previous:
            self.out.append(numbers if numbers[0] == "-" else " " + numbers)
        else:
            self.out.append(letter + numbers)
            self.previous = letter

    def glyph_path(self) -> GlyphPath:
        if self.first is None:
            return GlyphPath(None, "", (0.0, 0.0))
        first = (self.first[0] / _H, self.first[1] / _H)
        return GlyphPath(first, "".join(self.out), (self.cx / _H, self.cy / _H))


# The callbacks negate y (fonts are y up, SVG y down) and work in integer hundredths.
def _move_to(x: float, y: float, rec: _Recorder) -> None:
    px, py = round(x * _H), -round(y * _H)
    if rec.first is None:
        rec.first = (px, py)
    else:
        rec.out.append("m" + _pair(px - rec.cx, py - rec.cy))
        rec.previous = "m"
    rec.cx = rec.sx = px
    rec.cy = rec.sy = py


def _line_to(x: float, y: float, rec: _Recorder) -> None:
    px, py = round(x * _H), -round(y * _H)
    rec.emit("l", _pair(px - rec.cx, py - rec.cy))
    rec.cx, rec.cy = px, py


def _quadratic_to(x1: float, y1: float, x: float, y: float, rec: _Recorder) -> None:
    cx, cy = rec.cx, rec.cy
    px, py = round(x * _H), -round(y * _H)
    control = _pair(round(x1 * _H) - cx, -round(y1 * _H) - cy)
    rec.emit("q", _join(control, _pair(px - cx, py - cy)))
    rec.cx, rec.cy = px, py


def _cubic_to(
    x1: float, y1: float, x2: float, y2: float, x: float, y: float, rec: _Recorder
) -> None:
    cx, cy = rec.cx, rec.cy
    px, py = round(x * _H), -round(y * _H)
    c1 = _pair(round(x1 * _H) - cx, -round(y1 * _H) - cy)
    c2 = _pair(round(x2 * _H) - cx, -round(y2 * _H) - cy)
    rec.emit("c", _join(_join(c1, c2), _pair(px - cx, py - cy)))
    rec.cx, rec.cy = px, py


def _close_path(rec: _Recorder) -> None:
    # HarfBuzz draws the closing edge as a line; `z` draws the same edge, so drop the line.
    if rec.previous == "l" and rec.cx == rec.sx and rec.cy == rec.sy:
        rec.out.pop()
    rec.out.append("z")
    rec.previous = "z"
    rec.cx, rec.cy = rec.sx, rec.sy


def _draw_funcs() -> hb.DrawFuncs:
    funcs = hb.DrawFuncs()
    funcs.set_move_to_func(_move_to)
    funcs.set_line_to_func(_line_to)
    funcs.set_quadratic_to_func(_quadratic_to)
    funcs.set_cubic_to_func(_cubic_to)
    funcs.set_close_path_func(_close_path)
    return funcs


_FUNCS = _draw_funcs()


def glyph_path(font: hb.Font, gid: int) -> GlyphPath:
    """The outline of glyph `gid` as HarfBuzz draws it for `font` (variations and synthetic
    emboldening applied), in the font's scale: font units when the scale is the upem."""
    rec = _Recorder()
    font.draw_glyph(gid, _FUNCS, rec)
    return rec.glyph_path()


def append_glyphs(
    parts: list[str], pen: Point, glyphs: Iterable[tuple[GlyphPath, float, float]]
) -> Point:
    """Append path data for `glyphs`, each a (path, x, y) with its origin at (x, y) in font
    units (y down), to `parts`; return the current point after them (`pen` if none draws).

    Each glyph costs one formatted move plus its cached body. The move is absolute (`M`),
    not relative to `pen`: CairoSVG draws relative commands with cairo's `rel_*` calls, which
    round every step to cairo's 1/256-pixel fixed point, so relative moves chained through a
    whole line would drift; an absolute move per glyph bounds the error to one glyph's steps.
    """
    for path, x, y in glyphs:
        first = path.first
        if first is None:
            continue
        parts.append("M" + _pair(round((x + first[0]) * _H), round((y + first[1]) * _H)))
        parts.append(path.body)
        pen = (x + path.end[0], y + path.end[1])
    return pen

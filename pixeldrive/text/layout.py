"""Lines: breaking a shaped paragraph, placing lines on baselines, and the glyph runs
that come out of it.

Everything here works on a paragraph shaped once at its designed size: HarfBuzz is asked
for unscaled advances, so the same paragraph at a factor f is the same glyphs with every
length times f. Fitting tries factors without shaping again; the chosen lines are shaped
once more each (joining and kerning across a break are then right).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pixeldrive.text import bidi
from pixeldrive.text.affine import Matrix
from pixeldrive.text.fonts import SYNTHETIC_OBLIQUE_SHEAR, FontLibrary, LoadedFont
from pixeldrive.text.shape import Shaped, Span, shape

ELLIPSIS = "\u2026"
_HYPHENS = frozenset("-\u2010\u2012\u2013")


@dataclass(slots=True)
class Run:
    """Glyphs of one font and size drawn into one output group; positions in px (user
    units), absolute, y down. `rects` are decorations (x, y, width, height).

    Text on a path and per-glyph `rotate` turn glyphs: `angles` holds one angle per glyph
    (radians, clockwise on screen, about the glyph's origin); `textLength` with
    `lengthAdjust="spacingAndGlyphs"` scales them across: `stretch`. A plain run has
    neither, and is drawn without them."""

    owner: int
    font: LoadedFont
    size: float
    skew: bool
    glyphs: list[tuple[int, float, float]] = field(default_factory=list)
    rects: list[tuple[float, float, float, float]] = field(default_factory=list)
    angles: list[float] | None = None
    stretch: float = 1.0

    @property
    def plain(self) -> bool:
        """Upright and unscaled: each glyph is its outline moved to its position."""
        return self.angles is None and self.stretch == 1.0

    def matrices(self) -> Iterator[tuple[int, Matrix]]:
        """Each glyph with the matrix from its outline (font units, y down) to user space:
        its position, turn, stretch, size and synthetic slant."""
        scale = self.size / self.font.upem
        across = scale * self.stretch
        shear = SYNTHETIC_OBLIQUE_SHEAR if self.skew else 0.0
        angles = self.angles
        for index, (gid, x, y) in enumerate(self.glyphs):
            angle = angles[index] if angles is not None else 0.0
            cos, sin = math.cos(angle), math.sin(angle)
            a, b, c, d = cos * across, sin * across, -sin * scale, cos * scale
            yield gid, (a, b, c - a * shear, d - b * shear, x, y)


@dataclass(slots=True)
class PlacedLine:
    runs: list[Run]
    left: float
    right: float
    baseline: float


def is_break_before(text: str, i: int) -> bool:
    """May a line start at character i? After spaces, after a hyphen between letters,
    and on either side of a CJK character."""
    if i <= 0 or i >= len(text):
        return False
    before, here = text[i - 1], text[i]
    if here == " ":
        return False
    if before == " ":
        return True
    if before in _HYPHENS and i >= 2 and text[i - 2].isalnum() and here.isalnum():
        return True
    return _is_cjk(before) or _is_cjk(here)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
        or 0x20000 <= code <= 0x2FFFF
    ) and unicodedata.category(char) not in ("Pe", "Po")


def break_lines(shaped: Shaped, width: float | None) -> list[tuple[int, int]]:
    """Greedy line breaking at `width` (px at the shaped size; None: one line). A word
    wider than the line is broken between characters, so nothing leaves the frame.
    Ranges exclude the spaces a line ends with."""
    text = shaped.text
    n = len(text)
    if width is None or n == 0:
        return [(0, _trim(text, 0, n))]
    advances = shaped.advances
    lines: list[tuple[int, int]] = []
    start = 0
    while start < n:
        while start < n and text[start] == " " and lines:
            start += 1
        if start >= n:
            break
        used = 0.0
        last_break = -1
        i = start
        end = n
        while i < n:
            if i > start and is_break_before(text, i):
                last_break = i
            used += advances[i]
            if used > width + 1e-6 and text[i] != " ":
                # No break yet: an emergency break inside the word.
                end = last_break if last_break > start else max(i, start + 1)
                break
            i += 1
        lines.append((start, _trim(text, start, end)))
        start = end
    return lines or [(0, 0)]


def _trim(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] == " ":
        end -= 1
    return end


def width_of(shaped: Shaped, start: int, end: int) -> float:
    return sum(shaped.advances[start:end])


def slice_spans(spans: Sequence[Span], start: int, end: int) -> list[Span]:
    """The spans covering characters [start, end) of their concatenation, cut to fit."""
    out: list[Span] = []
    offset = 0
    for span in spans:
        a, b = offset, offset + len(span.text)
        offset = b
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            out.append(
                Span(
                    span.text[lo - a : hi - a],
                    span.style,
                    span.owner,
                    span.baseline_shift,
                    span.decoration,
                )
            )
    return out


def scaled_spans(spans: Sequence[Span], factor: float) -> list[Span]:
    if factor == 1.0:
        return list(spans)
    return [
        Span(s.text, s.style.scaled(factor), s.owner, s.baseline_shift * factor, s.decoration)
        for s in spans
    ]


def with_ellipsis(
    shaped: Shaped, start: int, end: int, width: float, library: FontLibrary, base_level: int
) -> Shaped:
    """Characters [start, end) cut so that they and an ellipsis fit in `width`."""
    spans = slice_spans(shaped.spans, start, end)
    if not spans:
        return shape([], library, base_level)
    last = spans[-1]
    mark = shape([Span(ELLIPSIS, last.style, last.owner)], library, base_level)
    room = width - sum(mark.advances)
    cut = end
    while cut > start and width_of(shaped, start, cut) > room:
        cut -= 1
    cut = _trim(shaped.text, start, cut)
    kept = slice_spans(shaped.spans, start, cut)
    tail = kept[-1] if kept else last
    kept.append(Span(ELLIPSIS, tail.style, tail.owner, tail.baseline_shift, tail.decoration))
    return shape(kept, library, base_level)


def line_extent(shaped: Shaped) -> tuple[float, float]:
    """Ascent and descent (px, both positive) of the tallest font on the line, scaled
    as Inkscape does so that ascent plus descent is one em."""
    ascent = descent = 0.0
    for item in shaped.items:
        font = item.font
        total = (font.ascender - font.descender) or font.upem
        ascent = max(ascent, item.size * font.ascender / total)
        descent = max(descent, -item.size * font.descender / total)
    return ascent, descent


def place(shaped: Shaped, x: float, baseline: float, synthetic: set[int]) -> PlacedLine:
    """Glyph runs of a one-line paragraph starting at x on the baseline, items in visual
    order. `synthetic` holds the spans whose italic is slanted by the drawer."""
    items = shaped.items
    order = bidi.visual_order([item.level for item in items])
    runs: list[Run] = []
    pen = x
    current: Run | None = None
    for index in order:
        item = items[index]
        span = shaped.spans[item.span]
        shift = span.baseline_shift
        owner = span.owner
        skew = item.span in synthetic
        if (
            current is None
            or current.owner != owner
            or current.font is not item.font
            or current.size != item.size
            or current.skew != skew
        ):
            current = Run(owner, item.font, item.size, skew)
            runs.append(current)
        run_start = pen
        for gid, advance, (dx, dy) in zip(item.gids, item.advances, item.offsets, strict=True):
            current.glyphs.append((gid, pen + dx, baseline + dy - shift))
            pen += advance
        if span.decoration:
            decorate(
                current, item.font, item.size, span.decoration, run_start, pen, baseline - shift
            )
    return PlacedLine(runs, x, pen, baseline)


def decorate(
    run: Run,
    font: LoadedFont,
    size: float,
    decoration: frozenset[str],
    left: float,
    right: float,
    baseline: float,
) -> None:
    # As Pango draws them (so Inkscape): the metric is the top edge of the stroke.
    scale = size / font.upem
    if "underline" in decoration:
        thick = max(font.underline_thickness * scale, 0.5)
        top = baseline - font.underline_position * scale
        run.rects.append((left, top, right - left, thick))
    if "line-through" in decoration:
        thick = max(font.strikeout_thickness * scale, 0.5)
        top = baseline - font.strikeout_position * scale
        run.rects.append((left, top, right - left, thick))
    if "overline" in decoration:
        thick = max(font.underline_thickness * scale, 0.5)
        top = baseline - font.ascender * scale
        run.rects.append((left, top, right - left, thick))


def shift_line(line: PlacedLine, dx: float) -> PlacedLine:
    """The same line moved dx to the right (anchoring happens after measuring)."""
    if not dx:
        return line
    for run in line.runs:
        run.glyphs = [(gid, gx + dx, gy) for gid, gx, gy in run.glyphs]
        run.rects = [(rx + dx, ry, rw, rh) for rx, ry, rw, rh in run.rects]
    return PlacedLine(line.runs, line.left + dx, line.right + dx, line.baseline)

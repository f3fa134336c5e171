"""Fitting framed text: the size factor and the lines, from a field's options.

- `none`: lines break at the frame's width (Inkscape's flowed text); lines past the
  frame's bottom are not drawn (Inkscape hides them too).
- `shrink`: one line per paragraph, the size reduced (down to min-size) until it fits.
- `wrap`: lines break at the width; the size is reduced until they fit the height.
- `ellipsis`: one line (or max-lines), cut with "…".
Whatever still does not fit at the smallest size is cut with an ellipsis, so a fitted
value never leaves its frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from pixeldrive.text.layout import break_lines, line_extent, width_of
from pixeldrive.text.shape import Shaped

DEFAULT_MIN_FACTOR = 0.5
MIN_FACTOR_FLOOR = 0.05  # min-size 0 would shrink to nothing
_SLACK = 0.01  # px: rounding in sums of advances is not an overflow


@dataclass(frozen=True, slots=True)
class Fit:
    """A field's fitting options (SPEC §2)."""

    mode: str = "none"  # none, shrink, wrap, ellipsis
    max_lines: int | None = None
    min_size: float | None = None
    box: str | None = None  # "#id" of a rect
    # A field's base direction: "auto" follows its value's first strong character (HTML's
    # dir=auto); "ltr" or "rtl" pin it; "" is what the text declares (static text).
    direction: str = ""


@dataclass(frozen=True, slots=True)
class Frame:
    """Where framed text goes (px). `top` None: the first baseline is the designed one."""

    left: float
    right: float
    top: float | None
    bottom: float | None
    baseline: float | None
    anchor: str


Row = tuple[int, int, int]  # paragraph, first character, end


class Flow:
    """Shaped paragraphs in a frame, at a size factor to be chosen."""

    def __init__(
        self, paragraphs: list[Shaped], frame: Frame, fit: Fit, size: float, line_height: float
    ) -> None:
        self.paragraphs = paragraphs
        self.frame = frame
        self.fit = fit
        self.size = size
        self.step = line_height * size
        self.width = max(frame.right - frame.left, 1.0)
        mode = fit.mode
        self.wraps = mode in ("none", "wrap") or (mode == "ellipsis" and (fit.max_lines or 1) > 1)
        self.shrinks = mode in ("shrink", "wrap")
        self.min_factor = 1.0
        if self.shrinks:
            self.min_factor = DEFAULT_MIN_FACTOR
            if fit.min_size is not None and size > 0:
                self.min_factor = min(1.0, max(fit.min_size / size, MIN_FACTOR_FLOOR))

    def rows(self, factor: float) -> list[Row]:
        limit = self.width / factor if self.wraps else None
        out: list[Row] = []
        for index, paragraph in enumerate(self.paragraphs):
            out.extend((index, a, b) for a, b in break_lines(paragraph, limit))
        return out

    def first_baseline(self, factor: float) -> float:
        if self.frame.top is None:
            return self.frame.baseline or 0.0
        first = next((p for p in self.paragraphs if p.items), None)
        ascent, descent = line_extent(first) if first else (self.size * 0.8, self.size * 0.2)
        # Inkscape: half the leading above a line whose em box holds ascent + descent.
        ascent, descent = ascent * factor, descent * factor
        return self.frame.top + (self.step * factor - (ascent + descent)) / 2 + ascent

    def room(self, factor: float, count: int) -> int:
        """How many of `count` lines fit the frame's height and max-lines."""
        rows = count if self.fit.max_lines is None else min(count, self.fit.max_lines)
        if self.frame.bottom is None:
            return rows
        descent = self.size * 0.25 * factor
        space = self.frame.bottom - self.first_baseline(factor) - descent
        return max(0, min(rows, int(space // (self.step * factor)) + 1))

    def fits(self, factor: float) -> bool:
        rows = self.rows(factor)
        if self.room(factor, len(rows)) < len(rows):
            return False
        limit = self.width + _SLACK
        return all(width_of(self.paragraphs[i], a, b) * factor <= limit for i, a, b in rows)

    def factor(self) -> float:
        """The largest size factor that fits, down to the minimum (bisection)."""
        if not self.shrinks or self.fits(1.0):
            return 1.0
        if not self.fits(self.min_factor):
            return self.min_factor
        low, high = self.min_factor, 1.0
        for _ in range(12):
            middle = (low + high) / 2
            if self.fits(middle):
                low = middle
            else:
                high = middle
        return low

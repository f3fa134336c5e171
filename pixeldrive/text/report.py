"""What the text engine did to one text, small and picklable (it crosses processes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextReport:
    """Final font size (px), lines drawn, whether the value was cut, the fallback fonts
    used, and characters no font has."""

    size: float
    lines: int
    truncated: bool
    fallbacks: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

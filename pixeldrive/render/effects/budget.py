"""The filter work one draw may do; apart from frame.py (numpy) so that every draw can
carry one without importing numpy."""

from __future__ import annotations

from pixeldrive.render.job import JobError
from pixeldrive.templates import effect_limits as limits


class Budget:
    """The filter work left to one draw (see templates/effect_limits.py)."""

    def __init__(self, work: float = limits.MAX_WORK) -> None:
        self.left = work

    def spend(self, pixels: int, weight: float) -> None:
        self.left -= pixels * weight
        if self.left < 0:
            raise JobError(
                "the template's filter effects are too costly to draw: past "
                f"{limits.MAX_WORK:,} pixel-primitives in one render; make the filtered "
                "areas or the blur and turbulence smaller"
            )

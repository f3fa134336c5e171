"""The output pixel size of a render, and its limits."""

from __future__ import annotations

from pixeldrive.core.errors import FieldProblem, InvalidInput


def output_size(
    intrinsic: tuple[int, int],
    width: int | None,
    height: int | None,
    scale: float | None,
    *,
    max_side: int,
    max_pixels: int,
) -> tuple[int, int]:
    """width and/or height (aspect kept when only one is given), or scale, or the
    template's own size. InvalidInput (422) names the field over a limit."""
    tw, th = intrinsic
    if scale is not None and (width or height):
        raise InvalidInput(
            "give width/height or scale, not both",
            errors=(FieldProblem("scale", "not allowed together with width/height"),),
        )
    if width and height:
        size = (width, height)
    elif width:
        size = (width, max(1, round(width * th / tw)))
    elif height:
        size = (max(1, round(height * tw / th)), height)
    else:
        factor = scale or 1.0
        size = (max(1, round(tw * factor)), max(1, round(th * factor)))
    _check(size, max_side, max_pixels, "height" if height and not width else "width")
    return size


def _check(size: tuple[int, int], max_side: int, max_pixels: int, blame: str) -> None:
    width, height = size
    problems = [
        FieldProblem(name, f"{value} px is over the limit of {max_side} px")
        for name, value in (("width", width), ("height", height))
        if value > max_side
    ]
    if width * height > max_pixels:
        problems.append(
            FieldProblem(blame, f"{width}×{height} is over the limit of {max_pixels} pixels")
        )
    if problems:
        raise InvalidInput(f"the output size {width}×{height} is too large", errors=tuple(problems))

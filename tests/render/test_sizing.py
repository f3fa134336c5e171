"""output_size: the pixel size of a render from width/height/scale, within limits."""

from __future__ import annotations

import pytest

from pixeldrive.core.errors import InvalidInput
from pixeldrive.render.sizing import output_size

LIMITS = {"max_side": 10_000, "max_pixels": 25_000_000}


def size(
    intrinsic: tuple[int, int],
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
    **limits: int,
) -> tuple[int, int]:
    return output_size(intrinsic, width, height, scale, **(LIMITS | limits))


def problems(exc: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.errors}


def test_no_size_gives_the_templates_own() -> None:
    assert size((1200, 630)) == (1200, 630)


@pytest.mark.parametrize(
    ("intrinsic", "width", "expected"),
    [
        ((1200, 630), 600, (600, 315)),
        ((1200, 630), 1000, (1000, 525)),
        ((3, 1), 100, (100, 33)),
        ((1000, 1), 10, (10, 1)),
    ],
)
def test_width_only_keeps_the_aspect(
    intrinsic: tuple[int, int], width: int, expected: tuple[int, int]
) -> None:
    assert size(intrinsic, width=width) == expected


@pytest.mark.parametrize(
    ("intrinsic", "height", "expected"),
    [((1200, 630), 315, (600, 315)), ((1200, 630), 100, (190, 100)), ((1, 1000), 10, (1, 10))],
)
def test_height_only_keeps_the_aspect(
    intrinsic: tuple[int, int], height: int, expected: tuple[int, int]
) -> None:
    assert size(intrinsic, height=height) == expected


def test_width_and_height_are_taken_as_given() -> None:
    assert size((1200, 630), width=500, height=500) == (500, 500)


@pytest.mark.parametrize(
    ("scale", "expected"),
    [(2.0, (2400, 1260)), (0.5, (600, 315)), (0.001, (1, 1)), (1.5, (1800, 945))],
)
def test_scale(scale: float, expected: tuple[int, int]) -> None:
    assert size((1200, 630), scale=scale) == expected


@pytest.mark.parametrize(("width", "height"), [(600, None), (None, 300), (600, 300)])
def test_scale_with_width_or_height_names_scale(width: int | None, height: int | None) -> None:
    with pytest.raises(InvalidInput) as exc:
        size((1200, 630), width=width, height=height, scale=2.0)
    assert exc.value.status == 422
    assert "scale" in problems(exc)


def test_over_max_side_names_width() -> None:
    with pytest.raises(InvalidInput) as exc:
        size((1200, 630), width=10_001, height=10)
    found = problems(exc)
    assert set(found) == {"width"}
    assert "10000" in found["width"]


def test_over_max_side_names_height_derived_from_the_aspect() -> None:
    with pytest.raises(InvalidInput) as exc:
        size((100, 1000), width=2000, max_pixels=10**9)
    assert set(problems(exc)) == {"height"}


def test_over_max_side_by_scale_names_both() -> None:
    with pytest.raises(InvalidInput) as exc:
        size((1200, 630), scale=16.0, max_pixels=10**12)
    assert set(problems(exc)) == {"width", "height"}


def test_at_the_limits_is_allowed() -> None:
    assert size((100, 100), width=10_000, height=2_500) == (10_000, 2_500)


def test_over_max_pixels_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as exc:
        size((1200, 630), width=100_000, height=100_000, max_side=10**6)
    assert exc.value.status == 422
    message = " ".join(problems(exc).values())
    assert "100000×100000" in message
    assert "25000000 pixels" in message


def test_over_max_pixels_with_sides_within_limits() -> None:
    with pytest.raises(InvalidInput, match="too large"):
        size((100, 100), width=6000, height=5000)

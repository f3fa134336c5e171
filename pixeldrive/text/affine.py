"""2-D affine matrices as six floats, in SVG's and cairo's order (a, b, c, d, e, f):
x' = a·x + c·y + e, y' = b·x + d·y + f."""

from __future__ import annotations

Matrix = tuple[float, float, float, float, float, float]
Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def multiply(m: Matrix, n: Matrix) -> Matrix:
    """m after n: the matrix of p -> m(n(p))."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


def apply(m: Matrix, p: Point) -> Point:
    a, b, c, d, e, f = m
    return a * p[0] + c * p[1] + e, b * p[0] + d * p[1] + f


def invert(m: Matrix) -> Matrix | None:
    """The inverse of `m`; None when it flattens the plane."""
    xx, yx, xy, yy, dx, dy = m
    det = xx * yy - xy * yx
    if abs(det) < 1e-12:
        return None
    ixx, iyx, ixy, iyy = yy / det, -yx / det, -xy / det, xx / det
    return (ixx, iyx, ixy, iyy, -(ixx * dx + ixy * dy), -(iyx * dx + iyy * dy))


def map_box(m: Matrix, box: Box) -> Box:
    """The bounding box of `box` mapped by `m`."""
    x0, y0, x1, y1 = box
    corners = [apply(m, (x, y)) for x in (x0, x1) for y in (y0, y1)]
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    return min(xs), min(ys), max(xs), max(ys)

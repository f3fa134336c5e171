"""feColorMatrix and feComponentTransfer, on straight (unpremultiplied) colour."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.frame import Step, numbers

LUMA = (0.2125, 0.7154, 0.0721)


def color_matrix(step: Step) -> im.Img:
    kind = str(step.prim.get("type") or "matrix").strip()
    values = numbers(step.prim.get("values"))
    has_values = step.prim.get("values") is not None
    matrix = _matrix(kind, values, has_values)
    straight = im.unpremultiply(step.pixels())
    if matrix is None:
        return im.Img(im.premultiply(straight), step.linear)
    out = straight @ matrix[:, :4].T + matrix[:, 4]
    np.clip(out, 0.0, 1.0, out=out)
    return im.Img(im.premultiply(out.astype(np.float32)), step.linear)


def _matrix(kind: str, values: list[float], has_values: bool) -> np.ndarray[Any, Any] | None:
    """The 4×5 matrix of a feColorMatrix; None for the identity."""
    if kind == "saturate":
        # Clamped to 0…1 as Inkscape and resvg clamp it (past 1 is undefined in SVG 1.1).
        s = min(1.0, max(0.0, values[0])) if values and has_values else 1.0
        return _rgb_matrix(saturate_matrix(s))
    if kind == "hueRotate":
        angle = values[0] if values and has_values else 0.0
        return _rgb_matrix(hue_matrix(angle))
    if kind == "luminanceToAlpha":
        m = np.zeros((4, 5))
        m[3, :3] = LUMA
        return m
    if len(values) != 20:
        return None
    return np.array(values, np.float64).reshape(4, 5)


def _rgb_matrix(rgb: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    m = np.zeros((4, 5))
    m[:3, :3] = rgb
    m[3, 3] = 1.0
    return m


def saturate_matrix(s: float) -> np.ndarray[Any, Any]:
    return np.array(
        [
            [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
        ]
    )


def hue_matrix(degrees: float) -> np.ndarray[Any, Any]:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    base = np.array([[0.213, 0.715, 0.072]] * 3)
    cos_part = np.array([[0.787, -0.715, -0.072], [-0.213, 0.285, -0.072], [-0.213, -0.715, 0.928]])
    sin_part = np.array([[-0.213, -0.715, 0.928], [0.143, 0.140, -0.283], [-0.787, 0.715, 0.072]])
    return base + c * cos_part + s * sin_part


def component_transfer(step: Step) -> im.Img:
    straight = im.unpremultiply(step.pixels())
    funcs = {"feFuncR": 0, "feFuncG": 1, "feFuncB": 2, "feFuncA": 3}
    # One function per channel: of two feFuncB the last applies (as resvg and Chrome).
    chosen = {funcs[c.tag]: c for c in step.prim.children if c.tag in funcs}
    for channel, child in chosen.items():
        straight[..., channel] = transfer(child, straight[..., channel])
    np.clip(straight, 0.0, 1.0, out=straight)
    return im.Img(im.premultiply(straight), step.linear)


def transfer(func: Any, c: im.Array) -> im.Array:
    """One feFunc applied to a channel of straight colour."""
    kind = str(func.get("type") or "identity").strip()
    table = numbers(func.get("tableValues"))
    if kind in ("table", "discrete") and table:
        return _table(kind, table, c)
    if kind == "linear":
        slope, intercept = _num(func, "slope", 1.0), _num(func, "intercept", 0.0)
        return (slope * c + intercept).astype(np.float32)
    if kind == "gamma":
        amp, exp, off = (
            _num(func, "amplitude", 1.0),
            _num(func, "exponent", 1.0),
            _num(func, "offset", 0.0),
        )
        with np.errstate(divide="ignore"):  # 0 to a negative power: infinite, then clamped
            return (amp * np.power(c, exp) + off).astype(np.float32)
    return c


def _table(kind: str, table: list[float], c: im.Array) -> im.Array:
    values = np.array(table, np.float32)
    n = len(values)
    if kind == "discrete":
        index = np.minimum((c * n).astype(np.intp), n - 1)
        return values[index]
    if n == 1:
        return np.full_like(c, values[0])
    position = c * (n - 1)
    k = np.minimum(position.astype(np.intp), n - 2)
    out: im.Array = (values[k] + (position - k) * (values[k + 1] - values[k])).astype(np.float32)
    return out


def _num(node: Any, name: str, default: float) -> float:
    found = numbers(node.get(name))
    return found[0] if found else default

"""feTurbulence: the reference Perlin noise of SVG 1.1 (section 15.25), over all pixels at
once."""

from __future__ import annotations

import functools
import math
from typing import Any

import cairocffi
import numpy as np

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.frame import Step
from pixeldrive.templates import effect_limits as limits

B_SIZE = 0x100
BM = 0xFF
PERLIN_N = 0x1000
RAND_M, RAND_A, RAND_Q, RAND_R = 2147483647, 16807, 127773, 2836


def _random(seed: int) -> int:
    result = RAND_A * (seed % RAND_Q) - RAND_R * (seed // RAND_Q)
    return result + RAND_M if result <= 0 else result


@functools.lru_cache(maxsize=16)
def lattice(seed: int) -> tuple[Any, Any]:
    """The lattice selector and the four channels' gradients for a seed (the spec's
    init(), to the bit)."""
    if seed <= 0:
        # The spec's C remainder keeps the dividend's sign (Python's % would not): -20 → 21.
        seed = -int(math.fmod(seed, RAND_M - 1)) + 1
    seed = min(seed, RAND_M - 1)
    selector = list(range(B_SIZE))
    gradient = np.zeros((4, B_SIZE + B_SIZE + 2, 2))
    for k in range(4):
        for i in range(B_SIZE):
            for j in range(2):
                seed = _random(seed)
                gradient[k, i, j] = ((seed % (B_SIZE + B_SIZE)) - B_SIZE) / B_SIZE
            norm = math.hypot(gradient[k, i, 0], gradient[k, i, 1])
            if norm:
                gradient[k, i] /= norm
    for i in range(B_SIZE - 1, 0, -1):
        seed = _random(seed)
        j = seed % B_SIZE
        selector[i], selector[j] = selector[j], selector[i]
    full = np.array(selector + selector[: B_SIZE + 2], np.intp)
    gradient[:, B_SIZE:] = gradient[:, : B_SIZE + 2]
    return full, gradient


def _noise(channel: int, vx: Any, vy: Any, tables: tuple[Any, Any], stitch: Any) -> Any:
    selector, gradient = tables
    tx, ty = vx + PERLIN_N, vy + PERLIN_N
    ix, iy = tx.astype(np.int64), ty.astype(np.int64)
    rx0, ry0 = tx - ix, ty - iy
    rx1, ry1 = rx0 - 1.0, ry0 - 1.0
    bx0, by0 = ix & BM, iy & BM
    bx1, by1 = (bx0 + 1) & BM, (by0 + 1) & BM
    if stitch is not None:
        width, wrap_x, height, wrap_y = stitch
        bx0 = np.where(bx0 >= wrap_x, bx0 - width, bx0) & BM
        bx1 = np.where(bx1 >= wrap_x, bx1 - width, bx1) & BM
        by0 = np.where(by0 >= wrap_y, by0 - height, by0) & BM
        by1 = np.where(by1 >= wrap_y, by1 - height, by1) & BM
    i, j = selector[bx0], selector[bx1]
    g = gradient[channel]
    sx = rx0 * rx0 * (3.0 - 2.0 * rx0)
    sy = ry0 * ry0 * (3.0 - 2.0 * ry0)
    q = g[selector[i + by0]]
    u = rx0 * q[..., 0] + ry0 * q[..., 1]
    q = g[selector[j + by0]]
    v = rx1 * q[..., 0] + ry0 * q[..., 1]
    a = u + sx * (v - u)
    q = g[selector[i + by1]]
    u = rx0 * q[..., 0] + ry1 * q[..., 1]
    q = g[selector[j + by1]]
    v = rx1 * q[..., 0] + ry1 * q[..., 1]
    b = u + sx * (v - u)
    return a + sy * (b - a)


def _stitch(
    fx: float, fy: float, tile: tuple[float, float, float, float]
) -> tuple[float, float, tuple[int, int, int, int]]:
    x, y, w, h = tile
    if fx != 0 and w > 0:
        lo, hi = math.floor(w * fx) / w, math.ceil(w * fx) / w
        fx = lo if lo > 0 and fx / lo < hi / fx else hi
    if fy != 0 and h > 0:
        lo, hi = math.floor(h * fy) / h, math.ceil(h * fy) / h
        fy = lo if lo > 0 and fy / lo < hi / fy else hi
    width, height = int(w * fx + 0.5), int(h * fy + 0.5)
    return fx, fy, (width, int(x * fx + PERLIN_N + width), height, int(y * fy + PERLIN_N + height))


def turbulence(step: Step) -> im.Img:
    frame = step.frame
    fx, fy = step.pair("baseFrequency", 0.0)
    octaves = min(limits.MAX_OCTAVES, int(step.number("numOctaves", 1)))
    seed = math.trunc(step.number("seed", 0))
    fractal = str(step.prim.get("type") or "turbulence").strip() == "fractalNoise"
    out = im.blank(frame.height, frame.width)
    if fx < 0 or fy < 0 or octaves <= 0:
        return im.Img(out, step.linear)
    x0, y0, x1, y1 = step.box
    inverse = cairocffi.Matrix(*frame.matrix.as_tuple())
    inverse.invert()
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    ux = inverse.xx * xs + inverse.xy * ys + inverse.x0
    uy = inverse.yx * xs + inverse.yy * ys + inverse.y0
    stitch = None
    if str(step.prim.get("stitchTiles") or "").strip() == "stitch":
        tile = _user_box(inverse, step.box)
        fx, fy, stitch = _stitch(fx, fy, tile)
    tables = lattice(seed)
    straight = np.empty((y1 - y0, x1 - x0, 4), np.float64)
    for channel in range(4):
        straight[..., channel] = _octaves(
            channel, ux * fx, uy * fy, octaves, fractal, tables, stitch
        )
    straight = (straight + 1) / 2 if fractal else straight
    np.clip(straight, 0.0, 1.0, out=straight)
    out[y0:y1, x0:x1] = im.premultiply(straight.astype(np.float32))
    return im.Img(out, step.linear)


def _octaves(
    channel: int, vx: Any, vy: Any, octaves: int, fractal: bool, tables: Any, stitch: Any
) -> Any:
    total = np.zeros_like(vx)
    ratio = 1.0
    for _ in range(octaves):
        noise = _noise(channel, vx, vy, tables, stitch)
        total += (noise if fractal else np.abs(noise)) / ratio
        vx, vy, ratio = vx * 2, vy * 2, ratio * 2
        if stitch is not None:
            width, wrap_x, height, wrap_y = stitch
            stitch = (2 * width, 2 * wrap_x - PERLIN_N, 2 * height, 2 * wrap_y - PERLIN_N)
    return total


def _user_box(
    inverse: cairocffi.Matrix, box: tuple[int, int, int, int]
) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    points = [inverse.transform_point(x, y) for x in (x0, x1) for y in (y0, y1)]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)

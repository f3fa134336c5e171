"""feConvolveMatrix and feDisplacementMap."""

from __future__ import annotations

import numpy as np

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.frame import Step, numbers
from pixeldrive.templates import effect_limits as limits

EDGE_MODES = {"duplicate": "edge", "wrap": "wrap", "none": "constant"}


def convolve_matrix(step: Step) -> im.Img:
    order = [int(v) for v in numbers(step.prim.get("order"))] or [3]
    ox, oy = order[0], order[1] if len(order) > 1 else order[0]
    kernel = numbers(step.prim.get("kernelMatrix"))
    blank = im.Img(im.blank(step.frame.height, step.frame.width), step.linear)
    # Bounded by its taps: a 10×1 kernel is as cheap as a 3×3 one.
    if not (ox > 0 and oy > 0 and ox * oy <= limits.MAX_KERNEL_TAPS):
        return blank
    if len(kernel) != ox * oy:
        return blank
    tx = int(step.number("targetX", ox // 2))
    ty = int(step.number("targetY", oy // 2))
    if not (0 <= tx < ox and 0 <= ty < oy):
        return blank
    divisor = step.number("divisor", sum(kernel) or 1.0)
    if divisor == 0:  # an error (SVG 1.1): drawn as resvg draws it, transparent
        return blank
    bias = step.number("bias", 0.0)
    mode = EDGE_MODES.get(str(step.prim.get("edgeMode") or "duplicate").strip(), "edge")
    preserve = str(step.prim.get("preserveAlpha") or "").strip() == "true"
    source = step.pixels()
    work = im.unpremultiply(source) if preserve else source
    matrix = np.array(kernel, np.float32).reshape(oy, ox)[::-1, ::-1]
    padded = np.pad(work, ((ty, oy - ty - 1), (tx, ox - tx - 1), (0, 0)), mode=mode)  # type: ignore[call-overload]
    height, width = source.shape[:2]
    out = np.zeros_like(work)
    for i in range(oy):
        for j in range(ox):
            if matrix[i, j]:
                out += matrix[i, j] * padded[i : i + height, j : j + width]
    out = out / divisor + bias
    np.clip(out, 0.0, 1.0, out=out)
    if preserve:
        out[..., 3] = source[..., 3]
        return im.Img(im.premultiply(out.astype(np.float32)), step.linear)
    np.minimum(out[..., :3], out[..., 3:4], out=out[..., :3])
    return im.Img(out.astype(np.float32), step.linear)


CHANNELS = {"R": 0, "G": 1, "B": 2, "A": 3}


def displacement_map(step: Step) -> im.Img:
    source = step.pixels("in")
    # The map is read in the primitive's colour space, its colour straight.
    displacement = im.unpremultiply(step.pixels("in2"))
    scale = step.number("scale", 0.0)
    sx, sy = step.frame.length(scale, "x"), step.frame.length(scale, "y")
    xc = CHANNELS.get(str(step.prim.get("xChannelSelector") or "A").strip(), 3)
    yc = CHANNELS.get(str(step.prim.get("yChannelSelector") or "A").strip(), 3)
    height, width = source.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width]
    fx = xs + sx * (displacement[..., xc] - 0.5)
    fy = ys + sy * (displacement[..., yc] - 0.5)
    ix = np.floor(fx + 0.5).astype(np.intp)
    iy = np.floor(fy + 0.5).astype(np.intp)
    inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
    out = np.zeros_like(source)
    out[inside] = source[iy[inside], ix[inside]]
    return im.Img(out, step.linear)

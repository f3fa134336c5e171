"""feFlood, feOffset, feComposite, feMerge, feBlend, feTile and feDropShadow."""

from __future__ import annotations

import cairocffi
import numpy as np

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.blend import BLEND_MODES
from pixeldrive.render.effects.blur import blur
from pixeldrive.render.effects.frame import Step


def flood(step: Step) -> im.Img:
    color = im.color_in_space(step.color("flood-color", "flood-opacity"), step.linear)
    out = np.empty((step.frame.height, step.frame.width, 4), np.float32)
    out[:] = color
    return im.Img(out, step.linear)


def offset(step: Step) -> im.Img:
    dx = step.frame.length(step.number("dx", 0.0), "x")
    dy = step.frame.length(step.number("dy", 0.0), "y")
    return im.Img(shift(step.pixels(), int(dx), int(dy)), step.linear)


def shift(px: im.Array, dx: int, dy: int) -> im.Array:
    """`px` moved by whole pixels; transparent where nothing moved in."""
    height, width = px.shape[:2]
    if abs(dx) >= width or abs(dy) >= height:
        return np.zeros_like(px)
    out = np.empty_like(px)  # only the strips nothing moves into are cleared
    out[max(0, dy) : height + min(0, dy), max(0, dx) : width + min(0, dx)] = px[
        max(0, -dy) : height - max(0, dy), max(0, -dx) : width - max(0, dx)
    ]
    out[: max(0, dy)] = 0
    out[height + min(0, dy) :] = 0
    out[:, : max(0, dx)] = 0
    out[:, width + min(0, dx) :] = 0
    return out


def composite(step: Step) -> im.Img:
    a, b = step.pixels("in"), step.pixels("in2")
    operator = str(step.prim.get("operator") or "over").strip()
    return im.Img(porter_duff(operator, a, b, step), step.linear)


def porter_duff(operator: str, a: im.Array, b: im.Array, step: Step | None = None) -> im.Array:
    aa, ab = a[..., 3:4], b[..., 3:4]
    if operator == "in":
        return a * ab
    if operator == "out":
        return a * (1 - ab)
    if operator == "atop":
        return a * ab + b * (1 - aa)
    if operator == "xor":
        return a * (1 - ab) + b * (1 - aa)
    if operator == "lighter":
        lighter: im.Array = np.minimum(a + b, np.float32(1.0))
        return lighter
    if operator == "arithmetic" and step is not None:
        k1, k2, k3, k4 = (step.number(k, 0.0) for k in ("k1", "k2", "k3", "k4"))
        out = k1 * a * b + k2 * a + k3 * b + k4
        np.clip(out, 0.0, 1.0, out=out)
        np.minimum(out[..., :3], out[..., 3:4], out=out[..., :3])
        result: im.Array = out.astype(np.float32)
        return result
    over = b * (1 - aa)  # over, with one array made rather than two
    over += a
    return over


def merge(step: Step) -> im.Img:
    out = im.blank(step.frame.height, step.frame.width)
    for node in step.prim.children:
        if node.tag != "feMergeNode":
            continue
        layer = Step(node, step.frame, step.linear, step.box, step.previous).pixels()
        out = layer + out * (1 - layer[..., 3:4])
    return im.Img(out, step.linear)


def blend(step: Step) -> im.Img:
    mode = str(step.prim.get("mode") or "normal").strip()
    top, bottom = step.pixels("in"), step.pixels("in2")
    return im.Img(
        blend_over(top, bottom, BLEND_MODES.get(mode, cairocffi.OPERATOR_OVER)), step.linear
    )


def blend_over(top: im.Array, bottom: im.Array, operator: int) -> im.Array:
    """`top` blended onto `bottom` with a cairo blend operator (the formulas of
    Compositing and Blending 1, as pixman implements them)."""
    target = im.to_cairo(bottom)
    context = cairocffi.Context(target)
    context.set_source_surface(im.to_cairo(top))
    context.set_operator(operator)
    context.paint()
    return im.from_cairo(target)


def tile(step: Step) -> im.Img:
    source = step.pixels()
    x0, y0, x1, y1 = step.input_box()
    out = im.blank(step.frame.height, step.frame.width)
    if x1 <= x0 or y1 <= y0:
        return im.Img(out, step.linear)
    piece = source[y0:y1, x0:x1]
    tile_h, tile_w = piece.shape[:2]
    rows = (np.arange(step.frame.height) - y0) % tile_h
    cols = (np.arange(step.frame.width) - x0) % tile_w
    out[:] = piece[rows[:, None], cols[None, :]]
    return im.Img(out, step.linear)


def drop_shadow(step: Step) -> im.Img:
    source = step.pixels()
    sx, sy = step.pair("stdDeviation", 2.0, strict=True)
    color = im.color_in_space(step.color("flood-color", "flood-opacity"), step.linear)
    alpha = source[..., 3:4]
    if sx > 0 or sy > 0:
        blurred = blur(
            np.repeat(alpha, 4, axis=2),
            step.frame.length(max(sx, 0), "x"),
            step.frame.length(max(sy, 0), "y"),
        )
        alpha = blurred[..., 3:4]
    shadow = alpha * color
    dx = int(step.frame.length(step.number("dx", 2.0), "x"))
    dy = int(step.frame.length(step.number("dy", 2.0), "y"))
    shadow = shift(np.ascontiguousarray(shadow, np.float32), dx, dy)
    return im.Img(source + shadow * (1 - source[..., 3:4]), step.linear)

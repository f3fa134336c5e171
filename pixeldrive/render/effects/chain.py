"""Running a filter: its primitives in order, results named and chained, each in its
colour space and clipped to its subregion."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pixeldrive.render.effects import blur, color, compose, convolve, lighting, turbulence
from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.frame import Frame, Step, numbers
from pixeldrive.render.effects.geometry import PixelBox
from pixeldrive.templates import effect_limits as limits

Handler = Callable[[Step], im.Img]
HANDLERS: dict[str, Handler] = {
    "feGaussianBlur": blur.gaussian_blur,
    "feMorphology": blur.morphology,
    "feFlood": compose.flood,
    "feOffset": compose.offset,
    "feComposite": compose.composite,
    "feMerge": compose.merge,
    "feBlend": compose.blend,
    "feTile": compose.tile,
    "feDropShadow": compose.drop_shadow,
    "feColorMatrix": color.color_matrix,
    "feComponentTransfer": color.component_transfer,
    "feConvolveMatrix": convolve.convolve_matrix,
    "feDisplacementMap": convolve.displacement_map,
    "feTurbulence": turbulence.turbulence,
    "feDiffuseLighting": lighting.diffuse,
    "feSpecularLighting": lighting.specular,
}


def primitives_of(filter_node: Any) -> list[Any]:
    return [c for c in filter_node.children if c.tag.startswith("fe")]


def run(primitives: Sequence[Any], frame: Frame, extra: dict[str, Handler]) -> im.Img | None:
    """The filter's result in sRGB; None when it is in error (the element is then not
    drawn, as browsers do)."""
    previous: im.Img | None = None
    previous_box = None
    for prim in primitives[: limits.MAX_PRIMITIVES]:
        handler = HANDLERS.get(prim.tag) or extra.get(prim.tag)
        if handler is None:
            return None
        linear = _linear(prim)
        box = frame.subregion(prim)
        frame.budget.spend(frame.width * frame.height, _weight(prim))
        step = Step(prim, frame, linear, box, previous, previous_box)
        result = handler(step)
        if prim.tag == "feOffset":
            # Not clipped; its subregion is its input's, which feTile repeats (as resvg
            # and Chrome draw it: a flood's tile moved within its own square).
            box = _input_box(prim, frame, previous_box) or box
        else:
            _clip(result.px, box)
        name = str(prim.get("result") or "").strip()
        if name:
            frame.results[name] = (result, box)
        previous, previous_box = result, box
    if previous is None:
        return None
    return im.Img(im.in_space(previous, False), False)


def _input_box(prim: Any, frame: Frame, previous: PixelBox | None) -> PixelBox | None:
    """The subregion of the result `in` names, or of the previous result when it names
    none (None for the source images)."""
    ref = str(prim.get("in") or "").strip()
    if ref in frame.results:
        return frame.results[ref][1]
    return previous if ref not in frame.sources else None


def _linear(prim: Any) -> bool:
    value = str(prim.get("color-interpolation-filters") or "linearRGB").strip()
    return value != "sRGB"


def _weight(prim: Any) -> float:
    octaves = int((numbers(prim.get("numOctaves")) or [1])[0])
    order = min(limits.MAX_KERNEL_ORDER, int(max(numbers(prim.get("order")) or [3])))
    radius = max(numbers(prim.get("radius")) or [0.0])
    return limits.weight(prim.tag, min(octaves, limits.MAX_OCTAVES), order, radius)


def _clip(px: im.Array, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    height, width = px.shape[:2]
    if (x0, y0, x1, y1) == (0, 0, width, height):
        return
    keep = np.zeros((height, width), bool)
    keep[y0:y1, x0:x1] = True
    px[~keep] = 0.0

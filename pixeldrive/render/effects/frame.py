"""What a filter primitive sees: the region's pixels, units and scale, its inputs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cairocffi
import numpy as np
from cairosvg.helpers import size

from pixeldrive.render.effects import image as im
from pixeldrive.render.effects.budget import Budget
from pixeldrive.render.effects.geometry import Box, PixelBox, around, fraction, own

EPSILON = 1e-6  # a rectangle edge this close to a pixel edge is on it
LIMIT = 1e9  # pixels: past any region
NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def numbers(value: Any) -> list[float]:
    return [float(n) for n in NUMBER_RE.findall(str(value or ""))]


@dataclass(slots=True)
class Frame:
    """One filter's region: `width`×`height` pixels; `matrix` maps user space to them;
    `bbox` is the element's bounding box (user space) and `by_box` says whether
    primitive lengths are fractions of it."""

    surface: Any
    node: Any
    width: int
    height: int
    matrix: cairocffi.Matrix
    bbox: Box | None
    by_box: bool
    budget: Budget
    sources: dict[str, Callable[[], im.Img]]
    depth: int = 0
    region: Box | None = None  # the filter region in user space
    results: dict[str, tuple[im.Img, PixelBox]] = field(default_factory=dict)

    @property
    def scale(self) -> tuple[float, float]:
        m = self.matrix
        return float(np.hypot(m.xx, m.xy)), float(np.hypot(m.yx, m.yy))

    def length(self, value: float, axis: str) -> float:
        """A primitive length (user or bounding-box units) in pixels along `axis`."""
        sx, sy = self.scale
        if self.by_box and self.bbox is not None:
            value *= self.bbox[2] if axis == "x" else self.bbox[3]
        return value * (sx if axis == "x" else sy)

    def point(self, x: float, y: float) -> tuple[float, float]:
        """A primitive coordinate (user or bounding-box units) in region pixels."""
        if self.by_box and self.bbox is not None:
            x = self.bbox[0] + x * self.bbox[2]
            y = self.bbox[1] + y * self.bbox[3]
        px, py = self.matrix.transform_point(x, y)
        return float(px), float(py)

    def subregion(self, prim: Any) -> PixelBox:
        """The primitive's subregion in region pixels: x/y/width/height where given, the
        filter region's where not (the whole region when none is given)."""
        names = ("x", "y", "width", "height")
        if all(prim.get(n) is None for n in names) and not self._by_box_source(prim):
            return 0, 0, self.width, self.height
        x, y, w, h = self.user_rect(prim)
        return self.pixel_box((x, y, w, h))

    def pixel_box(self, rect: Box) -> PixelBox:
        """A user-space rectangle as whole region pixels, rounded as resvg and Chrome round
        a filter's rectangles: the corner down, the size up; within the region."""
        x, y, w, h = rect
        corners = [self.matrix.transform_point(px, py) for px in (x, x + w) for py in (y, y + h)]
        # Huge or invalid values (an input's) are clamped before rounding to integers.
        left, top, width, height = (
            min(max(v, -LIMIT), LIMIT) if math.isfinite(v) else 0.0 for v in around(corners)
        )
        x0 = math.floor(left + EPSILON)
        y0 = math.floor(top + EPSILON)
        x1 = x0 + math.ceil(width - EPSILON)
        y1 = y0 + math.ceil(height - EPSILON)
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self.width, x1), min(self.height, y1)
        return x0, y0, max(x0, x1), max(y0, y1)

    def user_region(self) -> Box:
        """The filter region in user space (the pixels' extent when it is not known)."""
        if self.region is not None:
            return self.region
        inverse = cairocffi.Matrix(*self.matrix.as_tuple())
        inverse.invert()
        points = [inverse.transform_point(x, y) for x in (0, self.width) for y in (0, self.height)]
        return around(points)

    def _by_box_source(self, prim: Any) -> bool:
        """feFlood and feImage in bounding-box units fill the box, not the region."""
        return self.by_box and prim.tag in ("feFlood", "feImage") and self.bbox is not None

    def user_rect(self, prim: Any) -> Box:
        """x, y, width, height in user space. In user units a missing attribute is the
        filter region's; in bounding-box units they are fractions of the region, and for
        feFlood and feImage of the element's box (as resvg and Chrome resolve them)."""
        rx, ry, rw, rh = self.user_region()
        if self.by_box:
            box = self.bbox if self._by_box_source(prim) else None
            bx, by, bw, bh = box or (rx, ry, rw, rh)
            fx, fy = fraction(prim.get("x"), 0.0), fraction(prim.get("y"), 0.0)
            fw, fh = fraction(prim.get("width"), 1.0), fraction(prim.get("height"), 1.0)
            return bx + fx * bw, by + fy * bh, max(fw * bw, 0.0), max(fh * bh, 0.0)
        x = _user(self.surface, prim.get("x"), "x", rx)
        y = _user(self.surface, prim.get("y"), "y", ry)
        w = _user(self.surface, prim.get("width"), "x", rw)
        h = _user(self.surface, prim.get("height"), "y", rh)
        return x, y, max(w, 0.0), max(h, 0.0)


def _user(surface: Any, value: Any, axis: str, default: float) -> float:
    return default if value is None else float(size(surface, value, axis))


@dataclass(slots=True)
class Step:
    """One primitive being run: its node, its frame, its colour space and subregion."""

    prim: Any
    frame: Frame
    linear: bool
    box: PixelBox
    previous: im.Img | None
    previous_box: PixelBox | None = None

    def number(self, name: str, default: float) -> float:
        """A number attribute; the default when it is absent or not one plain number
        (`dx="20%"` is no offset, as resvg and browsers read it)."""
        text = str(self.prim.get(name) or "").strip()
        return float(text) if NUMBER_RE.fullmatch(text) else default

    def pair(self, name: str, default: float, strict: bool = False) -> tuple[float, float]:
        """A number-optional-number attribute; `strict`: more than two numbers make it
        invalid (the default), as resvg and browsers read stdDeviation."""
        found = numbers(self.prim.get(name))
        if not found or (strict and len(found) > 2):
            return default, default
        return found[0], found[1] if len(found) > 1 else found[0]

    def input(self, name: str = "in") -> im.Img:
        """The image an `in`/`in2` attribute names (the previous result, or the source
        graphic for the first primitive, when it names nothing known)."""
        ref = str(self.prim.get(name) or "").strip()
        frame = self.frame
        if ref in frame.results:
            return frame.results[ref][0]
        if ref in frame.sources:
            return frame.sources[ref]()
        if self.previous is not None:
            return self.previous
        return frame.sources["SourceGraphic"]()

    def pixels(self, name: str = "in") -> im.Array:
        """An input's pixels in this primitive's colour space."""
        return im.in_space(self.input(name), self.linear)

    def input_box(self, name: str = "in") -> PixelBox:
        ref = str(self.prim.get(name) or "").strip()
        if ref in self.frame.results:
            return self.frame.results[ref][1]
        if ref not in self.frame.sources and self.previous_box is not None:
            return self.previous_box
        return 0, 0, self.frame.width, self.frame.height

    def color(self, prop: str, opacity_prop: str | None) -> tuple[float, float, float, float]:
        """A colour property of the primitive (flood-color, lighting-color) as straight
        sRGB RGBA."""
        surface, prim = self.frame.surface, self.prim
        # Not inherited (CairoSVG hands them down from the filter element).
        value = str(own(prim, prop) or ("white" if prop == "lighting-color" else "black"))
        if value.strip() == "currentColor":
            value = str(prim.get("color") or self.frame.node.get("color") or "black")
        opacity = 1.0
        if opacity_prop is not None:
            opacity = max(0.0, min(1.0, fraction(own(prim, opacity_prop), 1.0)))
        try:
            r, g, b, a = surface.map_color(value.strip(), opacity)
        except (ValueError, TypeError, KeyError):
            r, g, b, a = 0.0, 0.0, 0.0, opacity
        return float(r), float(g), float(b), float(a)

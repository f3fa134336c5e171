"""Where an effect draws: an element's bounding box, its filter or mask region in user
space, and that region as a box of device pixels."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import cairocffi
from cairosvg.bounding_box import BOUNDING_BOX_METHODS, calculate_bounding_box
from cairosvg.helpers import size
from cairosvg.helpers import transform as apply_transform
from cairosvg.parser import Tree
from cairosvg.url import parse_url

from pixeldrive.templates.style import parse_style

Box = tuple[float, float, float, float]  # x, y, width, height
PixelBox = tuple[int, int, int, int]  # x0, y0, x1, y1
CONTAINERS = frozenset({"g", "a", "svg", "switch", "text", "textPath", "tspan"})
MAX_USE_DEPTH = 32  # nested groups and <use>s looked into for a box (cycles are refused at upload)


def _image_box(surface: Any, node: Any) -> Box | None:
    """An <image>'s box: its x, y, width and height (None when it is sized by its own
    pixels, which are not read here)."""
    width, height = size(surface, node.get("width"), "x"), size(surface, node.get("height"), "y")
    if not width or not height:
        return None
    return size(surface, node.get("x"), "x"), size(surface, node.get("y"), "y"), width, height


# CairoSVG knows no box for an image, so a filter or mask on one (or on a group or a <use>
# holding one) had no region and drew nothing; its own group and <use> boxes look here.
BOUNDING_BOX_METHODS.setdefault("image", _image_box)


def transform_of(surface: Any, node: Any) -> cairocffi.Matrix:
    """The matrix of `node`'s transform attribute, read by CairoSVG's own parser."""
    context = surface.context
    context.save()
    context.identity_matrix()
    apply_transform(surface, node.get("transform"), transform_origin=node.get("transform-origin"))
    matrix = context.get_matrix()
    context.restore()
    return matrix


def bounding_box(surface: Any, node: Any, depth: int = 0) -> Box | None:
    """The element's object bounding box in its own user space (after its transform,
    as its content is drawn), children's transforms applied; None when it has none."""
    if depth > MAX_USE_DEPTH:
        return None
    if node.tag == "use":
        return _use_box(surface, node, depth)
    if node.tag in CONTAINERS or node.children:
        box: Box | None = None
        for child in node.children:
            inner = bounding_box(surface, child, depth + 1)
            if inner is None or child.get("display") == "none":
                continue
            placed = _transformed(transform_of(surface, child), inner)
            box = placed if box is None else _union(box, placed)
        if box is not None:
            return box
    if node.tag == "path":
        return _path_box(surface, node)
    try:
        found = calculate_bounding_box(surface, node)
    except (TypeError, ValueError, KeyError, AttributeError):  # CairoSVG on odd input
        return None
    if found is None or not all(math.isfinite(v) for v in found):
        return None
    return tuple(float(v) for v in found)  # type: ignore[return-value]


def _path_box(surface: Any, node: Any) -> Box | None:
    """A path's box as the spec defines it, around its curves (CairoSVG's goes around
    the control points: a bulging curve's box was too tall): cairo's extents of the
    path CairoSVG builds."""
    from cairosvg.surface import TAGS

    scratch = cairocffi.Context(cairocffi.ImageSurface(cairocffi.FORMAT_A8, 1, 1))
    outer = surface.context
    surface.context = scratch
    try:
        TAGS["path"](surface, node)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):  # CairoSVG on odd input
        return None
    finally:
        surface.context = outer
    x0, y0, x1, y1 = scratch.path_extents()
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or (x0, y0, x1, y1) == (0, 0, 0, 0):
        return None
    return x0, y0, x1 - x0, y1 - y0


def _use_box(surface: Any, node: Any, depth: int) -> Box | None:
    """A <use>'s box: the referenced element's, under that element's own transform and
    moved by the use's x and y, as CairoSVG draws it (its own box method forgets both,
    so a filter on a clone of a moved path was placed where the path is not)."""
    try:
        tree = Tree(
            url=parse_url(node.get_href()).geturl(),
            url_fetcher=node.url_fetcher,
            parent=node,
            tree_cache=getattr(surface, "tree_cache", None),
            unsafe=node.unsafe,
        )
    except (TypeError, ValueError, KeyError, AttributeError, OSError):  # no such element
        return None
    inner = bounding_box(surface, tree, depth + 1)
    if inner is None:
        return None
    placed = _transformed(transform_of(surface, tree), inner)
    dx, dy = size(surface, node.get("x"), "x"), size(surface, node.get("y"), "y")
    return placed[0] + dx, placed[1] + dy, placed[2], placed[3]


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    return x0, y0, max(a[0] + a[2], b[0] + b[2]) - x0, max(a[1] + a[3], b[1] + b[3]) - y0


def _transformed(matrix: cairocffi.Matrix, box: Box) -> Box:
    x, y, w, h = box
    return around(matrix.transform_point(px, py) for px in (x, x + w) for py in (y, y + h))


def around(points: Iterable[tuple[float, float]]) -> Box:
    xs, ys = zip(*points, strict=True)
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def fraction(value: Any, default: float) -> float:
    """An objectBoundingBox length: a number or a percentage of the box."""
    if value is None or str(value).strip() == "":
        return default
    text = str(value).strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        return default


def unit_rect(surface: Any, node: Any, bbox: Box | None, by_box: bool, defaults: Box) -> Box | None:
    """The x/y/width/height rectangle of a filter or mask element in user space: in
    fractions of `bbox` when `by_box` (defaults apply there), else user lengths."""
    names = ("x", "y", "width", "height")
    if by_box:
        if bbox is None or bbox[2] <= 0 or bbox[3] <= 0:
            return None
        fx, fy, fw, fh = (fraction(node.get(n), d) for n, d in zip(names, defaults, strict=True))
        bx, by, bw, bh = bbox
        return bx + fx * bw, by + fy * bh, fw * bw, fh * bh
    ref = ("x", "y", "x", "y")
    values = []
    for name, axis, default in zip(names, ref, defaults, strict=True):
        raw = node.get(name)
        if raw is None:
            whole = surface.context_width if axis == "x" else surface.context_height
            values.append(default * (whole or 0))
        else:
            values.append(size(surface, raw, axis))
    return values[0], values[1], values[2], values[3]


@dataclass(frozen=True, slots=True)
class Placement:
    """A user-space rectangle placed on the device: its pixel box (clipped to the
    surface's extents, with a margin), and the user → device matrix."""

    box: PixelBox
    matrix: cairocffi.Matrix

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    def user_to_pixels(self) -> cairocffi.Matrix:
        """User space → pixels of the box (origin at its top left)."""
        m = self.matrix
        return cairocffi.Matrix(m.xx, m.yx, m.xy, m.yy, m.x0 - self.box[0], m.y0 - self.box[1])

    def scale(self) -> tuple[float, float]:
        m = self.matrix
        return math.hypot(m.xx, m.yx), math.hypot(m.xy, m.yy)


def place(matrix: cairocffi.Matrix, rect: Box, limits: PixelBox) -> Placement | None:
    """`rect` (user space, under `matrix`) as device pixels within `limits`; None when
    nothing of it is there."""
    x, y, w, h = rect
    if not (w > 0 and h > 0) or not all(math.isfinite(v) for v in rect):
        return None
    corners = [matrix.transform_point(px, py) for px in (x, x + w) for py in (y, y + h)]
    left, top, width, height = around(corners)
    x0 = max(limits[0], math.floor(left + 1e-6))
    y0 = max(limits[1], math.floor(top + 1e-6))
    x1 = min(limits[2], math.ceil(left + width - 1e-6))
    y1 = min(limits[3], math.ceil(top + height - 1e-6))
    if x1 <= x0 or y1 <= y0:
        return None
    return Placement((x0, y0, x1, y1), matrix)


def own(node: Any, name: str) -> str | None:
    """The node's own value of a property CairoSVG would have inherited to it: set on
    its element (attribute or style), or on a node made by PixelDrive."""
    value = node.get(name)
    if value is None:
        return None
    element = getattr(node, "xml_tree", None)
    if element is None or element.get(name) is not None:
        return str(value)
    return str(value) if name in parse_style(element.get("style")) else None

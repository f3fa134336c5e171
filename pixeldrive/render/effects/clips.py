"""Clip paths CairoSVG draws wrongly, drawn as a coverage mask: a clip-rule per child, a
clip-path on a clipping child or on the clipPath itself, a bounding-box clipPath on
anything but a rect (CairoSVG reads the box from width and height) or with a transform,
a transform that cannot be inverted (nothing shows), and children a clipPath does not
take (groups, a <use> of anything but a shape or text). CairoSVG keeps every other
clip path (a vector clip, also in a PDF)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cairocffi
from cairosvg.helpers import transform as apply_transform
from cairosvg.parser import Tree
from cairosvg.url import parse_url

from pixeldrive.render.effects.geometry import Box, bounding_box, own, transform_of
from pixeldrive.render.effects.markers import MARKERS
from pixeldrive.text.svgtext import GLYPHS

SHAPES = frozenset({"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text"})
MAX_NESTING = 8
# Not part of a clipping shape's outline (CairoSVG would clip inside its own clip).
IGNORED = ("clip-path", "filter", "mask", *MARKERS)


def _shape(node: Any) -> bool:
    """A shape, or a text: PixelDrive hands CairoSVG a set text as a group of glyph
    elements (and groups for its spans)."""
    if node.tag in SHAPES:
        return True
    if node.tag != "g":
        return False
    found = False
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.tag == GLYPHS:
            found = True
        elif child.tag == "g":
            stack.extend(child.children)
        else:
            return False
    return found


def clip_node(surface: Any, node: Any) -> Any:
    name = parse_url(node.get("clip-path")).fragment
    return surface.paths.get(name) if name else None


def needs_mask(surface: Any, clip: Any, node: Any) -> bool:
    """Whether CairoSVG's vector clip would clip `node` with `clip` wrongly."""
    if clip_node(surface, clip) is not None or own(clip, "display") == "none":
        return True  # (display does not apply to a clipPath: CairoSVG would clip all)
    by_box = clip.get("clipPathUnits") == "objectBoundingBox"
    # CairoSVG takes the box from x, y, width and height: a rect's only.
    if by_box and (clip.get("transform") or node.tag != "rect"):
        return True
    if _singular(surface, clip):
        return True
    for child in clip.children:
        if not _shape(child) or clip_node(surface, child) is not None:
            return True
        if str(child.get("clip-rule") or "").strip() == "evenodd":
            return True
    return False


def _singular(surface: Any, clip: Any) -> bool:
    """Whether the clipPath's transform cannot be inverted (matrix(0 0 0 0 0 0)): CairoSVG
    then leaves the matrix as it was and clips to nothing, so it is found by its clip."""
    if not clip.get("transform"):
        return False
    context = surface.context
    context.save()
    try:
        context.reset_clip()
        context.identity_matrix()
        apply_transform(surface, clip.get("transform"))
        x0, y0, x1, y1 = context.clip_extents()
    finally:
        context.restore()
    return bool(x1 <= x0 or y1 <= y0)


def _target(surface: Any, child: Any) -> Any:
    """What a clipping child draws: the child (a shape or text), the shape or text a
    <use> refers to, or None (not a valid clipPath child)."""
    if _shape(child):
        return child
    if child.tag != "use":
        return None
    try:
        tree = Tree(
            url=parse_url(child.get_href()).geturl(),
            url_fetcher=child.url_fetcher,
            parent=child,
            tree_cache=getattr(surface, "tree_cache", None),
            unsafe=child.unsafe,
        )
    except (TypeError, ValueError, KeyError, AttributeError, OSError):
        return None
    return child if _shape(tree) else None


def coverage(
    surface: Any,
    clip: Any,
    bbox: Box | None,
    matrix: cairocffi.Matrix,
    size: tuple[int, int],
    draw: Callable[[Any], None],
    depth: int = 0,
) -> cairocffi.ImageSurface:
    """The clip's coverage (A8) on `size` pixels, user space mapped to them by `matrix`."""
    width, height = size
    out = cairocffi.ImageSurface(cairocffi.FORMAT_A8, width, height)
    by_box = clip.get("clipPathUnits") == "objectBoundingBox"
    if depth > MAX_NESTING or (by_box and (bbox is None or bbox[2] <= 0 or bbox[3] <= 0)):
        return out
    if _singular(surface, clip):
        return out  # an invalid transform: the clip is empty (nothing shows)
    space = transform_of(surface, clip).multiply(cairocffi.Matrix(*matrix.as_tuple()))
    if by_box and bbox is not None:
        space = cairocffi.Matrix(bbox[2], 0, 0, bbox[3], bbox[0], bbox[1]).multiply(space)
    result = cairocffi.Context(out)
    for child in clip.children:
        target = _target(surface, child)
        if target is None or own(child, "display") == "none":
            continue
        if child.get("visibility") in ("hidden", "collapse"):
            continue
        layer = _outline(surface, child, space, size, draw)
        inner = clip_node(surface, child)
        if inner is not None:
            # The child's clip is in the child's user space: under its own transform.
            child_space = transform_of(surface, child).multiply(space)
            child_box = bounding_box(surface, child)
            inner_cover = coverage(surface, inner, child_box, child_space, size, draw, depth + 1)
            layer = _intersect(layer, inner_cover)
        result.set_source_surface(layer)
        result.paint()
    its_clip = clip_node(surface, clip)
    if its_clip is not None and its_clip is not clip:
        out = _intersect(out, coverage(surface, its_clip, bbox, matrix, size, draw, depth + 1))
    return out


def _outline(
    surface: Any,
    child: Any,
    space: cairocffi.Matrix,
    size: tuple[int, int],
    draw: Callable[[Any], None],
) -> cairocffi.ImageSurface:
    """One clipping child's outline filled with its clip-rule, as coverage."""
    layer = cairocffi.ImageSurface(cairocffi.FORMAT_A8, *size)
    context = cairocffi.Context(layer)
    context.set_matrix(space)
    outer = surface.context
    saved = {name: child[name] for name in IGNORED if name in child}
    for name in IGNORED:
        child.pop(name, None)
    surface.context = context
    surface.stroke_and_fill = False
    try:
        draw(child)  # CairoSVG leaves the outline as the context's path
    finally:
        surface.stroke_and_fill = True
        surface.context = outer
        child.update(saved)
    evenodd = str(child.get("clip-rule") or "").strip() == "evenodd"
    context.set_fill_rule(cairocffi.FILL_RULE_EVEN_ODD if evenodd else cairocffi.FILL_RULE_WINDING)
    context.identity_matrix()
    context.fill()
    return layer


def _intersect(
    layer: cairocffi.ImageSurface, other: cairocffi.ImageSurface
) -> cairocffi.ImageSurface:
    out = cairocffi.ImageSurface(cairocffi.FORMAT_A8, layer.get_width(), layer.get_height())
    context = cairocffi.Context(out)
    context.set_source_surface(layer)
    context.mask_surface(other)
    return out

"""CairoSVG surfaces that draw filters, masks, blend modes and paint-order themselves,
over the glyph-run surfaces of text/draw.py. Every other element goes to CairoSVG's own
`Surface.draw` untouched, so a document without effects draws exactly as before.

The pixel work (drawing, filtering, masks: numpy) is imported by the first element that
needs it: a render worker that never meets a filter, mask or clip drawn as coverage never
loads numpy (16 MiB of its memory)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import cairocffi
from cairosvg.defs import parse_all_defs
from cairosvg.helpers import transform as apply_transform
from cairosvg.surface import TAGS
from cairosvg.url import parse_url

from pixeldrive.render.effects import clips, markers
from pixeldrive.render.effects.budget import Budget
from pixeldrive.render.effects.geometry import Placement, bounding_box, place
from pixeldrive.render.effects.markers import MARKERS, marker_names
from pixeldrive.render.effects.plan import PARTS, Effects, effects_of, paint_order
from pixeldrive.templates import effect_limits as limits
from pixeldrive.text.draw import PDFWithRuns, PixelsWithRuns, PNGWithRuns

NOT_IN_CLIPS = ("filter", "mask", *MARKERS)
STRIPPED = ("filter", "mask", "opacity", "mix-blend-mode", "isolation", "transform")


@contextmanager
def without(
    node: Any, names: tuple[str, ...], values: dict[str, str] | None = None
) -> Iterator[None]:
    """`node` with the properties `names` removed (or set to `values`) for a while."""
    saved = {name: node[name] for name in names if name in node}
    for name in names:
        node.pop(name, None)
    node.update(values or {})
    try:
        yield
    finally:
        for name in (*names, *(values or {})):
            node.pop(name, None)
        node.update(saved)


class EffectsMixin:
    """Draws an element's filter, mask, blend mode, isolation and paint-order; hands
    everything else to CairoSVG. Per draw: the filter work budget."""

    effect_budget: Budget
    effect_depth: int

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.effect_budget = Budget()
        self.effect_depth = 0
        super().__init__(*args, **kwargs)

    def draw(self, node: Any) -> None:
        base: Callable[[Any], None] = super().draw  # type: ignore[misc]
        if node.tag == "svg" and node.parent is None:
            parse_all_defs(self, node)  # filters and masks are found before the root
            if self.filters:  # type: ignore[attr-defined]
                from pixeldrive.render.effects import filtering

                filtering.drop_recursive_filters(self)
        if not self.stroke_and_fill:  # type: ignore[attr-defined]
            # Inside a clipPath only the shapes' outlines count: a filter, mask, blend
            # mode or marker of a clipping shape has no effect (CairoSVG would offset,
            # mask or add its markers to the clip).
            with without(node, NOT_IN_CLIPS):
                base(node)
            return
        if node.get("display") == "none":
            base(node)
            return
        clip = clips.clip_node(self, node)
        if clip is not None and clips.needs_mask(self, clip, node):
            draw_clipped(self, node, clip, base)
            return
        found = effects_of(self, node)
        if found is not None:
            draw_effects(self, node, found, base)
            return
        order = paint_order(node, node.tag in TAGS)
        found_markers = None if node.children else marker_names(self, node)
        if order is None and found_markers is None:
            base(node)
            return
        draw_shape(self, node, order or list(PARTS), found_markers, base)


def draw_clipped(surface: Any, node: Any, clip: Any, draw: Callable[[Any], None]) -> None:
    """The element drawn (effects and all) into a group, painted through its clip path's
    coverage (clips.py), where CairoSVG's vector clip would be wrong; past the region
    bound, CairoSVG's clip (`draw`)."""
    from pixeldrive.render.effects import drawing

    context = surface.context
    k = drawing.raster_scale(surface)
    context.save()
    apply_transform(surface, node.get("transform"), transform_origin=node.get("transform-origin"))
    bbox = bounding_box(surface, node)
    matrix = drawing.scaled(context.get_matrix(), k)
    context.restore()
    x0, y0, x1, y1 = drawing.visible(surface, k)[0]
    if x1 <= x0 or y1 <= y0:
        return
    if (x1 - x0) * (y1 - y0) > limits.MAX_REGION_PIXELS:
        draw(node)
        return
    origin = cairocffi.Matrix(1, 0, 0, 1, -x0, -y0)
    cover = clips.coverage(
        surface, clip, bbox, matrix.multiply(origin), (x1 - x0, y1 - y0), surface.draw
    )
    with without(node, ("clip-path",)):
        context.push_group()
        surface.draw(node)
        context.pop_group_to_source()
    context.save()
    context.identity_matrix()
    pattern = cairocffi.SurfacePattern(cover)
    pattern.set_matrix(cairocffi.Matrix(k, 0, 0, k, -x0, -y0))
    context.mask(pattern)
    context.restore()


def draw_shape(
    surface: Any,
    node: Any,
    order: list[str],
    found_markers: dict[str, Any] | None,
    draw: Callable[[Any], None],
) -> None:
    """A shape's fill, stroke and markers in paint-order's order; the markers drawn by
    PixelDrive (markers.py), fill and stroke by CairoSVG."""
    blank = {"fill": "none", "stroke": "none", **dict.fromkeys(MARKERS, "")}
    groups: list[list[str]] = []
    for part in order:
        if groups and groups[-1] == ["fill"] and part == "stroke":
            groups[-1].append(part)  # the usual order: one draw for both
        else:
            groups.append([part])
    for group in groups:
        if group == ["markers"]:
            if found_markers is not None:
                context = surface.context
                context.save()
                apply_transform(
                    surface, node.get("transform"), transform_origin=node.get("transform-origin")
                )
                markers.draw_markers(surface, node, found_markers, surface.draw)
                context.restore()
            continue
        names = tuple(name for name in blank if name not in group)
        with without(node, names, {name: blank[name] for name in names}):
            draw(node)


def draw_effects(surface: Any, node: Any, effects: Effects, draw: Callable[[Any], None]) -> None:
    context = surface.context
    if not effects.raster:
        # A blend mode or isolation alone: a cairo group, kept as vectors in a PDF.
        with without(node, ("mix-blend-mode", "isolation", "opacity")):
            context.push_group()
            draw(node)
            context.pop_group_to_source()
            context.save()
            context.set_operator(effects.operator)
            context.paint_with_alpha(effects.opacity)
            context.restore()
        return
    context.save()
    apply_transform(surface, node.get("transform"), transform_origin=node.get("transform-origin"))
    try:
        # The clip applies to the filtered, masked result, not to what the filter reads.
        clip_to(surface, node)
        with without(node, (*STRIPPED, "transform-origin", "clip-path")):
            _raster(surface, node, effects, draw)
    finally:
        context.restore()


def clip_to(surface: Any, node: Any) -> None:
    """Clip the context to the node's clip-path, as CairoSVG's own draw clips it (a
    bounding-box clip scaled to the element's real box)."""
    name = parse_url(node.get("clip-path")).fragment
    path = surface.paths.get(name) if name else None
    if path is None:
        return
    context = surface.context
    context.save()
    if path.get("clipPathUnits") == "objectBoundingBox":
        box = bounding_box(surface, node)
        if box is None or box[2] <= 0 or box[3] <= 0:
            context.restore()
            context.rectangle(0, 0, 0, 0)  # clipped by an empty box: nothing shows
            context.clip()
            return
        context.translate(box[0], box[1])
        context.scale(box[2], box[3])
    path.tag = "g"
    surface.stroke_and_fill = False
    try:
        surface.draw(path)
    finally:
        surface.stroke_and_fill = True
        path.tag = "clipPath"
    context.restore()
    context.clip()
    context.set_fill_rule(cairocffi.FILL_RULE_WINDING)


def _raster(surface: Any, node: Any, effects: Effects, draw: Callable[[Any], None]) -> None:
    from pixeldrive.render.effects import drawing, filtering, masks

    k = drawing.raster_scale(surface)
    matrix = drawing.scaled(surface.context.get_matrix(), k)
    bbox = bounding_box(surface, node)
    shown, wide = drawing.visible(surface, k)
    placement = _placement(surface, effects, bbox, matrix, (shown, wide))
    if placement is None:
        return
    px = drawing.draw_into(surface, placement, lambda: draw(node))
    if effects.filters is not None:
        filtered = filtering.apply(
            surface, node, effects.filters, px, placement, bbox, surface.draw
        )
        if filtered is None:
            return
        px = filtered
    if effects.mask is not None:
        px = px * masks.coverage(surface, effects.mask, bbox, placement, surface.draw)
    if effects.opacity < 1:
        px = px * effects.opacity
    drawing.composite(surface, px, placement, effects.operator, k)


def _placement(
    surface: Any, effects: Effects, bbox: Any, matrix: cairocffi.Matrix, limits: tuple[Any, Any]
) -> Placement | None:
    from pixeldrive.render.effects import drawing, filtering, masks

    shown, wide = limits
    if effects.filters is not None:
        region = filtering.region(surface, effects.filters, bbox)
    else:
        region = masks.mask_rect(surface, effects.mask, bbox)
    if region is None:
        return None
    placement = place(matrix, region, wide)
    if placement is not None and not drawing.fits(placement):
        placement = place(matrix, region, shown)
    return placement


class PNGWithEffects(EffectsMixin, PNGWithRuns):
    """CairoSVG's image surface with glyph runs and effects."""


class PDFWithEffects(EffectsMixin, PDFWithRuns):
    """CairoSVG's PDF surface with glyph runs and effects (filtered or masked elements
    rasterised at 144 dpi)."""


class PixelsWithEffects(EffectsMixin, PixelsWithRuns):
    """Draws onto an existing cairo image surface (a backdrop's pixels), with effects."""

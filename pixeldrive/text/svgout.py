"""A filled template as a self-contained SVG: every glyph run becomes a `<path>`, so the
document looks the same in any viewer, with or without the fonts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import uharfbuzz as hb
from cairosvg.colors import color as parse_color
from cairosvg.helpers import paint as parse_paint
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from lxml import etree

from pixeldrive.templates.parser import SVG_NS
from pixeldrive.templates.sizes import parse_length
from pixeldrive.templates.style import parse_style
from pixeldrive.text import color_glyphs as cg
from pixeldrive.text.affine import Box, Matrix, map_box
from pixeldrive.text.fonts import SYNTHETIC_OBLIQUE_SHEAR, LoadedFont
from pixeldrive.text.glyphs import append_glyphs
from pixeldrive.text.layout import Run
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgtext import GLYPHS, PD_NS


def to_svg(tree: etree._Element, runs: GlyphRuns) -> bytes:
    """The document with glyph elements replaced by paths (the runs they refer to in
    `runs`) and the engine's namespace gone; `tree` is consumed. Colour runs are drawn
    with their colours (see below)."""
    colors: _ColorWriter | None = None
    for element in list(tree.iter(GLYPHS)):
        run = runs.get(element.get("ref", ""))
        parent = element.getparent()
        if parent is None:
            continue
        if run is not None and cg.has_color(run.font):
            colors = colors or _ColorWriter(tree)
            path = _color_run(colors, element, run)
        else:
            path = _path(run, _stroke_width(element)) if run is not None else None
        if path is None:
            parent.remove(element)
        else:
            path.tail = element.tail
            parent.replace(element, path)
    etree.cleanup_namespaces(tree, top_nsmap={}, keep_ns_prefixes=None)
    if PD_NS in (tree.nsmap or {}).values():
        tree = _without_namespace(tree)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _stroke_width(element: etree._Element) -> float | None:
    """The stroke width the glyphs inherit, when they are stroked at all."""
    stroke = width = None
    for ancestor in element.iterancestors():
        style = parse_style(ancestor.get("style"))
        stroke = stroke or style.get("stroke") or ancestor.get("stroke")
        width = width or style.get("stroke-width") or ancestor.get("stroke-width")
    if stroke in (None, "none"):
        return None
    return parse_length(width) if width else 1.0


def _path(run: Run, stroke_width: float | None) -> etree._Element | None:
    """One path for a run: outlines in font units under a transform to the run's origin
    (with the synthetic slant, if any); decorations as rectangles in the same units."""
    if (not run.glyphs and not run.rects) or run.size <= 0:
        return None
    if not run.plain:
        return _turned_path(run)
    scale = run.size / run.font.upem
    x0, y0 = run.glyphs[0][1:] if run.glyphs else run.rects[0][:2]
    parts: list[str] = []
    glyphs = (
        (run.font.glyph_path(gid), (x - x0) / scale, (y - y0) / scale) for gid, x, y in run.glyphs
    )
    append_glyphs(parts, (0.0, 0.0), glyphs)
    for x, y, width, height in run.rects:
        left, top = (x - x0) / scale, (y - y0) / scale
        parts.append(
            f"M{left:.2f} {top:.2f}h{width / scale:.2f}v{height / scale:.2f}h{-width / scale:.2f}z"
        )
    shear = -SYNTHETIC_OBLIQUE_SHEAR * scale if run.skew else 0.0
    path = etree.Element(f"{{{SVG_NS}}}path")
    path.set("d", "".join(parts))
    path.set("transform", f"matrix({scale:.6g} 0 {shear:.6g} {scale:.6g} {x0:.3f} {y0:.3f})")
    if stroke_width is not None:
        # The transform scales strokes too: give the width in font units.
        path.set("stroke-width", f"{stroke_width / scale:.4g}")
    return path


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _turned_path(run: Run) -> etree._Element:
    """One path for a run of turned (or stretched) glyphs, in user space: each outline
    drawn through its glyph's matrix (and y flipped from the font's), so strokes keep the
    width they inherit."""
    pen = SVGPathPen(None, ntos=_number)
    for gid, (a, b, c, d, e, f) in run.matrices():
        run.font.hb_font.draw_glyph_with_pen(gid, TransformPen(pen, (a, b, -c, -d, e, f)))
    parts = [pen.getCommands()]
    for x, y, width, height in run.rects:
        parts.append(f"M{_number(x)} {_number(y)}h{_number(width)}v{_number(height)}")
        parts.append(f"h{_number(-width)}z")
    path = etree.Element(f"{{{SVG_NS}}}path")
    path.set("d", "".join(parts) or "M0 0")
    return path


def _without_namespace(tree: etree._Element) -> etree._Element:
    """A copy of the tree without the engine's namespace declaration."""
    clean = etree.fromstring(etree.tostring(tree))
    etree.cleanup_namespaces(clean)
    return clean


# -- colour runs ----------------------------------------------------------------------------
#
# A colour glyph is written once per document as a `<g id>` in a `<defs>` (font units, y
# down), and each use of it is a `<use>` with the glyph's transform. Its display list
# (text/color_glyphs.py) becomes: fills as `<path>`s with a colour or a userSpaceOnUse
# `<linearGradient>`/`<radialGradient>` (spreadMethod for the extend mode), clips as
# `<clipPath>`s, transforms as `<g transform>`. A sweep gradient, which SVG lacks, is a fan
# of thin solid wedges about its centre (each at most 2° wide and at most 4/255 of a
# channel from the next), clipped to its shape. Composites:
#
# - source in / dest in / source out / dest out: one operand masked by the other, the mask
#   being that operand drawn in white (its alpha as luminance), or black on white for "out";
# - the separable and non-separable blend modes: `mix-blend-mode` on the source within an
#   isolated group; plus: `mix-blend-mode:plus-lighter` (CSS Compositing 2);
# - dest over, source, dest, clear: the operands drawn in some order, or nothing;
# - source atop, dest atop and xor have no SVG form: drawn with the masks above (exact where
#   the operands' alpha is 0 or 1, which is the case inside opaque emoji shapes).
#
# A two-circle radial gradient whose start circle has a radius uses SVG 2's `fr`; SVG has
# no cone gradient for a focus outside the end circle (viewers clamp it). Foreground paints
# take the text's own colour (a gradient or pattern fill lends its fallback colour, else
# black); the text's fill-opacity fades the run as one group, as in the raster draw.

_BLEND = {
    int(hb.PaintCompositeMode.PLUS): "plus-lighter",
    int(hb.PaintCompositeMode.SCREEN): "screen",
    int(hb.PaintCompositeMode.OVERLAY): "overlay",
    int(hb.PaintCompositeMode.DARKEN): "darken",
    int(hb.PaintCompositeMode.LIGHTEN): "lighten",
    int(hb.PaintCompositeMode.COLOR_DODGE): "color-dodge",
    int(hb.PaintCompositeMode.COLOR_BURN): "color-burn",
    int(hb.PaintCompositeMode.HARD_LIGHT): "hard-light",
    int(hb.PaintCompositeMode.SOFT_LIGHT): "soft-light",
    int(hb.PaintCompositeMode.DIFFERENCE): "difference",
    int(hb.PaintCompositeMode.EXCLUSION): "exclusion",
    int(hb.PaintCompositeMode.MULTIPLY): "multiply",
    int(hb.PaintCompositeMode.HSL_HUE): "hue",
    int(hb.PaintCompositeMode.HSL_SATURATION): "saturation",
    int(hb.PaintCompositeMode.HSL_COLOR): "color",
    int(hb.PaintCompositeMode.HSL_LUMINOSITY): "luminosity",
}
_M = hb.PaintCompositeMode
# Mode: (what is drawn, in order), each (operand, masked by operand or None, "in"/"out").
_MASKED: dict[int, tuple[tuple[str, str | None, str], ...]] = {
    int(_M.SRC): (("s", None, ""),),
    int(_M.DEST): (("b", None, ""),),
    int(_M.DEST_OVER): (("s", None, ""), ("b", None, "")),
    int(_M.SRC_IN): (("s", "b", "in"),),
    int(_M.DEST_IN): (("b", "s", "in"),),
    int(_M.SRC_OUT): (("s", "b", "out"),),
    int(_M.DEST_OUT): (("b", "s", "out"),),
    int(_M.SRC_ATOP): (("b", None, ""), ("s", "b", "in")),
    int(_M.DEST_ATOP): (("s", None, ""), ("b", "s", "in")),
    int(_M.XOR): (("s", "b", "out"), ("b", "s", "out")),
}
_SPREAD = ("pad", "repeat", "reflect")
_WEDGE = math.pi / 90  # 2°
_REACH = math.pi / 4
_WHITE, _BLACK = (1.0, 1.0, 1.0), (0.0, 0.0, 0.0)


def _svg(tag: str, parent: etree._Element | None = None, **attributes: str) -> etree._Element:
    name = f"{{{SVG_NS}}}{tag}"
    element = etree.Element(name) if parent is None else etree.SubElement(parent, name)
    for key, value in attributes.items():
        element.set(key.replace("_", "-"), value)
    return element


def _n(value: float) -> str:
    return f"{value:.6g}"


def _matrix(m: Matrix) -> str:
    return "matrix(" + " ".join(_n(v) for v in m) + ")"


def _hex(rgba: cg.RGBA) -> str:
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgba[:3])


class _ColorWriter:
    """The colour glyphs of one document: its `<defs>`, ids unique in it, and each glyph
    (per font, glyph and text colour) written once."""

    def __init__(self, tree: etree._Element) -> None:
        self.tree = tree
        self.taken = {str(e.get("id")) for e in tree.iter() if e.get("id") is not None}
        self.count = 0
        self._defs: etree._Element | None = None
        self.glyphs: dict[tuple[int, int, cg.RGBA | None], str] = {}
        self.text: cg.RGBA = (0.0, 0.0, 0.0, 1.0)
        self.tint: tuple[float, float, float] | None = None

    @property
    def defs(self) -> etree._Element:
        if self._defs is None:
            self._defs = _svg("defs")
            self.tree.insert(0, self._defs)
        return self._defs

    def new_id(self) -> str:
        while True:
            self.count += 1
            candidate = f"pd-c{self.count}"
            if candidate not in self.taken:
                return candidate

    def glyph(self, font: LoadedFont, gid: int) -> str | None:
        """The id of the glyph's definition, written on first use; None if it is empty."""
        glyph = cg.color_glyph(font, gid)
        if not glyph.body:
            return None
        key = (id(font), gid, self.text if glyph.foreground else None)
        ident = self.glyphs.get(key)
        if ident is None:
            ident = self.glyphs[key] = self.new_id()
            group = _svg("g", self.defs, id=ident)
            self.nodes(font, group, glyph.body)
        return ident

    def nodes(self, font: LoadedFont, parent: etree._Element, nodes: Sequence[cg.Node]) -> None:
        for node in nodes:
            if isinstance(node, cg.Fill):
                self.fill(font, parent, node.gid, node.paint, node.matrix)
            elif isinstance(node, cg.Cover):
                self.cover(parent, node.paint, node.box)
            elif isinstance(node, cg.Transform):
                self.nodes(font, _svg("g", parent, transform=_matrix(node.matrix)), node.body)
            elif isinstance(node, cg.Clip):
                self.nodes(font, self.clipped(font, parent, node.gid, node.box), node.body)
            else:
                self.composite(font, parent, node)

    def clipped(
        self, font: LoadedFont, parent: etree._Element, gid: int | None, box: Box
    ) -> etree._Element:
        ident = self.new_id()
        clip = _svg("clipPath", self.defs, id=ident)
        if gid is None:
            x0, y0, x1, y1 = box
            _svg("rect", clip, x=_n(x0), y=_n(y0), width=_n(x1 - x0), height=_n(y1 - y0))
        else:
            _svg("path", clip, d=_outline(font, gid), clip_rule="nonzero")
        return _svg("g", parent, clip_path=f"url(#{ident})")

    def fill(
        self,
        font: LoadedFont,
        parent: etree._Element,
        gid: int,
        paint: cg.Paint,
        matrix: Matrix | None,
    ) -> None:
        if isinstance(paint, cg.Sweep):
            # Masked, not clipped: a renderer clips each wedge on its own, and the wedges'
            # antialiased edges would pile up along the outline.
            r = paint.radius
            box = (paint.cx - r, paint.cy - r, paint.cx + r, paint.cy + r)
            ident, mask = self.new_mask(box if matrix is None else map_box(matrix, box))
            _svg("path", mask, d=_outline(font, gid), fill="#ffffff")
            inner = _svg("g", parent, mask=f"url(#{ident})")
            if matrix is not None:
                inner = _svg("g", inner, transform=_matrix(matrix))
            self.wedges(inner, paint)
            return
        self.paint(_svg("path", parent, d=_outline(font, gid)), paint, matrix)

    def cover(self, parent: etree._Element, paint: cg.Paint, box: Box) -> None:
        if isinstance(paint, cg.Sweep):
            self.wedges(parent, paint)
            return
        x0, y0, x1, y1 = box
        rect = _svg("rect", parent, x=_n(x0), y=_n(y0), width=_n(x1 - x0), height=_n(y1 - y0))
        self.paint(rect, paint, None)

    def color(self, rgba: cg.RGBA, foreground: bool) -> cg.RGBA:
        resolved = cg.resolve(rgba, foreground, self.text)
        return resolved if self.tint is None else (*self.tint, resolved[3])

    def paint(self, shape: etree._Element, paint: cg.Paint, matrix: Matrix | None) -> None:
        if isinstance(paint, cg.Solid):
            rgba = self.color(paint.rgba, paint.foreground)
            shape.set("fill", _hex(rgba))
            if rgba[3] < 1:
                shape.set("opacity", _n(rgba[3]))
            return
        if not isinstance(paint, cg.Sweep):  # a sweep is drawn as wedges, not a fill
            shape.set("fill", f"url(#{self.gradient(paint, matrix)})")

    def gradient(self, paint: cg.Linear | cg.Radial, matrix: Matrix | None) -> str:
        ident = self.new_id()
        if isinstance(paint, cg.Linear):
            tag = "linearGradient"
            names: tuple[str, ...] = ("x1", "y1", "x2", "y2")
            values: tuple[float, ...] = (paint.x0, paint.y0, paint.x1, paint.y1)
        else:
            # The end circle is SVG's (cx, cy, r), the start circle its focus (fx, fy, fr).
            tag, names = "radialGradient", ("cx", "cy", "r", "fx", "fy", "fr")
            values = (paint.x1, paint.y1, paint.r1, paint.x0, paint.y0, paint.r0)
        element = _svg(tag, self.defs, id=ident, gradientUnits="userSpaceOnUse")
        element.set("spreadMethod", _SPREAD[paint.extend])
        if matrix is not None:
            element.set("gradientTransform", _matrix(matrix))
        for name, value in zip(names, values, strict=True):
            if name != "fr" or value > 0:
                element.set(name, _n(value))
        for stop in paint.stops:
            rgba = self.color(stop.rgba, stop.foreground)
            stop_element = _svg("stop", element, offset=_n(stop.offset))
            stop_element.set("stop-color", _hex(rgba))
            stop_element.set("stop-opacity", _n(rgba[3]))
        return ident

    def wedges(self, parent: etree._Element, sweep: cg.Sweep) -> None:
        colors = [self.color(s.rgba, s.foreground) for s in sweep.stops]
        pieces = cg.sweep_pieces(sweep, colors)
        if not pieces:
            return
        group = _svg("g", parent)
        end = pieces[-1][2]
        for a0, c0, a1, c1 in pieces:
            change = max(abs(c1[i] * c1[3] - c0[i] * c0[3]) for i in range(3))
            count = min(max(math.ceil((a1 - a0) / _WEDGE), math.ceil(change * 255 / 4), 1), 256)
            step = (a1 - a0) / count
            for i in range(count):
                start, rgba = a0 + i * step, cg.mix(c0, c1, (i + 0.5) / count)
                # An opaque wedge reaches on under the ones drawn after it (up to 45°), so
                # that no pixel is left partly covered by thin wedges only (seams).
                reach = min(end - start, _REACH) if rgba[3] >= 1 else step
                _wedge(group, sweep, start, reach, rgba)

    def composite(self, font: LoadedFont, parent: etree._Element, node: cg.Composite) -> None:
        blend = _BLEND.get(node.mode)
        if blend is not None:
            group = _svg("g", parent, style="isolation:isolate")
            self.nodes(font, group, node.backdrop)
            self.nodes(font, _svg("g", group, style=f"mix-blend-mode:{blend}"), node.source)
            return
        operands = {"s": node.source, "b": node.backdrop}
        for operand, masked_by, kind in _MASKED.get(node.mode, ()):
            target = _svg("g", parent)
            if masked_by is not None:
                ident = self.mask(font, operands[masked_by], kind, node.box)
                target.set("mask", f"url(#{ident})")
            self.nodes(font, target, operands[operand])

    def new_mask(self, box: Box) -> tuple[str, etree._Element]:
        """An empty mask over `box`, in the user space of what uses it."""
        ident = self.new_id()
        x0, y0, x1, y1 = box
        size = {"x": _n(x0), "y": _n(y0), "width": _n(x1 - x0), "height": _n(y1 - y0)}
        mask = _svg("mask", self.defs, id=ident, maskUnits="userSpaceOnUse", **size)
        mask.set("stroke", "none")
        return ident, mask

    def mask(self, font: LoadedFont, nodes: Sequence[cg.Node], kind: str, box: Box) -> str:
        """A luminance mask that is the alpha of `nodes` ("in") or its complement ("out")."""
        ident, mask = self.new_mask(box)
        saved, self.tint = self.tint, _WHITE
        if kind == "out":
            x0, y0, x1, y1 = box
            size = {"x": _n(x0), "y": _n(y0), "width": _n(x1 - x0), "height": _n(y1 - y0)}
            _svg("rect", mask, fill="#ffffff", **size)
            self.tint = _BLACK
        self.nodes(font, mask, nodes)
        self.tint = saved
        return ident


def _wedge(parent: etree._Element, sweep: cg.Sweep, a: float, da: float, rgba: cg.RGBA) -> None:
    """A sector of the sweep's disc from angle a to a + da (≤ 45°) as a polygon through
    three points of its arc, pushed out to stay outside the disc."""
    cx, cy = sweep.cx, sweep.cy
    r = sweep.radius * 1.01 / math.cos(da / 4)
    # y down: the point at angle t is (cx + r cos t, cy - r sin t).
    points = [(cx + r * math.cos(t), cy - r * math.sin(t)) for t in (a, a + da / 2, a + da)]
    d = f"M{_n(cx)} {_n(cy)}" + "".join(f"L{_n(x)} {_n(y)}" for x, y in points) + "Z"
    wedge = _svg("path", parent, d=d, fill=_hex(rgba))
    if rgba[3] < 1:
        wedge.set("opacity", _n(rgba[3]))


def _outline(font: LoadedFont, gid: int) -> str:
    parts: list[str] = []
    append_glyphs(parts, (0.0, 0.0), [(font.glyph_path(gid), 0.0, 0.0)])
    return "".join(parts) or "M0 0"


def _inherited(element: etree._Element, name: str) -> str | None:
    """The nearest value of presentation property `name` on the element's ancestors."""
    for ancestor in element.iterancestors():
        value = parse_style(ancestor.get("style")).get(name) or ancestor.get(name)
        if value:
            return str(value).strip()
    return None


def _text_color(element: etree._Element) -> cg.RGBA | None:
    """The text's own colour, for foreground paints (None: no fill, nothing drawn)."""
    source, color = parse_paint(_inherited(element, "fill") or "black")
    if color == "none" or (source is None and color is None):
        return None
    if color is None or color == "currentColor":
        color = "black" if color is None else (_inherited(element, "color") or "black")
    r, g, b, a = parse_color(color)
    return (float(r), float(g), float(b), float(a))


def _color_run(writer: _ColorWriter, element: etree._Element, run: Run) -> etree._Element | None:
    """A colour run as `<use>`s of its glyphs' definitions, faded as one group by the
    text's fill-opacity; decorations as the plain path would draw them."""
    text = _text_color(element)
    wrapper = _svg("g")
    if text is not None and run.size > 0 and run.glyphs:
        group = _svg("g", wrapper, stroke="none", fill_opacity="1")
        try:
            alpha = float(_inherited(element, "fill-opacity") or 1)
        except ValueError:
            alpha = 1.0
        if alpha < 1:
            group.set("opacity", _n(max(alpha, 0.0)))
        writer.text = text
        scale = run.size / run.font.upem
        shear = -SYNTHETIC_OBLIQUE_SHEAR * scale if run.skew else 0.0
        run_matrices = [matrix for _, matrix in run.matrices()]
        for index, (gid, x, y) in enumerate(run.glyphs):
            ident = writer.glyph(run.font, gid)
            if ident is None:
                continue
            if run.plain:
                at = f"matrix({_n(scale)} 0 {_n(shear)} {_n(scale)} {x:.3f} {y:.3f})"
            else:
                at = _matrix(run_matrices[index])
            _svg("use", group, href=f"#{ident}", transform=at)
    rects = _path(Run(run.owner, run.font, run.size, run.skew, [], list(run.rects)), None)
    if rects is not None:
        wrapper.append(rects)
    return wrapper if len(wrapper) else None

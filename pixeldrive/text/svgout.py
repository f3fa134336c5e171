"""A filled template as a self-contained SVG: every glyph run becomes a `<path>`, so the
document looks the same in any viewer, with or without the fonts."""

from __future__ import annotations

from lxml import etree

from pixeldrive.templates.parser import SVG_NS
from pixeldrive.templates.sizes import parse_length
from pixeldrive.templates.style import parse_style
from pixeldrive.text.fonts import SYNTHETIC_OBLIQUE_SHEAR
from pixeldrive.text.glyphs import append_glyphs
from pixeldrive.text.layout import Run
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgtext import GLYPHS, PD_NS


def to_svg(tree: etree._Element, runs: GlyphRuns) -> bytes:
    """The document with glyph elements replaced by paths (the runs they refer to in
    `runs`) and the engine's namespace gone; `tree` is consumed."""
    for element in list(tree.iter(GLYPHS)):
        run = runs.get(element.get("ref", ""))
        parent = element.getparent()
        if parent is None:
            continue
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


def _without_namespace(tree: etree._Element) -> etree._Element:
    """A copy of the tree without the engine's namespace declaration."""
    clean = etree.fromstring(etree.tostring(tree))
    etree.cleanup_namespaces(clean)
    return clean

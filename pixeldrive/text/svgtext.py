"""SVG text in, glyph runs out: reads a `<text>` (or Inkscape 0.92 `<flowRoot>`) the way
Inkscape writes it, lays it out with the engine, and puts a group of glyph runs in its
place that CairoSVG draws as paths.

Two layouts, as in SVG:
- positioned text: every element with `x`/`y` (Inkscape's `sodipodi:role="line"` tspans
  among them) starts a chunk at that point, anchored by `text-anchor`;
- framed text: a `shape-inside` shape, an `inline-size` column, a `flowRoot` region or a
  field's `data-pd-box` gives a frame; paragraphs are broken into lines inside it (and
  Inkscape's pre-wrapped fallback positions are ignored).
A field's fitting options (shrink, wrap, ellipsis, max-lines) apply within the frame.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from lxml import etree

from pixeldrive.templates.parser import SODIPODI_NS, SVG_NS, local_name
from pixeldrive.templates.style import format_style, parse_style
from pixeldrive.text import bidi
from pixeldrive.text.css import TextStyle, computed, inherited, length
from pixeldrive.text.fit import Fit, Flow, Frame
from pixeldrive.text.fonts import FontLibrary
from pixeldrive.text.layout import (
    PlacedLine,
    place,
    scaled_spans,
    shift_line,
    slice_spans,
    width_of,
    with_ellipsis,
)
from pixeldrive.text.report import TextReport
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.shape import FontStyle, Shaped, Span, shape

PD_NS = "https://pixeldrive.dev/ns/text"
GLYPHS = f"{{{PD_NS}}}glyphs"
ROLE = f"{{{SODIPODI_NS}}}role"
_URL = re.compile(r"url\(\s*['\"]?#([^)'\"]+)['\"]?\s*\)")
_SKIP = frozenset({"flowRegion", "flowRegionExclude", "title", "desc", "metadata"})
_PARAGRAPHS = frozenset({"flowPara", "flowDiv"})
# What an output group must not keep of the text element it stands for.
_POSITIONAL = frozenset(
    {"x", "y", "dx", "dy", "rotate", "textLength", "lengthAdjust", ROLE, "inline-size"}
)
REPLACEMENT = "\ufffd"


@dataclass(slots=True)
class _Chunk:
    """Positioned text: an absolute start (None: carry on where the last one ended)."""

    x: float | None
    y: float | None
    dx: float
    dy: float
    anchor: str = "start"
    line: TextStyle | None = None  # an Inkscape line tspan's style
    spans: list[Span] = field(default_factory=list)


class _Collector:
    """Walks one text element: its computed styles, its output groups (one per element
    that holds text), and its content as chunks or paragraphs with whitespace handled."""

    def __init__(self, text: etree._Element, framed: bool) -> None:
        self.framed = framed
        self.owners: list[etree._Element] = []
        self.owner_of: dict[int, int] = {}  # id(element) → index in owners
        self.chunks: list[_Chunk] = []
        self.paragraphs: list[list[Span]] = [[]]
        self.base = computed(text, inherited(text))
        self.root = _group_for(text)
        self._space_before = True
        self._walk(text, self.base, self.root, top=True)
        self._finish_whitespace()

    def _owner(self, element: etree._Element, group: etree._Element) -> int:
        key = id(element)
        index = self.owner_of.get(key)
        if index is None:
            index = self.owner_of[key] = len(self.owners)
            self.owners.append(group)
        return index

    def _walk(
        self, element: etree._Element, style: TextStyle, group: etree._Element, top: bool = False
    ) -> None:
        name = local_name(element)
        if not top:
            if (self.framed and name in _PARAGRAPHS) or (
                self.framed and element.get(ROLE) == "line" and self._has_content()
            ):
                self._new_paragraph()
            if not self.framed and _starts_chunk(element):
                self._new_chunk(element, style)
        elif not self.framed:
            self._new_chunk(element, style)
        if element.text:
            self._add(element.text, style, self._owner(element, group))
        for child in element:
            if not isinstance(child.tag, str) or local_name(child) in _SKIP:
                if isinstance(child.tag, str) and child.tail:
                    self._add(child.tail, style, self._owner(element, group))
                continue
            child_style = computed(child, style)
            child_group = etree.SubElement(group, f"{{{SVG_NS}}}g", _group_attributes(child))
            self._walk(child, child_style, child_group)
            if child.tail:
                self._add(child.tail, style, self._owner(element, group))

    def _has_content(self) -> bool:
        return any(span.text for span in self.paragraphs[-1])

    def _new_paragraph(self) -> None:
        if self.paragraphs[-1] or (len(self.paragraphs) == 1 and not self._space_before):
            self.paragraphs.append([])
        self._space_before = True

    def _new_chunk(self, element: etree._Element, style: TextStyle) -> None:
        self.chunks.append(
            _Chunk(
                _first_length(element.get("x"), style.size),
                _first_length(element.get("y"), style.size),
                _first_length(element.get("dx"), style.size) or 0.0,
                _first_length(element.get("dy"), style.size) or 0.0,
                style.anchor,
                style if element.get(ROLE) == "line" else None,
            )
        )

    def _add(self, raw: str, style: TextStyle, owner: int) -> None:
        if style.preserve:
            text = raw.replace("\r\n", "\n").replace("\t", " ")
            if not self.framed:
                text = text.replace("\n", " ")
        else:
            text = raw.replace("\n", "").replace("\r", "").replace("\t", " ")
            text = re.sub(" {2,}", " ", text)
            if self._space_before:
                text = text.lstrip(" ")
        if not text:
            return
        if not style.preserve:
            self._space_before = text.endswith(" ")
        else:
            self._space_before = False
        font = FontStyle(
            style.families,
            style.size,
            style.weight,
            style.italic,
            style.letter_spacing,
            style.word_spacing,
            style.lang,
        )
        pieces = text.split("\n") if self.framed else [text]
        for n, piece in enumerate(pieces):
            if n:
                self.paragraphs.append([])
            if piece:
                span = Span(piece, font, owner, style.baseline_shift, style.decoration)
                self.paragraphs[-1].append(span)
                if not self.framed:
                    if not self.chunks:
                        self.chunks.append(_Chunk(None, None, 0.0, 0.0, style.anchor))
                    self.chunks[-1].spans.append(span)

    def _finish_whitespace(self) -> None:
        """Default whitespace handling trims the end of the whole text."""
        if self.base.preserve:
            return
        spans = list(self.chunks[-1].spans if self.chunks else self.paragraphs[-1])
        while spans and spans[-1].text.endswith(" "):
            spans[-1].text = spans[-1].text.rstrip(" ")
            if spans[-1].text:
                break
            spans.pop()


def _direction(collector: _Collector, fit: Fit) -> str:
    """The base direction: a field's pinned one (data-pd-dir), else the one the text
    declares, else for a field the first strong character of its value (HTML's dir=auto),
    else left to right."""
    if fit.direction in ("ltr", "rtl"):
        return fit.direction
    if collector.base.direction or fit.direction != "auto":
        return collector.base.direction or "ltr"
    spans = [s for c in collector.chunks for s in c.spans] or [
        s for p in collector.paragraphs for s in p
    ]
    return bidi.first_strong("".join(s.text for s in spans)) or "ltr"


def _line_gap(previous: tuple[float, float, float], current: tuple[float, float, float]) -> float:
    """Baseline to baseline between two lines, each (size, line-height factor, the share
    of the em above the baseline), as CSS stacks line boxes and Inkscape places its
    lines: the half-leading and descent of the first, the ascent and half-leading of the
    second. Lines of one style are line-height apart."""
    size, factor, ascent = previous
    below = size * (1 - ascent) + (factor - 1) * size / 2
    size, factor, ascent = current
    above = size * ascent + (factor - 1) * size / 2
    return below + above


def _starts_chunk(element: etree._Element) -> bool:
    return element.get("x") is not None or element.get("y") is not None


def _first_length(value: str | None, size: float) -> float | None:
    if value is None:
        return None
    first = value.replace(",", " ").split()
    return length(first[0], size) if first else None


def _group_attributes(element: etree._Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in element.attrib.items():
        key = str(name)
        if key in _POSITIONAL or key.startswith("{http://www.w3.org/XML/1998/namespace}"):
            continue
        if key == "style":
            declarations = parse_style(str(value))
            for prop in ("shape-inside", "shape-padding", "inline-size", "white-space"):
                declarations.pop(prop, None)
            value = format_style(declarations)
            if not value:
                continue
        out[key] = str(value)
    return out


def _group_for(text: etree._Element) -> etree._Element:
    return etree.Element(f"{{{SVG_NS}}}g", _group_attributes(text))


class TextSetter:
    """Sets texts of one document with one font library; every run it lays out is kept in
    `runs`, under the reference its glyph element carries."""

    def __init__(
        self, library: FontLibrary, runs: GlyphRuns, *, replace_missing: bool = False
    ) -> None:
        self.library = library
        self.runs = runs
        self.replace_missing = replace_missing

    def set_text(
        self,
        text: etree._Element,
        by_id: Callable[[str], etree._Element | None],
        fit: Fit | None = None,
    ) -> TextReport:
        """Replace `text` (a <text> or <flowRoot>) in its tree by a group of glyph runs."""
        fit = fit or Fit()
        frame_source = _frame_source(text, by_id, fit)
        collector = _Collector(text, framed=frame_source is not None)
        if self.replace_missing:
            self._replace_missing(collector)
        direction = _direction(collector, fit)
        level = bidi.base_level(direction)
        lines: list[PlacedLine]
        if frame_source is None:
            # A direction found in the value leaves a positioned text where it was drawn:
            # only a declared one turns text-anchor around (SVG's start is the right end).
            declared = bool(collector.base.direction or fit.direction in ("ltr", "rtl"))
            lines, report = self._positioned(collector, level, declared)
        else:
            lines, report = self._framed(collector, frame_source, fit, level)
        synthetic_groups = collector.owners
        for line in lines:
            for run in line.runs:
                glyphs = etree.SubElement(synthetic_groups[run.owner], GLYPHS)
                glyphs.set("ref", self.runs.add(run))
        parent = text.getparent()
        group = collector.root
        group.tail = text.tail
        if parent is not None:
            parent.replace(text, group)
        return report

    def _replace_missing(self, collector: _Collector) -> None:
        """Characters no font has become U+FFFD (the configured alternative to a 422)."""
        spans = [s for c in collector.chunks for s in c.spans] + [
            s for p in collector.paragraphs for s in p
        ]
        library = self.library
        for span in {id(s): s for s in spans}.values():
            style = span.style
            face = library.match(style.families, style.weight, style.italic)
            span.text = "".join(
                c if c.isspace() or library.draws(face, c) else REPLACEMENT for c in span.text
            )

    # -- positioned text ------------------------------------------------------------

    def _positioned(
        self, collector: _Collector, level: int, declared: bool = True
    ) -> tuple[list[PlacedLine], TextReport]:
        lines: list[PlacedLine] = []
        pen_x = pen_y = 0.0
        last_line: tuple[float, tuple[float, float, float]] | None = None  # baseline, box
        fallbacks: set[str] = set()
        missing: set[str] = set()
        for chunk in collector.chunks:
            x = chunk.x if chunk.x is not None else pen_x
            y = chunk.y if chunk.y is not None else pen_y
            if chunk.line is not None:
                # Inkscape places its lines from line-height, whatever y they were saved with.
                box = self._line_box(chunk.line)
                if last_line is not None:
                    y = last_line[0] + _line_gap(last_line[1], box)
                last_line = (y, box)
            x += chunk.dx
            y += chunk.dy
            if not chunk.spans:
                pen_x, pen_y = x, y
                continue
            shaped = shape(chunk.spans, self.library, level)
            fallbacks |= shaped.fallbacks
            missing |= shaped.missing
            line = place(shaped, x, y, self._synthetic(shaped))
            width = line.right - line.left
            anchor = chunk.anchor
            shift = {"middle": -width / 2, "end": -width}.get(anchor, 0.0)
            if level % 2 and anchor == "start" and declared:
                shift = -width
            lines.append(shift_line(line, shift))
            pen_x, pen_y = x + width, y
        report = TextReport(
            collector.base.size,
            sum(1 for chunk in collector.chunks if chunk.spans),
            False,
            tuple(sorted(fallbacks)),
            tuple(sorted(missing)),
        )
        return lines, report

    def _line_box(self, style: TextStyle) -> tuple[float, float, float]:
        """(size, line-height, share of the em above the baseline) of a line's font,
        its ascent and descent scaled to one em as Inkscape does."""
        font = self.library.font(self.library.match(style.families, style.weight, style.italic))
        total = (font.ascender - font.descender) or font.upem
        return style.size, style.line_height, font.ascender / total

    def _synthetic(self, shaped: Shaped) -> set[int]:
        out: set[int] = set()
        for index, span in enumerate(shaped.spans):
            if span.style.italic:
                face = self.library.match(span.style.families, span.style.weight, True)
                if face.synthetic_oblique:
                    out.add(index)
        return out

    # -- framed text ------------------------------------------------------------------

    def _framed(
        self, collector: _Collector, frame: Frame, fit: Fit, level: int
    ) -> tuple[list[PlacedLine], TextReport]:
        base = collector.base
        paragraphs = list(collector.paragraphs)
        while len(paragraphs) > 1 and not paragraphs[-1]:
            paragraphs.pop()
        shaped = [shape(p, self.library, level) for p in paragraphs]
        flow = Flow(shaped, frame, fit, base.size, base.line_height)
        factor = flow.factor()
        rows = flow.rows(factor)
        kept = rows[: flow.room(factor, len(rows))]
        truncated = len(kept) < len(rows)
        scaled = [scaled_spans(p, factor) for p in paragraphs]
        lines: list[PlacedLine] = []
        baseline = flow.first_baseline(factor)
        anchor = frame.anchor
        if level % 2:
            anchor = {"start": "end", "end": "start"}.get(anchor, anchor)
        for row, (index, a, b) in enumerate(kept):
            line_shaped = shape(slice_spans(scaled[index], a, b), self.library, level)
            overflow = width_of(line_shaped, 0, len(line_shaped.text)) > flow.width + 0.01
            if overflow or (truncated and row == len(kept) - 1):
                end = len(line_shaped.text)
                line_shaped = with_ellipsis(line_shaped, 0, end, flow.width, self.library, level)
                truncated = True
            line = place(line_shaped, frame.left, baseline, self._synthetic(line_shaped))
            spare = flow.width - (line.right - line.left)
            lines.append(shift_line(line, {"middle": spare / 2, "end": spare}.get(anchor, 0.0)))
            baseline += flow.step * factor
        fallbacks = set().union(*(s.fallbacks for s in shaped))
        missing = set().union(*(s.missing for s in shaped))
        report = TextReport(
            round(base.size * factor, 2),
            len(lines),
            truncated,
            tuple(sorted(fallbacks)),
            tuple(sorted(missing)),
        )
        return lines, report


def _frame_source(
    text: etree._Element, by_id: Callable[[str], etree._Element | None], fit: Fit
) -> Frame | None:
    """The frame of a text, in SPEC order: shape-inside, inline-size, data-pd-box; a
    flowRoot's region. None: positioned text."""
    style = computed(text, inherited(text))
    declarations = parse_style(text.get("style"))
    anchor = style.anchor
    align = declarations.get("text-align")
    if align in ("center", "end", "right"):
        anchor = {"center": "middle", "end": "end", "right": "end"}[align]
    shape_inside = declarations.get("shape-inside") or text.get("shape-inside")
    if local_name(text) == "flowRoot":
        region = next((e for e in text.iter() if local_name(e) == "flowRegion"), None)
        rect = (
            next((e for e in region.iter() if local_name(e) == "rect"), None)
            if region is not None
            else None
        )
        return _rect_frame(rect, anchor, None) if rect is not None else None
    if shape_inside:
        match = _URL.search(shape_inside)
        rect = by_id(match.group(1)) if match else None
        if rect is not None and local_name(rect) == "rect":
            padding = length(declarations.get("shape-padding", "0"), style.size) or 0.0
            return _rect_frame(rect, anchor, None, padding)
    inline = declarations.get("inline-size") or text.get("inline-size")
    if inline:
        size = length(inline, style.size)
        x = _first_length(text.get("x"), style.size)
        y = _first_length(text.get("y"), style.size)
        if x is None or y is None:
            first = next((t for t in text.iter() if t.get("x") is not None), None)
            if first is not None:
                x = _first_length(first.get("x"), style.size)
                y = _first_length(first.get("y"), style.size)
        if size and size > 0 and x is not None:
            left = {"middle": x - size / 2, "end": x - size}.get(style.anchor, x)
            return Frame(left, left + size, None, None, y or 0.0, anchor)
    if fit.box:
        rect = by_id(fit.box.lstrip("#"))
        if rect is not None:
            return _box_frame(text, rect, style, anchor)
    return None


def _rect_frame(
    rect: etree._Element, anchor: str, baseline: float | None, padding: float = 0.0
) -> Frame | None:
    x, y, w, h = (length(rect.get(a, "0"), 16.0) or 0.0 for a in ("x", "y", "width", "height"))
    if w <= 0 or h <= 0:
        return None
    return Frame(x + padding, x + w - padding, y + padding, y + h - padding, baseline, anchor)


def _box_frame(
    text: etree._Element, rect: etree._Element, style: TextStyle, anchor: str
) -> Frame | None:
    """A field's box on positioned text: the designed first baseline stays; the anchor
    point stays, the box bounds the width; lines go down to the box's bottom."""
    box = _rect_frame(rect, anchor, None)
    if box is None:
        return None
    first = (
        text
        if text.get("x") is not None
        else next((t for t in text.iter() if t.get("x") is not None), text)
    )
    x = _first_length(first.get("x"), style.size)
    y = _first_length(first.get("y"), style.size)
    left, right = box.left, box.right
    if x is not None:
        if anchor == "start":
            left = max(left, x)
        elif anchor == "end":
            right = min(right, x)
        else:
            half = min(x - left, right - x)
            left, right = x - half, x + half
    return replace(box, left=left, right=right, top=None, baseline=y if y is not None else box.top)

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

Positioned text reads SVG's per-character positions (text/positions.py): every value of
an `x`/`y` list starts a chunk at its character, `dx`/`dy`/`rotate` lists move and turn
single characters, `textLength` spaces or stretches an element's characters. A text with a
`<textPath>` is set along its path, as Inkscape sets it: all of the text is one line
following the first textPath's path, from its `startOffset`, anchored there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise

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
from pixeldrive.text.pathline import Polyline, flatten, polyline_of
from pixeldrive.text.positions import Adjust, fit_to_path, place_adjusted, shaping_cuts
from pixeldrive.text.report import TextReport
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.shape import FontStyle, Shaped, Span, shape

PD_NS = "https://pixeldrive.dev/ns/text"
GLYPHS = f"{{{PD_NS}}}glyphs"
ROLE = f"{{{SODIPODI_NS}}}role"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_URL = re.compile(r"url\(\s*['\"]?#([^)'\"]+)['\"]?\s*\)")
_SKIP = frozenset({"flowRegion", "flowRegionExclude", "title", "desc", "metadata"})
_PARAGRAPHS = frozenset({"flowPara", "flowDiv"})
# What an output group must not keep of the text element it stands for.
_POSITIONAL = frozenset(
    {"x", "y", "dx", "dy", "rotate", "textLength", "lengthAdjust", ROLE, "inline-size"}
)
_ON_PATH = frozenset({"href", XLINK_HREF, "startOffset", "method", "spacing", "side", "path"})
REPLACEMENT = "\ufffd"


@dataclass(slots=True)
class _Chunk:
    """Positioned text: an absolute start (None: carry on where the last one ended), and
    its characters' own adjustments; `first` counts the text's characters before it."""

    x: float | None
    y: float | None
    first: int
    anchor: str = "start"
    line: TextStyle | None = None  # an Inkscape line tspan's style
    spans: list[Span] = field(default_factory=list)
    adjust: Adjust = field(default_factory=Adjust)


@dataclass(frozen=True, slots=True)
class _Lists:
    """An element's per-character `x`/`y`/`dx`/`dy` (px) and `rotate` (degrees) lists; the
    first value is for the text's character number `start`."""

    start: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    dx: tuple[float, ...]
    dy: tuple[float, ...]
    rotate: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class _Length:
    """An element's `textLength`: its characters [start, end) take `length` px, by spacing
    or (stretch) by scaling them across."""

    start: int
    end: int
    length: float
    stretch: bool


class _Collector:
    """Walks one text element: its computed styles, its output groups (one per element
    that holds text), and its content as chunks or paragraphs with whitespace handled."""

    def __init__(self, text: etree._Element, framed: bool) -> None:
        self.framed = framed
        self.owners: list[etree._Element] = []
        self.owner_of: dict[int, int] = {}  # id(element) → index in owners
        self.chunks: list[_Chunk] = []
        self.paragraphs: list[list[Span]] = [[]]
        self.count = 0  # characters of positioned text so far
        self.lists: list[_Lists] = []  # of the elements around the walk
        self.lengths: list[_Length] = []
        self.path: etree._Element | None = None  # the first <textPath>
        self.path_style = TextStyle()
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
        start, lists = self.count, self._enter(element, style)
        if not top:
            if (self.framed and name in _PARAGRAPHS) or (
                self.framed and element.get(ROLE) == "line" and self._has_content()
            ):
                self._new_paragraph()
            if not self.framed and _starts_chunk(element):
                self._new_chunk(element, style, lists)
        elif not self.framed:
            self._new_chunk(element, style, lists)
        if name == "textPath" and self.path is None:
            self.path, self.path_style = element, style
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
        self._leave(element, style, start, lists is not None)

    def _enter(self, element: etree._Element, style: TextStyle) -> _Lists | None:
        """Keep the element's position lists while its characters are read."""
        if self.framed:
            return None
        lists = _lists_of(element, style, self.count)
        if lists is not None:
            self.lists.append(lists)
        return lists

    def _leave(self, element: etree._Element, style: TextStyle, start: int, pushed: bool) -> None:
        if pushed:
            self.lists.pop()
        wanted = element.get("textLength")
        size = length(wanted, style.size) if wanted and not self.framed else None
        if size is not None and size >= 0 and self.count > start:
            stretch = element.get("lengthAdjust", "").strip() == "spacingAndGlyphs"
            self.lengths.append(_Length(start, self.count, size, stretch))

    def _has_content(self) -> bool:
        return any(span.text for span in self.paragraphs[-1])

    def _new_paragraph(self) -> None:
        if self.paragraphs[-1] or (len(self.paragraphs) == 1 and not self._space_before):
            self.paragraphs.append([])
        self._space_before = True

    def _new_chunk(self, element: etree._Element, style: TextStyle, lists: _Lists | None) -> None:
        x = lists.x[0] if lists is not None and lists.x else None
        y = lists.y[0] if lists is not None and lists.y else None
        line = style if element.get(ROLE) == "line" else None
        self.chunks.append(_Chunk(x, y, self.count, style.anchor, line))

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
        if not self.framed:
            self._add_positioned(text, font, owner, style)
            return
        for n, piece in enumerate(text.split("\n")):
            if n:
                self.paragraphs.append([])
            if piece:
                span = Span(piece, font, owner, style.baseline_shift, style.decoration)
                self.paragraphs[-1].append(span)

    def _add_positioned(self, text: str, font: FontStyle, owner: int, style: TextStyle) -> None:
        """Characters of positioned text, each with its adjustments; one with an absolute
        x or y of its own starts a chunk there."""
        if not self.chunks:
            self.chunks.append(_Chunk(None, None, self.count, style.anchor))
        start = 0
        reach = _reach(self.lists, self.count, len(text))
        for k in range(reach):
            x, y, dx, dy, rotate = _resolve(self.lists, self.count + k)
            chunk = self.chunks[-1]
            if (x is not None or y is not None) and chunk.adjust.dx:
                self._span(text[start:k], font, owner, style)
                start = k
                chunk = _Chunk(x, y, self.count + k, style.anchor)
                self.chunks.append(chunk)
            elif x is not None or y is not None:  # the chunk's first character
                chunk.x = x if x is not None else chunk.x
                chunk.y = y if y is not None else chunk.y
            chunk.adjust.append(dx, dy, rotate)
        self.chunks[-1].adjust.pad(len(text) - reach)  # characters no list reaches
        self._span(text[start:], font, owner, style)
        self.count += len(text)

    def _span(self, text: str, font: FontStyle, owner: int, style: TextStyle) -> None:
        if text:
            span = Span(text, font, owner, style.baseline_shift, style.decoration)
            self.paragraphs[-1].append(span)
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


def _numbers(value: str | None, size: float, lengths: bool = True) -> tuple[float, ...]:
    """A list attribute's values (lengths in px, or plain numbers); unreadable: none."""
    if value is None:
        return ()
    out: list[float] = []
    for part in value.replace(",", " ").split():
        number = length(part, size) if lengths else _float(part)
        if number is None:
            return ()
        out.append(number)
    return tuple(out)


def _float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _lists_of(element: etree._Element, style: TextStyle, start: int) -> _Lists | None:
    get, size = element.get, style.size
    x, y, dx, dy, rotate = get("x"), get("y"), get("dx"), get("dy"), get("rotate")
    if x is None and y is None and dx is None and dy is None and rotate is None:
        return None
    return _Lists(
        start,
        _numbers(x, size),
        _numbers(y, size),
        _numbers(dx, size),
        _numbers(dy, size),
        _numbers(rotate, size, lengths=False),
    )


def _reach(stack: list[_Lists], count: int, size: int) -> int:
    """How many of the `size` characters from number `count` on some list may give a value
    (the rest have none: no per-character work for them)."""
    if any(lists.rotate for lists in stack):
        return size
    ends = [
        lists.start + max(len(lists.x), len(lists.y), len(lists.dx), len(lists.dy))
        for lists in stack
    ]
    return max(0, min(size, max(ends, default=0) - count))


def _resolve(
    stack: list[_Lists], index: int
) -> tuple[float | None, float | None, float, float, float]:
    """Character `index`'s x, y, dx, dy and rotate: the innermost element with a value for
    it wins; the last rotate value of an element holds for the rest of its characters."""
    x = y = None
    dx = dy = rotate = 0.0
    for lists in stack:
        i = index - lists.start
        if i < len(lists.x):
            x = lists.x[i]
        if i < len(lists.y):
            y = lists.y[i]
        if i < len(lists.dx):
            dx = lists.dx[i]
        if i < len(lists.dy):
            dy = lists.dy[i]
        if lists.rotate:
            rotate = lists.rotate[min(i, len(lists.rotate) - 1)]
    return x, y, dx, dy, rotate


def _members(
    chunks: list[_Chunk], shaped: list[Shaped], start: int, end: int
) -> list[tuple[Adjust, Shaped, int]]:
    """The characters [start, end) of the text, as (chunk's adjustments, its shaped text,
    index in it)."""
    out: list[tuple[Adjust, Shaped, int]] = []
    for chunk, line in zip(chunks, shaped, strict=True):
        lo, hi = max(start, chunk.first), min(end, chunk.first + len(line.text))
        out.extend((chunk.adjust, line, i - chunk.first) for i in range(lo, hi))
    return out


def _apply_lengths(chunks: list[_Chunk], shaped: list[Shaped], lengths: list[_Length]) -> None:
    """textLength: the same extra space after each of the element's characters but its
    last, or all of them scaled across, so that their advances (with their dx) make
    `length` (SVG 2; Inkscape adds the space after the last one too, where it only moves
    text that follows or an anchor other than start)."""
    for wanted in lengths:
        members = _members(chunks, shaped, wanted.start, wanted.end)
        if not members:
            continue
        natural = sum(line.advances[i] for _, line, i in members)
        shifts = sum(adjust.dx[i] for adjust, _, i in members[1:])
        if wanted.stretch:
            factor = (wanted.length - shifts) / natural if natural > 0 else 1.0
            for adjust, _, i in members:
                adjust.scale(i, max(factor, 0.0))
        elif len(members) > 1:
            space = (wanted.length - natural - shifts) / (len(members) - 1)
            for adjust, _, i in members[:-1]:
                adjust.space(i, space)


def _merged(chunks: list[_Chunk]) -> _Chunk:
    """The chunks of a text as one (text on a path is one line)."""
    merged = _Chunk(None, None, chunks[0].first if chunks else 0)
    for chunk in chunks:
        merged.spans.extend(chunk.spans)
        merged.adjust.extend(chunk.adjust)
    return merged


def _path_of(
    text_path: etree._Element | None, by_id: Callable[[str], etree._Element | None]
) -> Polyline | None:
    """The polyline a textPath follows: its own `path` data (SVG 2), else the path or
    basic shape its href (or xlink:href) names; walked backwards for side="right"."""
    if text_path is None:
        return None
    data = text_path.get("path")
    if data:
        line = flatten(data)
    else:
        href = (text_path.get(XLINK_HREF) or text_path.get("href") or "").strip()
        target = by_id(href[1:]) if href.startswith("#") else None
        line = polyline_of(target) if target is not None else None
    if line is not None and text_path.get("side", "").strip() == "right":
        line = line.reversed()
    return line


def _start_offset(value: str | None, size: float, path_length: float) -> float:
    """startOffset in px along the path: a length, or a percentage of the path's length."""
    value = (value or "").strip()
    if value.endswith("%"):
        number = _float(value[:-1])
        return number / 100 * path_length if number is not None else 0.0
    return (length(value, size) or 0.0) if value else 0.0


def _report(size: float, lines: int, shaped: list[Shaped]) -> TextReport:
    fallbacks = set().union(*(s.fallbacks for s in shaped))
    missing = set().union(*(s.missing for s in shaped))
    return TextReport(size, lines, False, tuple(sorted(fallbacks)), tuple(sorted(missing)))


def _group_attributes(element: etree._Element) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in element.attrib.items():
        key = str(name)
        if key in _POSITIONAL or key.startswith("{http://www.w3.org/XML/1998/namespace}"):
            continue
        if key in _ON_PATH and local_name(element) == "textPath":
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
        on_path = next(text.iter("{*}textPath", "textPath"), None) is not None
        frame_source = None if on_path else _frame_source(text, by_id, fit)
        collector = _Collector(text, framed=frame_source is not None)
        if self.replace_missing:
            self._replace_missing(collector)
        direction = _direction(collector, fit)
        level = bidi.base_level(direction)
        # A direction found in the value leaves a positioned text where it was drawn: only
        # a declared one turns text-anchor around (SVG's start is the right end).
        declared = bool(collector.base.direction or fit.direction in ("ltr", "rtl"))
        lines: list[PlacedLine]
        if collector.path is not None:
            path = _path_of(collector.path, by_id)
            lines, report = self._on_path(collector, path, level, declared)
        elif frame_source is None:
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
        shaped = [self._shape_chunk(chunk, level) for chunk in collector.chunks]
        _apply_lengths(collector.chunks, shaped, collector.lengths)
        for chunk, chunk_shaped in zip(collector.chunks, shaped, strict=True):
            x = chunk.x if chunk.x is not None else pen_x
            y = chunk.y if chunk.y is not None else pen_y
            if chunk.line is not None:
                # Inkscape places its lines from line-height, whatever y they were saved with.
                box = self._line_box(chunk.line)
                if last_line is not None:
                    y = last_line[0] + _line_gap(last_line[1], box)
                last_line = (y, box)
            if not chunk.spans:
                pen_x, pen_y = x, y
                continue
            line, pen_x, pen_y = self._place_chunk(chunk, chunk_shaped, x, y)
            width = line.right - line.left
            anchor = chunk.anchor
            shift = {"middle": -width / 2, "end": -width}.get(anchor, 0.0)
            if level % 2 and anchor == "start" and declared:
                shift = -width
            lines.append(shift_line(line, shift))
        lines_set = sum(1 for chunk in collector.chunks if chunk.spans)
        return lines, _report(collector.base.size, lines_set, shaped)

    def _shape_chunk(self, chunk: _Chunk, level: int) -> Shaped:
        """A chunk shaped as one line, in pieces cut before each character that has a
        position of its own (text/positions.py)."""
        if not chunk.spans:
            return Shaped("", [], [], [], [], set(), set())
        text = "".join(span.text for span in chunk.spans) if chunk.adjust.shifted else ""
        cuts = shaping_cuts(text, chunk.adjust)
        if cuts:
            bounds = [0, *cuts, len(text)]
            chunk.spans = [s for a, b in pairwise(bounds) for s in slice_spans(chunk.spans, a, b)]
        return shape(chunk.spans, self.library, level)

    def _place_chunk(
        self, chunk: _Chunk, shaped: Shaped, x: float, y: float
    ) -> tuple[PlacedLine, float, float]:
        """The chunk's line from (x, y), and where the text after it continues."""
        synthetic = self._synthetic(shaped)
        if chunk.adjust.plain:
            line = place(shaped, x, y, synthetic)
            return line, line.right, y
        placed = place_adjusted(shaped, x, y, synthetic, chunk.adjust)
        return placed.line, placed.line.right, y + placed.shift[1]

    # -- text on a path ----------------------------------------------------------------

    def _on_path(
        self, collector: _Collector, path: Polyline | None, level: int, declared: bool
    ) -> tuple[list[PlacedLine], TextReport]:
        """All of the text as one line bent along the path, anchored at its startOffset
        (absolute x and y inside it are not read). Nothing is drawn without a path."""
        chunk = _merged(collector.chunks)
        if path is None or collector.path is None or not chunk.spans:
            return [], _report(collector.base.size, 0, [])
        shaped = self._shape_chunk(chunk, level)
        _apply_lengths([chunk], [shaped], collector.lengths)
        placed = place_adjusted(shaped, 0.0, 0.0, self._synthetic(shaped), chunk.adjust)
        width = placed.line.right - placed.line.left
        style = collector.path_style
        anchor = style.anchor
        shift = {"middle": -width / 2, "end": -width}.get(anchor, 0.0)
        if level % 2 and anchor == "start" and declared:
            shift = -width
        offset = _start_offset(collector.path.get("startOffset"), style.size, path.length)
        line = fit_to_path(placed, path, offset + shift)
        return [line], _report(collector.base.size, 1, [shaped])

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

"""The upload sanitiser: a cleaned copy of a template tree, and what was removed or refused."""

from __future__ import annotations

import base64
import copy
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

from pixeldrive.core.errors import TemplateInvalid
from pixeldrive.templates.data_uri import (
    DataUriError,
    kind_of,
    parse_data_uri,
    raster_image,
    raster_size,
)
from pixeldrive.templates.options import href_of
from pixeldrive.templates.parser import SODIPODI_NS, local_name, parse_svg, text_of
from pixeldrive.templates.style import format_style, parse_style

Severity = Literal["error", "warning", "info"]

MAX_ELEMENTS = 50_000
# CairoSVG gives up after 100 000 <use> instantiations with a ValueError (a 500 in the
# worker), and draws ~10 000 elements a second: refusing above the same count of drawn
# elements keeps every accepted template below its cap and within the render time limit.
MAX_DRAWN = 100_000
# CairoSVG draws text one letter at a time through cairo's toy API.
MAX_TEXT_CHARS = 20_000
# An <image> may embed an SVG (CairoSVG sniffs the bytes, whatever the MIME type says, and
# gunzips them without a bound): it is sanitised like the upload, within these limits.
MAX_EMBEDDED_SVG_BYTES = 4 * 2**20
MAX_EMBEDDED_DEPTH = 2
MAX_EMBEDDED_BYTES = 64 * 2**20  # the upload's own size limit is far below this
EMBEDDED = "an image embedded in an <image> is checked by its bytes, like the template itself"

ABSREF = f"{{{SODIPODI_NS}}}absref"
REMOVED_ELEMENTS = {
    "script": "scripts never run in a raster image; removed as hostile",
    "foreignObject": "HTML inside SVG is not drawn by CairoSVG and may carry active content",
    "iframe": "embedded documents are never drawn or fetched",
    "embed": "embedded documents are never drawn or fetched",
    "object": "embedded documents are never drawn or fetched",
    # SVG Tiny 1.2 / XML Events: script by another name.
    "handler": "event handlers are script; a raster image runs none",
    "listener": "event listeners are script; a raster image runs none",
}
# SMIL animations: they draw nothing in a raster image, and in the SVG output one that sets
# a link or an event handler turns the drawing into script (`<set attributeName="href"
# to="javascript:…">`), so those are removed, and so is any whose values name a scheme.
ANIMATIONS = frozenset({"animate", "set", "animateColor", "animateMotion", "animateTransform"})
ANIMATION_VALUES = ("to", "from", "by", "values")
SCHEME_RE = re.compile(r"^\s*[a-z][a-z0-9+.-]*:", re.IGNORECASE | re.MULTILINE)
# Where a url(#id) may point: CairoSVG keeps these definitions by id, per kind.
URL_TARGETS = frozenset(
    {"mask", "clipPath", "pattern", "linearGradient", "radialGradient", "marker", "filter"}
)
NOT_DRAWN = URL_TARGETS | {"defs", "symbol", "metadata", "title", "desc", "style"}
READ_ONLY = frozenset({"linearGradient", "radialGradient", "filter"})
TEXT_ROOTS = frozenset({"text", "flowRoot"})
URL_RE = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.IGNORECASE | re.DOTALL)
NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
CSS_COMMENT_RE = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
CSS_ESCAPE_RE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.DOTALL)
NO_FETCH = (
    "PixelDrive never fetches what a template links to: only #fragments and embedded data: "
    "URIs are kept"
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing found in a template. `severity` "error" refuses it (422), "warning" is
    removed or drawn differently from Inkscape, "info" is harmless. `element_id` is the
    element's id ("" when it has none), `line` its line in the uploaded bytes (0: unknown),
    `tag` its local name ("" for the document as a whole)."""

    severity: Severity
    element_id: str
    line: int
    what: str
    why: str
    tag: str = ""


def finding(element: etree._Element, severity: Severity, what: str, why: str) -> Finding:
    """A finding located at `element`."""
    line = element.sourceline
    return Finding(
        severity,
        str(element.get("id", "")),
        line if isinstance(line, int) else 0,
        what,
        why,
        local_name(element),
    )


def sanitize(root: etree._Element) -> tuple[etree._Element, list[Finding]]:
    """A cleaned deep copy of a parsed template (`root` is not modified) and the findings:
    what was removed and why (warning, info), and what refuses the template (error: the
    caller answers 422 and must not store or render the copy, which may then be incomplete).
    Never raises for content."""
    result = _sanitize(root, depth=0)
    return result.tree, result.findings


def sanitize_svg(data: bytes) -> tuple[bytes, list[Finding]]:
    """Parse (parse_svg: raises TemplateInvalid), sanitise and serialise a template."""
    tree, findings = sanitize(parse_svg(data))
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8"), findings


@dataclass
class _Pass:
    tree: etree._Element
    depth: int
    findings: list[Finding] = field(default_factory=list)
    embedded: dict[etree._Element, int] = field(default_factory=dict)  # image → drawn count
    drawn: int = 0

    def add(self, element: etree._Element, severity: Severity, what: str, why: str) -> None:
        self.findings.append(finding(element, severity, what, why))


def _sanitize(root: etree._Element, depth: int) -> _Pass:
    count = sum(1 for _ in root.iter(etree.Element))
    if count > MAX_ELEMENTS:
        # Refused before any work proportional to the size: the copy is an empty root.
        bare = etree.Element(root.tag, nsmap=root.nsmap)  # type: ignore[arg-type]  # None: default
        state = _Pass(bare, depth)
        state.add(
            root,
            "error",
            f"{count} elements",
            f"a template may have at most {MAX_ELEMENTS} elements",
        )
        return state
    state = _Pass(copy.deepcopy(root), depth)
    _remove_elements(state)
    # The list keeps every element proxy alive, so elements stay usable as dict keys.
    elements = list(state.tree.iter(etree.Element))
    for element in elements:
        _clean_attributes(state, element)
        _check_links(state, element)
    _check_limits(state, list(state.tree.iter(etree.Element)))
    return state


# ------------------------------------------------------------------------- elements


def _remove_elements(state: _Pass) -> None:
    for element in list(state.tree.iter(etree.Element)):
        tag = local_name(element)
        if tag not in REMOVED_ELEMENTS and tag not in ANIMATIONS and tag != "style":
            continue
        if not _attached(element, state.tree):
            continue  # inside something already removed
        if tag in REMOVED_ELEMENTS:
            state.add(element, "warning", f"<{tag}> removed", REMOVED_ELEMENTS[tag])
            _remove(element)
        elif tag in ANIMATIONS and (animated := _animates_script(element)):
            state.add(
                element,
                "warning",
                f"<{tag}> removed: it animates {animated}",
                "an animation may not change a link or an event handler, nor set a value "
                "naming a scheme (javascript:, data:, http:): in the SVG output that is script",
            )
            _remove(element)
        elif tag == "style" and (problem := _stylesheet_problem(element)):
            state.add(
                element,
                "warning",
                f"<style> removed: it uses {problem}",
                "a stylesheet may not import or link anything outside the template",
            )
            _remove(element)


def _animates_script(element: etree._Element) -> str | None:
    """What an animation element sets that may become script, or None."""
    target = str(element.get("attributeName", "")).strip()
    local = target.rpartition(":")[2].lower()
    if local == "href" or local.startswith("on"):
        return f"attributeName={target!r}"
    for name in ANIMATION_VALUES:
        # `values` is a ;-list; any item naming a scheme counts (a `#fragment` does not).
        items = str(element.get(name, "")).replace(";", "\n")
        if SCHEME_RE.search(_plain_value(items)):
            return f"{name}={str(element.get(name))[:60]!r}"
    return None


def _plain_value(value: str) -> str:
    """An attribute value as a browser reads it for a scheme: without the tabs and line
    breaks (and other C0 controls) URL parsing drops, so `java\tscript:` is `javascript:`."""
    return "".join(c for c in value if c == "\n" or ord(c) > 0x20)


def _attached(element: etree._Element, root: etree._Element) -> bool:
    node: etree._Element | None = element
    while node is not None and node is not root:
        node = node.getparent()
    return node is root


def _remove(element: etree._Element) -> None:
    """Detach an element; its tail text stays where it was."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _stylesheet_problem(element: etree._Element) -> str | None:
    css = _plain_css(text_of(element))
    if "@import" in css.lower():
        return "@import"
    outside = _outside_urls(css)
    return f"url({outside[0][:60]})" if outside else None


def _plain_css(css: str) -> str:
    """CSS without comments and with escapes decoded (`@\\69mport` is `@import`)."""

    def unescape(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return match.group(2)

    return CSS_ESCAPE_RE.sub(unescape, CSS_COMMENT_RE.sub(" ", css))


def _outside_urls(text: str) -> list[str]:
    """The url(…) values that are neither #fragments nor data: URIs."""
    urls = (m.group(2).strip() for m in URL_RE.finditer(text))
    return [u for u in urls if not u.startswith("#") and not u.lower().startswith("data:")]


# ----------------------------------------------------------------------- attributes


def _clean_attributes(state: _Pass, element: etree._Element) -> None:
    for name, value in list(element.attrib.items()):
        qname = etree.QName(name)
        if qname.namespace is None and qname.localname.lower().startswith("on"):
            del element.attrib[name]
            state.add(
                element,
                "warning",
                f"event attribute {qname.localname} removed",
                "event handlers are script; a raster image runs none",
            )
        elif name == ABSREF:
            del element.attrib[name]
            state.add(
                element,
                "info",
                "sodipodi:absref removed",
                "Inkscape writes the designer's local file path there",
            )
        elif qname.localname == "style" and qname.namespace is None:
            _clean_style(state, element, str(value))
        elif qname.namespace is None and not name.startswith("data-") and _outside_urls(str(value)):
            del element.attrib[name]
            state.add(
                element, "warning", f"{qname.localname}={str(value)[:60]!r} removed", NO_FETCH
            )


def _clean_style(state: _Pass, element: etree._Element, style: str) -> None:
    declarations = parse_style(style)
    linked = [p for p, v in declarations.items() if _outside_urls(_plain_css(v))]
    if not linked:
        return
    for prop in linked:
        del declarations[prop]
    if declarations:
        element.set("style", format_style(declarations))
    else:
        del element.attrib["style"]
    state.add(element, "warning", f"style {', '.join(linked)} removed (links outside)", NO_FETCH)


# ---------------------------------------------------------------------------- links


def _link_kind(value: str) -> Literal["fragment", "data", "empty", "external"]:
    stripped = value.strip()
    if not stripped:
        return "empty"
    if stripped.startswith("#"):
        return "fragment"
    return "data" if stripped.lower().startswith("data:") else "external"


def _check_links(state: _Pass, element: etree._Element) -> None:
    tag = local_name(element)
    if tag == "tref" and _link_kind(str(href_of(element) or "")) != "fragment":
        # CairoSVG recurses without end on a <tref> that points nowhere in the document.
        state.add(element, "warning", "<tref> without a #fragment link removed", NO_FETCH)
        _remove(element)
        return
    for name in [str(n) for n in element.attrib if etree.QName(n).localname == "href"]:
        value = str(element.get(name, ""))
        kind = _link_kind(value)
        if tag == "image":
            _image_link(state, element, name, value, kind)
        elif tag == "feImage" and kind == "data" and _raster(value):
            pass  # an embedded PNG, JPEG, WebP or GIF: drawn into the filter
        elif tag == "use" and kind in ("data", "external"):
            del element.attrib[name]
            state.add(
                element,
                "error",
                f"<use> references another document ({value[:60]!r})",
                'a <use> may only reference an element of this template (href="#id")',
            )
        elif kind == "fragment":
            if value != value.strip():
                # CairoSVG takes " #x" for a file name: keep the reference it means.
                element.set(name, value.strip())
        else:
            del element.attrib[name]
            severity: Severity = "info" if kind == "empty" else "warning"
            state.add(element, severity, f"link {value[:60]!r} removed", NO_FETCH)


def _raster(uri: str) -> bool:
    """Whether a data: URI holds a raster image whose header reads."""
    try:
        raster_image(uri, MAX_EMBEDDED_BYTES)
    except DataUriError:
        return False
    return True


def _image_link(state: _Pass, element: etree._Element, name: str, value: str, kind: str) -> None:
    if kind == "data":
        _embedded_image(state, element, name, value)
        return
    del element.attrib[name]
    if kind == "external":
        state.add(
            element,
            "error",
            f"linked image {value[:80]!r}",
            "linked images inside the upload must be embedded (Inkscape: Extensions → "
            "Images → Embed Images); PixelDrive never reads files or the network for a template",
        )
    else:
        state.add(element, "warning", f"image link {value[:60]!r} removed", NO_FETCH)


def _embedded_image(state: _Pass, element: etree._Element, name: str, uri: str) -> None:
    """An embedded image is judged by its bytes, as the render's fetcher and CairoSVG will
    read them (one data: URI parser for both): a raster image whose header reads, or an
    SVG document checked like the template itself; anything else is refused."""
    try:
        data = parse_data_uri(uri, MAX_EMBEDDED_BYTES).data
        kind = kind_of(data)
        if kind is not None and kind != "svg":
            raster_size(data, kind)  # its header must read
            return
    except DataUriError as exc:
        state.add(element, "error", f"embedded image refused: {exc}", EMBEDDED)
        return
    if kind is None:
        what = "embedded image refused: its bytes are no PNG, JPEG, WebP, GIF or SVG image"
        state.add(element, "error", what, EMBEDDED)
        return
    problem = _embedded_problem(state, element, name, data)
    if problem is not None:
        state.add(element, "error", f"embedded SVG image refused: {problem}", EMBEDDED)


def _embedded_problem(state: _Pass, element: etree._Element, name: str, data: bytes) -> str | None:
    if state.depth >= MAX_EMBEDDED_DEPTH:
        return f"SVG images nested more than {MAX_EMBEDDED_DEPTH} deep"
    if data.startswith(b"\x1f\x8b"):
        inflated = _gunzip(data, MAX_EMBEDDED_SVG_BYTES)
        if inflated is None:
            return f"gzip data that is corrupt or inflates beyond {MAX_EMBEDDED_SVG_BYTES} bytes"
        data = inflated
    try:
        root = parse_svg(data)
    except TemplateInvalid as exc:
        return exc.detail
    inner = _sanitize(root, state.depth + 1)
    errors = [f for f in inner.findings if f.severity == "error"]
    if errors:
        return f"{errors[0].what} (line {errors[0].line} of the embedded SVG)"
    state.embedded[element] = inner.drawn
    if inner.findings:
        cleaned = etree.tostring(inner.tree, xml_declaration=True, encoding="UTF-8")
        element.set(name, "data:image/svg+xml;base64," + base64.b64encode(cleaned).decode())
        removed = "; ".join(dict.fromkeys(f.what for f in inner.findings))
        state.add(element, "warning", f"embedded SVG image cleaned: {removed}", NO_FETCH)
    return None


def _gunzip(data: bytes, limit: int) -> bytes | None:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        return None
    return None if len(out) > limit or inflater.unconsumed_tail else out


# --------------------------------------------------------------------------- limits


def _check_limits(state: _Pass, elements: list[etree._Element]) -> None:
    root = state.tree
    chars = sum(len(text_of(e)) for e in elements if local_name(e) in TEXT_ROOTS)
    if chars > MAX_TEXT_CHARS:
        state.add(
            root,
            "error",
            f"{chars} characters of text",
            f"a template may draw at most {MAX_TEXT_CHARS} characters of its own text",
        )
    expansion = _Expansion(elements, state.embedded)
    problem = expansion.run()
    state.drawn = expansion.drawn
    if problem is None:
        return
    element, kind = problem
    if kind == "cycle":
        state.add(
            element,
            "error",
            "reference cycle",
            "this element references one of its own ancestors or references (<use>, "
            "clip-path, mask, pattern, marker…): it can never be drawn",
        )
    else:
        state.add(
            element,
            "error",
            f"expands to more than {MAX_DRAWN} drawn elements through references",
            "<use>, patterns, masks and markers are drawn once per reference; nested, "
            "they multiply (10 levels of 10 uses draw 10^10 elements)",
        )


class _Expansion:
    """How many elements CairoSVG would draw: every element outside definitions once, plus
    the whole referenced subtree once per reference (per vertex for markers), computed
    once per element (memoised, iteratively: reference chains may be far deeper than
    Python's stack)."""

    def __init__(self, elements: list[etree._Element], embedded: dict[etree._Element, int]):
        self.elements = elements
        index = {element: i for i, element in enumerate(elements)}
        ids: dict[str, int] = {}
        for i, element in enumerate(elements):
            ident = element.get("id")
            if ident is not None:
                ids.setdefault(str(ident), i)  # CairoSVG takes the first in document order
        self.drawn = 0
        self.extra = [embedded.get(element, 0) for element in elements]
        self.edges: list[list[tuple[int, int]]] = []
        for element in elements:
            # What sits in <defs>, a mask, a marker… is drawn only where referenced: the
            # walk still visits it (cycles, memoised costs) but does not count it there.
            # Gradients and filters only read their children (stops, primitives).
            children = (
                [] if local_name(element) in READ_ONLY else element.iterchildren(etree.Element)
            )
            edges = [
                (index[child], 0 if local_name(child) in NOT_DRAWN else 1) for child in children
            ]
            for target, times, is_url in _references(element):
                j = ids.get(target)
                if j is not None and (not is_url or local_name(elements[j]) in URL_TARGETS):
                    edges.append((j, times))
            if (source := self._inherited(element, ids)) is not None:
                edges.append((source, 1))
            self.edges.append(edges)

    def _inherited(self, element: etree._Element, ids: dict[str, int]) -> int | None:
        """The pattern whose content a childless pattern draws, following its href chain
        as CairoSVG does (a loop in the chain ends it: no content, not an error)."""
        node, source, seen = element, None, {id(element)}
        while local_name(node) == "pattern" and not _has_children(node):
            href = str(href_of(node) or "").strip()
            source = ids.get(href[1:]) if href.startswith("#") else None
            if source is None or id(self.elements[source]) in seen:
                return None
            node = self.elements[source]
            seen.add(id(node))
        return source

    def run(self) -> tuple[etree._Element, Literal["cycle", "large"]] | None:
        """The element where a cycle or the limit is first met, or None (then `drawn` holds
        the count for the whole document)."""
        count = len(self.elements)
        cost = [0] * count
        state = bytearray(count)  # 0 unseen, 1 on the stack, 2 done
        stack: list[tuple[int, int]] = [(0, 0)]
        state[0] = 1
        while stack:
            node, position = stack[-1]
            edges = self.edges[node]
            if position < len(edges):
                stack[-1] = (node, position + 1)
                target = edges[position][0]
                if state[target] == 1:
                    return self.elements[node], "cycle"
                if state[target] == 0:
                    state[target] = 1
                    stack.append((target, 0))
                continue
            stack.pop()
            # Saturated: a count past the limit is only ever "too many".
            total = 1 + self.extra[node] + sum(cost[t] * times for t, times in edges)
            cost[node] = min(total, MAX_DRAWN + 1)
            state[node] = 2
        self.drawn = cost[0]
        return (self._culprit(cost), "large") if cost[0] > MAX_DRAWN else None

    def _culprit(self, cost: list[int]) -> etree._Element:
        """The drawn element where the count first passes the limit: down from the root
        while a drawn child or reference is itself over it."""
        node = 0
        while True:
            over = [t for t, times in self.edges[node] if times and cost[t] > MAX_DRAWN]
            if not over:
                return self.elements[node]
            node = over[0]


def _references(element: etree._Element) -> Iterator[tuple[str, int, bool]]:
    """(target id, times drawn, through url()) for each reference an element makes."""
    tag = local_name(element)
    for name, value in element.attrib.items():
        prop = etree.QName(name).localname
        text = str(value)
        if prop == "href":
            # Only <use> draws what it links to. Gradients, patterns and filters inherit
            # along href chains, which CairoSVG follows with a loop guard (patterns are
            # handled in _Expansion._inherited); textPath and tref draw no subtree.
            if tag == "use" and text.strip().startswith("#"):
                yield text.strip()[1:], 1, False
        elif prop == "style":
            for style_prop, style_value in parse_style(text).items():
                yield from _url_references(element, style_prop, style_value)
        else:
            yield from _url_references(element, prop, text)


def _url_references(
    element: etree._Element, prop: str, value: str
) -> Iterator[tuple[str, int, bool]]:
    for match in URL_RE.finditer(value):
        target = match.group(2).strip()
        if target.startswith("#"):
            yield target[1:], _vertices(element) if prop.startswith("marker") else 1, True


def _has_children(element: etree._Element) -> bool:
    return next(element.iterchildren(etree.Element), None) is not None


def _vertices(element: etree._Element) -> int:
    """A bound on the vertices a marker is drawn at (numbers in the path data / 2)."""
    data = element.get("d") or element.get("points") or ""
    return max(2, len(NUMBER_RE.findall(str(data))) // 2 + 1)

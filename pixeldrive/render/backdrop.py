"""Backdrops: what a template paints before its first text field, drawn once and reused.

Most of a designed template is the same in every render: the background, its gradients
and glows, the logo, the decorations. What changes from one request to the next is text
(and QR codes), painted on top. SVG paints in document order, so everything before the
first element that holds a text or QR field can be drawn once per template version,
size and values of the other fields, and kept as pixels: the *backdrop*. A render then
starts from a copy of those pixels and draws only the rest, the *overlay*. Cairo paints
the overlay onto the copied pixels exactly as it would onto pixels it had just drawn
itself, so the image is the same to the bit (tests/render/test_backdrop.py holds every
bundled template and the awkward cases to that).

The cut runs down a path from the root: at each level, the children before the path are
backdrop and the ones after it overlay. A container on the path must paint its children
one by one, so only a plain ``<g>`` qualifies (opacity, a mask or a filter composite a
group as a whole). Elements that paint nothing themselves (defs, gradients, clip paths,
metadata) stay on both sides. A template is drawn whole, without a backdrop, where a cut
could change its pixels: a ``<style>`` sheet (its selectors may count siblings), an
``href="#…"`` to an element that paints, a text or QR field inside something that paints
nothing (a pattern, a marker), a definition or referenced element that one half would
drop (a gradient inside a painted group), or two elements with the same id.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from pixeldrive.templates.fields import FieldSpec
from pixeldrive.templates.parser import SVG_NS, XLINK_NS
from pixeldrive.templates.style import parse_style
from pixeldrive.text.svgtext import PD_NS

VARYING_KINDS = frozenset({"text", "qr"})
# CairoSVG draws neither these nor anything inside them.
SKIPPED = frozenset(
    {
        "defs",
        "clipPath",
        "mask",
        "marker",
        "pattern",
        "linearGradient",
        "radialGradient",
        "filter",
        "symbol",
    }
)
# These paint nothing themselves, but CairoSVG walks into them like into a group.
QUIET = frozenset(
    {
        "style",
        "metadata",
        "title",
        "desc",
        "script",
        "font",
        "font-face",
        "color-profile",
        "cursor",
        "view",
    }
)
# Elements others refer to by id: they must be in both halves.
DEFINES = (SKIPPED - {"defs"}) | {"font", "font-face", "color-profile", "cursor", "view"}
URL_REF = re.compile(r"url\(\s*['\"]?#([^'\")\s]+)")
HREFS = (f"{{{XLINK_NS}}}href", "href")


@dataclass(frozen=True, slots=True)
class Cut:
    """Where one template version splits into backdrop and overlay.

    `path` holds child positions (in ``list(parent)``, comments counted), from the root
    down to the first element of the overlay; empty when nothing in the template varies
    beyond `keyed` (all of it is backdrop). Filling a copy of the template replaces
    elements one for one, so the positions hold in every filled copy. `keyed` names the
    fields the backdrop's pixels depend on.
    """

    path: tuple[int, ...]
    keyed: tuple[str, ...]


def plan(root: etree._Element, fields: tuple[FieldSpec, ...]) -> Cut | None:
    """The cut for a prepared template, or None when it has none worth making or safe."""
    elements = list(root.iter(etree.Element))
    index = {id(e): i for i, e in enumerate(elements)}
    varying = {
        i
        for spec in fields
        if spec.kind in VARYING_KINDS or spec.placeholders
        for i in (*spec.targets, *spec.placeholders)
    }
    keyed = tuple(
        spec.name for spec in fields if not (spec.kind in VARYING_KINDS or spec.placeholders)
    )
    if not _splittable(root) or _unsafe(elements):
        return None
    hot: set[int] = set()
    for i in varying:
        element = elements[i]
        chain = [element, *element.iterancestors()]
        if any(_shared(e) for e in chain):
            return None  # a varying value inside a pattern or a marker: drawn anywhere
        hot.update(index[id(e)] for e in chain if e is not root)
    if not hot:
        return Cut((), keyed)
    walked = _walk(root, hot, varying, index)
    if walked is None or not _definitions_kept(elements, walked[1]):
        return None
    return Cut(tuple(walked[0]), keyed)


def _walk(
    root: etree._Element, hot: set[int], varying: set[int], index: dict[int, int]
) -> tuple[list[int], list[etree._Element]] | None:
    """Down from the root to the first element that holds a varying field, through
    splittable containers: (its path of child positions, the containers passed), or None
    when nothing is painted before it (a backdrop would hold nothing)."""
    path: list[int] = []
    painted = False
    node = root
    containers = [root]
    while True:
        found = None
        for child in node.iterchildren(etree.Element):
            if _shared(child):
                continue
            if index[id(child)] in hot:
                found = child
                break
            painted = True
        if found is None:
            return None
        path.append(list(node).index(found))
        if index[id(found)] in varying or not _splittable(found):
            return (path, containers) if painted else None
        node = found
        containers.append(found)


def _local(element: etree._Element) -> tuple[str, str]:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _shared(element: etree._Element) -> bool:
    """Paints nothing (kept on both sides of the cut). CairoSVG skips definitions whole;
    metadata, titles and foreign elements (inkscape:, sodipodi:) paint nothing unless an
    SVG element inside them does, since CairoSVG walks into them."""
    ns, local = _local(element)
    if ns in (SVG_NS, ""):
        if local in SKIPPED:
            return True
        if local not in QUIET:
            return False
    elif ns == PD_NS:
        return False
    return not any(_local(e)[0] in (SVG_NS, "", PD_NS) for e in element.iterdescendants())


def _definitions_kept(elements: list[etree._Element], containers: list[etree._Element]) -> bool:
    """Every definition (gradient, clip path, symbol …) and every element referred to by
    id sits in something kept on both sides: a non-painting child of the root or of a
    container the cut runs through. CairoSVG finds definitions anywhere in a document,
    and one inside a group that a half drops would be missing from that half."""
    ids = [e.get("id") for e in elements if e.get("id")]
    if len(ids) != len(set(ids)):
        return False  # which of two equal ids a reference finds may differ per half
    referred: set[str] = set()
    for element in elements:
        for raw_name, raw_value in element.attrib.items():
            name, value = str(raw_name), str(raw_value)
            if name in HREFS and value.startswith("#"):
                referred.add(value[1:])
            else:
                referred.update(URL_REF.findall(value))
    kept = {id(c) for node in containers for c in node.iterchildren(etree.Element) if _shared(c)}
    for element in elements:
        ns, local = _local(element)
        defines = ns in (SVG_NS, "") and local in DEFINES
        if (defines or element.get("id") in referred) and not any(
            id(e) in kept for e in (element, *element.iterancestors())
        ):
            return False
    return True


def _splittable(element: etree._Element) -> bool:
    """A container whose children paint one by one onto the page."""
    ns, local = _local(element)
    if ns not in (SVG_NS, "") or local not in ("g", "svg"):
        return False
    if local == "svg" and element.getparent() is not None:
        return False  # a nested viewport clips and may scale
    style = parse_style(element.get("style"))
    for name in ("mask", "filter"):
        value = style.get(name) or element.get(name)
        if value and value.strip() != "none":
            return False
    opacity = style.get("opacity") or element.get("opacity")
    if opacity is not None:
        try:
            if float(opacity.strip().removesuffix("%")) < (100 if "%" in opacity else 1):
                return False
        except ValueError:
            return False
    return True


def _unsafe(elements: list[etree._Element]) -> bool:
    """A style sheet, or a reference to an element that paints."""
    ids = {e.get("id"): e for e in elements if e.get("id")}
    for element in elements:
        ns, local = _local(element)
        if local == "style" and ns in (SVG_NS, "") and (element.text or "").strip():
            return True
        for attr in HREFS:
            href = element.get(attr)
            if href and href.startswith("#"):
                target = ids.get(href[1:])
                if target is not None and not any(
                    _shared(e) for e in (target, *target.iterancestors())
                ):
                    return True
    return False


def backdrop_of(tree: etree._Element, cut: Cut) -> etree._Element:
    """A copy of a filled document without its overlay."""
    backdrop = copy.deepcopy(tree)
    parent = backdrop
    last = len(cut.path) - 1
    for depth, position in enumerate(cut.path):
        children = list(parent)
        _drop(parent, children[position if depth == last else position + 1 :])
        parent = children[position]
    return backdrop


def overlay_of(tree: etree._Element, cut: Cut) -> etree._Element:
    """A filled document without its backdrop: `tree` itself, changed in place."""
    parent = tree
    for position in cut.path:
        children = list(parent)
        _drop(parent, children[:position])
        parent = children[position]
    return tree


def _drop(parent: etree._Element, children: list[etree._Element]) -> None:
    for child in children:
        if isinstance(child.tag, str) and not _shared(child):
            parent.remove(child)


def backdrop_key(
    version: str,
    width: int,
    height: int,
    cut: Cut,
    fields: tuple[FieldSpec, ...],
    values: Mapping[str, Any],
    fonts: tuple[str, ...] = (),
) -> bytes:
    """What a backdrop's pixels depend on: the version, the size, the keyed values, the
    uploaded fonts its text is set in."""
    defaults = {spec.name: spec.default for spec in fields}
    head = "\0".join((version, f"{width}x{height}", *fonts))
    digest = hashlib.blake2b(head.encode(), digest_size=20)
    for name in cut.keyed:
        digest.update(f"\0{name}={values.get(name, defaults.get(name))!r}".encode())
    return digest.digest()

"""How many output pixels each embedded image covers, so that an image is decoded at
the size it is drawn, not at the size it claims (a 30 kB GIF of 6300×6300 px drawn in an
80 px avatar once cost 2.3 s of decoding).

Read from the filled document before it is drawn: an `<image>` with its own width and
height, under transforms CairoSVG applies from its ancestors, covers a known box. One
inside a definition (a pattern, symbol, mask, marker: drawn wherever it is referenced)
or sized by its own pixels is taken to cover the whole output and is never shrunk.
The page counts at least at its own size, so a render at a small width allows what the
template's own size allows: what passed at upload keeps passing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lxml import etree

from pixeldrive.templates.parser import XLINK_NS, local_name
from pixeldrive.templates.sizes import document_size, parse_length, view_box_size
from pixeldrive.text.affine import Matrix, multiply
from pixeldrive.text.pathline import parse_transform

# Where an element is drawn only through a reference, with transforms of the referrer.
XLINK_HREF = f"{{{XLINK_NS}}}href"
DEFINITIONS = frozenset(
    {"defs", "pattern", "symbol", "mask", "clipPath", "marker", "filter", "switch"}
)


@dataclass(frozen=True, slots=True)
class Footprint:
    """The output pixels an image covers (the most over the elements drawing it), whether
    that box is known (`exact`: it may be decoded smaller), and the field it fills."""

    pixels: float
    exact: bool
    field: str = ""


@dataclass(frozen=True, slots=True)
class Footprints:
    """The footprints of one document's images; `whole`: the output's pixels, what any
    image not found is taken to cover."""

    images: dict[str, Footprint]
    whole: float

    def of(self, uri: str) -> Footprint:
        return self.images.get(image_key(uri)) or Footprint(self.whole, exact=False)


def footprints(root: etree._Element, width: int, height: int, *, shrink: bool = True) -> Footprints:
    """Each embedded image's footprint in an output of width×height px; with `shrink`
    false, none is `exact` (none is decoded smaller: a PDF keeps its images whole)."""
    page_w, page_h = view_box_size(root.get("viewBox")) or document_size(root)
    # User units to output pixels, never less than the template's own size.
    own_w, own_h = document_size(root)
    scale = max(width / page_w, height / page_h, own_w / page_w, own_h / page_h)
    whole = float(max(width * height, own_w * own_h))
    found: dict[str, Footprint] = {}
    for element in root.iter("{*}image"):
        href = element.get(XLINK_HREF) or element.get("href")
        if not href or href.lstrip()[:5].lower() != "data:":
            continue
        box = _box(element)
        pixels = whole if box is None else min(whole, box * scale * scale)
        field = str(element.get("data-pd-field") or "")
        here = Footprint(max(pixels, 1.0), shrink and box is not None, field)
        key = image_key(href)
        seen = found.get(key)
        if seen is not None:
            here = Footprint(
                max(seen.pixels, here.pixels), seen.exact and here.exact, seen.field or field
            )
        found[key] = here
    return Footprints(found, whole)


def image_key(uri: str) -> str:
    """What identifies a data: URI both here and in the fetcher: its data, after the
    comma (CairoSVG may rewrite the scheme and label it hands over, never the data)."""
    return uri.partition(",")[2].strip()


def _box(element: etree._Element) -> float | None:
    """The area, in user units of the root, of an image's box; None when it is not known
    (no width or height of its own, or drawn through a reference)."""
    w, h = parse_length(element.get("width")), parse_length(element.get("height"))
    if not w or not h:
        return None
    matrix: Matrix = parse_transform(element.get("transform"))
    node = element.getparent()
    while node is not None and node.getparent() is not None:
        if local_name(node) in DEFINITIONS:
            return None
        if local_name(node) == "svg":  # a nested viewport: its own scale is not read here
            return None
        matrix = multiply(parse_transform(node.get("transform")), matrix)
        node = node.getparent()
    a, b, c, d = matrix[:4]
    area = abs(a * d - b * c) * w * h
    return area if math.isfinite(area) else None

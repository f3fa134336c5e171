"""The linter's checks of filter effects, blend modes and masks: PixelDrive draws them
(render/effects/), so what is reported is what it still does not draw, and what it
refuses to draw because it would cost too much (templates/effect_limits.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from pixeldrive.templates import effect_limits as limits
from pixeldrive.templates.parser import XLINK_NS, local_name
from pixeldrive.templates.sanitize import Finding, finding

DRAWN = frozenset(
    {
        "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
        "feDiffuseLighting", "feDisplacementMap", "feDropShadow", "feFlood", "feGaussianBlur",
        "feImage", "feMerge", "feMorphology", "feOffset", "feSpecularLighting", "feTile",
        "feTurbulence",
    }
)  # fmt: skip
FUNCTIONS = frozenset(
    {"blur", "brightness", "contrast", "drop-shadow", "grayscale", "hue-rotate", "invert"}
    | {"opacity", "saturate", "sepia", "url"}
)
BLEND_MODES = frozenset(
    {"normal", "multiply", "screen", "overlay", "darken", "lighten", "color-dodge"}
    | {"color-burn", "hard-light", "soft-light", "difference", "exclusion", "hue"}
    | {"saturation", "color", "luminosity"}
)
FUNCTION_RE = re.compile(r"([a-zA-Z-]+)\(")
URL_RE = re.compile(r"""url\(\s*['"]?#([^'")\s]+)""")
NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
COSTLY = "beyond what PixelDrive draws in a render (templates/effect_limits.py); refused"


def _numbers(value: str | None) -> list[float]:
    return [float(n) for n in NUMBER_RE.findall(value or "")]


def filter_reference(
    element: etree._Element, value: str, ids: dict[str, etree._Element]
) -> Iterator[Finding]:
    """A `filter` property: references to no filter, functions PixelDrive does not know."""
    text = value.strip()
    if text.lower() in ("none", ""):
        return
    for name in URL_RE.findall(text):
        target = ids.get(name)
        if target is None or local_name(target) != "filter":
            yield finding(
                element,
                "warning",
                f"filter url(#{name}) names no filter",
                "the element is not drawn, as browsers and resvg do",
            )
    unknown = [f for f in FUNCTION_RE.findall(text) if f.lower() not in FUNCTIONS]
    if unknown:
        yield finding(
            element,
            "warning",
            f"filter {text} not drawn",
            f"PixelDrive does not know the filter function {unknown[0]}(); the filter is ignored",
        )


def filter_element(element: etree._Element) -> Iterator[Finding]:
    """A `<filter>`: each primitive that is not drawn, or past the bounds."""
    primitives = [c for c in element.iterchildren(etree.Element) if local_name(c).startswith("fe")]
    if len(primitives) > limits.MAX_PRIMITIVES:
        yield finding(
            element,
            "error",
            f"{len(primitives)} filter primitives (at most {limits.MAX_PRIMITIVES})",
            COSTLY,
        )
    for primitive in primitives:
        yield from _primitive(primitive)


def _primitive(primitive: etree._Element) -> Iterator[Finding]:
    tag = local_name(primitive)
    if tag not in DRAWN:
        yield finding(
            primitive,
            "warning",
            f"{tag} not drawn",
            "PixelDrive does not know this primitive; the element it filters is not drawn",
        )
    elif tag == "feConvolveMatrix":
        order = _numbers(primitive.get("order")) or [3.0]
        if order[0] * (order[1] if len(order) > 1 else order[0]) > limits.MAX_KERNEL_TAPS:
            yield finding(
                primitive,
                "error",
                f"feConvolveMatrix order={primitive.get('order')!r} "
                f"(at most {limits.MAX_KERNEL_TAPS} taps, {limits.MAX_KERNEL_ORDER}×"
                f"{limits.MAX_KERNEL_ORDER})",
                COSTLY,
            )
    elif tag == "feTurbulence":
        octaves = (_numbers(primitive.get("numOctaves")) or [1.0])[0]
        if octaves > limits.MAX_OCTAVES:
            yield finding(
                primitive,
                "error",
                f"feTurbulence numOctaves={octaves:g} (at most {limits.MAX_OCTAVES})",
                COSTLY,
            )
    elif tag == "feMorphology":
        radius = max(_numbers(primitive.get("radius")) or [0.0])
        if radius > limits.MAX_MORPHOLOGY_RADIUS:
            yield finding(
                primitive,
                "error",
                f"feMorphology radius={radius:g} (at most {limits.MAX_MORPHOLOGY_RADIUS:g} px)",
                COSTLY,
            )
    elif tag == "feImage":
        href = primitive.get(f"{{{XLINK_NS}}}href") or primitive.get("href") or ""
        if not href.strip().lower().startswith(("#", "data:")):
            yield finding(
                primitive,
                "warning",
                "feImage of a linked image",
                "PixelDrive draws feImage of the document's own elements and of embedded "
                "(data:) images only; this one is transparent",
            )


def blend_mode(element: etree._Element, value: str) -> Iterator[Finding]:
    mode = value.strip().lower()
    if mode and mode not in BLEND_MODES:
        yield finding(
            element,
            "warning",
            f"mix-blend-mode:{value}",
            "not a blend mode PixelDrive draws; drawn as normal",
        )

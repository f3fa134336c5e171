"""How much a template's filter effects may cost: the bounds the linter checks in the file
and the render worker enforces while drawing.

A filter is input from an uploaded template. Its cost grows with the pixels it covers, the
primitives it chains, and a few parameters (kernel sizes, turbulence octaves, morphology
radii, lights): a 1 kB file could ask for minutes of work. The linter refuses a file whose
parameters are past these bounds (an error, so a 422 at upload); the worker counts the
work of every filtered element in one draw (pixels × each primitive's weight) and stops a
draw past `MAX_WORK` (the input's fault: 422 at upload, where the file is drawn once).
"""

from __future__ import annotations

MAX_PRIMITIVES = 64  # primitives in one filter element
MAX_KERNEL_ORDER = 9  # feConvolveMatrix order of a square kernel (81 taps a pixel)
MAX_KERNEL_TAPS = MAX_KERNEL_ORDER * MAX_KERNEL_ORDER  # any kernel: order x × order y
MAX_OCTAVES = 10  # feTurbulence numOctaves (browsers see no change past about 8)
MAX_MORPHOLOGY_RADIUS = 100.0  # feMorphology radius, in device pixels
MAX_FILTER_DEPTH = 4  # feImage drawing an element that is itself filtered, and so on
# Pixel-primitives of work in one draw: about 4 s of numpy on the development machine,
# and 60 full-canvas primitives on a 1200×630 card.
MAX_WORK = 48_000_000
# A filter region larger than this many pixels is cut to the canvas (with its margin).
MAX_REGION_PIXELS = 16_000_000


def weight(tag: str, octaves: int = 1, order: int = 3, radius: float = 0.0) -> float:
    """The cost of one primitive per pixel of its region, in units of a plain primitive
    (composite, offset…)."""
    if tag == "feTurbulence":
        return 2.0 * max(1, octaves)
    if tag == "feConvolveMatrix":
        return max(1.0, order * order / 4)
    if tag == "feMorphology":
        return 1.0 + radius / 4
    if tag in ("feDiffuseLighting", "feSpecularLighting"):
        return 6.0
    if tag in ("feGaussianBlur", "feDropShadow", "feDisplacementMap"):
        return 3.0
    return 1.0

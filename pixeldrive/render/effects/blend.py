"""mix-blend-mode and feBlend's modes as cairo operators; apart from compose.py so that
a document that blends without filters does not import numpy."""

from __future__ import annotations

import cairocffi

BLEND_MODES = {
    "normal": cairocffi.OPERATOR_OVER,
    "multiply": cairocffi.OPERATOR_MULTIPLY,
    "screen": cairocffi.OPERATOR_SCREEN,
    "overlay": cairocffi.OPERATOR_OVERLAY,
    "darken": cairocffi.OPERATOR_DARKEN,
    "lighten": cairocffi.OPERATOR_LIGHTEN,
    "color-dodge": cairocffi.OPERATOR_COLOR_DODGE,
    "color-burn": cairocffi.OPERATOR_COLOR_BURN,
    "hard-light": cairocffi.OPERATOR_HARD_LIGHT,
    "soft-light": cairocffi.OPERATOR_SOFT_LIGHT,
    "difference": cairocffi.OPERATOR_DIFFERENCE,
    "exclusion": cairocffi.OPERATOR_EXCLUSION,
    "hue": cairocffi.OPERATOR_HSL_HUE,
    "saturation": cairocffi.OPERATOR_HSL_SATURATION,
    "color": cairocffi.OPERATOR_HSL_COLOR,
    "luminosity": cairocffi.OPERATOR_HSL_LUMINOSITY,
}

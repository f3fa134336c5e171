"""Rewrite, before CairoSVG sees a template, the syntaxes CairoSVG 2.9.1 misreads, where the
rewrite means exactly what the designer wrote.

CairoSVG paints hsl() black, drops the alpha of #rgba, #rrggbbaa and rgba(…, 50%), fails on
rgb() in the space syntax and on opacities written as percentages, and takes font-size:50%
as a share of the viewport's diagonal. `normalize` rewrites those values in place:

- colours (fill, stroke, stop-color, flood-color, lighting-color, color) in functional or
  hex-with-alpha notation become #rrggbb. An alpha below 1 is moved into the matching
  opacity (fill-opacity, stroke-opacity, stop-opacity, flood-opacity), multiplied with the
  opacity the element draws with. That depends on the context the colour is drawn in, so it
  is done only where that context is known: in a presentation attribute or `style`, not in
  an element reused by reference (<use>, href) nor above one, and not for a property a
  <style> sheet also sets. `color` has no opacity: only its opaque values are rewritten.
  Lighting uses no alpha of `lighting-color`: its value becomes #rrggbb, alpha dropped.
  Elsewhere an alpha colour is left as written.
- opacities in percent (opacity, fill-opacity, stroke-opacity, stop-opacity,
  flood-opacity) become numbers.
- font-size in % or em becomes px of the parent's font size (CairoSVG's default, 12pt, is
  16 px), where that size is known (same conditions as above).
- transform-origin becomes two values, x then y, its keywords percentages (CairoSVG takes
  `center` as half the output image's pixel width, not of the user space).

Values in <style> sheets get the rewrites that do not depend on context (opaque colours,
percent opacities); an alpha colour or a font-size there is left alone.
"""

from __future__ import annotations

import re
from typing import Final

import tinycss2  # type: ignore[import-untyped]  # no stubs; ships with CairoSVG
from lxml import etree

from pixeldrive.templates.colors import Color, ColorError, parse_color
from pixeldrive.templates.options import href_of
from pixeldrive.templates.parser import SVG_NS, local_name
from pixeldrive.templates.sanitize import Finding, finding
from pixeldrive.templates.style import format_style, parse_style

__all__ = ["normalize"]

CAIROSVG = "CairoSVG 2.9.1"
# Colour property → the opacity its alpha moves into (None: there is none).
COLOR_OPACITY: Final[dict[str, str | None]] = {
    "fill": "fill-opacity",
    "stroke": "stroke-opacity",
    "stop-color": "stop-opacity",
    "flood-color": "flood-opacity",
    "lighting-color": None,
    "color": None,
}
OPACITY_PROPS: Final = frozenset(
    {"opacity", "fill-opacity", "stroke-opacity", "stop-opacity", "flood-opacity"}
)
# What CairoSVG does not pass from parent to child (cairosvg/parser.py); all else inherits.
NOT_INHERITED: Final = frozenset({"opacity", "stop-color", "stop-opacity"})
REPARENTING: Final = frozenset({"use", "tref"})
DEFAULT_FONT_SIZE = 16.0  # CairoSVG's 12pt at 96 dpi
ABSOLUTE_UNITS: Final = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0}
ABSOLUTE_UNITS_MM: Final = {"mm": 96 / 25.4, "cm": 96 / 2.54}
LENGTH_RE: Final = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z%]*)")
HEX_ALPHA_RE: Final = re.compile(r"#(?:[0-9a-fA-F]{4}|[0-9a-fA-F]{8})")
PLAIN_RGB_RE: Final = re.compile(
    r"rgb\(\s*[+-]?[\d.]+\s*,\s*[+-]?[\d.]+\s*,\s*[+-]?[\d.]+\s*\)", re.IGNORECASE
)
FUNCTION_RE: Final = re.compile(r"[a-zA-Z-]+\(")


class _Unsafe(Exception):
    """Internal: the context of a value is not known well enough to rewrite it."""


def normalize(root: etree._Element) -> list[Finding]:
    """Rewrite `root` in place (callers pass a copy) and say what was rewritten (info)."""
    return _Normalizer(root).run()


def misread_color(value: str) -> Color | None:
    """The colour a value means when CairoSVG would misread it (None: CairoSVG reads it
    right, or it is not a colour PixelDrive can parse: url(), keywords, names…)."""
    text = value.strip()
    functional = FUNCTION_RE.match(text) is not None and PLAIN_RGB_RE.fullmatch(text) is None
    if HEX_ALPHA_RE.fullmatch(text) is None and not functional:
        return None
    try:
        return parse_color(text)
    except ColorError:
        return None


ORIGIN_X: Final = {"left": "0%", "center": "50%", "right": "100%"}
ORIGIN_Y: Final = {"top": "0%", "center": "50%", "bottom": "100%"}


def transform_origin(value: str) -> str | None:
    """A transform-origin as the two values `x y` CairoSVG reads right (keywords as
    percentages of the viewport, a missing value 50 %, a z dropped); None when it needs
    no rewrite or is not one PixelDrive reads."""
    parts = value.split()
    if not 1 <= len(parts) <= 3:
        return None
    first, second = parts[0], parts[1] if len(parts) > 1 else "center"
    if first in ("top", "bottom") or second in ("left", "right"):
        first, second = second, first  # `bottom right`: the vertical keyword first
    x = ORIGIN_X.get(first, first)
    y = ORIGIN_Y.get(second, second)
    if any(v in ORIGIN_X or v in ORIGIN_Y or LENGTH_RE.fullmatch(v) is None for v in (x, y)):
        return None
    new = f"{x} {y}"
    return None if new == value.strip() else new


def percent_opacity(value: str) -> str | None:
    """`50%` → `0.5`; None for anything that is not a percentage."""
    text = value.strip()
    if not text.endswith("%"):
        return None
    try:
        number = float(text[:-1])
    except ValueError:
        return None
    if number != number:  # NaN
        return None
    return _number(min(max(number / 100, 0.0), 1.0))


def _number(value: float) -> str:
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


class _Normalizer:
    def __init__(self, root: etree._Element) -> None:
        self.root = root
        # The list keeps every element proxy alive, so elements stay usable as dict keys.
        self.elements = list(root.iter(etree.Element))
        self.out: list[Finding] = []
        self.referenced = self._referenced()
        self.sheets = [e for e in self.elements if _is_sheet(e)]
        self.sheet_props: set[str] = set()

    def run(self) -> list[Finding]:
        for sheet in self.sheets:
            self._sheet(sheet)
        for element in self.elements:
            self._context_free(element)
        for element in self.elements:
            self._font_size(element)
        # Innermost first: an element's alpha is moved before its ancestors change the
        # opacity it would otherwise inherit.
        for element in reversed(self.elements):
            for prop, opacity in COLOR_OPACITY.items():
                if opacity is not None:
                    self._alpha_color(element, prop, opacity)
        return self.out

    # ------------------------------------------------------------------- context

    def _referenced(self) -> set[str]:
        """Ids some element links to by href (<use>, tref, gradient and pattern chains):
        CairoSVG draws those in the linking element's context as well."""
        ids = set()
        for element in self.elements:
            href = str(href_of(element) or "").strip()
            if href.startswith("#") and local_name(element) not in ("a", "image"):
                ids.add(href[1:])
        return ids

    def _reused(self, element: etree._Element) -> bool:
        node: etree._Element | None = element
        while node is not None:
            if str(node.get("id", "")) in self.referenced:
                return True
            node = node.getparent()
        return False

    def add(self, element: etree._Element, what: str, why: str) -> None:
        self.out.append(finding(element, "info", what, f"{why}; rewritten for {CAIROSVG}"))

    # ----------------------------------------------------------- context-free

    def _context_free(self, element: etree._Element) -> None:
        try:
            origins = _declared(element, "transform-origin")
        except _Unsafe:
            origins = []
        for where, value in origins:
            new_origin = transform_origin(value)
            if new_origin is not None:
                _set(element, where, "transform-origin", new_origin)
                self.add(
                    element,
                    f"transform-origin:{value} → {new_origin}",
                    "CairoSVG places keywords (center, right, bottom) and a single value by "
                    "the output image's pixel size, not the user space",
                )
        for prop in list(COLOR_OPACITY) + sorted(OPACITY_PROPS):
            try:
                declared = _declared(element, prop)
            except _Unsafe:
                continue
            for where, value in declared:
                new = self._context_free_value(prop, value)
                if new is not None:
                    _set(element, where, prop, new)
                    self.add(element, f"{prop}:{value} → {new}", _why(prop))

    @staticmethod
    def _context_free_value(prop: str, value: str) -> str | None:
        if prop in OPACITY_PROPS:
            return percent_opacity(value)
        color = misread_color(value)
        if color is None or (color.alpha < 1.0 and prop != "lighting-color"):
            return None
        return color.hex  # lighting uses no alpha of its colour (resvg, Inkscape, Chrome)

    def _sheet(self, sheet: etree._Element) -> None:
        rules = tinycss2.parse_stylesheet(sheet.text or "")
        changed: list[str] = []
        for rule in rules:
            if rule.type != "qualified-rule":
                continue
            declarations = tinycss2.parse_declaration_list(rule.content)
            touched = False
            for declaration in declarations:
                if declaration.type != "declaration":
                    continue
                prop = declaration.lower_name
                self.sheet_props.add(prop)
                if prop == "font":
                    self.sheet_props.add("font-size")
                if prop not in COLOR_OPACITY and prop not in OPACITY_PROPS:
                    continue
                value = tinycss2.serialize(declaration.value).strip()
                new = self._context_free_value(prop, value)
                if new is not None:
                    declaration.value = tinycss2.parse_component_value_list(f" {new}")
                    touched = True
                    changed.append(f"{prop}:{value} → {new}")
            if touched:
                rule.content = tinycss2.parse_component_value_list(tinycss2.serialize(declarations))
        if changed:
            sheet.text = tinycss2.serialize(rules)
            for what in changed:
                self.add(sheet, f"<style> {what}", _why(what.partition(":")[0]))

    # ------------------------------------------------------------- font size

    def _font_size(self, element: etree._Element) -> None:
        if "font-size" in self.sheet_props:
            return
        try:
            declared = _declared(element, "font-size")
        except _Unsafe:
            return
        if not declared:
            return
        where, value = declared[-1]  # the one CairoSVG uses
        number, unit = _length(value)
        if number is None or unit not in ("%", "em"):
            return
        try:
            if self._reused(element):
                raise _Unsafe
            parent = element.getparent()
            base = DEFAULT_FONT_SIZE if parent is None else self._computed_font_size(parent)
        except _Unsafe:
            return
        px = number * base / (100 if unit == "%" else 1)
        new = f"{_number(px)}px"
        _set(element, where, "font-size", new)
        self.add(
            element,
            f"font-size:{value} → {new}",
            f"{CAIROSVG} takes a font-size in {unit} of the viewport or again at every "
            "descendant, not of the parent's size",
        )

    def _computed_font_size(self, element: etree._Element) -> float:
        """The font size CairoSVG draws `element` with, in px (ancestors above were
        already rewritten to px where they were relative)."""
        node: etree._Element | None = element
        factor = 1.0
        while node is not None:
            if _declared(node, "font"):
                raise _Unsafe
            declared = _declared(node, "font-size")
            if declared:
                number, unit = _length(declared[-1][1])
                if number is None:
                    raise _Unsafe
                if unit in ABSOLUTE_UNITS:
                    return factor * number * ABSOLUTE_UNITS[unit]
                if unit in ABSOLUTE_UNITS_MM:
                    return factor * number * ABSOLUTE_UNITS_MM[unit]
                if unit == "%":
                    factor *= number / 100
                elif unit == "em":
                    factor *= number
                else:
                    raise _Unsafe
            node = node.getparent()
        return factor * DEFAULT_FONT_SIZE

    # ---------------------------------------------------------- alpha colours

    def _alpha_color(self, element: etree._Element, prop: str, opacity: str) -> None:
        if prop in self.sheet_props or opacity in self.sheet_props:
            return
        try:
            declared = _declared(element, prop)
        except _Unsafe:
            return
        if not declared:
            return
        where, value = declared[-1]  # the one CairoSVG draws; an overridden one stays
        color = misread_color(value)
        if color is None or color.alpha >= 1.0:
            return
        try:
            inherited = prop not in NOT_INHERITED
            if inherited and self._reused(element):
                raise _Unsafe
            own = self._effective_opacity(element, opacity, inherited=inherited)
            followers = self._followers(element, prop, opacity) if inherited else []
        except _Unsafe:
            return
        _set(element, where, prop, color.hex)
        _set_opacity(element, opacity, _number(own * color.alpha))
        for follower, value_of_follower in followers:
            _set_opacity(follower, opacity, _number(value_of_follower * color.alpha))
        self.add(
            element,
            f"{prop}:{value} → {prop}:{color.hex}; {opacity}:{_number(own * color.alpha)}",
            _why(prop),
        )

    def _effective_opacity(
        self, element: etree._Element, opacity: str, *, inherited: bool
    ) -> float:
        node: etree._Element | None = element
        while node is not None:
            declared = _declared(node, opacity)
            if declared:
                return _opacity_value(declared[-1][1])
            if not inherited:
                break
            node = node.getparent()
        return 1.0

    def _followers(
        self, element: etree._Element, prop: str, opacity: str
    ) -> list[tuple[etree._Element, float]]:
        """Descendants that inherit the colour and set their own opacity (which the alpha
        must multiply as well). Raises _Unsafe when the colour also reaches content drawn
        through a reference."""
        out = []
        stack = list(element.iterchildren(etree.Element))
        while stack:
            node = stack.pop()
            if _declared(node, prop):
                continue  # its own colour: the alpha does not reach it
            if local_name(node) in REPARENTING or str(node.get("id", "")) in self.referenced:
                raise _Unsafe
            declared = _declared(node, opacity)
            if declared:
                out.append((node, _opacity_value(declared[-1][1])))
            stack.extend(node.iterchildren(etree.Element))
        return out


# ----------------------------------------------------------------------- helpers


def _why(prop: str) -> str:
    if prop in OPACITY_PROPS:
        return f"{CAIROSVG} reads opacities as plain numbers only"
    return f"{CAIROSVG} misreads this colour syntax (hsl() black, alpha dropped, or fails)"


def _is_sheet(element: etree._Element) -> bool:
    return (
        element.tag == f"{{{SVG_NS}}}style"
        and element.get("type", "text/css") == "text/css"
        and bool(element.text)
        and len(element) == 0
    )


def _declared(element: etree._Element, prop: str) -> list[tuple[str, str]]:
    """Where `prop` is set on the element, in CairoSVG's order of precedence (the last
    wins): ("attr", value) and/or ("style", value); `inherit` counts as not set. Raises
    _Unsafe for an !important declaration (not modelled here)."""
    out = []
    value = element.get(prop)
    if value is not None and str(value).strip() != "inherit":
        out.append(("attr", str(value)))
    style = element.get("style")
    if style is not None:
        declared = parse_style(str(style)).get(prop)
        if declared is not None:
            if "!" in declared:
                raise _Unsafe  # !important: not modelled, left as written
            if declared.strip() != "inherit":
                out.append(("style", declared))
    return out


def _set(element: etree._Element, where: str, prop: str, value: str) -> None:
    if where == "attr":
        element.set(prop, value)
    else:
        style = parse_style(element.get("style"))
        style[prop] = value
        element.set("style", format_style(style))


def _set_opacity(element: etree._Element, opacity: str, value: str) -> None:
    """Set the opacity where it wins: in `style` when the style sets it, else as an
    attribute (which nothing else overrides: no sheet sets it, see _alpha_color)."""
    declared = _declared(element, opacity)
    _set(element, declared[-1][0] if declared else "attr", opacity, value)


def _opacity_value(value: str) -> float:
    text = value.strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise _Unsafe from None
    if number != number:
        raise _Unsafe
    return min(max(number, 0.0), 1.0)


def _length(value: str) -> tuple[float | None, str]:
    match = LENGTH_RE.fullmatch(value.strip())
    if match is None:
        return None, ""
    return float(match.group(1)), match.group(2).lower()

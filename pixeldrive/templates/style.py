"""The `style` attribute as an ordered mapping, read and written the way Inkscape does."""

from __future__ import annotations

import re

from lxml import etree

# Commas outside quotes separate a font-family list.
_FAMILY_SPLIT = re.compile(r",(?=(?:[^'\"]*['\"][^'\"]*['\"])*[^'\"]*\Z)")
_CSS_FAMILY = re.compile(r"font-family\s*:\s*([^;{}]+)", re.IGNORECASE)


def parse_style(style: str | None) -> dict[str, str]:
    """`fill:#fff;stroke:none` → {'fill': '#fff', 'stroke': 'none'} (last one wins)."""
    out: dict[str, str] = {}
    for declaration in (style or "").split(";"):
        name, sep, value = declaration.partition(":")
        if sep and name.strip():
            out[name.strip().lower()] = value.strip()
    return out


def format_style(declarations: dict[str, str]) -> str:
    """The inverse of parse_style."""
    return ";".join(f"{name}:{value}" for name, value in declarations.items())


def parse_families(value: str) -> tuple[str, ...]:
    """A CSS font-family list, quotes stripped: `'Inter Display', serif` → two names."""
    names = (part.strip().strip("'\"").strip() for part in _FAMILY_SPLIT.split(value))
    return tuple(name for name in names if name)


def families_named(root: etree._Element) -> tuple[str, ...]:
    """Every font family a document names (attributes, style attributes, style sheets),
    in document order, once each: what its text may be set in."""
    found: dict[str, None] = {}
    for element in root.iter(etree.Element):
        values = [element.get("font-family"), parse_style(element.get("style")).get("font-family")]
        if etree.QName(element).localname == "style":
            values += _CSS_FAMILY.findall("".join(str(t) for t in element.itertext()))
        for value in values:
            found.update(dict.fromkeys(parse_families(value or "")))
    return tuple(found)

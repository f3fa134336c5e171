"""Small SVG documents for tests, written with the namespaces Inkscape declares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from pixeldrive.render.substitute import fill_tree
from pixeldrive.templates.fields import FieldSpec

NAMESPACES = (
    'xmlns="http://www.w3.org/2000/svg" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape" '
    'xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"'
)


def svg_document(body: str, width: int = 100, height: int = 50) -> bytes:
    """A width×height SVG whose body starts on line 2 (line numbers in errors are stable)."""
    return f'<svg {NAMESPACES} width="{width}" height="{height}">\n{body}\n</svg>'.encode()


def fill(root: etree._Element, fields: tuple[FieldSpec, ...], values: Mapping[str, Any]) -> bytes:
    """The filled document as bytes, as a worker fills it."""
    return etree.tostring(fill_tree(root, fields, values)[0])

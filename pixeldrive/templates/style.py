"""The `style` attribute as an ordered mapping, read and written the way Inkscape does."""

from __future__ import annotations


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

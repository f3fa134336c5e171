"""The renderer fingerprint: what, besides the spec, decides the bytes of a render."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

from lxml import etree

from pixeldrive.render.job import EncodeOptions

LIBRARIES = (
    "pixeldrive",
    "cairosvg",
    "cairocffi",
    "pillow",
    "lxml",
    "segno",
    "uharfbuzz",
    "fonttools",
    "python-bidi",
    "zlib-ng",
)
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".woff2")


def font_dirs(fontconfig_file: Path) -> list[Path]:
    """The font directories a fontconfig file names (`prefix="relative"` resolved
    against the file's own directory, as fontconfig does)."""
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    root = etree.parse(str(fontconfig_file), parser).getroot()
    dirs = []
    for node in root.iter("dir"):
        text = (node.text or "").strip()
        if not text:
            continue
        path = Path(text).expanduser()
        if node.get("prefix") == "relative" and not path.is_absolute():
            path = fontconfig_file.parent / path
        dirs.append(path)
    return dirs


def renderer_fingerprint(fontconfig_file: Path, encode: EncodeOptions) -> str:
    """A short hash of library versions, the font files the workers can see, and the
    encoder settings. Reads every font: call it once at start-up, off the event loop."""
    digest = hashlib.sha256()
    for name in LIBRARIES:
        digest.update(f"{name}={version(name)}\n".encode())
    for key, value in sorted(asdict(encode).items()):
        digest.update(f"{key}={value}\n".encode())
    for directory in font_dirs(fontconfig_file):
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            if path.suffix.lower() in FONT_SUFFIXES:
                digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]

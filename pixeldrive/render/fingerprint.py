"""The renderer fingerprint: what, besides the spec, decides the bytes of a render."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path

from pixeldrive.render.job import EncodeOptions

LIBRARIES = ("pixeldrive", "cairosvg", "cairocffi", "pillow", "lxml", "segno")


def renderer_fingerprint(fonts_dir: Path, encode: EncodeOptions) -> str:
    """A short hash of library versions, font files and encoder settings. Reads the font
    files: call it once at start-up, off the event loop."""
    digest = hashlib.sha256()
    for name in LIBRARIES:
        digest.update(f"{name}={version(name)}\n".encode())
    for key, value in sorted(asdict(encode).items()):
        digest.update(f"{key}={value}\n".encode())
    if fonts_dir.is_dir():
        for path in sorted(fonts_dir.iterdir()):
            if path.suffix.lower() in (".ttf", ".otf", ".ttc", ".woff2"):
                digest.update(path.name.encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]

"""Small fonts made for tests with fontTools' FontBuilder: a family no bundled font has,
whose glyphs are easy to tell apart (filled boxes of different widths)."""

from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

UPM = 1000
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _box(width: int, height: int) -> object:
    pen = TTGlyphPen(None)
    pen.moveTo((50, 0))
    pen.lineTo((50, height))
    pen.lineTo((width - 50, height))
    pen.lineTo((width - 50, 0))
    pen.closePath()
    return pen.glyph()


def make_font(
    path: Path, family: str = "PD Test Blocks", *, weight: int = 400, height: int = 700
) -> Path:
    """A TrueType font of `family`: each letter a box (width by letter, `height` tall),
    a space; with the name, OS/2 and post tables a sanitiser and a font matcher expect."""
    names = [".notdef", "space", *(f"g{c}" for c in LETTERS)]
    builder = FontBuilder(UPM, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({32: "space", **{ord(c): f"g{c}" for c in LETTERS}})
    widths = {f"g{c}": 300 + 20 * (i % 10) for i, c in enumerate(LETTERS)}
    glyphs = {".notdef": _box(500, height), "space": TTGlyphPen(None).glyph()}
    glyphs |= {name: _box(width, height) for name, width in widths.items()}
    builder.setupGlyf(glyphs)
    metrics = {".notdef": (500, 50), "space": (250, 0)}
    metrics |= {name: (width, 50) for name, width in widths.items()}
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    style = "Bold" if weight >= 700 else "Regular"
    builder.setupNameTable({"familyName": family, "styleName": style})
    builder.setupOS2(
        sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200,
        usWeightClass=weight, fsType=0,
    )  # fmt: skip
    builder.setupPost()
    builder.save(str(path))
    return path

"""Font files people upload, checked before anything keeps them.

In order: the size, the kind judged by the bytes (never by a Content-Type or a file name),
the sizes a WOFF or WOFF2 file says it decompresses to, then the OpenType Sanitizer (OTS,
the checker browsers run on web fonts) in a process of its own with a time limit, then
fontTools reads what OTS wrote: family, style, weight, italic, glyphs, a Unicode cmap,
outlines, and the embedding bits of OS/2 `fsType`. Anything wrong is a `FontRefused`
(422) naming the reason. What is kept is the sfnt OTS wrote, never the upload itself.

Blocking (a subprocess, file I/O): a server calls `check_font` in a thread.
"""

from __future__ import annotations

import functools
import hashlib
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ots
from fontTools.ttLib import TTCollection, TTFont

from pixeldrive.core.errors import InvalidInput, TooLarge
from pixeldrive.text.fonts import FONT_SUFFIXES, face_record, font_dirs

Kind = Literal["ttf", "otf", "woff", "woff2"]
Usage = Literal["installable", "restricted", "preview-print", "editable"]

SIGNATURES: dict[bytes, Kind] = {
    b"\x00\x01\x00\x00": "ttf",
    b"true": "ttf",
    b"OTTO": "otf",
    b"wOFF": "woff",
    b"wOF2": "woff2",
}
# What a file that is not a font most often is, to say so.
NOT_FONTS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF file (WebP, WAV, …)"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip file"),
    (b"<", "markup (SVG, XML or HTML)"),
    (b"\xef\xbb\xbf<", "markup (SVG, XML or HTML)"),
    (b"{", "JSON"),
    (b"typ1", "an old Mac PostScript font"),
)
COLLECTION = b"ttcf"
# fsType (OpenType OS/2): bits 0–3 say how a font may be embedded, the least restrictive
# set bit winning (versions 0–2 allowed several); then no subsetting, bitmaps only.
FS_RESTRICTED, FS_PREVIEW_PRINT, FS_EDITABLE = 0x0002, 0x0004, 0x0008
FS_NO_SUBSETTING, FS_BITMAP_ONLY = 0x0100, 0x0200
NAME_COPYRIGHT, NAME_LICENCE, NAME_LICENCE_URL = 0, 13, 14
NAME_STYLE, NAME_TYPOGRAPHIC_STYLE = 2, 17
OTS_SANITIZE: str = ots.OTS_SANITIZE
REASON_CHARS = 300  # of what OTS says, in the answer


class FontRefused(InvalidInput):
    """An uploaded font that is not kept; the message names the reason, for the client."""

    title = "Font refused"
    slug = "font-refused"


@dataclass(frozen=True, slots=True)
class Embedding:
    """OS/2 fsType decoded: what the font's licence bits allow."""

    fs_type: int
    usage: Usage
    no_subsetting: bool
    bitmap_only: bool

    @classmethod
    def of(cls, fs_type: int) -> Embedding:
        usage: Usage = "installable"
        if fs_type & FS_EDITABLE:
            usage = "editable"
        elif fs_type & FS_PREVIEW_PRINT:
            usage = "preview-print"
        elif fs_type & FS_RESTRICTED:
            usage = "restricted"
        return cls(fs_type, usage, bool(fs_type & FS_NO_SUBSETTING), bool(fs_type & FS_BITMAP_ONLY))


@dataclass(frozen=True, slots=True)
class FontFacts:
    """What one face says about itself: how it is matched (the same reading as the text
    engine's, `fonts.face_record`), and its licence fields."""

    family: str
    names: tuple[str, ...]  # every family name it answers to (typographic, legacy)
    style: str
    weight: int  # the lightest weight it draws (a variable font: its wght axis minimum)
    weight_max: int  # the heaviest (a static font: its weight)
    italic: bool
    glyphs: int
    fs_type: int
    copyright: str
    licence: str
    licence_url: str
    ext: Literal["ttf", "otf"]  # TrueType outlines, or CFF

    @property
    def embedding(self) -> Embedding:
        return Embedding.of(self.fs_type)


@dataclass(frozen=True, slots=True)
class CheckedFont:
    """An accepted font: the sanitised sfnt (what is kept), its sha256, what it was
    uploaded as, and its facts."""

    data: bytes
    digest: str
    kind: Kind
    facts: FontFacts


def check_font(data: bytes, *, max_bytes: int, max_sfnt_bytes: int, timeout: float) -> CheckedFont:
    """The font in `data` checked and sanitised; FontRefused (422) naming why not, or
    TooLarge (413) over `max_bytes`. `max_sfnt_bytes` bounds what a WOFF or WOFF2 file may
    decompress to; `timeout` the sanitiser's seconds."""
    if not data:
        raise FontRefused("the body is empty: send the font file (TTF, OTF, WOFF or WOFF2)")
    if len(data) > max_bytes:
        raise TooLarge(f"the font is {len(data)} bytes; the limit is {max_bytes}")
    kind = sniff(data)
    declared = decompressed_size(data, kind)
    if declared > max_sfnt_bytes:
        raise FontRefused(
            f"the {kind.upper()} file says it decompresses to {declared} bytes; "
            f"the limit is {max_sfnt_bytes}"
        )
    with tempfile.TemporaryDirectory(prefix="pixeldrive-font-") as tmp:
        sfnt = sanitise(data, kind, Path(tmp), timeout)
        if sfnt.stat().st_size > max_sfnt_bytes:
            raise FontRefused(
                f"the font decompresses to {sfnt.stat().st_size} bytes; "
                f"the limit is {max_sfnt_bytes}"
            )
        facts = read_facts(sfnt)
        kept = sfnt.read_bytes()
    refuse_by_licence(facts)
    return CheckedFont(kept, hashlib.sha256(kept).hexdigest(), kind, facts)


def sniff(data: bytes) -> Kind:
    """The kind of font `data` is, by its first four bytes; FontRefused for a collection
    or anything that is not one of the four kinds."""
    kind = SIGNATURES.get(data[:4])
    if kind is not None:
        return kind
    if data[:4] == COLLECTION:
        raise FontRefused(_COLLECTIONS)
    seen = next((what for magic, what in NOT_FONTS if data.startswith(magic)), None)
    opening = data[:8].hex(" ")
    looks = f"it looks like {seen}" if seen else f"it starts with bytes {opening}"
    raise FontRefused(f"not a TrueType, OpenType, WOFF or WOFF2 font: {looks}")


_COLLECTIONS = "font collections (TTC) are not taken: upload each face as its own TTF or OTF file"


def decompressed_size(data: bytes, kind: Kind) -> int:
    """The most a WOFF or WOFF2 file says it decompresses to: its header's total, or
    the sum of its tables' lengths if that is more (a file may lie in either); for a
    TTF or OTF, its own length. A header too short to read is left to the sanitiser."""
    if kind == "woff" and len(data) >= 44:
        (tables,) = struct.unpack_from(">H", data, 12)
        (total,) = struct.unpack_from(">I", data, 16)
        lengths = [
            struct.unpack_from(">I", data, 44 + 20 * n + 12)[0]
            for n in range(tables)
            if 44 + 20 * n + 16 <= len(data)
        ]
        return max(int(total), sum(int(n) for n in lengths))
    if kind == "woff2" and len(data) >= 48:
        if data[4:8] == COLLECTION:
            raise FontRefused(_COLLECTIONS)
        (tables,) = struct.unpack_from(">H", data, 12)
        (total,) = struct.unpack_from(">I", data, 16)
        return max(int(total), _woff2_table_lengths(data, tables))
    return len(data)


def _woff2_table_lengths(data: bytes, tables: int) -> int:
    """The sum over a WOFF2 table directory of each table's larger length (original or
    transformed), as far as the directory can be read."""
    offset, total = 48, 0
    try:
        for _ in range(tables):
            flags = data[offset]
            offset += 1 + (4 if flags & 0x3F == 0x3F else 0)  # an arbitrary tag follows
            original, offset = _uint_base128(data, offset)
            tag, version = flags & 0x3F, flags >> 6
            transformed = version == 0 if tag in (10, 11) else version != 0  # glyf, loca
            length = 0
            if transformed:
                length, offset = _uint_base128(data, offset)
            total += max(original, length)
    except IndexError:
        pass  # a truncated directory: OTS refuses the file
    return total


def _uint_base128(data: bytes, offset: int) -> tuple[int, int]:
    value = 0
    for _ in range(5):
        byte = data[offset]
        offset += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, offset
    return value, offset  # over-long: OTS refuses it


def sanitise(data: bytes, kind: Kind, tmp: Path, timeout: float) -> Path:
    """OTS run on `data` in its own process, within `timeout` seconds: the sfnt it wrote
    (a WOFF or WOFF2 decompressed). FontRefused with OTS's own reason when it refuses."""
    source, target = tmp / f"upload.{kind}", tmp / "sanitised"
    source.write_bytes(data)
    try:
        done = subprocess.run(  # noqa: S603  # our binary, our two paths
            [OTS_SANITIZE, str(source), str(target)],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # run() has killed it
        raise FontRefused(f"the sanitiser gave up after {timeout:g} s on this font") from exc
    if done.returncode != 0 or not target.is_file():
        errors = [
            line.removeprefix("ERROR: ").strip()
            for line in done.stderr.decode("utf-8", "replace").splitlines()
            if line.startswith("ERROR")
        ]
        reason = "; ".join(errors)[:REASON_CHARS] or f"exit status {done.returncode}"
        raise FontRefused(f"the OpenType Sanitizer refused the font: {reason}")
    return target


def read_facts(path: Path) -> FontFacts:
    """The facts of the one face in the sanitised sfnt at `path`; FontRefused when it
    has no family name, no glyphs, no Unicode cmap or no outlines."""
    try:
        with TTFont(str(path), lazy=True) as font:
            return _facts(font, path, check=True)
    except FontRefused:
        raise
    except Exception as exc:  # fontTools raises many kinds on a font it cannot read
        raise FontRefused(f"the font cannot be read: {type(exc).__name__}: {exc}") from exc


def _facts(font: TTFont, path: Path, index: int = 0, *, check: bool = False) -> FontFacts:
    """A face's facts; with `check`, FontRefused unless it names a family, maps Unicode
    characters to glyphs and has outlines (the cmap is the costly part to read)."""
    name = font["name"]
    glyphs = int(font["maxp"].numGlyphs)
    if check:
        _check_face(font, name, glyphs)
    record = face_record(font, str(path), index)
    low, high = record.weight_range()
    os2 = font.get("OS/2")
    style = name.getDebugName(NAME_TYPOGRAPHIC_STYLE) or name.getDebugName(NAME_STYLE)
    return FontFacts(
        family=record.family,
        names=record.names,
        style=style or ("Italic" if record.italic else "Regular"),
        weight=round(low),
        weight_max=round(high),
        italic=record.italic,
        glyphs=glyphs,
        fs_type=int(os2.fsType) if os2 is not None else 0,
        copyright=name.getDebugName(NAME_COPYRIGHT) or "",
        licence=name.getDebugName(NAME_LICENCE) or "",
        licence_url=name.getDebugName(NAME_LICENCE_URL) or "",
        ext="otf" if "CFF " in font or "CFF2" in font else "ttf",
    )


def _check_face(font: TTFont, name: Any, glyphs: int) -> None:
    if not (name.getDebugName(16) or name.getDebugName(1)):
        raise FontRefused("the font names no family (name table entries 1 and 16)")
    cmap = font["cmap"].getBestCmap() if "cmap" in font else None
    if glyphs < 1 or not cmap or all(g == ".notdef" for g in cmap.values()):
        raise FontRefused("the font maps no Unicode character to a glyph (no Unicode cmap)")
    if not any(tag in font for tag in ("glyf", "CFF ", "CFF2")):
        raise FontRefused("the font has no outlines (glyf, CFF or CFF2): PixelDrive draws outlines")


def refuse_by_licence(facts: FontFacts) -> None:
    """FontRefused when the font's embedding bits forbid drawing with it on a server."""
    embedding = facts.embedding
    if embedding.usage == "restricted":
        raise FontRefused(
            f"the font's licence bits forbid embedding (OS/2 fsType {facts.fs_type:#06x}: "
            "Restricted License); ask its vendor for a version that allows it"
        )
    if embedding.bitmap_only:
        raise FontRefused(
            f"the font allows only bitmap embedding (OS/2 fsType {facts.fs_type:#06x}); "
            "PixelDrive draws outlines"
        )


def describe_file(path: Path) -> tuple[FontFacts, ...]:
    """The facts of every face of a font file already trusted (the bundled fonts), for
    listing; no checks refuse anything here."""
    with path.open("rb") as handle:
        collection = handle.read(4) == COLLECTION
    if collection:
        with TTCollection(str(path), lazy=True) as fonts:
            return tuple(_facts(font, path, n) for n, font in enumerate(fonts.fonts))
    with TTFont(str(path), lazy=True) as font:
        return (_facts(font, path),)


@functools.lru_cache(maxsize=4)
def bundled_faces(fontconfig_file: Path) -> tuple[tuple[Path, FontFacts], ...]:
    """Every face of the fonts a fontconfig file makes visible, with its file, sorted:
    what `GET /v1/fonts` lists as bundled. Reads every font's name table once a process."""
    faces = []
    for directory in font_dirs(fontconfig_file):
        if directory.is_dir():
            for path in sorted(directory.rglob("*")):
                if path.suffix.lower() in FONT_SUFFIXES and path.is_file():
                    faces += [(path, facts) for facts in describe_file(path)]
    return tuple(faces)

"""Font files, CSS font matching and fallback over the project's own fonts, in pure Python.

The directories and generic aliases come from the project's fontconfig file, but no
fontconfig library is called: the same files and the same choices on every machine.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import uharfbuzz as hb
import unicodedata2
from fontTools import unicodedata as ucd
from fontTools.ttLib import TTCollection, TTFont
from lxml import etree

from pixeldrive.core.errors import PixelDriveError
from pixeldrive.text import glyph_cache
from pixeldrive.text.glyphs import GlyphPath, glyph_path
from pixeldrive.text.scripts import script_families, written_language

# After the families of a character's own script (text/scripts.py): Latin, Greek and
# Cyrillic, then symbols, arrows and maths.
DEFAULT_FALLBACK: tuple[str, ...] = (
    "Inter",
    "DejaVu Sans",
    "Noto Sans Symbols",
    "Noto Sans Symbols 2",
    "Noto Sans Math",
)
# Colour emoji come from this family only: its glyphs for digits, # and * (keycaps) must
# not stand in for plain text.
EMOJI_FAMILY = "Noto Color Emoji"
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
# fontconfig's synthetic oblique (90-synthetic.conf, copied into conf/fonts.conf) shears by
# 0.2; in SVG's y-down space that is skewX(-11.31°) about the baseline.
SYNTHETIC_OBLIQUE_SHEAR = 0.2
SYNTHETIC_OBLIQUE_SKEW_X = -math.degrees(math.atan(SYNTHETIC_OBLIQUE_SHEAR))
# FreeType's FT_GlyphSlot_Embolden (what cairo does for fontconfig's `embolden`) grows
# outlines and advances by 1/24 em; HarfBuzz's synthetic bold takes the same measure.
SYNTHETIC_BOLD_EMBOLDEN = 1 / 24


def drawable(char: str) -> bool:
    """False for unassigned code points and private use: no font draws them for what
    they mean (a font's private-use glyph is its own, not the writer's). Current Unicode
    data (unicodedata2), so new emoji count as assigned."""
    return unicodedata2.category(char) not in ("Cn", "Co")


class FontConfigError(PixelDriveError):
    """The font configuration cannot serve: unreadable fontconfig file or no usable font."""

    title = "Font configuration error"
    slug = "font-config"
    report = True


@dataclass(frozen=True, slots=True)
class Face:
    """One concrete face to shape and draw with: hashable, picklable, cheap.

    `synthetic_oblique`: italic was asked and the family has none; the caller slants this
    upright face by SYNTHETIC_OBLIQUE_SKEW_X. `synthetic_bold`: >= 700 was asked of a face
    <= 500 (fontconfig's rule); LoadedFont already emboldens outlines and advances.
    """

    path: str
    index: int
    family: str
    weight: int
    italic: bool
    variations: tuple[tuple[str, float], ...] = ()
    synthetic_oblique: bool = False
    synthetic_bold: bool = False


@dataclass(frozen=True, slots=True)
class FaceRecord:
    """A face as scanned: the names it answers to and the weights it can produce."""

    path: str
    index: int
    family: str
    names: tuple[str, ...]
    weight: int
    italic: bool
    wght: tuple[float, float] | None = None  # (min, max) of a variable font's weight axis

    def weight_range(self) -> tuple[float, float]:
        return self.wght if self.wght is not None else (self.weight, self.weight)


def font_dirs(conf: Path, *, home: Path | None = None) -> list[Path]:
    """The `<dir>` entries of a fontconfig file, resolved as fontconfig does: `relative` to
    the file's directory, `xdg` under ~/.local/share (XDG's default; this module reads no
    environment), `~` to `home`, and `default`/`cwd` or none against the working directory."""
    home = home if home is not None else Path.home()
    dirs = []
    for node in _parse(conf).iter("dir"):
        text = (node.text or "").strip()
        if not text:
            continue
        prefix = node.get("prefix", "default")
        if text.startswith("~"):
            path = home / text[1:].lstrip("/")
        elif prefix == "relative":
            path = conf.parent / text
        elif prefix == "xdg":
            path = home / ".local" / "share" / text
        else:
            path = Path(text)
        dirs.append(path.resolve())
    return dirs


def generic_aliases(conf: Path) -> dict[str, tuple[str, ...]]:
    """Each `<alias>` as its family's candidate list: prefer, the family itself, accept,
    default (fontconfig's order). Keys are case-folded."""
    aliases: dict[str, tuple[str, ...]] = {}
    for alias in _parse(conf).iter("alias"):
        name = alias.findtext("family", "").strip()
        if name:
            prefer, accept, default = (
                _families_in(alias, t) for t in ("prefer", "accept", "default")
            )
            aliases[name.casefold()] = (*prefer, name, *accept, *default)
    return aliases


def _families_in(alias: etree._Element, tag: str) -> list[str]:
    return [(f.text or "").strip() for f in alias.findall(f"{tag}/family")]


def _parse(conf: Path) -> etree._Element:
    # Our own file, but parsed like every other XML here: no entities, DTDs or network.
    parser = etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True)
    try:
        return etree.parse(str(conf), parser).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise FontConfigError(f"cannot read fontconfig file {conf}") from exc


def scan_dirs(dirs: Iterable[Path]) -> list[FaceRecord]:
    """Every face in the font files under `dirs` (recursively, sorted: a stable order)."""
    entries: list[FaceRecord] = []
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*")):
            if path.suffix.lower() in FONT_SUFFIXES and path.is_file():
                entries += scan_file(path)
    return entries


def scan_file(path: Path) -> tuple[FaceRecord, ...]:
    """The faces of one font file (read once per file, size and modification time)."""
    stat = path.stat()
    return _scan_file(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=1024)
def _scan_file(path: str, mtime_ns: int, size: int) -> tuple[FaceRecord, ...]:
    """The faces of one file; the cache key includes mtime and size so edits are seen."""
    del mtime_ns, size  # only part of the cache key
    with Path(path).open("rb") as handle:
        collection = handle.read(4) == b"ttcf"
    # Lazy: only the few tables face_record touches are read, before the file is closed.
    opened = TTCollection(path, lazy=True) if collection else TTFont(path, lazy=True)
    with opened:
        fonts = opened.fonts if isinstance(opened, TTCollection) else [opened]
        return tuple(face_record(font, path, index) for index, font in enumerate(fonts))


def face_record(font: TTFont, path: str, index: int) -> FaceRecord:
    """Read only name, OS/2, head and fvar: enough to match, cheap to load. (Also how an
    uploaded font is described: text/font_files.py.)"""
    name = font["name"]
    legacy = name.getDebugName(1) or Path(path).stem
    family = name.getDebugName(16) or legacy
    os2 = font.get("OS/2")
    fs_selection = os2.fsSelection if os2 is not None else 0
    italic = bool(fs_selection & 0x201) or bool(font["head"].macStyle & 0x2)
    weight = min(max(os2.usWeightClass if os2 is not None else 400, 1), 1000)
    wght = None
    if "fvar" in font:
        for axis in font["fvar"].axes:
            if axis.axisTag == "wght":
                wght = (float(axis.minValue), float(axis.maxValue))
                weight = round(axis.defaultValue)
    names = tuple(dict.fromkeys((family, legacy)))
    return FaceRecord(path, index, family, names, weight, italic, wght)


def _weight_key(desired: int, entry: FaceRecord) -> tuple[int, float]:
    """CSS Fonts 4 §5.2 weight order as a sort key: exact, then (for 400–500) heavier up to
    500, then lighter descending, then heavier; below 400 lighter first; above 500
    heavier first. A variable font competes with its nearest producible weight."""
    low, high = entry.weight_range()
    if low <= desired <= high:
        return (0, 0.0)
    nearest = min(max(desired, low), high)
    distance = abs(nearest - desired)
    lighter = nearest < desired
    if 400 <= desired <= 500:
        if not lighter and nearest <= 500:
            return (1, distance)
        return (2, distance) if lighter else (3, distance)
    if desired < 400:
        return (1, distance) if lighter else (2, distance)
    return (2, distance) if lighter else (1, distance)


def select_face(entries: Sequence[FaceRecord], weight: int, italic: bool) -> Face:
    """CSS matching within one family: style first (an italic or oblique face, else the
    upright face to slant), then weight."""
    weight = min(max(weight, 1), 1000)
    styled = [e for e in entries if e.italic == italic] or list(entries)
    oblique = italic and not styled[0].italic
    best = min(styled, key=lambda e: (_weight_key(weight, e), e.path, e.index))
    low, high = best.weight_range()
    used = round(min(max(weight, low), high))
    variations = (("wght", float(used)),) if best.wght is not None else ()
    return Face(
        path=best.path,
        index=best.index,
        family=best.family,
        weight=used,
        italic=best.italic,
        variations=variations,
        synthetic_oblique=oblique,
        synthetic_bold=weight >= 700 and used <= 500,
    )


def _path_bytes(path: GlyphPath) -> int:
    return len(path.body) + 100


class LoadedFont:
    """A face opened in HarfBuzz, with the metrics layout needs, all in font units.

    `ascender`/`descender`/`line_gap` are HarfBuzz's horizontal extents, which are what Pango
    (so Inkscape) uses: hhea, or OS/2 typo metrics when USE_TYPO_METRICS is set.
    """

    def __init__(self, face: Face, hb_face: hb.Face, cmap: frozenset[int]) -> None:
        self.face = face
        self.cmap = cmap
        self.upem: int = hb_face.upem
        font = hb.Font(hb_face)  # scale defaults to the upem: unscaled font units
        if face.variations:
            font.set_variations(dict(face.variations))
        if face.synthetic_bold:
            font.synthetic_bold = (SYNTHETIC_BOLD_EMBOLDEN, SYNTHETIC_BOLD_EMBOLDEN, False)
        self.hb_font = font
        extents = font.get_font_extents("ltr")
        self.ascender = float(extents.ascender)
        self.descender = float(extents.descender)
        self.line_gap = float(extents.line_gap)
        self.underline_position = self._metric("UNDERLINE_OFFSET")
        self.underline_thickness = self._metric("UNDERLINE_SIZE")
        self.strikeout_position = self._metric("STRIKEOUT_OFFSET")
        self.strikeout_thickness = self._metric("STRIKEOUT_SIZE")
        # What is made of its glyphs (outlines here, cairo paths and colour glyphs in
        # text/draw.py and text/color_glyphs.py) is kept in the process's byte-bounded
        # glyph cache under this font's token.
        self.token = glyph_cache.font_token()

    def _metric(self, tag: str) -> float:
        # With fallback: HarfBuzz synthesises a value when post or OS/2 lacks it.
        tag_value = getattr(hb.OTMetricsTag, tag)
        return float(self.hb_font.get_metric_position_with_fallback(tag_value))

    def glyph_path(self, gid: int) -> GlyphPath:
        """The outline of `gid` (see glyphs.GlyphPath), drawn once per font and glyph."""
        return glyph_cache.GLYPHS.get_or_make(
            (self.token, glyph_cache.OUTLINE, gid),
            lambda: glyph_path(self.hb_font, gid),
            _path_bytes,
        )


class FontLibrary:
    """The faces a fontconfig file makes visible, matched the CSS way.

    Owns the HarfBuzz objects it loads (cached per face); not picklable: each worker builds
    its own through `library_for`.
    """

    def __init__(
        self,
        entries: Iterable[FaceRecord],
        aliases: Mapping[str, Sequence[str]],
        fallback: Sequence[str] = DEFAULT_FALLBACK,
        han: str = "zh-Hans",
    ) -> None:
        self._entries = tuple(entries)
        self._families: dict[str, list[FaceRecord]] = {}
        for entry in self._entries:
            for name in entry.names:
                self._families.setdefault(name.casefold(), []).append(entry)
        self._aliases: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in aliases.items()}
        self.fallback = tuple(f for f in fallback if f.casefold() in self._families)
        if not self.fallback:
            raise FontConfigError(f"none of the fallback families {list(fallback)} is installed")
        self.han = han  # the forms of Han without a language to say otherwise
        self._hb_faces: dict[tuple[str, int], hb.Face] = {}
        self._cmaps: dict[tuple[str, int], frozenset[int]] = {}
        self._fonts: dict[Face, LoadedFont] = {}

    @classmethod
    def from_fontconfig(
        cls, conf: Path, fallback: Sequence[str] = DEFAULT_FALLBACK, han: str = "zh-Hans"
    ) -> FontLibrary:
        """The library for the `<dir>`s and `<alias>`es of fontconfig file `conf`."""
        conf = Path(conf).absolute()
        return cls(scan_dirs(font_dirs(conf)), generic_aliases(conf), fallback, han)

    def with_files(self, paths: Sequence[str]) -> FontLibrary:
        """This library with the faces of the font files `paths` (fonts people uploaded):
        a family they name replaces this library's family of that name, so the designer's
        font wins over a bundled one. The fallback chain stays the bundled one."""
        added = [record for path in paths for record in scan_file(Path(path))]
        names = {name.casefold() for record in added for name in record.names}
        kept = [e for e in self._entries if not names & {n.casefold() for n in e.names}]
        return FontLibrary([*kept, *added], self._aliases, self.fallback, self.han)

    @property
    def families(self) -> list[str]:
        """Typographic family names, sorted."""
        return sorted({e.family for entries in self._families.values() for e in entries})

    def has_family(self, name: str) -> bool:
        """Whether `name` (a family, or a generic name through the aliases) is installed."""
        return self._family(name) is not None

    def _family(self, name: str, depth: int = 0) -> list[FaceRecord] | None:
        key = name.strip().casefold()
        for candidate in self._aliases.get(key, (name,)):
            found = self._families.get(candidate.strip().casefold())
            if found:
                return found
            # An alias may name another alias (fontconfig rescans); two levels suffice.
            if candidate.casefold() != key and depth < 2:
                found = self._family(candidate, depth + 1)
                if found:
                    return found
        return None

    def match(self, families: Sequence[str], weight: int = 400, italic: bool = False) -> Face:
        """The face for a CSS font-family list (quotes stripped), weight and style: the
        first family the library has (generic names through the aliases), else the first
        fallback family."""
        for name in families:
            entries = self._family(name)
            if entries:
                return select_face(entries, weight, italic)
        return select_face(self._families[self.fallback[0].casefold()], weight, italic)

    def fallback_for(
        self, face: Face, char: str, script: str | None = None, han: str | None = None
    ) -> Face | None:
        """The first face, matched to `face`'s weight and style, that has `char`: the
        families of its script (the character's own unless `script` says which run it is
        in), Han in written language `han` (else the library's default), then the fallback
        chain; None when none has it (the caller draws .notdef of `face`). Only the
        families tried are opened."""
        script = script or ucd.script(char)
        written = han or written_language(self.han) or "zh-hans"
        for family in (*script_families(script, written), *self.fallback):
            candidate = self.similar(family, face)
            if candidate is not None and self.covers(candidate, char):
                return candidate
        return None

    def draws(self, face: Face, char: str) -> bool:
        """Whether text in `face` can draw `char` at all: it is drawable, and `face`, the
        colour emoji font or a fallback has it."""
        if not drawable(char):
            return False
        if self.covers(face, char):
            return True
        emoji = self.similar(EMOJI_FAMILY, face)
        return (emoji is not None and self.covers(emoji, char)) or (
            self.fallback_for(face, char) is not None
        )

    def similar(self, family: str, face: Face) -> Face | None:
        """`family`'s face for `face`'s weight and style; None when it is not installed."""
        entries = self._families.get(family.casefold())
        if not entries:
            return None
        weight = 700 if face.synthetic_bold else face.weight
        return select_face(entries, weight, face.italic or face.synthetic_oblique)

    def covers(self, face: Face, char: str) -> bool:
        """Whether `face`'s cmap maps `char` (one code point)."""
        return ord(char) in self._cmap(face)

    def font(self, face: Face) -> LoadedFont:
        """The loaded font for `face`, opened once per library."""
        loaded = self._fonts.get(face)
        if loaded is None:
            loaded = LoadedFont(face, self._hb_face(face), self._cmap(face))
            self._fonts[face] = loaded
        return loaded

    def _hb_face(self, face: Face) -> hb.Face:
        key = (face.path, face.index)
        hb_face = self._hb_faces.get(key)
        if hb_face is None:
            hb_face = hb.Face(hb.Blob.from_file_path(face.path), face.index)
            self._hb_faces[key] = hb_face
        return hb_face

    def _cmap(self, face: Face) -> frozenset[int]:
        key = (face.path, face.index)
        cmap = self._cmaps.get(key)
        if cmap is None:
            cmap = self._cmaps[key] = frozenset(self._hb_face(face).unicodes)
        return cmap


@lru_cache(maxsize=8)
def library_for(conf: str, fallback: tuple[str, ...] = (), han: str = "zh-Hans") -> FontLibrary:
    """One library per process per fontconfig path, fallback chain and default Han forms
    (workers call this in their initializer); an empty chain is DEFAULT_FALLBACK."""
    return FontLibrary.from_fontconfig(Path(conf), fallback or DEFAULT_FALLBACK, han)

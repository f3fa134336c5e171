"""Scripts and languages: which script each character is written in, which bundled
families draw each script, and which Chinese, Japanese or Korean forms Han takes.

Characters of no script of their own (spaces, punctuation, digits: Common) and combining
marks (Inherited) take the script of the text around them, as HarfBuzz and Pango itemize
(UAX #24), so "ภาษาไทย, 2026" is one Thai run. Han (Chinese characters, shared by Chinese,
Japanese and Korean) is drawn in the forms of its language: `lang`/`xml:lang` decides;
without one, the Kana or Hangul of the same paragraph does; else the configured default.
"""

from __future__ import annotations

from collections.abc import Sequence

from fontTools import unicodedata as ucd

COMMON, INHERITED, HAN = "Zyyy", "Zinh", "Hani"
# The bundled families of each script (svg_templates/fonts/noto/FONTS.md), tried in order
# before the general fallback chain. Latin, Greek and Cyrillic are the text's own fonts'
# (Inter, then DejaVu Sans in the chain); Common symbols are the chain's.
SCRIPT_FAMILIES: dict[str, tuple[str, ...]] = {
    "Arab": ("Noto Sans Arabic",),
    "Armn": ("Noto Sans Armenian",),
    "Beng": ("Noto Sans Bengali",),
    "Brai": ("Noto Sans Symbols 2",),
    "Cans": ("Noto Sans Canadian Aboriginal",),
    "Cher": ("Noto Sans Cherokee",),
    "Deva": ("Noto Sans Devanagari",),
    "Ethi": ("Noto Sans Ethiopic",),
    "Geor": ("Noto Sans Georgian",),
    "Gujr": ("Noto Sans Gujarati",),
    "Guru": ("Noto Sans Gurmukhi",),
    "Hebr": ("Noto Sans Hebrew",),
    "Khmr": ("Noto Sans Khmer",),
    "Knda": ("Noto Sans Kannada",),
    "Laoo": ("Noto Sans Lao",),
    "Mlym": ("Noto Sans Malayalam",),
    "Mong": ("Noto Sans Mongolian",),
    "Mymr": ("Noto Sans Myanmar",),
    "Nkoo": ("Noto Sans NKo",),
    "Orya": ("Noto Sans Oriya",),
    "Sinh": ("Noto Sans Sinhala",),
    "Syrc": ("Noto Sans Syriac",),
    "Taml": ("Noto Sans Tamil",),
    "Telu": ("Noto Sans Telugu",),
    "Tfng": ("Noto Sans Tifinagh",),
    "Thaa": ("Noto Sans Thaana",),
    "Thai": ("Noto Sans Thai",),
    "Tibt": ("Noto Serif Tibetan",),
    "Yiii": ("Noto Sans Yi",),
}
# Han, Kana, Hangul and Bopomofo: one face per written language of Noto Sans CJK.
CJK_FAMILIES = {
    "ja": "Noto Sans CJK JP",
    "ko": "Noto Sans CJK KR",
    "zh-hans": "Noto Sans CJK SC",
    "zh-hant": "Noto Sans CJK TC",
    "zh-hk": "Noto Sans CJK HK",
}
CJK_SCRIPTS = {"Hani": None, "Hira": "ja", "Kana": "ja", "Hang": "ko", "Bopo": "zh-hant"}
_TRADITIONAL_REGIONS = {"tw": "zh-hant", "hk": "zh-hk", "mo": "zh-hk"}


def scripts_of(text: str) -> list[str]:
    """Each character's script (ISO 15924), Common and Inherited ones resolved from their
    neighbours: the script before them, else the one after, else Common."""
    raw = [ucd.script(char) for char in text]
    resolved = list(raw)
    current = COMMON
    for i, script in enumerate(raw):
        if script in (COMMON, INHERITED):
            resolved[i] = current
        else:
            current = script
    following = COMMON
    for i in range(len(raw) - 1, -1, -1):
        if raw[i] not in (COMMON, INHERITED):
            following = raw[i]
        elif resolved[i] == COMMON:
            resolved[i] = following
    return resolved


def written_language(lang: str) -> str | None:
    """The CJK written language a BCP 47 tag names ("ja", "ko", "zh-hans", "zh-hant",
    "zh-hk"), or None for a tag of another language (or none)."""
    parts = lang.strip().replace("_", "-").lower().split("-")
    primary = parts[0]
    if primary in ("ja", "ko"):
        return primary
    if primary not in ("zh", "cmn", "yue"):
        return None
    rest = parts[1:]
    if "hant" in rest:
        return _TRADITIONAL_REGIONS.get(next((p for p in rest if len(p) == 2), ""), "zh-hant")
    if "hans" in rest:
        return "zh-hans"
    for part in rest:
        if part in _TRADITIONAL_REGIONS:
            return _TRADITIONAL_REGIONS[part]
    return "zh-hk" if primary == "yue" else "zh-hans"


def han_language(lang: str, scripts: Sequence[str], default: str) -> str:
    """The written language of the Han in a paragraph: its `lang`, else its Kana or
    Hangul, else `default` (each a key of CJK_FAMILIES)."""
    declared = written_language(lang)
    if declared is not None:
        return declared
    if "Hira" in scripts or "Kana" in scripts:
        return "ja"
    if "Hang" in scripts:
        return "ko"
    return written_language(default) or "zh-hans"


def script_families(script: str, han: str) -> tuple[str, ...]:
    """The families that draw `script`, for Han in written language `han`."""
    if script in CJK_SCRIPTS:
        language = CJK_SCRIPTS[script] or han
        first = CJK_FAMILIES[language]
        return (first, *(f for f in CJK_FAMILIES.values() if f != first))
    return SCRIPT_FAMILIES.get(script, ())


def hb_language(lang: str, script: str, han: str) -> str | None:
    """The language HarfBuzz shapes a run in: its own tag, or for CJK the written
    language that picks the forms (`locl`)."""
    if script in CJK_SCRIPTS:
        return CJK_SCRIPTS[script] or han
    return lang.strip() or None

#!/usr/bin/env python3
"""Build svg_templates/fonts/noto/ from pinned Noto releases, byte for byte reproducibly.

Sources (each pinned by version and by the sha256 of its archive):
- npm packages of Fontsource (`@fontsource-variable/…`, `@fontsource/…`): the WOFF2 file of
  the script's own subset, decompressed to TTF with fontTools. Variable (`wght` axis) where a
  variable package exists, else the static Regular (these families have no Bold upstream).
- Debian bookworm `fonts-noto-cjk`: NotoSansCJK-Regular.ttc, copied unchanged.
- `@fontsource/noto-color-emoji`: Noto Color Emoji with its COLRv1 table; the SVG table, a
  second copy of every glyph, is left out.

Writes the fonts, LICENSE-OFL.txt (every source's copyright line and the OFL text once) and
FONTS.md (the manifest that tests/text/test_bundled_fonts.py checks). Each run checks every
font (cmap against the script's Unicode blocks, GSUB/GPOS, the wght axis, the emoji
sequences shaped with HarfBuzz) and fails on a surprise.

Usage: .venv/bin/python scripts/build_fonts.py [--cache DIR] [--out DIR]
Needs: npm, and for the CJK .deb apt-get (run `apt-get update` once first) and dpkg-deb.
Downloads are kept in --cache (default build/font-sources) and re-verified on every run.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import brotli  # noqa: F401  (fontTools' WOFF2 decoder: fail here if it is missing)
import fontTools
import uharfbuzz as hb
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "svg_templates" / "fonts" / "noto"
CACHE = ROOT / "build" / "font-sources"


@dataclass(frozen=True)
class Npm:
    package: str
    version: str
    sha256: str  # of the tarball that `npm pack` fetches (the registry's dist.tarball)

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def filename(self) -> str:
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"


@dataclass(frozen=True)
class Deb:
    package: str
    version: str
    sha256: str  # of the .deb that `apt-get download` fetches

    @property
    def spec(self) -> str:
        return f"{self.package}={self.version}"

    @property
    def filename(self) -> str:
        return f"{self.package}_{self.version.replace(':', '%3a')}_all.deb"


@dataclass(frozen=True)
class Spec:
    out: str  # file name under svg_templates/fonts/noto
    source: Npm | Deb
    member: str  # path of the font inside the archive
    scripts: tuple[str, ...]  # ISO 15924 codes the file is bundled for
    family: str  # expected typographic family (nameID 16, else 1) of the written file
    variable: bool = False
    drop: tuple[str, ...] = ()  # tables left out
    rename: tuple[tuple[str, str], ...] = ()  # name-table string replacements
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Script:
    name: str
    blocks: tuple[tuple[int, int], ...] = ()  # Unicode blocks whose assigned code points we check
    needs: tuple[int, ...] = ()  # code points outside the script's letters that shaping uses


def _variable(slug: str, script: str, family: str, sha256: str, *, serif: bool = False) -> Spec:
    kind = "serif" if serif else "sans"
    stem = "".join(part.capitalize() for part in slug.split("-"))
    return Spec(
        out=f"Noto{kind.capitalize()}{stem}[wght].ttf",
        source=Npm(f"@fontsource-variable/noto-{kind}-{slug}", "5.3.0", sha256),
        member=f"package/files/noto-{kind}-{slug}-{slug}-wght-normal.woff2",
        scripts=(script,),
        family=family,
        variable=True,
    )


def _static(
    slug: str, subset: str, out: str, scripts: tuple[str, ...], family: str, version: str, sha: str
) -> Spec:
    return Spec(
        out=out,
        source=Npm(f"@fontsource/noto-sans-{slug}", version, sha),
        member=f"package/files/noto-sans-{slug}-{subset}-400-normal.woff2",
        scripts=scripts,
        family=family,
    )


INDIC_NEEDS = (0x25CC, 0x200C, 0x200D, 0x0964, 0x0965)
ARABIC_PUNCT = (0x060C, 0x061B, 0x061F)

SCRIPTS: dict[str, Script] = {
    "Arab": Script(
        "Arabic",
        ((0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x089F), (0x08A0, 0x08FF)),
        (0x25CC, 0x200C, 0x200D, 0x0640, *ARABIC_PUNCT),
    ),
    "Armn": Script("Armenian", ((0x0530, 0x058F), (0xFB13, 0xFB17))),
    "Beng": Script("Bengali", ((0x0980, 0x09FF),), INDIC_NEEDS),
    "Bopo": Script("Bopomofo", ((0x3100, 0x312F),)),
    "Brai": Script("Braille", ((0x2800, 0x28FF),)),
    "Cans": Script(
        "Unified Canadian Aboriginal Syllabics",
        ((0x1400, 0x167F), (0x18B0, 0x18FF), (0x11AB0, 0x11ABF)),
    ),
    "Cher": Script("Cherokee", ((0x13A0, 0x13FF), (0xAB70, 0xABBF)), (0x25CC,)),
    "Deva": Script("Devanagari", ((0x0900, 0x097F), (0xA8E0, 0xA8FF)), INDIC_NEEDS),
    "Ethi": Script(
        "Ethiopic",
        ((0x1200, 0x137F), (0x1380, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F)),
        (0x25CC,),
    ),
    "Geor": Script("Georgian", ((0x10A0, 0x10FF), (0x2D00, 0x2D2F), (0x1C90, 0x1CBF))),
    "Gujr": Script("Gujarati", ((0x0A80, 0x0AFF),), INDIC_NEEDS),
    "Guru": Script("Gurmukhi", ((0x0A00, 0x0A7F),), INDIC_NEEDS),
    "Hang": Script("Hangul", ((0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F))),
    "Hani": Script("Han (CJK Unified Ideographs block)", ((0x4E00, 0x9FFF),)),
    "Hebr": Script("Hebrew", ((0x0590, 0x05FF), (0xFB1D, 0xFB4F)), (0x25CC,)),
    "Hira": Script("Hiragana", ((0x3040, 0x309F),)),
    "Kana": Script("Katakana", ((0x30A0, 0x30FF), (0x31F0, 0x31FF))),
    "Khmr": Script("Khmer", ((0x1780, 0x17FF), (0x19E0, 0x19FF)), (0x25CC, 0x200B, 0x200C, 0x200D)),
    "Knda": Script("Kannada", ((0x0C80, 0x0CFF),), INDIC_NEEDS),
    "Laoo": Script("Lao", ((0x0E80, 0x0EFF),), (0x25CC, 0x200B)),
    "Mlym": Script("Malayalam", ((0x0D00, 0x0D7F),), INDIC_NEEDS),
    "Mong": Script(
        "Mongolian", ((0x1800, 0x18AF), (0x11660, 0x1167F)), (0x25CC, 0x200C, 0x200D, 0x202F)
    ),
    "Mymr": Script(
        "Myanmar",
        ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
        (0x25CC, 0x200B, 0x200C, 0x200D),
    ),
    "Nkoo": Script("N'Ko", ((0x07C0, 0x07FF),), (0x25CC, 0x200C, 0x200D, *ARABIC_PUNCT)),
    "Orya": Script("Oriya (Odia)", ((0x0B00, 0x0B7F),), INDIC_NEEDS),
    "Sinh": Script("Sinhala", ((0x0D80, 0x0DFF), (0x111E0, 0x111FF)), (0x25CC, 0x200C, 0x200D)),
    "Syrc": Script(
        "Syriac",
        ((0x0700, 0x074F), (0x0860, 0x086F)),
        (0x25CC, 0x200C, 0x200D, 0x0640, *ARABIC_PUNCT),
    ),
    "Taml": Script("Tamil", ((0x0B80, 0x0BFF), (0x11FC0, 0x11FFF)), INDIC_NEEDS),
    "Telu": Script("Telugu", ((0x0C00, 0x0C7F),), INDIC_NEEDS),
    "Tfng": Script("Tifinagh", ((0x2D30, 0x2D7F),), (0x25CC, 0x200D)),
    "Thaa": Script("Thaana", ((0x0780, 0x07BF),), (0x25CC, *ARABIC_PUNCT)),
    "Thai": Script("Thai", ((0x0E00, 0x0E7F),), (0x25CC, 0x200B)),
    "Tibt": Script("Tibetan", ((0x0F00, 0x0FFF),), (0x25CC,)),
    "Yiii": Script("Yi", ((0xA000, 0xA48F), (0xA490, 0xA4CF)), (0x3001, 0x3002)),
    "Zmth": Script(
        "Mathematical notation",
        (
            (0x2200, 0x22FF),
            (0x27C0, 0x27EF),
            (0x2980, 0x29FF),
            (0x2A00, 0x2AFF),
            (0x1D400, 0x1D7FF),
        ),
    ),
    "Zsym": Script("Symbols"),
    "Zsye": Script("Symbols, emoji variant"),
}

CJK_LANGUAGES = {"JP": "Japanese", "KR": "Korean", "SC": "Simplified Chinese"}
CJK_LANGUAGES |= {"TC": "Traditional Chinese (Taiwan)", "HK": "Traditional Chinese (Hong Kong)"}

# Fontsource's variable packages, all 5.3.0: (slug, ISO 15924, family, sha256 of the tarball).
VARIABLE = (
    (
        "arabic",
        "Arab",
        "Noto Sans Arabic",
        "b6c7b9001f81e4df07a4f2501ad1b710f8faf2ed0cccc753bd3162a358b08ce5",
    ),
    (
        "armenian",
        "Armn",
        "Noto Sans Armenian",
        "758f942eb2aed799bbd01419c2be8e1d39e2d500f615ba6c127cf4edaec216d0",
    ),
    (
        "bengali",
        "Beng",
        "Noto Sans Bengali",
        "c5811f21f12e6ecfb076898a438f808ccbb56b64deaab0311952863d18e80558",
    ),
    (
        "canadian-aboriginal",
        "Cans",
        "Noto Sans Canadian Aboriginal",
        "65629dac3aa8f81f9958376f47c141592f8357886ce8775358aa0ac38926e6ec",
    ),
    (
        "cherokee",
        "Cher",
        "Noto Sans Cherokee",
        "ebae7bb8a9ebde95eab20db9bc68c5991b43ed91f3b26113566dd52a32b995a4",
    ),
    (
        "devanagari",
        "Deva",
        "Noto Sans Devanagari",
        "b5e77b55d96a5918e559193773490a7a5dd0e512e6354c93103a058ff8996ac0",
    ),
    (
        "ethiopic",
        "Ethi",
        "Noto Sans Ethiopic",
        "2e32a424614637c2a370fd8bde2ddb2b162d5daf8989bfc1f8a920a8398b11aa",
    ),
    (
        "georgian",
        "Geor",
        "Noto Sans Georgian",
        "88950e3400a0829dec4c205eb1e92b2b0b7070cdf476009f86152797b236733c",
    ),
    (
        "gujarati",
        "Gujr",
        "Noto Sans Gujarati",
        "7258991da1cb9fc0a32b8cf1cab6ab0b972c431f806b137eef9f4520215aeedf",
    ),
    (
        "gurmukhi",
        "Guru",
        "Noto Sans Gurmukhi",
        "4ae1237f3b5a9463e0769750a74910c1af8768bed2bfb111b13057891cf56d27",
    ),
    (
        "hebrew",
        "Hebr",
        "Noto Sans Hebrew",
        "85bb3375f5176f977bb84349d0e3160a59e4da389caf790e63f7c16257dfe6de",
    ),
    (
        "kannada",
        "Knda",
        "Noto Sans Kannada",
        "9c76c9f54352b54c99090cb6acd78f0070cbfdcf7cedf1bcab7c51bd42042b18",
    ),
    (
        "khmer",
        "Khmr",
        "Noto Sans Khmer",
        "b76e5a2f3ca9045ddc80c68e14bac62ed6d5f65cbe26073c1f12fb8d64333b84",
    ),
    (
        "lao",
        "Laoo",
        "Noto Sans Lao",
        "c6f71327f8126b2469674f17bb31a1eedf37d4611527ba271b921fcef47909b0",
    ),
    (
        "malayalam",
        "Mlym",
        "Noto Sans Malayalam",
        "7a4d311230b7758617b7d55e041a915b56b3b767ba8d1abca4350b93ee24f34c",
    ),
    (
        "myanmar",
        "Mymr",
        "Noto Sans Myanmar",
        "9fab01cdff80b6dc4e4f58e0238a43439046dd9068166abdfb1e34032d71f7e9",
    ),
    (
        "oriya",
        "Orya",
        "Noto Sans Oriya",
        "14e7ced6fd0fe1c10474fa86aff3d431738394c48a3f5d8decf9b25cebe56811",
    ),
    (
        "sinhala",
        "Sinh",
        "Noto Sans Sinhala",
        "0c5f7b07e9f87f628f77df1d5059b6ca6d12a4082b4e3259f0da3e35fc30c802",
    ),
    (
        "symbols",
        "Zsym",
        "Noto Sans Symbols",
        "7ec374a93bb2e4865faeeb73a3ee732a7d082dae7d64d9667fda57fe4190dbe7",
    ),
    (
        "syriac",
        "Syrc",
        "Noto Sans Syriac",
        "3b786302def89a8ad38c51d12cfadafab64ca40e0aaa33a7f4ac18d23455a9f0",
    ),
    (
        "tamil",
        "Taml",
        "Noto Sans Tamil",
        "99800b83c2ff671c98e8818890d36610b7196ceb7b6dc73663dd84a05f97e275",
    ),
    (
        "telugu",
        "Telu",
        "Noto Sans Telugu",
        "960165b9650d2600814f7373f946578b5b6e91e86fd9e2427422f397a68c350f",
    ),
    (
        "thaana",
        "Thaa",
        "Noto Sans Thaana",
        "09100be8faf960d7df6770f209172ac19fe302ffea2633ba69920986e5816ddd",
    ),
    (
        "thai",
        "Thai",
        "Noto Sans Thai",
        "9b3fb4ac74ddc4ec1064a606735dba08bc639450869e08a08a0115bfba964705",
    ),
)
# Fontsource's static packages (Regular only; none of these families has a Bold upstream):
# (slug, subset, output, ISO 15924 codes, family, version, sha256 of the tarball).
STATIC = (
    (
        "mongolian",
        "mongolian",
        "NotoSansMongolian-Regular.ttf",
        ("Mong",),
        "Noto Sans Mongolian",
        "5.3.0",
        "7b1532b7c59ddf7fcdac3a99b81c898f332fdb6a9598b9abf565eca1ee897af2",
    ),
    (
        "nko",
        "nko",
        "NotoSansNKo-Regular.ttf",
        ("Nkoo",),
        "Noto Sans NKo",
        "5.3.0",
        "8a7467561a5a59f249fd3663bacccb2fd868c241807354ec7fc140ec091b35c0",
    ),
    (
        "tifinagh",
        "tifinagh",
        "NotoSansTifinagh-Regular.ttf",
        ("Tfng",),
        "Noto Sans Tifinagh",
        "5.3.0",
        "7e8ae56fbf4e31e72fbdfe2f70e8e7b677eb54c2b04e0edaaa2d81fa49298279",
    ),
    (
        "yi",
        "yi",
        "NotoSansYi-Regular.ttf",
        ("Yiii",),
        "Noto Sans Yi",
        "4.5.12",
        "c0c7c05da1a2d380156a69a098c1f009d6ff974cfa105468c7db893a205d9053",
    ),
    (
        "symbols-2",
        "symbols",
        "NotoSansSymbols2-Regular.ttf",
        ("Zsym", "Brai"),
        "Noto Sans Symbols 2",
        "5.3.0",
        "dd714f47e1ba768274c25d14ac95610ca32e416d70c5455cd11d8995042a4552",
    ),
    (
        "math",
        "latin",
        "NotoSansMath-Regular.ttf",
        ("Zmth",),
        "Noto Sans Math",
        "5.3.0",
        "8f6894fffd5863699e279c669d6eae9d3a1218cc9e20aed84efb64a98aee03d8",
    ),
)
TIBETAN = _variable(
    "tibetan",
    "Tibt",
    "Noto Serif Tibetan",
    "a78c12bd0d9d44f56674082b378e8d50a5512c953dc13caf4e50a36dcaf49f54",
    serif=True,
)
EMOJI = Spec(
    out="NotoColorEmoji-COLRv1.ttf",
    source=Npm(
        "@fontsource/noto-color-emoji",
        "5.3.2",
        "1bd31f2fb1616c9da2892e385ff9a95a446cecbc045e1354e6b8a64389f77b96",
    ),
    member="package/files/noto-color-emoji-emoji-400-normal.woff2",
    scripts=("Zsye",),
    family="Noto Color Emoji",
    drop=("SVG ",),
)
CJK = Spec(
    out="NotoSansCJK-Regular.ttc",
    source=Deb(
        "fonts-noto-cjk",
        "1:20220127+repack1-1",
        "4a2515eb6db3978b897fef9709ed0d2b1f4c6c4df4d83d6c4ef65f71f1b1f502",
    ),
    member="./usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    scripts=("Hani", "Hang", "Hira", "Kana", "Bopo"),
    family="Noto Sans CJK JP",
)
NOTES = {
    "NotoSansHebrew[wght].ttf": (
        "The source names this family 'Noto Sans Hebrew Thin' because its default instance "
        "is wght=100 (usWeightClass 100); the build renames nameIDs 1, 3, 4 and 6 to 'Noto "
        "Sans Hebrew' so that it matches the other Noto Sans families and the static Hebrew "
        "files. Outlines and default location are unchanged: set wght (400 for Regular) when "
        "drawing, as for every variable font here."
    ),
    "NotoSerifTibetan[wght].ttf": (
        "Serif: npm has no @fontsource(-variable)/noto-sans-tibetan; Noto Serif Tibetan is "
        "the Noto project's current Tibetan font."
    ),
    "NotoSansYi-Regular.ttf": (
        "4.5.12 is the newest @fontsource/noto-sans-yi; that package has no licence file, so "
        "LICENSE-OFL.txt takes its copyright line from the font (nameID 0)."
    ),
    "NotoSansSymbols2-Regular.ttf": (
        "The 'symbols' subset also holds every character of the package's other subsets "
        "(braille, math, mayan-numerals) except Latin letters and punctuation."
    ),
    "NotoSansMath-Regular.ttf": (
        "The package's only subset is called 'latin' but is the whole font (MATH table, "
        "math alphanumerics U+1D400–1D7FF)."
    ),
    "NotoColorEmoji-COLRv1.ttf": (
        "The whole Noto Color Emoji (the 'emoji' subset); its SVG table (the same glyphs "
        "again, for renderers without COLRv1) is left out."
    ),
    "NotoSansCJK-Regular.ttc": (
        "Copied unchanged (a TTC of ten CFF faces sharing one glyph set). Regular only: the "
        "Bold TTC (20 MB) is left out to bound the checkout, so bold CJK is synthesised."
    ),
}
RENAME = {
    "NotoSansHebrew[wght].ttf": (
        ("Noto Sans Hebrew Thin", "Noto Sans Hebrew"),
        ("HebrewThin", "Hebrew"),
    ),
}


def _specs() -> tuple[Spec, ...]:
    specs = [_variable(*row) for row in VARIABLE]
    specs += [_static(*row) for row in STATIC]
    specs += [TIBETAN, EMOJI, CJK]
    specs.sort(key=lambda s: s.out.casefold())
    return tuple(
        replace(s, notes=(NOTES[s.out],) if s.out in NOTES else (), rename=RENAME.get(s.out, ()))
        for s in specs
    )


SPECS = _specs()


def _tags(letters: str) -> str:
    return "".join(chr(0xE0000 + ord(c)) for c in letters)


# Emoji sequences the font must draw as one glyph each.
EMOJI_SEQUENCES = (
    ("ZWJ family (man, woman, girl, boy)", "👨\u200d👩\u200d👧\u200d👦"),
    ("skin-toned profession (woman technologist, medium skin)", "👩🏽\u200d💻"),
    ("flag of Japan (regional indicators J P)", "🇯🇵"),
    (
        "flag of England (black flag + tags g b e n g + cancel tag)",
        "🏴" + _tags("gbeng") + "\U000e007f",
    ),
    ("keycap one (1 + U+FE0F + U+20E3)", "1\ufe0f\u20e3"),
    ("rainbow flag (white flag + FE0F + ZWJ + rainbow)", "🏳\ufe0f\u200d🌈"),
)
# Noto Color Emoji maps only the tag characters its three subdivision flags use.
TAG_CODEPOINTS = sorted({ord(c) for c in _tags("gbengsctwls")} | {0xE007F})
EMOJI_CODEPOINTS = (
    ("U+1F680 rocket", [0x1F680]),
    ("regional indicators U+1F1E6–1F1FF", list(range(0x1F1E6, 0x1F200))),
    ("U+20E3 combining enclosing keycap", [0x20E3]),
    ("the tags of its subdivision flags (b c e g l n s t w, cancel tag)", TAG_CODEPOINTS),
    ("skin-tone modifiers U+1F3FB–1F3FF", list(range(0x1F3FB, 0x1F400))),
    ("U+200D ZWJ", [0x200D]),
)


class BuildError(Exception):
    pass


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which(args[0])
    if exe is None:
        raise BuildError(f"{args[0]} is not installed")
    # The arguments are this file's pinned constants, never outside input.
    return subprocess.run([exe, *args[1:]], cwd=cwd, check=True, capture_output=True, text=True)  # noqa: S603


def fetch(source: Npm | Deb, cache: Path) -> bytes:
    """The source archive, from the cache or the registry, after its sha256 is checked."""
    path = cache / source.filename
    if not path.exists() or sha256(path.read_bytes()) != source.sha256:
        path.unlink(missing_ok=True)
        print(f"  downloading {source.spec}", file=sys.stderr)
        try:
            if isinstance(source, Npm):
                run(["npm", "pack", source.spec, "--pack-destination", str(cache)], cache)
            else:
                run(["apt-get", "download", source.spec], cache)
        except subprocess.CalledProcessError as e:
            hint = " (run apt-get update first?)" if isinstance(source, Deb) else ""
            raise BuildError(f"cannot download {source.spec}{hint}: {e.stderr.strip()}") from e
    if not path.exists():
        raise BuildError(f"{source.spec}: expected {path.name} after the download")
    data = path.read_bytes()
    if sha256(data) != source.sha256:
        raise BuildError(f"{source.spec}: sha256 {sha256(data)}, pinned {source.sha256}")
    return data


def extract(source: Npm | Deb, archive: Path, member: str) -> bytes:
    if isinstance(source, Npm):
        with tarfile.open(archive, "r:gz") as tar:
            try:
                handle = tar.extractfile(member)
            except KeyError:
                handle = None
            if handle is None:
                raise BuildError(f"{source.spec}: no {member}")
            return handle.read()
    exe = shutil.which("dpkg-deb")
    if exe is None:
        raise BuildError("dpkg-deb is not installed")
    with subprocess.Popen([exe, "--fsys-tarfile", str(archive)], stdout=subprocess.PIPE) as proc:  # noqa: S603
        assert proc.stdout is not None
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                for info in tar:
                    handle = tar.extractfile(info) if info.name == member else None
                    if handle is not None:
                        data = handle.read()
                        proc.kill()
                        return data
        except tarfile.TarError as e:
            raise BuildError(f"{source.spec}: cannot read {archive.name}: {e}") from e
    raise BuildError(f"{source.spec}: no {member}")


def convert(spec: Spec, data: bytes) -> bytes:
    """WOFF2 to TTF: the same tables, decompressed; head.modified kept as in the source."""
    if spec.out.endswith(".ttc"):
        return data
    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    if font.flavor != "woff2":
        raise BuildError(f"{spec.out}: source is not WOFF2")
    font.flavor = None
    for tag in spec.drop:
        del font[tag]
    for record in font["name"].names if spec.rename else ():
        text = record.toUnicode()
        for old, new in spec.rename:
            text = text.replace(old, new)
        if text != record.toUnicode():
            record.string = text
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def family_of(font: TTFont) -> str:
    name = font["name"]
    return str(name.getDebugName(16) or name.getDebugName(1))


def ranges(codepoints: list[int]) -> str:
    spans: list[list[int]] = []
    for cp in sorted(codepoints):
        if spans and cp == spans[-1][1] + 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    return ", ".join(f"U+{a:04X}" if a == b else f"U+{a:04X}–{b:04X}" for a, b in spans)


def assigned(block: tuple[int, int]) -> list[int]:
    return [cp for cp in range(block[0], block[1] + 1) if unicodedata.category(chr(cp)) != "Cn"]


@dataclass
class Result:
    spec: Spec
    data: bytes
    source_sha256: str
    family: str
    faces: list[tuple[int, str, str]] = field(default_factory=list)  # (index, family, ps name)
    wght: str = "—"
    tables: str = ""
    findings: list[str] = field(default_factory=list)
    emoji: list[tuple[str, str, str]] = field(default_factory=list)  # (what, outcome, glyphs)
    copyright: str = ""
    version: str = ""


def coverage(code: str, cmap: set[int]) -> list[str]:
    """What the font lacks of the script's blocks and shaping helpers."""
    script = SCRIPTS[code]
    found: list[str] = []
    for block in script.blocks:
        want = assigned(block)
        missing = [cp for cp in want if cp not in cmap]
        if missing:
            found.append(
                f"{code}: {len(missing)} of the {len(want)} assigned code points of "
                f"U+{block[0]:04X}–{block[1]:04X} missing: {ranges(missing)}"
            )
    lacks = [cp for cp in script.needs if cp not in cmap]
    if lacks:
        names = ", ".join(f"U+{cp:04X} {unicodedata.name(chr(cp))}" for cp in lacks)
        found.append(f"{code}: lacks {names}")
    return found


def check_font(spec: Spec, font: TTFont, result: Result) -> None:
    cmap = set(font.getBestCmap())
    result.family = family_of(font)
    if result.family != spec.family:
        raise BuildError(f"{spec.out}: family {result.family!r}, expected {spec.family!r}")
    layout = [tag.strip() for tag in ("GSUB", "GPOS", "GDEF", "MATH", "COLR") if tag in font]
    result.tables = ", ".join(layout)
    if "GSUB" not in font or ("GPOS" not in font and "COLR" not in font):
        raise BuildError(f"{spec.out}: no GSUB/GPOS ({result.tables})")
    if spec.variable:
        axes = {axis.axisTag: axis for axis in font["fvar"].axes}
        if set(axes) != {"wght"}:
            raise BuildError(f"{spec.out}: axes {sorted(axes)}, expected wght only")
        axis = axes["wght"]
        result.wght = f"{axis.minValue:g}–{axis.maxValue:g} (default {axis.defaultValue:g})"
    elif "fvar" in font:
        raise BuildError(f"{spec.out}: unexpected fvar")
    for code in spec.scripts:
        found = coverage(code, cmap)
        main = assigned(SCRIPTS[code].blocks[0]) if SCRIPTS[code].blocks else []
        have = sum(cp in cmap for cp in main)
        if have < 0.9 * len(main):  # the script's main block: a wrong subset, not a gap
            raise BuildError(f"{spec.out}: only {have}/{len(main)} of {code}'s main block")
        result.findings += found
    result.copyright = str(font["name"].getDebugName(0))
    result.version = str(font["name"].getDebugName(5)).split(";")[0]


def check_emoji(spec: Spec, data: bytes, font: TTFont, result: Result) -> None:
    if font["COLR"].version != 1 or "SVG " in font or "CBDT" in font:
        raise BuildError(f"{spec.out}: expected COLRv1 and no SVG/CBDT table")
    cmap = set(font.getBestCmap())
    for what, cps in EMOJI_CODEPOINTS:
        missing = [cp for cp in cps if cp not in cmap]
        if missing:
            raise BuildError(f"{spec.out}: cmap lacks {what}: {ranges(missing)}")
        result.emoji.append((f"cmap has {what}", "yes", ""))
    tags = [cp for cp in range(0xE0020, 0xE0080) if cp in cmap]
    result.emoji.append(
        ("tag characters U+E0020–E007F in cmap", f"{len(tags)} of 96", ranges(tags))
    )
    hb_font = hb.Font(hb.Face(hb.Blob(data)))
    for what, text in EMOJI_SEQUENCES:
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        hb.shape(hb_font, buf, {})
        gids = [info.codepoint for info in buf.glyph_infos]
        if len(gids) != 1 or gids[0] == 0:
            raise BuildError(f"{spec.out}: {what} shapes to glyphs {gids}")
        seq = " ".join(f"{ord(c):04X}" for c in text)
        result.emoji.append((f"{what}: {seq}", "one glyph", f"gid {gids[0]}"))


def check_collection(spec: Spec, data: bytes, result: Result) -> None:
    collection = TTCollection(io.BytesIO(data), lazy=True)
    for index, face in enumerate(collection.fonts):
        name = face["name"]
        result.faces.append((index, family_of(face), str(name.getDebugName(6))))
    first = collection.fonts[0]
    check_font(spec, first, result)
    result.family = ", ".join(family for _, family, _ in result.faces[:5])
    if not all(f"Noto Sans CJK {lang}" in result.family for lang in CJK_LANGUAGES):
        raise BuildError(f"{spec.out}: faces {result.faces}")


def build_one(spec: Spec, cache: Path) -> Result:
    archive_bytes = fetch(spec.source, cache)
    data = convert(spec, extract(spec.source, cache / spec.source.filename, spec.member))
    result = Result(spec, data, sha256(archive_bytes), "")
    if spec.out.endswith(".ttc"):
        check_collection(spec, data, result)
        return result
    font = TTFont(io.BytesIO(data))
    check_font(spec, font, result)
    if "COLR" in font:
        check_emoji(spec, data, font, result)
    return result


def licence_notice(spec: Spec, cache: Path, result: Result) -> tuple[str, str | None]:
    """(copyright line, OFL text) from the package's licence file, else from the font."""
    source = spec.source
    if isinstance(source, Npm):
        with tarfile.open(cache / source.filename, "r:gz") as tar:
            try:
                handle = tar.extractfile("package/LICENSE")
            except KeyError:
                handle = None
            if handle is not None:
                text = handle.read().decode("utf-8").replace("\r\n", "\n")
                head, sep, body = text.partition("-----")
                return head.strip().splitlines()[0], sep + body
    return result.copyright, None


def write_licence(results: list[Result], cache: Path, out: Path) -> str:
    notices: list[str] = []
    bodies: set[str] = set()
    for result in results:
        line, body = licence_notice(result.spec, cache, result)
        if body is not None:
            bodies.add(body.strip() + "\n")
        notices.append(f"{result.spec.out}: {line}")
    if len(bodies) != 1:
        raise BuildError(f"the packages' OFL texts differ ({len(bodies)} versions)")
    text = (
        "Fonts in this folder, with the copyright line of each (from its package's licence\n"
        "file, or from the font's name table where the package has none):\n\n"
        + "\n".join(f"  {n}" for n in notices)
        + "\n\nAll of them are licensed under the SIL Open Font License, Version 1.1 (for\n"
        "NotoSansCJK-Regular.ttc see also Debian's fonts-noto-cjk copyright file, which\n"
        "states the same licence). The licence text, identical in every package:\n\n" + bodies.pop()
    )
    (out / "LICENSE-OFL.txt").write_text(text, encoding="utf-8")
    return text


def human(size: int) -> str:
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.2f} MiB"


def source_cell(spec: Spec) -> str:
    s = spec.source
    inside = spec.member.removeprefix("package/").removeprefix("./")
    kind = "npm" if isinstance(s, Npm) else "Debian bookworm"
    return f"{kind} `{s.package}@{s.version}` `{inside}`"


def manifest(results: list[Result]) -> str:
    total = sum(len(r.data) for r in results)
    lines = [
        "# Bundled Noto fonts",
        "",
        "Written by `scripts/build_fonts.py` (run it with `.venv/bin/python`): it fetches each",
        "source at its pinned version, checks the archive's sha256 and writes these files the",
        f"same, byte for byte, on every run (fontTools {fontTools.version}; downloads are kept in",
        "`build/font-sources/`). Do not edit a font here by hand:",
        "`tests/text/test_bundled_fonts.py` checks every file against its sha256 below and",
        "shapes a sentence per script with it. Licences: `LICENSE-OFL.txt`.",
        "",
        "## Files",
        "",
        "| File | Family (nameID 16/1) | Version (nameID 5) | Scripts (ISO 15924) | wght axis "
        "| Layout tables | Source | Source archive sha256 | File sha256 | Licence | Size |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| `{r.spec.out}` | {r.family} | {r.version} | {', '.join(r.spec.scripts)} | {r.wght} "
            f"| {r.tables} | {source_cell(r.spec)} | `{r.source_sha256}` | `{sha256(r.data)}` "
            f"| OFL-1.1 | {len(r.data)} B ({human(len(r.data))}) |"
        )
    lines += ["", f"Total: {len(results)} files, {total} bytes ({human(total)}).", ""]
    lines += faces_section(results) + emoji_section(results) + notes_section(results)
    return "\n".join(lines).rstrip() + "\n"


def faces_section(results: list[Result]) -> list[str]:
    lines: list[str] = []
    for r in results:
        if not r.faces:
            continue
        lines += [
            f"## Faces of `{r.spec.out}`",
            "",
            "| Face index | Family (nameID 1) | PostScript name | For |",
            "|---|---|---|---|",
        ]
        for index, family, ps in r.faces:
            lang = family.rsplit(" ", 1)[-1]
            use = CJK_LANGUAGES.get(lang, "")
            if "Mono" in family:
                use = f"monospaced {use}"
            lines.append(f"| {index} | {family} | {ps} | {use} |")
        lines.append("")
    return lines


def emoji_section(results: list[Result]) -> list[str]:
    lines: list[str] = []
    for r in results:
        if not r.emoji:
            continue
        lines += [
            f"## Checks of `{r.spec.out}`",
            "",
            "COLR table version 1, no `SVG ` or `CBDT` table. Shaped with uharfbuzz "
            f"{hb.__version__}:",
            "",
            "| Check | Result | Glyph |",
            "|---|---|---|",
        ]
        lines += [f"| {what} | {outcome} | {glyph} |" for what, outcome, glyph in r.emoji]
        lines.append("")
    return lines


def notes_section(results: list[Result]) -> list[str]:
    lines = [
        "## Choices and gaps",
        "",
        "- Variable fonts (`[wght]`, axis only `wght`) where Fontsource has a variable package;",
        "  else the static Regular: Noto Sans Mongolian, NKo, Tifinagh, Yi, Symbols 2 and Math",
        "  have no Bold upstream either, so bold is synthesised for them.",
        "- Each WOFF2 is Fontsource's subset for the script itself: the script's blocks plus a",
        "  few shared characters (space, NBSP, the joiners, dotted circle, dandas…). Latin",
        "  letters, ASCII digits and most punctuation are not in it and come from the fallback",
        "  chain (Inter first).",
        "- The static NotoSansArabic/Hebrew/Devanagari-{Regular,Bold}.ttf one folder up are",
        "  still there and share their family names with the variable files here.",
        "- Coverage is checked against the code points assigned in Unicode "
        f"{unicodedata.unidata_version} (Python's",
        "  unicodedata). Below, per file, what its subset leaves out of the script's blocks and",
        "  which shaping helpers (U+25CC dotted circle for a mark alone, ZWNJ/ZWJ, the",
        "  script's punctuation from shared blocks) it lacks; the text engine finds those in",
        "  another font of the fallback chain, or HarfBuzz hides the joiners.",
        "",
    ]
    for r in results:
        items = list(r.spec.notes) + r.findings
        if items:
            lines.append(f"`{r.spec.out}`:")
            lines += [f"- {item}" for item in items]
            lines.append("")
    return lines


def write(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=CACHE, help="downloads (default %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default %(default)s)")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    try:
        for spec in SPECS:
            print(f"{spec.out}", file=sys.stderr)
            result = build_one(spec, args.cache)
            write(args.out / spec.out, result.data)
            results.append(result)
        write_licence(results, args.cache, args.out)
    except BuildError as e:
        print(f"build_fonts: {e}", file=sys.stderr)
        return 1
    write(args.out / "FONTS.md", manifest(results).encode("utf-8"))
    total = sum(len(r.data) for r in results)
    print(f"{len(results)} files, {human(total)} in {args.out}", file=sys.stderr)
    print(json.dumps({r.spec.out: sha256(r.data) for r in results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The Noto fonts in svg_templates/fonts/noto are the ones FONTS.md lists (same bytes, by
sha256), and each sets a real sentence of each script it is listed for without .notdef.

The fonts come from scripts/build_fonts.py; rerun it instead of editing one by hand."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

import pytest
import uharfbuzz as hb

NOTO = Path(__file__).resolve().parents[2] / "svg_templates" / "fonts" / "noto"
MANIFEST = NOTO / "FONTS.md"

# One sentence (real words, no ASCII punctuation: the subsets leave it to Inter) per script.
SAMPLES: dict[str, list[str]] = {
    "Arab": ["اللغة العربية جميلة"],
    "Armn": ["Հայերեն լեզու"],
    "Beng": ["আমি বাংলায় গান গাই"],
    "Brai": ["⠓⠑⠇⠇⠕ ⠺⠕⠗⠇⠙"],
    "Cans": ["ᐃᓄᒃᑎᑐᑦ ᑎᑎᕋᐅᓯᖅ"],
    "Cher": ["ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ"],
    "Deva": ["हिन्दी मेरी भाषा है"],
    "Ethi": ["ሰላም ለዓለም"],
    "Geor": ["ქართული ენა"],
    "Gujr": ["ગુજરાતી ભાષા"],
    "Guru": ["ਪੰਜਾਬੀ ਬੋਲੀ"],
    "Hebr": ["שָׁלוֹם עוֹלָם"],
    "Khmr": ["ភាសាខ្មែរ ស្រស់ស្អាត"],
    "Knda": ["ಕನ್ನಡ ಭಾಷೆ"],
    "Laoo": ["ພາສາລາວ"],
    "Mlym": ["മലയാളം ഭാഷ"],
    "Mong": ["ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ"],
    "Mymr": ["မြန်မာဘာသာ စကား"],
    "Nkoo": ["ߒߞߏ ߞߊ߲"],
    "Orya": ["ଓଡ଼ିଆ ଭାଷା"],
    "Sinh": ["සිංහල භාෂාව"],
    "Syrc": ["ܠܫܢܐ ܣܘܪܝܝܐ"],
    "Taml": ["தமிழ் மொழி"],
    "Telu": ["తెలుగు భాష"],
    "Tfng": ["ⵜⴰⵎⴰⵣⵉⵖⵜ"],
    "Thaa": ["ދިވެހި ބަސް"],
    "Thai": ["ภาษาไทยง่ายนิดเดียว"],
    "Tibt": ["བོད་ཀྱི་སྐད་ཡིག"],
    "Yiii": ["ꆈꌠꁱꂷ"],
    "Zmth": ["∀𝑥 ∈ ℝ ∃𝑛 ∈ ℕ 𝑛 > 𝑥"],
    # Rocket, ZWJ family, skin-toned profession, flag, England's flag (tag sequence), keycap.
    "Zsye": [
        "🚀 👨\u200d👩\u200d👧\u200d👦 👩🏽\u200d💻 🇯🇵 🏴"
        + "".join(chr(0xE0000 + ord(c)) for c in "gbeng")
        + "\U000e007f 1\ufe0f\u20e3"
    ],
}
# Symbols are split over two fonts: a sample for each.
FILE_SAMPLES = {
    ("NotoSansSymbols[wght].ttf", "Zsym"): "☿♀♁♂ ①②③ ⚕",
    ("NotoSansSymbols2-Regular.ttf", "Zsym"): "♔♕♖♗♘♙ ⛀⛁⛂⛃ ䷀䷁",
}
# CJK: (script, face family, sentence); the TTC's face index comes from FONTS.md.
CJK = [
    ("Hira", "Noto Sans CJK JP", "日本語の文章です"),
    ("Kana", "Noto Sans CJK JP", "コンピューターを使います"),
    ("Hang", "Noto Sans CJK KR", "한국어 문장입니다"),
    ("Hani", "Noto Sans CJK SC", "简体中文的句子"),
    ("Hani", "Noto Sans CJK TC", "繁體中文的句子"),
    ("Hani", "Noto Sans CJK HK", "香港粵語嘅句子"),
    ("Bopo", "Noto Sans CJK TC", "ㄓㄨˋ ㄧㄣ ㄈㄨˊ ㄏㄠˋ"),
]
# Emoji sequences the engine relies on being one glyph each.
EMOJI_SEQUENCES = SAMPLES["Zsye"][0].split(" ")


def table(text: str, first_header: str) -> list[dict[str, str]]:
    """The rows of the Markdown table whose header starts with `first_header`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    headers = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        rows.append(dict(zip(headers, cells, strict=True)))
    return rows


MANIFEST_TEXT = MANIFEST.read_text(encoding="utf-8")
FILES = table(MANIFEST_TEXT, "File")
FACES = {
    row["Family (nameID 1)"]: int(row["Face index"]) for row in table(MANIFEST_TEXT, "Face index")
}


def scripts_of(row: dict[str, str]) -> list[str]:
    return [code.strip() for code in row["Scripts (ISO 15924)"].split(",")]


def files_for(script: str) -> list[str]:
    return [row["File"] for row in FILES if script in scripts_of(row)]


@cache
def hb_font(name: str, index: int = 0) -> hb.Font:
    return hb.Font(hb.Face(hb.Blob.from_file_path(str(NOTO / name)), index))


def shape(font: hb.Font, text: str) -> list[int]:
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf, {})
    return [info.codepoint for info in buf.glyph_infos]


def test_the_manifest_lists_every_font_in_the_folder() -> None:
    on_disk = {p.name for p in NOTO.iterdir() if p.suffix in {".ttf", ".ttc", ".otf"}}
    assert on_disk == {row["File"] for row in FILES}


@pytest.mark.parametrize("row", FILES, ids=[row["File"] for row in FILES])
def test_font_file_is_the_one_the_manifest_names(row: dict[str, str]) -> None:
    path = NOTO / row["File"]
    assert path.is_file()
    assert re.fullmatch(r"[0-9a-f]{64}", row["File sha256"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == row["File sha256"], (
        f"{path.name} changed: rebuild it with scripts/build_fonts.py"
    )
    assert int(row["Size"].split()[0]) == path.stat().st_size


def test_every_listed_script_has_a_sample() -> None:
    listed = {code for row in FILES for code in scripts_of(row)}
    have = set(SAMPLES) | {code for _, code in FILE_SAMPLES} | {code for code, _, _ in CJK}
    assert listed == have


SCRIPT_CASES = [
    (name, code, text)
    for code, texts in SAMPLES.items()
    for text in texts
    for name in files_for(code)
] + [(name, code, text) for (name, code), text in FILE_SAMPLES.items()]


@pytest.mark.parametrize(
    ("name", "code", "text"),
    SCRIPT_CASES,
    ids=[f"{code}-{name}" for name, code, _ in SCRIPT_CASES],
)
def test_sample_sentence_has_no_notdef(name: str, code: str, text: str) -> None:
    gids = shape(hb_font(name), text)
    assert gids, f"{code}: nothing shaped"
    assert 0 not in gids, f"{code} in {name}: .notdef for {text!r} -> {gids}"


@pytest.mark.parametrize(("code", "family", "text"), CJK, ids=[f"{c}-{f}" for c, f, _ in CJK])
def test_cjk_sentence_has_no_notdef(code: str, family: str, text: str) -> None:
    (name,) = files_for(code)
    gids = shape(hb_font(name, FACES[family]), text)
    assert 0 not in gids, f"{code} in {family}: .notdef for {text!r} -> {gids}"


@pytest.mark.parametrize("sequence", EMOJI_SEQUENCES)
def test_emoji_sequence_is_one_glyph(sequence: str) -> None:
    (name,) = files_for("Zsye")
    gids = shape(hb_font(name), sequence)
    assert len(gids) == 1, f"{sequence!r} -> {gids}"
    assert gids[0] != 0

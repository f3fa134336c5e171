"""Every living script, drawn in the right font and shaped right: each sentence rendered by
PixelDrive is compared with the same sentence laid out by an independent engine (Pillow
with libraqm: FriBiDi and its own HarfBuzz itemization, FreeType rasterising) in the font
Noto makes for that script. Sentences are chosen for what goes wrong when shaping is
wrong: Indic conjuncts and vowel reordering, Thai and Lao stacked marks, Khmer
subscripts, Myanmar medials, Tibetan stacks, Arabic and Syriac joining.

The script fonts hold no ASCII punctuation (Inter draws it, as the engine's fallback
does), so the sentences use their scripts' own. Tolerance: the two rasterisers antialias
and hint differently, so pixels are compared as ink masks (darker than 50 %) allowing one
pixel of offset: every ink pixel of each image must lie within one pixel of ink in the
other, for at least 98 % of them (`agreement`).
The same sentence in a wrong font, or shaped without its script, scores 0.2 to 0.9.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from pixeldrive.core.config import PROJECT_ROOT, Settings
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob
from pixeldrive.templates.model import compile_template
from pixeldrive.wiring import worker_config

NOTO = PROJECT_ROOT / "svg_templates" / "fonts" / "noto"
WIDTH, HEIGHT, SIZE, X, BASELINE = 1000, 130, 48, 20, 85
AGREEMENT = 0.98
# script: (sentence, font file, language for the reference, or None)
SENTENCES: dict[str, tuple[str, str, str | None]] = {
    "Armenian": ("Բարեւ աշխարհ՝ ինչպե՞ս ես", "NotoSansArmenian[wght].ttf", None),
    "Georgian": ("გამარჯობა მსოფლიო", "NotoSansGeorgian[wght].ttf", None),
    "Syriac": ("ܫܠܡܐ ܥܠܡܐ ܟܠܗ", "NotoSansSyriac[wght].ttf", None),
    "Thaana": ("ދިވެހިބަސް ލިޔުން", "NotoSansThaana[wght].ttf", None),
    "NKo": ("ߒߞߏ ߞߊ߲ ߘߐ߫", "NotoSansNKo-Regular.ttf", None),
    "Tifinagh": ("ⵜⴰⵎⴰⵣⵉⵖⵜ ⵜⴰⵏⴰⵡⴰⵢⵜ", "NotoSansTifinagh-Regular.ttf", None),
    "Ethiopic": ("ሰላም ለዓለም፤ እንዴት ነህ", "NotoSansEthiopic[wght].ttf", None),
    "Devanagari": ("क्षत्रिय धर्म और कर्म", "NotoSansDevanagari[wght].ttf", None),
    "Bengali": ("আমি বাংলায় গান গাই। ক্ষমা", "NotoSansBengali[wght].ttf", None),
    "Gurmukhi": ("ਪੰਜਾਬੀ ਭਾਸ਼ਾ ਵਿੱਚ ਲਿਖੋ", "NotoSansGurmukhi[wght].ttf", None),
    "Gujarati": ("ગુજરાતી ભાષા ક્ષમા", "NotoSansGujarati[wght].ttf", None),
    "Oriya": ("ଓଡ଼ିଆ ଭାଷା ଶିକ୍ଷା", "NotoSansOriya[wght].ttf", None),
    "Tamil": ("தமிழ் மொழி கற்போம்", "NotoSansTamil[wght].ttf", None),
    "Telugu": ("తెలుగు భాష శ్రీ", "NotoSansTelugu[wght].ttf", None),
    "Kannada": ("ಕನ್ನಡ ಭಾಷೆ ಶ್ರೀ", "NotoSansKannada[wght].ttf", None),
    "Malayalam": ("മലയാളം ഭാഷ ക്ഷ", "NotoSansMalayalam[wght].ttf", None),
    "Sinhala": ("සිංහල භාෂාව ශ්‍රී ලංකා", "NotoSansSinhala[wght].ttf", None),
    "Thai": ("ผู้ใหญ่ภาษาไทยง่ายนิดเดียว", "NotoSansThai[wght].ttf", None),
    "Lao": ("ພາສາລາວ ຂ້ອຍຮັກເຈົ້າ", "NotoSansLao[wght].ttf", None),
    "Tibetan": ("བོད་ཡིག་སྐད་ཡིག་བསྒྲུབས", "NotoSerifTibetan[wght].ttf", None),
    "Myanmar": ("မြန်မာဘာသာ ကျွန်ုပ်", "NotoSansMyanmar[wght].ttf", None),
    "Khmer": ("ភាសាខ្មែរ ស្រី ក្សត្រ", "NotoSansKhmer[wght].ttf", None),
    "Mongolian": ("ᠮᠣᠩᠭᠣᠯ ᠬᠡᠯᠡ", "NotoSansMongolian-Regular.ttf", None),
    "Hangul": ("한국어 문장입니다", "NotoSansCJK-Regular.ttc#1", "ko"),
    "Japanese": ("日本語の文章です", "NotoSansCJK-Regular.ttc#0", "ja"),
    "Yi": ("ꆈꌠꉙ ꀉꂿ", "NotoSansYi-Regular.ttf", None),
    "Cherokee": ("ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ", "NotoSansCherokee[wght].ttf", None),
    "Canadian Syllabics": ("ᐃᓄᒃᑎᑐᑦ ᑭᓯᐊᓂ", "NotoSansCanadianAboriginal[wght].ttf", None),
    "Hebrew": ("שלום עולם מה שלומך", "NotoSansHebrew[wght].ttf", None),
    "Arabic": ("مرحبا بالعالم، كيف حالك", "NotoSansArabic[wght].ttf", None),
}
LATIN = ("Greek Γειά σου κόσμε, Cyrillic Съешь ещё", "Inter-Regular.otf")
# Characters whose Han forms differ between every CJK face (checked with the font).
HAN = "次述"
CJK_FACE = {"ja": 0, "ko": 1, "zh-Hans": 2, "zh-Hant": 3, "zh-HK": 4}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(state_dir=tmp_path_factory.mktemp("state"))


def draw(settings: Settings, tmp: Path, text: str, lang: str = "", **render: Any) -> Image.Image:
    """`text` set by the engine in an in-process worker, black on white, as a mask source."""
    attribute = f' xml:lang="{lang}"' if lang else ""
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
        f'<rect width="100%" height="100%" fill="#fff"/><text x="{X}" y="{BASELINE}" '
        f'font-family="Inter" font-size="{SIZE}"{attribute}>{text}</text></svg>'
    ).encode()
    template = compile_template("t", svg, max_image_bytes=10**6)
    source = tmp / f"{template.version}.svg"
    source.write_bytes(svg)
    worker.init_worker(replace(worker_config(settings), **render))
    job = RenderJob(template.version, str(source), {}, WIDTH, HEIGHT, "png")
    return Image.open(io.BytesIO(worker.run(job).data)).convert("L")


def reference(text: str, font: str, lang: str | None = None) -> Image.Image:
    """`text` laid out by Pillow with libraqm in `font` (NAME or NAME#FACE), at 400."""
    name, _, face = font.partition("#")
    folder = NOTO if (NOTO / name).exists() else NOTO.parent
    loaded = ImageFont.truetype(
        str(folder / name), SIZE, index=int(face or 0), layout_engine=ImageFont.Layout.RAQM
    )
    if "[wght]" in name:
        loaded.set_variation_by_axes([400])
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    ImageDraw.Draw(image).text((X, BASELINE), text, font=loaded, fill=0, anchor="ls", language=lang)
    return image


def agreement(a: Image.Image, b: Image.Image) -> float:
    """The share of each image's ink within one pixel of the other's (the smaller)."""
    ink_a, ink_b = (im.point(lambda v: 255 if v < 128 else 0) for im in (a, b))
    near_a, near_b = (ink.filter(ImageFilter.MaxFilter(3)) for ink in (ink_a, ink_b))
    total_a, total_b = ink_a.histogram()[255], ink_b.histogram()[255]
    assert total_a > 200, "the engine drew something"
    assert total_b > 200, "the reference drew something"
    a_in_b = ImageChops.multiply(ink_a, near_b).histogram()[255] / total_a
    b_in_a = ImageChops.multiply(ink_b, near_a).histogram()[255] / total_b
    return min(a_in_b, b_in_a)


@pytest.mark.parametrize("script", list(SENTENCES))
def test_each_script_is_shaped_in_its_own_font(
    settings: Settings, tmp_path: Path, script: str
) -> None:
    sentence, font, lang = SENTENCES[script]
    drawn = draw(settings, tmp_path, sentence)
    assert agreement(drawn, reference(sentence, font, lang)) >= AGREEMENT


def test_latin_greek_cyrillic_stay_in_the_texts_own_font(
    settings: Settings, tmp_path: Path
) -> None:
    sentence, font = LATIN
    assert agreement(draw(settings, tmp_path, sentence), reference(sentence, font)) >= AGREEMENT


def test_the_comparison_fails_for_the_wrong_font(settings: Settings, tmp_path: Path) -> None:
    sentence, _, _ = SENTENCES["Thai"]
    drawn = draw(settings, tmp_path, sentence)
    assert agreement(drawn, reference(sentence, "NotoSansLao[wght].ttf")) < 0.5
    khmer, font, _ = SENTENCES["Khmer"]
    # Shaped without Khmer's rules (subscripts as separate letters): far off.
    unshaped = reference(khmer.replace("\u17d2", " "), font)
    assert agreement(draw(settings, tmp_path, khmer), unshaped) < 0.9


@pytest.mark.parametrize("lang", list(CJK_FACE))
def test_lang_picks_the_forms_of_han(settings: Settings, tmp_path: Path, lang: str) -> None:
    drawn = draw(settings, tmp_path, HAN, lang)
    own = agreement(drawn, reference(HAN, f"NotoSansCJK-Regular.ttc#{CJK_FACE[lang]}"))
    assert own >= AGREEMENT
    for other, face in CJK_FACE.items():
        if other != lang:
            assert agreement(drawn, reference(HAN, f"NotoSansCJK-Regular.ttc#{face}")) < own


def test_without_lang_han_follows_kana_or_hangul_else_the_default(
    settings: Settings, tmp_path: Path
) -> None:
    def face_of(text: str, **render: Any) -> int:
        drawn = draw(settings, tmp_path, text, **render)
        scores = {
            face: agreement(drawn, reference(text, f"NotoSansCJK-Regular.ttc#{face}"))
            for face in (0, 1, 2, 3)
        }
        return max(scores, key=lambda f: scores[f])

    assert face_of(HAN + "です") == CJK_FACE["ja"]
    assert face_of(HAN + " 한국") == CJK_FACE["ko"]
    assert face_of(HAN) == CJK_FACE["zh-Hans"]  # render.han_language's default
    assert face_of(HAN, han_language="zh-Hant") == CJK_FACE["zh-Hant"]

"""Font discovery, CSS matching and fallback over the project's own fonts."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from fontTools.ttLib import TTCollection, TTFont

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.text.fonts import (
    DEFAULT_FALLBACK,
    Face,
    FaceRecord,
    FontConfigError,
    FontLibrary,
    font_dirs,
    generic_aliases,
    library_for,
    select_face,
)

CONF = PROJECT_ROOT / "conf" / "fonts.conf"
FONTS = PROJECT_ROOT / "svg_templates" / "fonts"


@pytest.fixture(scope="module")
def library() -> FontLibrary:
    return FontLibrary.from_fontconfig(CONF)


def file_of(face: Face) -> str:
    return Path(face.path).name


def test_dirs_resolve_relative_to_the_conf_file() -> None:
    assert font_dirs(CONF) == [FONTS.resolve()]


def test_dir_prefixes(tmp_path: Path) -> None:
    conf = tmp_path / "conf" / "fonts.conf"
    conf.parent.mkdir()
    conf.write_text(
        "<fontconfig><dir prefix='relative'>../f</dir><dir prefix='xdg'>fonts</dir>"
        "<dir>/opt/fonts</dir><dir>~/more</dir><dir> </dir></fontconfig>"
    )
    home = tmp_path / "home"
    assert font_dirs(conf, home=home) == [
        (tmp_path / "f").resolve(),
        (home / ".local/share/fonts").resolve(),
        Path("/opt/fonts"),
        (home / "more").resolve(),
    ]


def test_aliases_keep_fontconfig_order() -> None:
    aliases = generic_aliases(CONF)
    assert aliases["sans-serif"] == ("Inter", "sans-serif")
    assert aliases["serif"] == ("EB Garamond", "serif")


def test_unreadable_conf_is_a_font_config_error(tmp_path: Path) -> None:
    with pytest.raises(FontConfigError):
        FontLibrary.from_fontconfig(tmp_path / "missing.conf")


def test_no_fallback_font_is_a_font_config_error(tmp_path: Path) -> None:
    conf = tmp_path / "fonts.conf"
    conf.write_text("<fontconfig><dir prefix='relative'>empty</dir></fontconfig>")
    with pytest.raises(FontConfigError, match="fallback"):
        FontLibrary.from_fontconfig(conf)


def test_families_and_fallback_chain(library: FontLibrary) -> None:
    assert library.families == [
        "DejaVu Sans",
        "EB Garamond",
        "Inter",
        "Inter Display",
        "Noto Color Emoji",
        "Noto Sans Arabic",
        "Noto Sans Armenian",
        "Noto Sans Bengali",
        "Noto Sans CJK HK",
        "Noto Sans CJK JP",
        "Noto Sans CJK KR",
        "Noto Sans CJK SC",
        "Noto Sans CJK TC",
        "Noto Sans Canadian Aboriginal",
        "Noto Sans Cherokee",
        "Noto Sans Devanagari",
        "Noto Sans Ethiopic",
        "Noto Sans Georgian",
        "Noto Sans Gujarati",
        "Noto Sans Gurmukhi",
        "Noto Sans Hebrew",
        "Noto Sans Kannada",
        "Noto Sans Khmer",
        "Noto Sans Lao",
        "Noto Sans Malayalam",
        "Noto Sans Math",
        "Noto Sans Mongolian",
        "Noto Sans Mono CJK HK",
        "Noto Sans Mono CJK JP",
        "Noto Sans Mono CJK KR",
        "Noto Sans Mono CJK SC",
        "Noto Sans Mono CJK TC",
        "Noto Sans Myanmar",
        "Noto Sans NKo",
        "Noto Sans Oriya",
        "Noto Sans Sinhala",
        "Noto Sans Symbols",
        "Noto Sans Symbols 2",
        "Noto Sans Syriac",
        "Noto Sans Tamil",
        "Noto Sans Telugu",
        "Noto Sans Thaana",
        "Noto Sans Thai",
        "Noto Sans Tifinagh",
        "Noto Sans Yi",
        "Noto Serif Tibetan",
    ]
    assert library.fallback == DEFAULT_FALLBACK


@pytest.mark.parametrize(
    ("families", "expected"),
    [
        (["Nope", "EB Garamond", "Inter"], "EBGaramond12-Regular.otf"),
        (["nope"], "Inter-Regular.otf"),  # nothing known: the first fallback family
        (["INTER DISPLAY"], "InterDisplay-Regular.otf"),  # case-insensitive
        (["EB Garamond 12"], "EBGaramond12-Regular.otf"),  # the legacy family name too
        (["serif"], "EBGaramond12-Regular.otf"),
        (["sans-serif"], "Inter-Regular.otf"),
        (["monospace", "serif"], "Inter-Regular.otf"),
        (["Unknown", "serif"], "EBGaramond12-Regular.otf"),
    ],
)
def test_family_lists(library: FontLibrary, families: list[str], expected: str) -> None:
    assert file_of(library.match(families)) == expected


@pytest.mark.parametrize(
    ("weight", "expected", "used"),
    [
        (100, "Inter-Regular.otf", 400),  # nothing lighter: heavier ascending
        (300, "Inter-Regular.otf", 400),
        (400, "Inter-Regular.otf", 400),
        (450, "Inter-Medium.otf", 500),  # 400-500: heavier up to 500 first
        (500, "Inter-Medium.otf", 500),
        (550, "Inter-SemiBold.otf", 600),
        (600, "Inter-SemiBold.otf", 600),
        (650, "Inter-Bold.otf", 700),
        (700, "Inter-Bold.otf", 700),
        (900, "Inter-ExtraBold.otf", 800),  # nothing heavier: lighter descending
    ],
)
def test_weight_matching(library: FontLibrary, weight: int, expected: str, used: int) -> None:
    face = library.match(["Inter"], weight)
    assert (file_of(face), face.weight, face.synthetic_bold) == (expected, used, False)


def test_weights_below_400_prefer_lighter_and_400_prefers_500() -> None:
    def record(weight: int) -> FaceRecord:
        return FaceRecord(f"/f/{weight}.otf", 0, "F", ("F",), weight, False)

    pool = [record(w) for w in (200, 350, 500, 600)]
    assert select_face(pool, 300, False).weight == 200
    assert select_face(pool, 400, False).weight == 500
    assert select_face(pool[:2] + pool[3:], 400, False).weight == 350
    assert select_face(pool, 560, False).weight == 600


def test_variable_font_gives_an_instance_clamped_to_the_axis() -> None:
    variable = FaceRecord("/f/V.ttf", 0, "V", ("V",), 400, False, (300.0, 700.0))
    assert select_face([variable], 650, False).variations == (("wght", 650.0),)
    heavy = select_face([variable], 900, False)
    assert (heavy.weight, heavy.variations) == (700, (("wght", 700.0),))


def test_italic_face_when_the_family_has_one(library: FontLibrary) -> None:
    face = library.match(["EB Garamond"], 400, italic=True)
    assert (file_of(face), face.italic, face.synthetic_oblique) == (
        "EBGaramond12-Italic.otf",
        True,
        False,
    )
    inter = library.match(["Inter"], 400, italic=True)
    assert (file_of(inter), inter.synthetic_oblique) == ("Inter-Italic.otf", False)


def test_synthetic_oblique_when_the_family_has_no_italic(library: FontLibrary) -> None:
    face = library.match(["Noto Sans Hebrew"], 700, italic=True)
    assert (file_of(face), face.italic, face.synthetic_oblique) == (
        "NotoSansHebrew-Bold.ttf",
        False,
        True,
    )


def test_italic_is_chosen_before_weight(library: FontLibrary) -> None:
    # CSS: style narrows first, so bold italic Inter is the 400 italic, emboldened.
    face = library.match(["Inter"], 700, italic=True)
    assert (file_of(face), face.weight, face.synthetic_bold) == ("Inter-Italic.otf", 400, True)


def test_synthetic_bold_follows_fontconfig_rule(library: FontLibrary) -> None:
    assert library.match(["EB Garamond"], 700).synthetic_bold
    assert not library.match(["EB Garamond"], 600).synthetic_bold


@pytest.mark.parametrize(
    ("char", "expected"),
    [
        ("ب", "NotoSansArabic-Regular.ttf"),
        ("ש", "NotoSansHebrew-Regular.ttf"),
        ("क", "NotoSansDevanagari-Regular.ttf"),
        ("Ж", "Inter-Regular.otf"),
        ("Ω", "Inter-Regular.otf"),
        ("─", "DejaVuSans.ttf"),  # box drawing: only the last resort has it
    ],
)
def test_fallback_for(library: FontLibrary, char: str, expected: str) -> None:
    base = library.match(["EB Garamond"])
    found = library.fallback_for(base, char)
    assert found is not None
    assert file_of(found) == expected
    assert library.covers(found, char)


def test_fallback_keeps_weight_and_style(library: FontLibrary) -> None:
    bold = library.fallback_for(library.match(["Inter"], 700), "ب")
    assert bold is not None
    assert file_of(bold) == "NotoSansArabic-Bold.ttf"
    slanted = library.fallback_for(library.match(["Inter"], 400, italic=True), "ש")
    assert slanted is not None
    assert slanted.synthetic_oblique


@pytest.mark.parametrize("char", ["🦀", "\U0010fffd"])
def test_fallback_none_when_nobody_has_it(library: FontLibrary, char: str) -> None:
    assert library.fallback_for(library.match(["Inter"]), char) is None


def test_covers(library: FontLibrary) -> None:
    inter = library.match(["Inter"])
    assert library.covers(inter, "A")
    assert not library.covers(inter, "ب")


def test_face_is_hashable_picklable_and_font_is_cached(library: FontLibrary) -> None:
    face = library.match(["Inter"], 600)
    assert pickle.loads(pickle.dumps(face)) == face
    assert library.font(face) is library.font(face)
    assert library.font(face).glyph_path(5) is library.font(face).glyph_path(5)


def test_metrics_inter(library: FontLibrary) -> None:
    font = library.font(library.match(["Inter"]))
    assert font.upem == 2816
    assert (font.ascender, font.descender, font.line_gap) == (2728.0, -680.0, 0.0)
    assert (font.underline_position, font.underline_thickness) == (-464.0, 192.0)
    assert (font.strikeout_position, font.strikeout_thickness) == (922.0, 192.0)
    assert ord("A") in font.cmap
    assert font.hb_font.scale == (2816, 2816)


def test_metrics_hhea_not_win(library: FontLibrary) -> None:
    # EB Garamond's usWinAscent is 910 but hhea says 710: Pango (so Inkscape) uses hhea.
    font = library.font(library.match(["EB Garamond"]))
    assert (font.upem, font.ascender, font.descender) == (1000, 710.0, -290.0)


def test_synthetic_bold_widens_advances(library: FontLibrary) -> None:
    regular = library.font(library.match(["EB Garamond"], 400))
    bold = library.font(library.match(["EB Garamond"], 700))
    gid = regular.hb_font.get_nominal_glyph(ord("H"))
    widened = bold.hb_font.get_glyph_h_advance(gid) - regular.hb_font.get_glyph_h_advance(gid)
    assert widened == pytest.approx(1000 / 24, abs=1)


def test_library_for_is_one_per_conf() -> None:
    assert library_for(str(CONF)) is library_for(str(CONF))


def test_collections_are_scanned_face_by_face(tmp_path: Path) -> None:
    collection = TTCollection()
    collection.fonts = [TTFont(FONTS / f"NotoSansHebrew-{w}.ttf") for w in ("Regular", "Bold")]
    collection.save(tmp_path / "Hebrew.ttc")
    conf = tmp_path / "fonts.conf"
    conf.write_text("<fontconfig><dir prefix='relative'>.</dir></fontconfig>")
    library = FontLibrary.from_fontconfig(conf, fallback=["Noto Sans Hebrew"])
    bold = library.match(["Noto Sans Hebrew"], 700)
    assert (Path(bold.path).name, bold.index, bold.weight) == ("Hebrew.ttc", 1, 700)
    assert library.font(bold).hb_font.face.index == 1
    assert library.covers(bold, "ש")

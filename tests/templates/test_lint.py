"""Tests for the template linter in pixeldrive.lint.linter."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from pixeldrive.lint.linter import PROJECT_FONTCONFIG, LintReport, fonts, lint
from pixeldrive.templates.sanitize import Finding
from tests.conftest import TEMPLATES_DIR
from tests.svgdoc import svg_document

BUNDLED = sorted(TEMPLATES_DIR.glob("*.svg"))
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
    "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
needs_fontconfig = pytest.mark.skipif(
    shutil.which("fc-list") is None, reason="fontconfig's fc-list is not installed"
)

# One feature per line (the body starts on line 2): element id → severity and a word of
# the finding. Lines without an id define what the others use, or hold what PixelDrive
# draws (filters, masks, blend modes, isolation, paint-order: render/effects/), and must
# stay silent.
FEATURES: list[tuple[str, str | None, str, str]] = [
    ('<filter id="blur"><feGaussianBlur stdDeviation="3"/></filter>', None, "", ""),
    (
        '<rect id="r-filter" width="5" height="5" filter="url(#nowhere)"/>',
        "r-filter",
        "warning",
        "names no filter",
    ),
    ('<rect id="r-filter-style" width="5" style="filter:url(#blur)"/>', None, "", ""),
    ('<filter id="shadow"><feOffset dx="2"/>', None, "", ""),
    ('<feBlend id="blend" mode="multiply" in="SourceGraphic"/>', None, "", ""),
    ("</filter>", None, "", ""),
    ('<mask id="lum"><rect width="5" height="5" fill="#fff"/></mask>', None, "", ""),
    ('<rect id="r-mask" width="5" mask="url(#lum)"/>', None, "", ""),
    ('<mask id="alpha" mask-type="alpha"><rect width="5"/></mask>', None, "", ""),
    ('<rect id="r-alpha" width="5" mask="url(#alpha)"/>', None, "", ""),
    (
        '<rect id="r-blend" width="5" style="mix-blend-mode:plus-darker"/>',
        "r-blend",
        "warning",
        "mix-blend-mode",
    ),
    ('<g id="g-iso" style="isolation:isolate"><rect width="5"/></g>', None, "", ""),
    (
        '<filter id="custom"><feCustomThing id="fe-custom"/></filter>',
        "fe-custom",
        "warning",
        "not drawn",
    ),
    (
        '<text id="t-font" style="font-family:\'Comic Sans MS\';font-size:12px">Hi</text>',
        "t-font",
        "warning",
        "Comic Sans MS",
    ),
    (
        '<flowRoot id="flow"><flowRegion><circle r="5"/></flowRegion>',
        "flow",
        "warning",
        "flowRoot",
    ),
    ("<flowPara>Hi</flowPara></flowRoot>", None, "", ""),
    (
        '<text id="t-shape" style="shape-inside:url(#curve);font-family:Inter">Hi</text>',
        "t-shape",
        "warning",
        "shape-inside",
    ),
    ('<text id="t-inline" style="inline-size:100;font-family:Inter">Hi</text>', None, "", ""),
    ('<path id="curve" d="M0 0C5 5 10 0 20 5"/>', None, "", ""),
    (
        '<text><textPath id="tp" href="#curve" method="stretch">Hi</textPath></text>',
        "tp",
        "warning",
        "stretch",  # text on a path is drawn; only method="stretch" is not
    ),
    ('<text id="t-rot" rotate="10 20" font-family="Inter">Hi</text>', None, "", ""),  # drawn
    (
        '<image id="linked" xlink:href="photo.png" width="5" height="5"/>',
        "linked",
        "error",
        "linked image",
    ),
    (
        f'<image id="absref" sodipodi:absref="/home/ada/x.png" width="1" height="1" '
        f'xlink:href="data:image/png;base64,{PNG_1PX}"/>',
        "absref",
        "info",
        "absref",
    ),
    (
        '<text id="t-pct" style="font-size:150%;font-family:Inter">Hi</text>',
        "t-pct",
        "info",  # rewritten as px for CairoSVG (normalize)
        "font-size",
    ),
    ('<rect id="r-hsl" fill="hsl(120, 50%, 50%)" width="5"/>', "r-hsl", "info", "hsl"),
    ('<rect id="r-hex8" style="fill:#ff000080" width="5"/>', "r-hex8", "info", "#ff000080"),
    ('<switch id="sw">', "sw", "info", "switch"),
    (
        '<text id="t-ru" systemLanguage="ru" font-family="Inter">Привет</text>',
        "t-ru",
        "info",
        "systemLanguage",
    ),
    ('<text font-family="Inter">Hi</text></switch>', None, "", ""),
    ('<rect id="r-opacity" opacity="50%" width="5"/>', "r-opacity", "info", "opacity"),
    ('<rect id="r-rgb" fill="rgb(0 128 0)" width="5"/>', "r-rgb", "info", "rgb(0 128 0)"),
    ('<script id="js">alert(1)</script>', "js", "warning", "script"),
]


def report_of(body: str, name: str = "card.svg") -> LintReport:
    return lint(svg_document(body, 200, 100), name=name)


def at(report: LintReport, element_id: str) -> list[Finding]:
    return [f for f in report.findings if f.element_id == element_id]


# ------------------------------------------------------------------- every feature


@pytest.fixture(scope="module")
def features_report() -> LintReport:
    return report_of("\n".join(line for line, *_ in FEATURES))


@needs_fontconfig
@pytest.mark.parametrize(
    ("line", "element_id", "severity", "word"),
    [(n, *rest) for n, (_, *rest) in enumerate(FEATURES, start=2) if rest[0]],
    ids=[str(ident) for _, ident, *_ in FEATURES if ident],
)
def test_each_unsupported_feature_is_named_with_its_id_and_line(
    features_report: LintReport, line: int, element_id: str, severity: str, word: str
) -> None:
    found = at(features_report, element_id)
    assert len(found) == 1, found
    item = found[0]
    assert (item.severity, item.line) == (severity, line)
    assert word.lower() in (item.what + " " + item.tag).lower()
    assert item.why


@needs_fontconfig
def test_nothing_else_is_reported(features_report: LintReport) -> None:
    expected = {ident for _, ident, *_ in FEATURES if ident}
    assert {f.element_id for f in features_report.findings} == expected
    assert not features_report.servable, "a linked image"


def test_the_report_lists_size_and_fields() -> None:
    body = (
        '<text id="t" data-pd-field="title" data-pd-max-length="20" font-family="Inter">Hi</text>'
        '<rect id="r" inkscape:label="$accent" fill="#123456" width="5"/>'
    )
    report = report_of(body, name="promo.svg")
    assert (report.template_id, report.width, report.height) == ("promo", 200, 100)
    fields = {f.name: f for f in report.fields}
    assert (fields["title"].kind, fields["title"].marking) == ("text", "attribute")
    assert fields["title"].options["max_length"] == 20
    assert (fields["accent"].kind, fields["accent"].marking) == ("color", "label")
    assert fields["accent"].options["default"] == "#123456"
    assert report.servable


def test_one_name_on_two_kinds_is_an_error_at_the_second_element() -> None:
    body = '<text id="t1" data-pd-field="x">a</text>\n<rect id="r1" data-pd-field="x" width="5"/>'
    report = report_of(body)
    (item,) = at(report, "r1")
    assert (item.severity, item.line, item.tag) == ("error", 3, "rect")
    assert "'x'" in item.what
    assert not report.servable
    assert report.fields == ()


def test_a_bad_option_is_an_error_at_its_element() -> None:
    report = report_of('<text id="t1" data-pd-field="x" data-pd-fit="squash">a</text>')
    (item,) = at(report, "t1")
    assert (item.severity, item.line, item.tag) == ("error", 2, "text")


@pytest.mark.parametrize(
    ("bounds", "missing"),
    [
        ("", "data-pd-min or data-pd-max"),
        ('data-pd-min="0"', "data-pd-max"),
        ('data-pd-max="9"', "data-pd-min"),
        ('data-pd-min="0" data-pd-max="9"', None),
    ],
)
def test_a_number_field_left_unbounded_is_a_warning(bounds: str, missing: str | None) -> None:
    report = report_of(
        f'<rect id="bar" width="5" height="5" data-pd-field="bar" data-pd-kind="number"'
        f' data-pd-attr="width" {bounds}/>'
    )
    found = at(report, "bar")
    if missing is None:
        assert found == []
        return
    (item,) = found
    assert (item.severity, item.line, item.tag) == ("warning", 2, "rect")
    assert item.what == f"number field 'bar' has no {missing}"
    assert "±2000" in item.why  # 10 × the longest side of a 200×100 page


def test_xml_that_does_not_parse_is_one_error_with_its_line() -> None:
    report = lint(b'<svg xmlns="http://www.w3.org/2000/svg">\n<rect>\n</svg>', name="x.svg")
    (item,) = report.findings
    assert (item.severity, item.line) == ("error", 3)
    assert not report.servable
    assert report.width is None


def test_a_doctype_is_an_error() -> None:
    data = b'<!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>'
    (item,) = lint(data, name="x.svg").findings
    assert item.severity == "error"
    assert "DOCTYPE" in item.what


def test_a_file_name_that_is_no_template_id_is_an_error() -> None:
    report = report_of('<rect width="5"/>', name="My Card.svg")
    assert [f.severity for f in report.findings] == ["error"]


def test_colours_in_a_stylesheet_are_checked() -> None:
    report = report_of('<style id="st">rect { fill: hsla(0, 50%, 50%, 0.5) }</style>')
    (item,) = at(report, "st")
    assert (item.severity, item.line) == ("warning", 2)


def test_ids_that_look_like_colours_are_not_colours() -> None:
    report = report_of('<rect id="r" fill="url(#deadbeef)" width="5"/>')
    assert report.findings == ()


# --------------------------------------------------------------------------- fonts


@needs_fontconfig
def test_a_missing_font_names_the_fallback() -> None:
    report = report_of('<text id="t" style="font-family:\'Comic Sans MS\'">Hi</text>')
    (item,) = report.findings
    assert item.severity == "warning"
    assert item.what == "font 'Comic Sans MS' is not installed; Inter will be used"


@needs_fontconfig
def test_the_next_installed_family_of_a_list_is_named() -> None:
    report = report_of('<text id="t" font-family="Comic Sans MS, EB Garamond, serif">Hi</text>')
    (item,) = report.findings
    assert item.severity == "info"
    assert "'EB Garamond' (next in the list) is used" in item.what


@needs_fontconfig
@pytest.mark.parametrize(
    "family",
    [
        "Inter",
        "'Inter Display'",
        "inter display",
        "InterDisplay",
        "EB Garamond",
        "sans-serif",
        "serif",
        "monospace",
        "'EB Garamond', 'Comic Sans MS'",
    ],
)
def test_installed_fonts_and_configured_generics_resolve(family: str) -> None:
    report = report_of(f'<text id="t" style="font-family:{family}">Hi</text>')
    assert report.findings == ()


@needs_fontconfig
def test_a_font_on_a_group_is_checked_only_where_it_reaches_text() -> None:
    body = (
        '<g id="with-text" font-family="Papyrus"><text>Hi</text></g>'
        '<g id="shapes" font-family="Papyrus"><rect width="5"/></g>'
        '<style id="st">text { font-family: Papyrus }</style>'
    )
    report = report_of(body)
    assert sorted(f.element_id for f in report.findings) == ["st", "with-text"]


def test_without_fc_list_fonts_are_not_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("shutil.which", lambda program: None)
    conf = tmp_path / "fonts.conf"
    conf.write_text("<fontconfig/>")
    report = lint(
        svg_document('<text font-family="Comic Sans MS">Hi</text>'),
        name="x.svg",
        fontconfig_file=conf,
    )
    (item,) = report.findings
    assert (item.severity, item.what) == ("info", "fonts not checked")


@needs_fontconfig
def test_the_project_fonts_are_listed_once() -> None:
    catalogue = fonts(PROJECT_FONTCONFIG)
    assert fonts(PROJECT_FONTCONFIG) is catalogue
    assert catalogue.problem is None
    assert catalogue.resolves("Inter")
    assert catalogue.resolves("EB Garamond")
    assert not catalogue.resolves("Comic Sans MS")


# ----------------------------------------------------------------- output formats


LINE_RE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?P<severity>error|warning|info): "
    r"(?:<(?P<tag>[\w:.-]+)(?:#(?P<id>[^>\s]+))?> )?(?P<what>.+) — (?P<why>.+)$"
)


@needs_fontconfig
def test_format_text_prints_one_finding_per_line(features_report: LintReport) -> None:
    *lines, summary = features_report.format_text().splitlines()
    assert len(lines) == len(features_report.findings)
    for line, item in zip(lines, features_report.findings, strict=True):
        match = LINE_RE.match(line)
        assert match, line
        assert match["file"] == "card.svg"
        assert (int(match["line"]), match["severity"]) == (item.line, item.severity)
        assert (match["tag"], match["id"]) == (item.tag, item.element_id)
    assert [int(m["line"]) for m in map(LINE_RE.match, lines) if m] == sorted(
        f.line for f in features_report.findings
    )
    assert summary.startswith("card.svg: 200×100 px, 0 field(s), 1 error, ")
    assert summary.endswith("NOT servable")


def test_format_text_of_a_clean_template() -> None:
    text = report_of('<rect id="r" width="5"/>').format_text()
    assert text == "card.svg: 200×100 px, 0 field(s), 0 errors, 0 warnings, 0 info: servable"


def test_format_text_of_a_document_level_error() -> None:
    report = lint(b"not xml", name="x.svg")
    (line, _) = report.format_text().splitlines()
    assert re.match(r"^x\.svg:1: error: not well-formed XML: .+ — .+$", line), line


def test_to_json() -> None:
    report = report_of('<text id="t" data-pd-field="title" fill="hsl(1,2%,3%)">Hi</text>')
    data = json.loads(report.to_json())
    assert data["id"] == "card"
    assert data["servable"] is True
    assert data["fields"][0]["name"] == "title"
    assert data["findings"] == [
        {
            "severity": "info",
            "element": "text",
            "id": "t",
            "line": 2,
            "what": "fill:hsl(1,2%,3%) → #080807",
            "why": data["findings"][0]["why"],
        }
    ]


# --------------------------------------------------------------- bundled templates


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_the_bundled_templates_lint_clean(path: Path) -> None:
    report = lint(path.read_bytes(), name=path.name)
    assert report.servable
    assert [f for f in report.findings if f.severity != "info"] == []
    assert report.fields, "every bundled template has fields"


def test_characters_no_font_has_make_the_template_unservable() -> None:
    # Private use, and a script no bundled font draws (Egyptian hieroglyphs).
    report = report_of('<text id="t" font-family="Inter">Hello <tspan>\ue000</tspan> 𓀀 ok</text>')
    (item,) = at(report, "t")
    assert item.severity == "error"
    assert "U+E000" in item.what
    assert "U+13000" in item.what
    assert not report.servable


def test_emoji_and_every_living_script_are_drawable() -> None:
    text = "🦀 🐍 👨‍👩‍👧‍👦 🇯🇵 한국어 ภาษาไทย ភាសាខ្មែរ বাংলা ትግርኛ ᐃᓄᒃᑎᑐᑦ ꆈꌠ"
    report = report_of(f'<text id="t" font-family="Inter">{text}</text>')
    assert at(report, "t") == []


def test_fallback_fonts_cover_arabic_hebrew_devanagari() -> None:
    report = report_of('<text id="t" font-family="Inter">مرحبا שלום नमस्ते Ωμέγα Привет 中文</text>')
    assert at(report, "t") == []


@pytest.mark.parametrize(
    ("primitive", "word"),
    [
        ('<feTurbulence id="fe" baseFrequency="0.1" numOctaves="40"/>', "numOctaves"),
        ('<feConvolveMatrix id="fe" order="40" kernelMatrix="1"/>', "order"),
        ('<feMorphology id="fe" radius="5000"/>', "radius"),
        ("".join('<feFlood id="fe"/>' if i == 0 else "<feFlood/>" for i in range(70)), "70"),
    ],
    ids=["octaves", "kernel", "morphology", "primitives"],
)
def test_filters_past_the_bounds_are_errors(primitive: str, word: str) -> None:
    """A 1 kB filter could hold a worker for minutes: past templates/effect_limits.py it
    is refused at upload (an error), with what and why."""
    body = f'<filter id="f">{primitive}</filter><rect width="5" height="5" filter="url(#f)"/>'
    report = report_of(body)
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors
    assert word in errors[0].what
    assert not report.servable


def test_drawn_effects_are_not_reported() -> None:
    body = (
        '<filter id="f" style="color-interpolation-filters:sRGB"><feFlood/><feComposite'
        ' in2="SourceGraphic" operator="in"/><feGaussianBlur stdDeviation="3"/><feOffset'
        ' dx="2"/><feMerge><feMergeNode/><feMergeNode in="SourceGraphic"/></feMerge></filter>'
        '<mask id="m"><rect width="5" height="5" fill="#fff"/></mask>'
        '<rect id="r" width="5" height="5" style="filter:url(#f) blur(2px);'
        'mix-blend-mode:multiply;paint-order:stroke" mask="url(#m)"/>'
    )
    assert [f for f in report_of(body).findings if f.element_id in ("r", "f", "m")] == []


def test_a_long_thin_kernel_is_within_the_bounds() -> None:
    """feConvolveMatrix is bounded by its taps (order x × order y ≤ 81): 10×1 is drawn."""
    kernel = " ".join(["0.1"] * 10)
    primitive = f'<feConvolveMatrix id="fe" order="10 1" kernelMatrix="{kernel}"/>'
    body = f'<filter id="f">{primitive}</filter><rect width="5" height="5" filter="url(#f)"/>'
    assert at(report_of(body), "fe") == []

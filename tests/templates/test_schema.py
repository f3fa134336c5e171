"""Tests for the per-template payload model (pixeldrive.templates.schema and .model), through
compile_template and Template.validate."""

from __future__ import annotations

import base64
import hashlib
import io
import unicodedata
from typing import Any

import pytest
from PIL import Image

from pixeldrive.core.errors import FieldProblem, InvalidInput, TemplateInvalid
from pixeldrive.templates.model import Template, compile_template
from pixeldrive.templates.schema import DEFAULT_MAX_TEXT, MAX_QR
from pixeldrive.templates.version import template_version
from tests.svgdoc import svg_document


def svg(body: str) -> bytes:
    return svg_document(body, 200, 100)


def compile_body(body: str, *, max_image_bytes: int = 1000, template_id: str = "t") -> Template:
    return compile_template(template_id, svg(body), max_image_bytes=max_image_bytes)


CARD = """
<text id="title" data-pd-field="title" data-pd-max-length="10">Hello</text>
<text id="code" data-pd-field="code" data-pd-pattern="^[A-Z]{3}$">ABC</text>
<text id="who" data-pd-field="who" data-pd-required="true">Someone</text>
<rect id="bg" data-pd-field="bg" style="fill:#00FF00"/>
<g id="badge" data-pd-field="badge"/>
<rect id="bar" data-pd-field="pct" data-pd-kind="number" data-pd-attr="width"
      data-pd-min="0" data-pd-max="100" data-pd-default="50"/>
<image id="img" data-pd-field="photo" width="10" height="10"/>
<rect id="q" data-pd-field="link" data-pd-kind="qr" width="20" height="20"
      data-pd-default="https://example.com/"/>
<text id="greet" data-pd-default-name="friend">Hi {{name}}</text>
"""
CARD_FIELDS = "title, code, who, bg, badge, pct, photo, link, name"
CARD_DEFAULTS = {
    "title": "Hello",
    "code": "ABC",
    "bg": "#00ff00",
    "badge": True,
    "pct": 50.0,
    "photo": None,
    "link": "https://example.com/",
    "name": "friend",
}
MAX_IMAGE = 300


@pytest.fixture(scope="module")
def card() -> Template:
    return compile_body(CARD, max_image_bytes=MAX_IMAGE, template_id="card")


def valid(template: Template, **values: Any) -> dict[str, Any]:
    return template.validate({"who": "Ann"} | values)


def refused(template: Template, fields: dict[str, Any]) -> tuple[FieldProblem, ...]:
    with pytest.raises(InvalidInput) as caught:
        template.validate(fields)
    assert caught.value.status == 422
    assert "card" in caught.value.detail or "'t'" in caught.value.detail
    return caught.value.errors


def problem(template: Template, **values: Any) -> FieldProblem:
    """The one problem with `values` (plus a valid required `who`)."""
    (only,) = refused(template, {"who": "Ann"} | values)
    return only


def image_bytes(fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def png_data_uri(size: int) -> str:
    """A real 1×1 PNG (its header reads), padded after its end to `size` bytes."""
    data = image_bytes()
    data += bytes(range(256)) * (size // 256 + 1)
    return "data:image/png;base64," + base64.b64encode(data[:size]).decode()


# --------------------------------------------------------------------------- the model


def test_defaults_fill_every_optional_field(card: Template) -> None:
    assert card.validate({"who": "Ann"}) == CARD_DEFAULTS | {"who": "Ann"}


def test_the_model_describes_the_template(card: Template) -> None:
    assert card.model.__name__ == "Fields_card"
    assert list(card.model.model_fields) == CARD_FIELDS.split(", ")
    assert card.model.model_fields["title"].description == "text field (attribute)"
    assert card.model.model_fields["name"].description == "text field (placeholder)"


def test_unknown_field_lists_the_templates_fields(card: Template) -> None:
    (only,) = refused(card, {"who": "Ann", "subtitle": "x"})
    assert only.field == "fields.subtitle"
    assert only.message == f"unknown field; this template has: {CARD_FIELDS}"


def test_every_unknown_field_is_named(card: Template) -> None:
    problems = refused(card, {"who": "Ann", "a": 1, "b": 2})
    assert sorted(p.field for p in problems) == ["fields.a", "fields.b"]


def test_unknown_field_of_a_template_without_fields() -> None:
    template = compile_body("<rect/>")
    (only,) = refused(template, {"x": 1})
    assert only == FieldProblem("fields.x", "unknown field; this template has: none")
    assert template.validate({}) == {}


def test_required_field_missing(card: Template) -> None:
    problems = refused(card, {})
    assert problems == (FieldProblem("fields.who", "required field is missing"),)


def test_placeholder_without_default_is_required() -> None:
    template = compile_body("<text>Dear {{name}}, from {{city}}</text>")
    problems = refused(template, {"name": "Ann"})
    assert problems == (FieldProblem("fields.city", "required field is missing"),)
    assert template.validate({"name": "Ann", "city": "Oslo"}) == {
        "name": "Ann",
        "city": "Oslo",
    }


def test_all_problems_are_reported_together(card: Template) -> None:
    problems = refused(card, {"title": 1, "badge": "yes", "nope": 0})
    assert sorted(p.field for p in problems) == [
        "fields.badge",
        "fields.nope",
        "fields.title",
        "fields.who",
    ]


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize("value", [1, 1.5, True, None, ["a"], {"a": 1}])
def test_text_refuses_other_types(card: Template, value: Any) -> None:
    assert problem(card, title=value).field == "fields.title"


def test_wrong_type_names_the_field(card: Template) -> None:
    only = problem(card, title=42)
    assert only == FieldProblem("fields.title", "Input should be a valid string")


def test_max_length(card: Template) -> None:
    assert valid(card, title="x" * 10)["title"] == "x" * 10
    only = problem(card, title="x" * 11)
    assert only.field == "fields.title"
    assert "at most 10 characters" in only.message


def test_default_max_length_applies_without_an_option() -> None:
    template = compile_body('<text data-pd-field="t">x</text>')
    assert template.validate({"t": "x" * DEFAULT_MAX_TEXT})["t"] == "x" * DEFAULT_MAX_TEXT
    (only,) = refused(template, {"t": "x" * (DEFAULT_MAX_TEXT + 1)})
    assert only.field == "fields.t"


def test_placeholder_max_length() -> None:
    template = compile_body('<text data-pd-max-length-n="3">{{n}}</text>')
    assert template.validate({"n": "abc"}) == {"n": "abc"}
    (only,) = refused(template, {"n": "abcd"})
    assert only.field == "fields.n"


def test_pattern(card: Template) -> None:
    assert valid(card, code="XYZ")["code"] == "XYZ"
    only = problem(card, code="abc")
    assert only.field == "fields.code"
    assert "^[A-Z]{3}$" in only.message


@pytest.mark.parametrize(
    ("value", "codepoint", "position"),
    [
        ("a\x07b", "U+0007", 1),
        ("\x00", "U+0000", 0),
        ("ok\x1b[31m", "U+001B", 2),
        ("del\x7f", "U+007F", 3),
        ("x\x0bx", "U+000B", 1),
        ("nonchar\ufffe", "U+FFFE", 7),
        ("nonchar\uffff", "U+FFFF", 7),
    ],
)
def test_control_characters_are_refused_by_name(
    card: Template, value: str, codepoint: str, position: int
) -> None:
    only = problem(card, title=value[:10])
    assert only.field == "fields.title"
    assert codepoint in only.message
    assert f"position {position}" in only.message


@pytest.mark.parametrize("value", ["a\ud800b", "\udfff", "x\udc00"])
def test_lone_surrogates_are_refused(card: Template, value: str) -> None:
    assert problem(card, title=value).field == "fields.title"


def test_tab_and_newline_are_allowed(card: Template) -> None:
    assert valid(card, who="a\tb\nc")["who"] == "a\tb\nc"


def test_crlf_line_breaks_become_newlines(card: Template) -> None:
    assert valid(card, who="one\r\ntwo")["who"] == "one\ntwo"


def test_text_is_nfc_normalised(card: Template) -> None:
    assert valid(card, who="e\u0301")["who"] == "\u00e9"
    assert valid(card, who="Cafe\u0301 n\u0303")["who"] == "Caf\u00e9 \u00f1"
    assert valid(card, who="\u212b")["who"] == "\u00c5"  # ANGSTROM SIGN → Å


@pytest.mark.parametrize(
    "value",
    [
        "שלום עולם",
        "مرحبا بالعالم",
        "abc \u202eevil\u202c def",
        "\u200fRTL mark and \u200dZWJ",
        "👋🏽 👩‍👩‍👧‍👦 🇳🇴",
        "Z\u0324\u0354\u0367\u0311\u0313 a\u0328\u0301",
        "日本語のテキスト",
        "\U0001f600" * 100,
    ],
)
def test_bidi_emoji_and_combining_text_is_accepted(card: Template, value: str) -> None:
    assert valid(card, who=value)["who"] == unicodedata.normalize("NFC", value)


# --------------------------------------------------------------------------- show


@pytest.mark.parametrize("value", [True, False])
def test_show_accepts_booleans(card: Template, value: bool) -> None:
    assert valid(card, badge=value)["badge"] is value


@pytest.mark.parametrize("value", ["yes", "true", "false", "1", 1, 0, None, 1.0])
def test_show_is_strictly_boolean(card: Template, value: Any) -> None:
    only = problem(card, badge=value)
    assert only.field == "fields.badge"
    assert "boolean" in only.message


# --------------------------------------------------------------------------- colour


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("red", "#ff0000"),
        ("RED", "#ff0000"),
        ("#f00", "#ff0000"),
        ("#FF0000", "#ff0000"),
        ("rgb(255 0 0)", "#ff0000"),
        ("rgb(255, 0, 0)", "#ff0000"),
        ("rgba(255, 0, 0, 1)", "#ff0000"),
        ("hsl(0 100% 50%)", "#ff0000"),
        ("hsl(0 100% 50% / 50%)", "#ff000080"),
        ("#ff000080", "#ff000080"),
        ("#0000", "#00000000"),
        ("rebeccapurple", "#663399"),
    ],
)
def test_colours_are_canonical(card: Template, value: str, canonical: str) -> None:
    assert valid(card, bg=value)["bg"] == canonical


@pytest.mark.parametrize(
    "value", ["nope", "", "#12", "#ggg", "url(#g)", "rgb(1,2)", "none", "x" * 65]
)
def test_bad_colour_names_the_field(card: Template, value: str) -> None:
    only = problem(card, bg=value)
    assert only.field == "fields.bg"
    assert only.message


def test_bad_colour_message_explains(card: Template) -> None:
    only = problem(card, bg="nope")
    assert only == FieldProblem(
        "fields.bg", "'nope' is not a CSS colour: unknown colour name or syntax"
    )


@pytest.mark.parametrize("value", [0xFF0000, None, ["red"]])
def test_colour_refuses_other_types(card: Template, value: Any) -> None:
    assert problem(card, bg=value).field == "fields.bg"


# --------------------------------------------------------------------------- number


@pytest.mark.parametrize(("value", "result"), [(0, 0.0), (100, 100.0), (33.25, 33.25)])
def test_number_within_bounds(card: Template, value: float, result: float) -> None:
    dumped = valid(card, pct=value)["pct"]
    assert dumped == result
    assert isinstance(dumped, float)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (-0.001, "greater than or equal to 0"),
        (100.5, "less than or equal to 100"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (float("-inf"), "finite"),
        ("abc", "valid number"),
        (None, "valid number"),
    ],
)
def test_number_out_of_bounds_or_not_finite(card: Template, value: Any, words: str) -> None:
    only = problem(card, pct=value)
    assert only.field == "fields.pct"
    assert words in only.message


@pytest.mark.parametrize("value", [True, False])
def test_number_refuses_booleans(card: Template, value: bool) -> None:
    assert problem(card, pct=value).field == "fields.pct"


# --------------------------------------------------------------------------- image


def test_image_accepts_a_base64_png(card: Template) -> None:
    uri = png_data_uri(128)
    assert valid(card, photo=uri)["photo"] == uri


@pytest.mark.parametrize("media", ["image/jpeg", "image/webp", "image/gif"])
def test_image_accepts_other_raster_types(media: str) -> None:
    raster = image_bytes(media.split("/")[1].upper())  # a JPEG's tables need 600 bytes
    template = compile_body('<image data-pd-field="photo"/>', max_image_bytes=4096)
    uri = f"data:{media};base64,{base64.b64encode(raster).decode()}"
    assert template.validate({"photo": uri})["photo"] == uri


def test_image_none_keeps_the_drawing(card: Template) -> None:
    assert valid(card, photo=None)["photo"] is None


@pytest.mark.parametrize(
    "url", ["https://example.com/a.png", "http://127.0.0.1/x.png", "https://169.254.169.254/"]
)
def test_image_remote_url_is_not_fetched(card: Template, url: str) -> None:
    only = problem(card, photo=url)
    assert only.field == "fields.photo"
    assert "remote images are not fetched" in only.message
    assert "allow-list" in only.message


@pytest.mark.parametrize(
    "value",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "/etc/passwd",
        "javascript:alert(1)",
        "data:image/svg+xml;base64," + base64.b64encode(b"<svg/>").decode(),
        "data:text/html;base64,PGgxPg==",
        "data:image/png,rawbytes",
        "data:image/png;base64,@@@@",
        "",
    ],
)
def test_image_refuses_everything_but_raster_data_uris(card: Template, value: str) -> None:
    only = problem(card, photo=value)
    assert only.field == "fields.photo"
    assert "data: URI" in only.message


def test_image_base64_that_does_not_decode(card: Template) -> None:
    only = problem(card, photo="data:image/png;base64,AAAAA")
    assert only == FieldProblem("fields.photo", "the base64 data does not decode")


def test_image_over_the_byte_limit(card: Template) -> None:
    assert valid(card, photo=png_data_uri(MAX_IMAGE))["photo"]  # 300 bytes: no padding
    only = problem(card, photo=png_data_uri(MAX_IMAGE + 3))
    assert only == FieldProblem("fields.photo", f"the image is larger than {MAX_IMAGE} bytes")


@pytest.mark.parametrize(
    ("limit", "size", "line_breaks"),
    [(80, 79, False), (80, 80, False), (MAX_IMAGE, MAX_IMAGE, True)],
    ids=["79-of-80-padded", "80-of-80-padded", "300-of-300-mime-lines"],
)
def test_image_within_the_limit_is_accepted(limit: int, size: int, line_breaks: bool) -> None:
    template = compile_body('<image data-pd-field="photo"/>', max_image_bytes=limit)
    uri = png_data_uri(size)
    if line_breaks:
        head, _, payload = uri.partition(",")
        uri = head + "," + "\n".join(payload[i : i + 76] for i in range(0, len(payload), 76))
    assert template.validate({"photo": uri}) == {"photo": uri}


@pytest.mark.parametrize("value", [1, ["data:"], {"uri": "x"}])
def test_image_refuses_other_types(card: Template, value: Any) -> None:
    assert problem(card, photo=value).field == "fields.photo"


# --------------------------------------------------------------------------- qr


def test_qr_values(card: Template) -> None:
    assert valid(card, link="https://pixeldrive.dev/v/1")["link"] == "https://pixeldrive.dev/v/1"
    assert valid(card, link="x" * MAX_QR)["link"] == "x" * MAX_QR
    assert problem(card, link="").field == "fields.link"
    assert problem(card, link="x" * (MAX_QR + 1)).field == "fields.link"
    assert problem(card, link=7).field == "fields.link"


def test_qr_max_length_option() -> None:
    template = compile_body(
        '<rect data-pd-field="q" data-pd-kind="qr" data-pd-max-length="5" data-pd-default="a"/>'
    )
    assert template.validate({"q": "abcde"}) == {"q": "abcde"}
    (only,) = refused(template, {"q": "abcdef"})
    assert only.field == "fields.q"


# --------------------------------------------------------------------------- defaults and keys


def test_omitted_and_explicit_defaults_dump_equal(card: Template) -> None:
    omitted = card.validate({"who": "Ann"})
    explicit = card.validate(
        {
            "who": "Ann",
            "title": "Hello",
            "code": "ABC",
            "bg": "#00ff00",
            "badge": True,
            "pct": 50,
            "photo": None,
            "link": "https://example.com/",
            "name": "friend",
        },
    )
    assert omitted == explicit
    assert list(omitted) == list(explicit)


def test_equivalent_spellings_dump_equal(card: Template) -> None:
    a = card.validate({"who": "e\u0301", "bg": "red", "pct": 50})
    b = card.validate({"pct": 50.0, "bg": "#FF0000", "who": "\u00e9"})
    assert a == b


def test_authored_defaults_are_canonical() -> None:
    template = compile_body(
        '<rect data-pd-field="c" fill="#ABC"/>'
        '<text data-pd-field="t"><tspan sodipodi:role="line">a</tspan>'
        '<tspan sodipodi:role="line">b</tspan></text>'
    )
    omitted = template.validate({})
    assert omitted == {"c": "#aabbcc", "t": "a\nb"}
    assert template.validate({"c": "#abc", "t": "a\nb"}) == omitted


def test_decomposed_authored_default_dumps_like_the_explicit_value() -> None:
    template = compile_body('<text data-pd-field="name">Cafe\u0301</text>')
    assert template.validate({}) == template.validate({"name": "Cafe\u0301"})


def test_gradient_colour_default_is_none() -> None:
    template = compile_body('<rect data-pd-field="c" style="fill:url(#g)"/>')
    assert template.validate({}) == {"c": None}
    assert template.validate({"c": "blue"}) == {"c": "#0000ff"}


# --------------------------------------------------------------------------- compiled template


def test_compile_template_basics(card: Template) -> None:
    data = svg(CARD)
    assert card.id == "card"
    assert card.version == hashlib.sha256(data).hexdigest()[:16]
    assert card.version == template_version(data)
    assert (card.width, card.height) == (200, 100)
    assert [f.name for f in card.fields] == CARD_FIELDS.split(", ")


def test_version_changes_with_any_byte() -> None:
    data = svg('<text data-pd-field="t">x</text>')
    assert template_version(data) != template_version(data + b" ")
    assert len(template_version(data)) == 16


@pytest.mark.parametrize("template_id", ["Bad Name", "UPPER", "-lead", "", "a" * 65, "a.b"])
def test_invalid_template_ids_are_refused(template_id: str) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        compile_template(template_id, svg("<rect/>"), max_image_bytes=10)
    assert "template id" in caught.value.detail


@pytest.mark.parametrize("template_id", ["a", "og-card", "0day", "x_y-z", "a" * 64])
def test_valid_template_ids(template_id: str) -> None:
    template = compile_template(template_id, svg("<rect/>"), max_image_bytes=10)
    assert template.id == template_id
    assert template.model.__name__ == "Fields_" + template_id.replace("-", "_")


def test_describe(card: Template) -> None:
    described = card.describe()
    assert {k: described[k] for k in ("id", "version", "width", "height")} == {
        "id": "card",
        "version": card.version,
        "width": 200,
        "height": 100,
    }
    by_name = {f["name"]: f for f in described["fields"]}
    assert list(by_name) == CARD_FIELDS.split(", ")
    assert by_name["title"] == {
        "name": "title",
        "kind": "text",
        "required": False,
        "default": "Hello",
        "max_length": 10,
    }
    assert by_name["pct"] == {
        "name": "pct",
        "kind": "number",
        "required": False,
        "default": 50.0,
        "min": 0.0,
        "max": 100.0,
        "attr": "width",
    }
    assert by_name["who"]["required"] is True
    assert by_name["photo"] == {"name": "photo", "kind": "image", "required": False}


def test_preview_values(card: Template) -> None:
    preview = card.preview_values()
    assert preview == {k: v for k, v in CARD_DEFAULTS.items() if v is not None} | {"who": "Someone"}
    placeholder = compile_body("<text>{{name}}</text>")
    assert placeholder.preview_values() == {"name": "{{name}}"}

"""Tests for field discovery and options in pixeldrive.templates.fields and .options."""

from __future__ import annotations

import copy

import pytest
from lxml import etree

from pixeldrive.core.errors import FieldProblem, TemplateInvalid
from pixeldrive.templates.fields import FieldSpec, discover_fields
from pixeldrive.templates.model import compile_template
from pixeldrive.templates.parser import local_name, parse_svg, text_of
from pixeldrive.templates.schema import normalise_defaults
from tests.svgdoc import fill, svg_document


def svg(body: str) -> bytes:
    return svg_document(body, 100, 50)


def compiled_fields(root: etree._Element) -> tuple[FieldSpec, ...]:
    """What compile_template keeps: the fields found, defaults checked and normalised."""
    return normalise_defaults(discover_fields(root), max_image_bytes=2**20)


def discover(body: str) -> tuple[etree._Element, dict[str, FieldSpec]]:
    root = parse_svg(svg(body))
    return root, {spec.name: spec for spec in compiled_fields(root)}


def fields_of(body: str) -> dict[str, FieldSpec]:
    return discover(body)[1]


def field_of(body: str) -> FieldSpec:
    (spec,) = fields_of(body).values()
    return spec


def problems_of(body: str) -> tuple[FieldProblem, ...]:
    with pytest.raises(TemplateInvalid) as caught:
        compiled_fields(parse_svg(svg(body)))
    assert caught.value.errors
    return caught.value.errors


def targets(root: etree._Element, spec: FieldSpec) -> list[str]:
    """The ids of the elements a field is written into: its marked elements (`targets`)
    and the elements whose text or tail holds its `{{name}}` (`placeholders`, where the
    spec keeps them apart)."""
    elements = list(root.iter(etree.Element))
    indices = spec.targets + getattr(spec, "placeholders", ())
    return [elements[i].get("id", "") for i in indices]


# --------------------------------------------------------------------------- the three markings


def test_marked_by_attribute() -> None:
    root, found = discover('<g id="layer">\n<text id="t1" data-pd-field="title">Hello</text></g>')
    spec = found["title"]
    assert (spec.kind, spec.marking, spec.default, spec.required) == (
        "text",
        "attribute",
        "Hello",
        False,
    )
    assert targets(root, spec) == ["t1"]
    assert spec.lines == (3,)
    assert spec.element_ids == ("t1",)


def test_marked_by_inkscape_label() -> None:
    root, found = discover(
        '<rect id="r1" inkscape:label="$background" style="fill:#FF0000"/>\n'
        '<rect id="r2" inkscape:label="Background"/>\n'
        '<g id="l1" inkscape:label="Layer 1" inkscape:groupmode="layer"/>'
    )
    assert list(found) == ["background"]
    spec = found["background"]
    assert (spec.kind, spec.marking, spec.default) == ("color", "label", "#ff0000")
    assert targets(root, spec) == ["r1"]


def test_placeholders_mixed_with_literal_text() -> None:
    root, found = discover('<text id="t">Hello {{name}}, you are {{ age }}! Bye {{name}}.</text>')
    assert list(found) == ["name", "age"]
    for spec in found.values():
        assert (spec.kind, spec.marking, spec.default, spec.required) == (
            "text",
            "placeholder",
            None,
            True,
        )
        assert targets(root, spec) == ["t"]
        assert spec.lines == (2,)


def test_placeholders_in_tspans_and_their_tails() -> None:
    root, found = discover(
        '<text id="t">{{greeting}} <tspan id="s1" style="font-weight:bold">{{name}}</tspan>'
        ' from {{city}}<tspan id="s2">!</tspan> {{end}}</text>'
    )
    assert list(found) == ["greeting", "name", "city", "end"]
    assert targets(root, found["greeting"]) == ["t"]
    assert targets(root, found["name"]) == ["s1"]
    assert targets(root, found["city"]) == ["s1"]  # the tail of s1 holds it
    assert targets(root, found["end"]) == ["s2"]
    values = {"greeting": "Hi", "name": "Ann", "city": "Oslo", "end": "ok"}
    filled = etree.fromstring(fill(root, discover_fields(root), values))
    assert text_of(filled[0]) == "Hi Ann from Oslo! ok"


def test_placeholders_in_flowed_text() -> None:
    root, found = discover(
        '<flowRoot id="f"><flowRegion><rect width="50" height="20"/></flowRegion>'
        '<flowPara id="p">Dear {{name}}</flowPara></flowRoot>'
    )
    assert list(found) == ["name"]
    assert targets(root, found["name"]) == ["p"]


def test_placeholders_outside_text_content_are_not_fields() -> None:
    found = fields_of(
        "<title>{{title}}</title><desc>{{desc}}</desc>"
        '<rect id="r" inkscape:label="{{label}}"/><g>{{loose}}<rect/></g>'
    )
    assert found == {}


def test_a_template_without_markings_has_no_fields() -> None:
    assert fields_of('<rect width="10" height="10"/><text>Plain text</text>') == {}


def test_marked_fields_come_in_document_order() -> None:
    found = fields_of(
        '<rect data-pd-field="zeta"/>\n<g><text data-pd-field="mid">m</text></g>\n'
        '<circle inkscape:label="$alpha"/>'
    )
    assert list(found) == ["zeta", "mid", "alpha"]


def test_fields_come_in_document_order_of_first_appearance() -> None:
    found = fields_of(
        '<rect data-pd-field="zeta"/>\n<text>{{alpha}}</text>\n<text data-pd-field="mid">m</text>'
    )
    assert list(found) == ["zeta", "alpha", "mid"]


# --------------------------------------------------------------------------- precedence


def test_attribute_wins_over_label() -> None:
    spec = field_of('<text id="t" data-pd-field="title" inkscape:label="$other">X</text>')
    assert (spec.name, spec.marking) == ("title", "attribute")


def test_placeholders_inside_a_marked_element_are_not_separate_fields() -> None:
    found = fields_of('<text id="t" data-pd-field="title">Hi {{name}}</text>')
    assert list(found) == ["title"]
    assert found["title"].default == "Hi {{name}}"


def test_placeholders_inside_a_shown_group_are_fields_too() -> None:
    # A group only shows or hides; the text inside it still varies on its own.
    found = fields_of(
        '<g id="g" inkscape:label="$badge"><text><tspan>{{inner}}</tspan> {{other}}</text></g>'
    )
    assert list(found) == ["badge", "inner", "other"]
    assert found["badge"].kind == "show"


def test_placeholder_after_a_marked_tspan_is_found() -> None:
    root, found = discover(
        '<text id="t">{{a}} <tspan id="m" data-pd-field="middle">x</tspan> {{b}}</text>'
    )
    assert set(found) == {"a", "middle", "b"}
    filled = etree.fromstring(
        fill(root, discover_fields(root), {"a": "A", "middle": "M", "b": "B"})
    )
    assert text_of(filled[0]) == "A M B"


def test_placeholder_in_undrawn_character_data_is_not_a_field() -> None:
    assert fields_of('<g><text id="t">A</text>{{ghost}}</g>') == {}


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("element", "kind"),
    [
        ('<text data-pd-field="f">x</text>', "text"),
        ('<text><tspan data-pd-field="f">x</tspan></text>', "text"),
        ('<flowRoot data-pd-field="f"><flowPara>x</flowPara></flowRoot>', "text"),
        ('<image data-pd-field="f" width="10" height="10"/>', "image"),
        ('<rect data-pd-field="f"/>', "color"),
        ('<circle data-pd-field="f" r="2"/>', "color"),
        ('<ellipse data-pd-field="f"/>', "color"),
        ('<path data-pd-field="f" d="M0 0h1"/>', "color"),
        ('<polygon data-pd-field="f"/>', "color"),
        ('<line data-pd-field="f"/>', "color"),
        ('<linearGradient id="lg"><stop data-pd-field="f" offset="0"/></linearGradient>', "color"),
        ('<g data-pd-field="f"/>', "show"),
        ('<use data-pd-field="f"/>', "show"),
    ],
)
def test_kind_follows_the_element(element: str, kind: str) -> None:
    assert field_of(element).kind == kind


@pytest.mark.parametrize(
    ("element", "kind"),
    [
        ('<rect data-pd-field="f" data-pd-kind="qr" width="9" height="9"/>', "qr"),
        ('<rect data-pd-field="f" data-pd-kind="number" data-pd-attr="width"/>', "number"),
        ('<text data-pd-field="f" data-pd-kind="show">x</text>', "show"),
        ('<rect data-pd-field="f" data-pd-kind="show"/>', "show"),
        ('<g data-pd-field="f" data-pd-kind="color"/>', "color"),
        ('<rect data-pd-field="f" data-pd-kind="image"/>', "image"),
        ('<g data-pd-field="f" data-pd-kind="text"/>', "text"),
        ('<rect inkscape:label="$f" data-pd-kind="qr"/>', "qr"),
    ],
)
def test_data_pd_kind_overrides(element: str, kind: str) -> None:
    assert field_of(element).kind == kind


# --------------------------------------------------------------------------- options


def test_text_options() -> None:
    spec = field_of(
        '<text data-pd-field="f" data-pd-fit="wrap" data-pd-max-lines="3" '
        'data-pd-min-size="12.5" data-pd-max-length="40" data-pd-pattern="^[A-Z]" '
        'data-pd-required="true" data-pd-box="#frame">A</text>'
    )
    assert (spec.fit, spec.max_lines, spec.min_size, spec.max_length) == ("wrap", 3, 12.5, 40)
    assert (spec.pattern, spec.required, spec.box) == ("^[A-Z]", True, "#frame")


@pytest.mark.parametrize("fit", ["none", "shrink", "wrap", "ellipsis"])
def test_text_fits(fit: str) -> None:
    assert field_of(f'<text data-pd-field="f" data-pd-fit="{fit}">x</text>').fit == fit


@pytest.mark.parametrize("fit", ["cover", "contain", "fill"])
def test_image_fits(fit: str) -> None:
    assert field_of(f'<image data-pd-field="f" data-pd-fit="{fit}"/>').fit == fit


def test_option_defaults_when_absent() -> None:
    spec = field_of('<text data-pd-field="f">x</text>')
    assert (spec.fit, spec.max_lines, spec.min_size, spec.max_length, spec.pattern) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert (spec.required, spec.box, spec.paint, spec.attr) == (False, None, "fill", None)


def test_qr_options() -> None:
    spec = field_of(
        '<rect data-pd-field="f" data-pd-kind="qr" data-pd-max-length="300" '
        'data-pd-pattern="^https://" data-pd-default="https://example.com/"/>'
    )
    assert (spec.kind, spec.max_length, spec.pattern) == ("qr", 300, "^https://")
    assert spec.default == "https://example.com/"


def test_number_options() -> None:
    spec = field_of(
        '<rect id="bar" data-pd-field="pct" data-pd-kind="number" data-pd-attr="width" '
        'data-pd-min="0" data-pd-max="100.5" data-pd-default="50"/>'
    )
    assert (spec.attr, spec.minimum, spec.maximum, spec.default) == ("width", 0.0, 100.5, 50.0)
    assert isinstance(spec.default, float)


def test_number_without_default_keeps_the_drawing() -> None:
    spec = field_of('<rect data-pd-field="n" data-pd-kind="number" data-pd-attr="height"/>')
    assert (spec.default, spec.required, spec.minimum, spec.maximum) == (None, False, None, None)


@pytest.mark.parametrize("paint", ["fill", "stroke", "both"])
def test_colour_paint(paint: str) -> None:
    assert field_of(f'<rect data-pd-field="c" data-pd-paint="{paint}"/>').paint == paint


@pytest.mark.parametrize(
    ("required", "expected"), [("true", True), ("TRUE", True), ("false", False)]
)
def test_required_option(required: str, expected: bool) -> None:
    spec = field_of(f'<rect data-pd-field="c" data-pd-required="{required}"/>')
    assert spec.required is expected


def test_options_of_other_kinds_are_ignored() -> None:
    spec = field_of(
        '<rect data-pd-field="c" data-pd-max-length="3" data-pd-fit="wrap" data-pd-min="1" '
        'data-pd-attr="onload" data-pd-pattern="(["/>'
    )
    assert spec.kind == "color"
    assert (spec.max_length, spec.fit, spec.minimum, spec.attr, spec.pattern) == (
        None,
        None,
        None,
        None,
        None,
    )


# --------------------------------------------------------------------------- authored defaults


def test_text_default_joins_inkscape_lines() -> None:
    spec = field_of(
        '<text data-pd-field="t" xml:space="preserve" x="10" y="20">'
        '<tspan sodipodi:role="line" x="10" y="20">First line</tspan>'
        '<tspan sodipodi:role="line" x="10" y="40">Second <tspan style="font-weight:bold">'
        "bold</tspan> end</tspan>"
        '<tspan sodipodi:role="line" x="10" y="60"></tspan></text>'
    )
    assert spec.default == "First line\nSecond bold end\n"


def test_text_default_without_lines_is_all_the_text() -> None:
    spec = field_of('<text data-pd-field="t">Hello <tspan>big</tspan> world</text>')
    assert spec.default == "Hello big world"


def test_declared_text_default_wins() -> None:
    spec = field_of('<text data-pd-field="t" data-pd-default="Declared">Drawn</text>')
    assert spec.default == "Declared"


@pytest.mark.parametrize(
    ("attributes", "default"),
    [
        ('style="fill:#FF8800;stroke:#000"', "#ff8800"),
        ('style="stroke:#000; fill : red "', "#ff0000"),
        ('fill="#ABC"', "#aabbcc"),
        ('fill="rgb(0, 128, 255)"', "#0080ff"),
        ('style="fill:rgba(255,0,0,0.5)"', "#ff000080"),
        ('style="fill:#00ff00" fill="#0000ff"', "#00ff00"),  # style beats the attribute
        ('style="fill:url(#gradient1)"', None),
        ('fill="url(#gradient1)"', None),
        ('style="fill:none"', None),
        ("", None),
        ('data-pd-default="navy" style="fill:red"', "#000080"),
    ],
)
def test_colour_default(attributes: str, default: str | None) -> None:
    assert field_of(f'<rect data-pd-field="c" {attributes}/>').default == default


def test_stop_colour_default() -> None:
    spec = field_of(
        '<linearGradient id="lg"><stop data-pd-field="c" offset="0" '
        'style="stop-color:#123ABC;stop-opacity:1"/></linearGradient>'
    )
    assert (spec.kind, spec.default) == ("color", "#123abc")


@pytest.mark.parametrize(
    ("attributes", "default"),
    [
        ("", True),
        ('style="display:inline"', True),
        ('style="opacity:0.5;display:none"', False),
        ('style="display : none"', False),
        ('data-pd-default="false"', False),
        ('data-pd-default="0"', False),
        ('data-pd-default="true"', True),
        ('data-pd-default="true" style="display:none"', True),
    ],
)
def test_show_default(attributes: str, default: bool) -> None:
    assert field_of(f'<g data-pd-field="s" {attributes}/>').default is default


def test_image_and_qr_defaults_are_only_declared() -> None:
    found = fields_of(
        '<image data-pd-field="photo" xlink:href="data:image/png;base64,AAAA"/>'
        '<rect data-pd-field="code" data-pd-kind="qr"/>'
    )
    assert found["photo"].default is None
    assert found["code"].default is None


def test_qr_without_default_is_required() -> None:
    assert field_of('<rect data-pd-field="code" data-pd-kind="qr"/>').required is True


# --------------------------------------------------------------------------- placeholder defaults


def test_placeholder_default_from_the_enclosing_text() -> None:
    found = fields_of(
        '<text id="t" data-pd-default-name="Ann" data-pd-max-length-city="20">'
        "<tspan>Hi {{name}}</tspan> from {{city}}</text>"
    )
    assert (found["name"].default, found["name"].required) == ("Ann", False)
    assert (found["city"].default, found["city"].required) == (None, True)
    assert found["city"].max_length == 20
    assert found["name"].max_length is None


def test_placeholder_required_with_a_default() -> None:
    spec = field_of('<text data-pd-default-n="A" data-pd-required-n="true">{{n}}</text>')
    assert (spec.default, spec.required) == ("A", True)


def test_placeholder_options_per_name_or_shared() -> None:
    found = fields_of(
        '<text data-pd-max-length="5" data-pd-max-length-b="9" data-pd-pattern-b="^[a-z]+$" '
        'data-pd-default="x">{{a}} {{b}}</text>'
    )
    assert (found["a"].max_length, found["a"].pattern, found["a"].default) == (5, None, "x")
    assert (found["b"].max_length, found["b"].pattern, found["b"].default) == (9, "^[a-z]+$", "x")


def test_bad_placeholder_option_names_the_text_element() -> None:
    (problem,) = problems_of('<text id="t" data-pd-max-length-n="lots">Hi {{n}}</text>')
    assert problem.field == '<text id="t"> line 2'
    assert "max-length" in problem.message


def test_placeholder_empty_default_is_a_default() -> None:
    spec = field_of('<text data-pd-default-n="">{{n}}</text>')
    assert (spec.default, spec.required) == ("", False)


# ------------------------------------------------------------------------- one name, many elements


def test_same_name_same_kind_merges() -> None:
    root, found = discover(
        '<text id="a" data-pd-field="name">Ann</text>\n'
        '<g>\n<text id="b" inkscape:label="$name">Bob</text></g>'
    )
    spec = found["name"]
    assert targets(root, spec) == ["a", "b"]
    assert spec.lines == (2, 4)
    assert spec.element_ids == ("a", "b")
    assert spec.default == "Ann"
    filled = etree.fromstring(fill(root, discover_fields(root), {"name": "Zoe"}))
    assert [text_of(e) for e in filled.iter("{*}text")] == ["Zoe", "Zoe"]


def test_same_placeholder_in_two_texts_merges() -> None:
    root, found = discover('<text id="a">{{n}}!</text>\n<text id="b">¿{{n}}?</text>')
    assert targets(root, found["n"]) == ["a", "b"]
    filled = etree.fromstring(fill(root, discover_fields(root), {"n": "Si"}))
    assert [text_of(e) for e in filled.iter("{*}text")] == ["Si!", "¿Si?"]


def test_same_name_different_kinds_is_refused_naming_both_lines() -> None:
    problems = problems_of(
        '<text id="a" data-pd-field="x">A</text>\n\n\n<rect id="b" data-pd-field="x"/>'
    )
    assert len(problems) == 1
    described = f"{problems[0].field} {problems[0].message}"
    assert "line 2" in described
    assert "line 5" in described
    assert "'x'" in described
    assert "text" in described
    assert "color" in described


def test_placeholder_and_shape_with_one_name_is_refused() -> None:
    problems = problems_of('<text id="a">{{x}}</text>\n<circle id="c" inkscape:label="$x"/>')
    described = " ".join(f"{p.field} {p.message}" for p in problems)
    assert "line 2" in described
    assert "line 3" in described


def test_placeholder_and_marked_text_with_one_name() -> None:
    body = '<text id="a">Hello {{n}}</text>\n<text id="b" data-pd-field="n">B</text>'
    root = parse_svg(svg(body))
    try:
        fields = discover_fields(root)
    except TemplateInvalid:
        return  # refusing the mix is a correct answer too
    filled = etree.fromstring(fill(root, fields, {"n": "X"}))
    assert [text_of(e) for e in filled.iter("{*}text")] == ["Hello X", "X"]


def test_merged_placeholder_keeps_a_later_default() -> None:
    spec = field_of('<text id="a">{{n}}</text>\n<text id="b" data-pd-default-n="Dflt">{{n}}</text>')
    assert (spec.default, spec.required) == ("Dflt", False)


def test_merged_field_keeps_an_explicit_required() -> None:
    spec = field_of(
        '<text id="a" data-pd-field="x">A</text>\n'
        '<text id="b" data-pd-field="x" data-pd-required="true">B</text>'
    )
    assert spec.required is True


def test_merged_field_keeps_the_strictest_max_length() -> None:
    body = (
        '<text id="a" data-pd-field="x">A</text>\n'
        '<text id="b" data-pd-field="x" data-pd-max-length="5">B</text>'
    )
    try:
        spec = field_of(body)
    except TemplateInvalid:
        return  # refusing conflicting options is a correct answer too
    assert spec.max_length == 5


# --------------------------------------------------------------------------- bad options


@pytest.mark.parametrize(
    ("element", "words"),
    [
        ('<rect id="el" data-pd-field="f" data-pd-kind="bogus"/>', ["kind", "'bogus'"]),
        ('<text id="el" data-pd-field="f" data-pd-fit="bogus">x</text>', ["data-pd-fit"]),
        ('<image id="el" data-pd-field="f" data-pd-fit="wrap"/>', ["data-pd-fit", "cover"]),
        ('<rect id="el" data-pd-field="f" data-pd-kind="number"/>', ["data-pd-attr"]),
        (
            '<rect id="el" data-pd-field="f" data-pd-kind="number" data-pd-attr="onload"/>',
            ["data-pd-attr", "onload"],
        ),
        (
            '<rect id="el" data-pd-field="f" data-pd-kind="number" data-pd-attr="OnClick"/>',
            ["data-pd-attr", "OnClick"],
        ),
        (
            '<rect id="el" data-pd-field="f" data-pd-kind="number" data-pd-attr="href"/>',
            ["data-pd-attr", "href"],
        ),
        (
            '<rect id="el" data-pd-field="f" data-pd-kind="number" data-pd-attr="xlink:href"/>',
            ["data-pd-attr"],
        ),
        (
            '<rect id="el" data-pd-field="f" data-pd-kind="number" data-pd-attr="style"/>',
            ["data-pd-attr", "style"],
        ),
        (
            '<rect id="el" data-pd-field="f" data-pd-kind="number" data-pd-attr="width" '
            'data-pd-min="abc"/>',
            ["data-pd-min"],
        ),
        ('<text id="el" data-pd-field="f" data-pd-max-length="-3">x</text>', ["max-length"]),
        ('<text id="el" data-pd-field="f" data-pd-max-lines="two">x</text>', ["max-lines"]),
        ('<text id="el" data-pd-field="f" data-pd-min-size="big">x</text>', ["min-size"]),
        ('<text id="el" data-pd-field="f" data-pd-pattern="([">x</text>', ["pattern"]),
        ('<text id="el" data-pd-field="f" data-pd-box="frame">x</text>', ["data-pd-box"]),
        ('<text id="el" data-pd-field="f" data-pd-required="yes">x</text>', ["required"]),
        ('<rect id="el" data-pd-field="f" data-pd-paint="glow"/>', ["data-pd-paint"]),
        ('<rect id="el" data-pd-field="f" data-pd-kind="Color"/>', ["'Color'"]),
    ],
)
def test_bad_option_names_element_and_line(element: str, words: list[str]) -> None:
    problems = problems_of(f"<g>\n{element}</g>")
    tag = element[1 : element.index(" ")]
    assert {p.field for p in problems} == {f'<{tag} id="el"> line 3'}
    messages = " ".join(p.message for p in problems)
    for word in words:
        assert word in messages


def test_element_without_id_is_named_by_tag_and_line() -> None:
    (problem,) = problems_of('<rect data-pd-field="f" data-pd-paint="glow"/>')
    assert problem.field == "<rect> line 2"


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        '<text id="a" data-pd-field="a" data-pd-fit="bogus">x</text>\n'
        '<rect id="b" data-pd-field="b" data-pd-kind="nope"/>\n'
        '<text id="c" data-pd-field="Bad Name">x</text>'
    )
    assert [p.field for p in problems] == [
        '<text id="a"> line 2',
        '<rect id="b"> line 3',
        '<text id="c"> line 4',
    ]


@pytest.mark.parametrize(
    "element",
    [
        '<rect id="el" data-pd-field="n" data-pd-kind="number" data-pd-attr="width" '
        'data-pd-default="abc"/>',
        '<rect id="el" data-pd-field="n" data-pd-kind="number" data-pd-attr="width" '
        'data-pd-min="10" data-pd-max="1"/>',
        '<rect id="el" data-pd-field="n" data-pd-kind="number" data-pd-attr="width" '
        'data-pd-max="100" data-pd-default="150"/>',
        '<rect id="el" data-pd-field="c" data-pd-default="notacolor"/>',
    ],
    ids=["number-default-abc", "min-over-max", "default-over-max", "colour-default-bad"],
)
def test_bad_declared_default_or_bounds_are_refused(element: str) -> None:
    problems = problems_of(f"<g>\n{element}</g>")
    assert problems[0].field == '<rect id="el"> line 3'


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "element",
    [
        '<text id="el" data-pd-field="Bad Name">x</text>',
        '<text id="el" data-pd-field="1x">x</text>',
        '<text id="el" data-pd-field="">x</text>',
        '<text id="el" data-pd-field="Title">x</text>',
        '<text id="el" data-pd-field="a-b">x</text>',
        '<text id="el" data-pd-field="_x">x</text>',
        f'<text id="el" data-pd-field="{"x" * 65}">x</text>',
        '<text id="el" inkscape:label="$Bad Name">x</text>',
        '<text id="el" inkscape:label="$1x">x</text>',
        '<text id="el" inkscape:label="$">x</text>',
    ],
)
def test_invalid_field_names_are_refused(element: str) -> None:
    (problem,) = problems_of(element)
    assert problem.field == '<text id="el"> line 2'
    assert "field name" in problem.message


@pytest.mark.parametrize("name", ["a", "a_1", "title2", "x" * 64])
def test_valid_field_names(name: str) -> None:
    assert field_of(f'<text data-pd-field="{name}">x</text>').name == name


def test_targets_survive_a_deep_copy() -> None:
    root, found = discover('<g><rect id="r" data-pd-field="c"/></g><text id="t">{{n}}</text>')
    clone = copy.deepcopy(root)
    assert targets(clone, found["c"]) == ["r"]
    assert targets(clone, found["n"]) == ["t"]
    assert local_name(list(clone.iter(etree.Element))[found["c"].targets[0]]) == "rect"
    assert targets(clone, found["c"]) == targets(root, found["c"])


def test_fields_inside_a_show_group_are_fields_of_their_own() -> None:
    fields = fields_of(
        '<g data-pd-field="badge_shown">'
        '<rect data-pd-field="badge_colour" width="10" height="10" style="fill:#f00"/>'
        '<text data-pd-field="badge"><tspan sodipodi:role="line">NEW</tspan></text>'
        "<text>by {{who}}</text></g>"
    )
    kinds = {name: spec.kind for name, spec in fields.items()}
    assert kinds == {"badge_shown": "show", "badge_colour": "color", "badge": "text", "who": "text"}


# --- a number field's bounds: what the designer wrote, else the page's ------------------------


def number_field(bounds: str) -> FieldSpec:
    svg = svg_document(
        f'<rect id="bar" width="5" height="5" data-pd-field="bar" data-pd-kind="number"'
        f' data-pd-attr="width" {bounds}/>',
        100,
        50,
    )
    return compile_template("t", svg, max_image_bytes=1000).fields[0]


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ("", (-1000.0, 1000.0)),  # the page is 100×50: ±10 × its longest side
        ('data-pd-min="0"', (0.0, 1000.0)),
        ('data-pd-max="5"', (-1000.0, 5.0)),
        ('data-pd-min="2" data-pd-max="3"', (2.0, 3.0)),
        ('data-pd-min="5000"', (5000.0, 5000.0)),  # never crossing the bound written
        ('data-pd-max="-5000"', (-5000.0, -5000.0)),
    ],
)
def test_every_number_field_is_bounded(bounds: str, expected: tuple[float, float]) -> None:
    spec = number_field(bounds)
    assert (spec.minimum, spec.maximum) == expected

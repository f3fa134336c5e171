"""Tests for the upload sanitiser in pixeldrive.templates.sanitize."""

from __future__ import annotations

import base64
import gzip
import time
from pathlib import Path

import pytest
from lxml import etree

from pixeldrive.templates.model import compile_template
from pixeldrive.templates.parser import SVG_NS, XLINK_NS, local_name, parse_svg
from pixeldrive.templates.sanitize import (
    MAX_DRAWN,
    MAX_ELEMENTS,
    MAX_TEXT_CHARS,
    Finding,
    sanitize,
    sanitize_svg,
)
from tests.conftest import TEMPLATES_DIR
from tests.svgdoc import svg_document
from tests.templates.test_data_uri import spellings

BUNDLED = sorted(TEMPLATES_DIR.glob("*.svg"))
XHTML = "http://www.w3.org/1999/xhtml"
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
    "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def clean(body: str) -> tuple[etree._Element, list[Finding]]:
    """Sanitise a 100×50 document whose body starts on line 2."""
    return sanitize(parse_svg(svg_document(body)))


def by_id(root: etree._Element, ident: str) -> etree._Element | None:
    found = root.xpath("//*[@id=$ident]", ident=ident)
    assert isinstance(found, list)
    return found[0] if found else None  # type: ignore[return-value]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def tags(root: etree._Element) -> set[str]:
    return {local_name(e) for e in root.iter(etree.Element)}


def chain(levels: int, fan_out: int) -> str:
    """`levels` groups, each drawing the previous one `fan_out` times: fan_out**levels."""
    parts = ['<defs><rect id="l0" width="1" height="1"/>']
    for level in range(1, levels + 1):
        uses = f'<use xlink:href="#l{level - 1}"/>' * fan_out
        parts.append(f'<g id="l{level}">{uses}</g>')
    parts.append(f'</defs><use id="top" xlink:href="#l{levels}"/>')
    return "\n".join(parts)


# ------------------------------------------------------------------ what is removed


def test_a_script_is_removed_and_the_text_around_it_kept() -> None:
    tree, findings = clean('<text id="t">a<script id="s1">alert(1)</script>b</text>')
    item = only(findings)
    assert (item.severity, item.element_id, item.line, item.tag) == ("warning", "s1", 2, "script")
    assert "script" not in tags(tree)
    text = by_id(tree, "t")
    assert text is not None
    assert text.text == "ab"


def test_scripts_in_any_namespace_are_removed() -> None:
    body = f'<g><html:script xmlns:html="{XHTML}">x</html:script><script>y</script></g>'
    tree, findings = clean(body)
    assert "script" not in tags(tree)
    assert len(findings) == 2


def test_foreign_object_is_removed_with_its_html() -> None:
    body = (
        f'<foreignObject id="fo" width="10" height="10">'
        f'<div xmlns="{XHTML}"><script>x()</script><iframe src="https://x"/></div>'
        "</foreignObject>"
    )
    tree, findings = clean(body)
    assert tags(tree) == {"svg"}
    item = only(findings)  # one finding: what is inside went with it
    assert (item.element_id, item.tag) == ("fo", "foreignObject")


@pytest.mark.parametrize("tag", ["iframe", "embed", "object"])
def test_embedded_documents_are_removed(tag: str) -> None:
    tree, findings = clean(f'<{tag} id="e" src="https://example.com/x"/>')
    assert tag not in tags(tree)
    assert only(findings).tag == tag


def test_every_event_attribute_is_removed() -> None:
    body = '<rect id="r" onclick="a()" OnMouseOver="b()" onload="c()" width="5" fill="red"/>'
    tree, findings = clean(body)
    rect = by_id(tree, "r")
    assert rect is not None
    assert {str(k): str(v) for k, v in rect.attrib.items()} == {
        "id": "r",
        "width": "5",
        "fill": "red",
    }
    assert len(findings) == 3
    assert all(f.severity == "warning" and f.element_id == "r" for f in findings)


def test_an_event_attribute_on_the_root_is_removed() -> None:
    root = parse_svg(b'<svg xmlns="http://www.w3.org/2000/svg" width="5" onload="x()"/>')
    tree, findings = sanitize(root)
    assert "onload" not in tree.attrib
    assert only(findings).tag == "svg"


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,%3Cb%3Ex%3C/b%3E"]
)
def test_a_link_with_script_or_data_loses_its_href_and_keeps_its_children(href: str) -> None:
    body = f'<a id="a1" xlink:href="{href}"><rect id="r" width="5"/><text>hi</text></a>'
    tree, findings = clean(body)
    link = by_id(tree, "a1")
    assert link is not None
    assert f"{{{XLINK_NS}}}href" not in link.attrib
    assert [local_name(c) for c in link] == ["rect", "text"]
    item = only(findings)
    assert (item.severity, item.element_id, item.tag) == ("warning", "a1", "a")


def test_a_link_to_a_fragment_is_kept() -> None:
    tree, findings = clean('<a id="a1" href="#r"><rect id="r" width="5"/></a>')
    assert findings == []
    link = by_id(tree, "a1")
    assert link is not None
    assert link.get("href") == "#r"


def test_sodipodi_absref_is_removed_as_info() -> None:
    body = (
        f'<image id="i" sodipodi:absref="/home/alice/photo.png" width="1" height="1" '
        f'xlink:href="data:image/png;base64,{PNG_1PX}"/>'
    )
    tree, findings = clean(body)
    image = by_id(tree, "i")
    assert image is not None
    assert not any("absref" in str(name) for name in image.attrib)
    assert image.get(f"{{{XLINK_NS}}}href", "").startswith("data:image/png")
    item = only(findings)
    assert (item.severity, item.element_id, item.line) == ("info", "i", 2)


@pytest.mark.parametrize(
    "css",
    [
        '@import url("https://evil.example/x.css");',
        "@import 'data:text/css,rect{fill:red}';",
        "@\\69mport 'x.css';",  # a CSS escape hides the keyword
        "rect { fill: url(https://evil.example/p.svg#g) }",
        "rect { fill: url( 'file:///etc/passwd#x' ) }",
        "rect { background: u\\72l(x.png) }",
    ],
)
def test_a_stylesheet_that_reaches_outside_is_removed(css: str) -> None:
    tree, findings = clean(f'<style id="st">{css}</style><rect id="r" width="5"/>')
    assert "style" not in tags(tree)
    item = only(findings)
    assert (item.severity, item.element_id, item.tag) == ("warning", "st", "style")


def test_a_stylesheet_with_fragments_and_data_is_kept() -> None:
    css = "rect { fill: url(#g); } circle { fill: url('data:image/png;base64,AAAA') }"
    tree, findings = clean(f"<style>{css}</style>")
    assert findings == []
    assert "style" in tags(tree)


@pytest.mark.parametrize(
    ("tag", "attribute"),
    [
        ("linearGradient", "xlink:href"),
        ("pattern", "href"),
        ("textPath", "xlink:href"),
        ("feImage", "xlink:href"),
    ],
)
@pytest.mark.parametrize(
    "value", ["https://evil.example/g.svg#g", "file:///etc/passwd", "other.svg#g", "data:,x"]
)
def test_links_anywhere_but_to_a_fragment_are_removed(tag: str, attribute: str, value: str) -> None:
    tree, findings = clean(f'<{tag} id="x" {attribute}="{value}"/>')
    element = by_id(tree, "x")
    assert element is not None
    assert not any(etree.QName(name).localname == "href" for name in element.attrib)
    assert only(findings).severity == "warning"


def test_links_to_fragments_are_kept() -> None:
    body = (
        '<linearGradient id="a"><stop offset="0"/></linearGradient>'
        '<linearGradient id="b" xlink:href="#a"/><rect id="r" width="5"/>'
        '<use id="u" href="#r"/>'
    )
    tree, findings = clean(body)
    assert findings == []
    use = by_id(tree, "u")
    assert use is not None
    assert use.get("href") == "#r"


def test_url_values_that_point_outside_are_removed() -> None:
    body = (
        '<rect id="r1" fill="url(https://evil.example/x.svg#g)" width="5"/>'
        '<rect id="r2" style="fill:url(file:///etc/x#g);stroke:#000" width="5"/>'
        '<rect id="r3" style="fill:url(#g)" width="5"/>'
    )
    tree, findings = clean(body)
    r1, r2, r3 = (by_id(tree, i) for i in ("r1", "r2", "r3"))
    assert r1 is not None
    assert r2 is not None
    assert r3 is not None
    assert r1.get("fill") is None
    assert r2.get("style") == "stroke:#000"
    assert r3.get("style") == "fill:url(#g)"
    assert sorted(f.element_id for f in findings) == ["r1", "r2"]


def test_a_tref_to_another_document_is_removed() -> None:
    tree, findings = clean('<text><tref id="tr" xlink:href="other.svg#t"/></text>')
    assert "tref" not in tags(tree)
    assert only(findings).tag == "tref"


# ------------------------------------------------------------------ what is refused


@pytest.mark.parametrize(
    "href",
    [
        "https://example.com/photo.png",
        "http://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "FILE:/etc/passwd",
        "photo.png",
        "../../secret.png",
        "//example.com/x.png",
    ],
)
def test_a_linked_image_is_refused(href: str) -> None:
    tree, findings = clean(f'<image id="photo" width="5" height="5" xlink:href="{href}"/>')
    item = only(findings)
    assert (item.severity, item.element_id, item.line, item.tag) == ("error", "photo", 2, "image")
    assert "embedded" in item.why
    assert has_errors(findings)
    image = by_id(tree, "photo")
    assert image is not None
    assert image.get(f"{{{XLINK_NS}}}href") is None, "the copy never keeps the link"


def test_an_embedded_image_is_kept() -> None:
    body = f'<image id="i" width="1" height="1" href="data:image/png;base64,{PNG_1PX}"/>'
    tree, findings = clean(body)
    assert findings == []
    image = by_id(tree, "i")
    assert image is not None
    assert image.get("href", "").startswith("data:image/png;base64,")


def test_an_embedded_raster_image_in_fe_image_is_kept() -> None:
    """feImage of an embedded PNG is drawn (render/effects/filtering.py); an embedded
    non-image stays removed (test_links_anywhere_but_to_a_fragment_are_removed)."""
    href = f"data:image/png;base64,{PNG_1PX}"
    tree, findings = clean(f'<filter id="f"><feImage id="i" xlink:href="{href}"/></filter>')
    assert findings == []
    image = by_id(tree, "i")
    assert image is not None
    assert image.get(f"{{{XLINK_NS}}}href") == href


@pytest.mark.parametrize(
    "href",
    ["other.svg#x", "https://example.com/sprites.svg#icon", "file:///tmp/a.svg#x", "data:,x"],
)
def test_a_use_of_another_document_is_refused(href: str) -> None:
    _, findings = clean(f'<use id="u" xlink:href="{href}"/>')
    item = only(findings)
    assert (item.severity, item.element_id, item.tag) == ("error", "u", "use")


def test_an_exponential_use_chain_is_refused_quickly() -> None:
    root = parse_svg(svg_document(chain(10, 10)))  # 10^10 rects once expanded
    started = time.perf_counter()
    _, findings = sanitize(root)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.2, f"the expansion took {elapsed:.3f} s"
    item = only(findings)
    assert item.severity == "error"
    assert "expands" in item.what
    assert item.element_id.startswith("l"), "the group where the count first passes the limit"


def test_a_use_chain_within_the_limit_is_accepted() -> None:
    _, findings = clean(chain(4, 10))  # 10^4 rects
    assert findings == []
    _, findings = clean(chain(5, 10))  # 10^5 + the groups and uses: just over
    assert has_errors(findings)
    assert MAX_DRAWN == 100_000


def test_a_long_linear_use_chain_does_not_exhaust_the_stack() -> None:
    links = "".join(f'<use id="u{i}" href="#u{i - 1}"/>' for i in range(1, 5000))
    _, findings = clean(f'<defs><rect id="u0" width="1"/>{links}</defs><use href="#u4999"/>')
    assert findings == []


def test_markers_count_once_per_vertex() -> None:
    # 1 000 vertices × a marker drawing a 10^3 chain: 10^6 elements.
    points = " ".join(f"{i},{i % 7}" for i in range(1000))
    body = (
        f'{chain(3, 10)}<marker id="m"><use href="#l3"/></marker>'
        f'<polyline id="p" points="{points}" marker-mid="url(#m)"/>'
    )
    _, findings = clean(body)
    assert only(findings).element_id == "p"


@pytest.mark.parametrize(
    "body",
    [
        '<use id="self" href="#self"/>',
        '<g id="a"><use id="u" href="#a"/></g>',
        '<defs><use id="a" href="#b"/><use id="b" href="#a"/></defs>',
        '<clipPath id="c"><rect id="r" width="5" clip-path="url(#c)"/></clipPath>',
        '<pattern id="p"><rect id="r" width="5" style="fill:url(#p)"/></pattern>',
        # A pattern drawing the content of another that is filled with the first.
        '<pattern id="p1"><rect id="r" width="5" fill="url(#p2)"/></pattern>'
        '<pattern id="p2" href="#p1"/>',
    ],
)
def test_a_reference_cycle_is_refused(body: str) -> None:
    _, findings = clean(body)
    item = only(findings)
    assert item.severity == "error"
    assert item.what == "reference cycle"


@pytest.mark.parametrize(
    "body",
    [
        '<linearGradient id="a" href="#b"/><linearGradient id="b" href="#a"/>',
        '<pattern id="a" href="#b"/><pattern id="b" href="#a"/><rect fill="url(#a)"/>',
        '<filter id="f" href="#f"/>',
        '<text id="t"><textPath href="#t">on itself</textPath></text>',
    ],
)
def test_inheritance_loops_that_cairosvg_guards_are_accepted(body: str) -> None:
    _, findings = clean(body)
    assert findings == []


def test_an_inherited_pattern_draws_its_source_each_time() -> None:
    # p2 has no content of its own: it draws p1's ~2 000-element chain per filled rect.
    rects = '<rect width="1" fill="url(#p2)"/>' * 200
    body = (
        f'{chain(3, 10)}<pattern id="p1"><use href="#l3"/></pattern><pattern id="p2" href="#p1"/>'
    )
    _, findings = clean(body + rects)
    assert has_errors(findings)
    _, findings = clean(body + rects[: len(rects) // 10])
    assert findings == []


def test_a_url_to_an_element_of_the_wrong_kind_is_no_reference() -> None:
    # CairoSVG looks a mask up among masks only: this draws without recursion.
    _, findings = clean('<g id="g" mask="url(#g)"><rect width="5"/></g>')
    assert findings == []


def test_too_many_elements_are_refused_before_any_other_work() -> None:
    root = parse_svg(svg_document("<g>" + '<rect onclick="x()"/>' * (4 * MAX_ELEMENTS) + "</g>"))
    started = time.perf_counter()
    tree, findings = sanitize(root)
    assert time.perf_counter() - started < 0.5
    item = only(findings)
    assert (item.severity, item.tag, item.line) == ("error", "svg", 1)
    assert len(tree) == 0, "the copy of a refused document is an empty root"


def test_too_much_text_is_refused() -> None:
    _, findings = clean(f"<text>{'x' * (MAX_TEXT_CHARS + 1)}</text>")
    assert only(findings).severity == "error"


# ---------------------------------------------------------------- embedded SVG images


def svg_image(inner: bytes, *, zipped: bool = False) -> str:
    payload = base64.b64encode(gzip.compress(inner) if zipped else inner).decode()
    return (
        f'<image id="img" width="5" height="5" xlink:href="data:image/svg+xml;base64,{payload}"/>'
    )


def test_an_embedded_svg_image_is_cleaned_too() -> None:
    inner = b'<svg xmlns="http://www.w3.org/2000/svg" onload="x()"><script>y()</script></svg>'
    tree, findings = clean(svg_image(inner))
    item = only(findings)
    assert (item.severity, item.element_id) == ("warning", "img")
    image = by_id(tree, "img")
    assert image is not None
    cleaned = base64.b64decode(image.get(f"{{{XLINK_NS}}}href", "").partition(",")[2])
    assert b"script" not in cleaned
    assert b"onload" not in cleaned


@pytest.mark.parametrize("zipped", [False, True])
def test_an_embedded_svg_that_links_outside_is_refused(zipped: bool) -> None:
    inner = (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<image xlink:href="file:///etc/passwd"/></svg>'
    )
    _, findings = clean(svg_image(inner, zipped=zipped))
    item = only(findings)
    assert (item.severity, item.element_id) == ("error", "img")


def test_an_embedded_gzip_bomb_is_refused() -> None:
    bomb = b'<svg xmlns="http://www.w3.org/2000/svg">' + b" " * (64 * 2**20) + b"</svg>"
    _, findings = clean(svg_image(bomb, zipped=True))
    assert only(findings).severity == "error"


def test_an_embedded_svg_with_entities_is_refused() -> None:
    inner = b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"/>'
    _, findings = clean(svg_image(inner))
    assert only(findings).severity == "error"


def test_an_exponential_chain_inside_an_embedded_svg_counts() -> None:
    inner = svg_document(chain(3, 10))  # 10^3, drawn by each of 200 images: 2·10^5
    images = svg_image(inner) * 200
    _, findings = clean(images)
    assert has_errors(findings)


OUTSIDE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
    b'<image xlink:href="file:///etc/passwd"/></svg>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
)


def image_with(uri: str) -> str:
    return f'<image id="img" width="5" height="5" xlink:href="{uri}"/>'


@pytest.mark.parametrize("inner", [OUTSIDE, XXE], ids=["links-outside", "xxe"])
@pytest.mark.parametrize("spelled", range(7))
def test_an_embedded_svg_is_checked_however_its_uri_is_spelled(inner: bytes, spelled: int) -> None:
    """The sanitiser and the render's fetcher read one parser's bytes: no spelling (case,
    percent-encoded base64, a raster label, no label) slips an SVG past the check."""
    label = ["image/svg+xml", "image/png", "text/plain"][spelled % 3]
    uri = spellings(inner, label)[spelled].replace("&", "&amp;").replace('"', "&quot;")
    uri = uri.replace("<", "&lt;")
    started = time.perf_counter()
    _, findings = clean(image_with(uri))
    item = only(findings)
    assert (item.severity, item.element_id) == ("error", "img")
    assert "embedded SVG image refused" in item.what
    assert time.perf_counter() - started < 1.0, "refused without reading anything"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("data:image/png;base64,@@@notbase64", "not base64"),
        ("data:image/png;base64,AAAAA", "does not decode"),
        ("data:image/png;base64," + base64.b64encode(b"hello").decode(), "no PNG, JPEG"),
        (
            "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(40)).decode(),
            "header does not read",
        ),
    ],
)
def test_an_embedded_image_that_is_no_image_is_refused(uri: str, message: str) -> None:
    _, findings = clean(image_with(uri))
    item = only(findings)
    assert (item.severity, item.element_id) == ("error", "img")
    assert message in item.what


SCRIPT_ANIMATIONS = [
    '<a href="#x"><set attributeName="href" to="javascript:alert(1)"/><rect/></a>',
    '<a xlink:href="#x"><animate attributeName="xlink:href" values="#x;javascript:alert(1)"'
    ' dur="1s"/><rect/></a>',
    '<a href="#x"><set attributeName="href"'
    ' to="data:text/html,&lt;script&gt;x()&lt;/script&gt;"/></a>',
    '<rect><set attributeName="onclick" to="alert(1)"/></rect>',
    '<rect><animate attributeName="onmouseover" from="" to="alert(1)"/></rect>',
    '<a href="#x"><set attributeName="HREF" to="#y"/></a>',
    '<a href="#x"><set attributeName="title" to=" JaVa&#9;ScRiPt:alert(1)"/></a>',
    '<a href="#x"><animate attributeName="title" values="a;\n java&#10;script:alert(1)"/></a>',
    '<a href="#x"><animateColor attributeName="href" to="javascript:alert(1)"/></a>',
    '<a href="#x"><animateTransform attributeName="onload" by="alert(1)"/></a>',
    '<a href="#x"><animateMotion attributeName="xlink:href" to="https://evil/"/></a>',
    '<handler type="application/ecmascript">alert(1)</handler>',
    '<listener event="click" handler="#h"/>',
]


@pytest.mark.parametrize("body", SCRIPT_ANIMATIONS)
def test_animations_and_handlers_that_make_script_are_removed(body: str) -> None:
    cleaned, findings = sanitize_svg(svg_document(body))
    assert findings
    assert all(f.severity == "warning" for f in findings)
    names = {local_name(e) for e in parse_svg(cleaned).iter(etree.Element)}
    assert not names & {"set", "animate", "animateColor", "animateTransform", "animateMotion"}
    assert not names & {"handler", "listener"}
    assert b"script:" not in cleaned.lower().replace(b"&#9;", b"").replace(b"\n", b"")


@pytest.mark.parametrize(
    "body",
    [
        '<rect width="5" height="5">'
        '<animate attributeName="width" from="5" to="50" dur="2s"/></rect>',
        '<rect><animate attributeName="fill" values="red;#00f;rgb(0,1,2)" dur="2s"/></rect>',
        '<g><animateTransform attributeName="transform" type="rotate"'
        ' from="0 5 5" to="360 5 5"/></g>',
        '<circle r="3"><animateMotion path="M0 0 L10 10" dur="3s"/></circle>',
    ],
)
def test_animations_of_drawing_are_kept(body: str) -> None:
    cleaned, findings = sanitize_svg(svg_document(body))
    assert findings == []
    assert cleaned.count(b"<anim") == 1


# ----------------------------------------------------------------------- the contract


def test_the_original_tree_is_untouched() -> None:
    data = svg_document(
        '<script>x</script><rect id="r" onclick="y()" width="5"/>'
        '<image id="i" xlink:href="https://x/y.png"/><a href="javascript:z()"><g/></a>'
    )
    root = parse_svg(data)
    before = etree.tostring(root)
    tree, findings = sanitize(root)
    assert etree.tostring(root) == before
    assert tree is not root
    assert len(findings) == 4


def test_inkscape_data_is_kept() -> None:
    body = (
        '<sodipodi:namedview id="nv" pagecolor="#fff" inkscape:zoom="0.7"/>'
        '<g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">'
        '<text id="t" sodipodi:role="line" inkscape:label="$title">Hi</text></g>'
    )
    data = svg_document(body)
    tree, findings = sanitize(parse_svg(data))
    assert findings == []
    assert etree.tostring(tree) == etree.tostring(parse_svg(data))


def test_sanitize_svg_round_trips_bytes() -> None:
    data, findings = sanitize_svg(svg_document('<rect onclick="x()" width="5"/>'))
    assert data.startswith(b"<?xml")
    assert b"onclick" not in data
    assert parse_svg(data).tag == f"{{{SVG_NS}}}svg"
    assert len(findings) == 1


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_the_bundled_templates_come_through_unchanged(path: Path) -> None:
    data = path.read_bytes()
    tree, findings = sanitize(parse_svg(data))
    assert not has_errors(findings)
    assert findings == [], "the bundled templates need no cleaning at all"
    cleaned = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    before = compile_template(path.stem, data, max_image_bytes=2**22)
    after = compile_template(path.stem, cleaned, max_image_bytes=2**22)
    assert [(f.name, f.kind) for f in after.fields] == [(f.name, f.kind) for f in before.fields]
    assert (after.width, after.height) == (before.width, before.height)


def test_there_are_bundled_templates() -> None:
    assert len(BUNDLED) >= 4


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)

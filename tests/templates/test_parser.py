"""Tests for the hardened SVG parser in pixeldrive.templates.parser."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from lxml import etree

from pixeldrive.core.errors import TemplateInvalid
from pixeldrive.templates import parser
from pixeldrive.templates.parser import (
    INKSCAPE_NS,
    MAX_DEPTH,
    SODIPODI_NS,
    SVG_NS,
    drop_attribute,
    local_name,
    parse_svg,
    text_of,
)
from tests.svgdoc import NAMESPACES

OPEN = f'<svg {NAMESPACES} width="100" height="50">'


def svg(body: str = "", *, prolog: str = "") -> bytes:
    """An SVG document: optional prolog, the <svg> start tag, then `body` from line 2 on
    (line 1 when there is no prolog)."""
    return f"{prolog}{OPEN}\n{body}\n</svg>".encode()


def nested(depth: int) -> bytes:
    """An <svg> holding `depth` nested <g> elements (depth + 1 levels in all)."""
    return f"{OPEN}{'<g>' * depth}{'</g>' * depth}</svg>".encode()


# --------------------------------------------------------------------------- valid input

INKSCAPE_A4 = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) -->
<svg
   width="297mm"
   height="210mm"
   viewBox="0 0 297 210"
   version="1.1"
   id="svg1"
   inkscape:version="1.3.2 (091e20e, 2023-11-25)"
   sodipodi:docname="card.svg"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   xmlns:xlink="http://www.w3.org/1999/xlink"
   xmlns="http://www.w3.org/2000/svg"
   xmlns:svg="http://www.w3.org/2000/svg">
  <sodipodi:namedview
     id="namedview1"
     pagecolor="#ffffff"
     inkscape:document-units="mm" />
  <defs
     id="defs1" />
  <g
     inkscape:label="Layer 1"
     inkscape:groupmode="layer"
     id="layer1">
    <text
       xml:space="preserve"
       style="font-size:10.5833px;font-family:Inter;fill:#000000"
       x="20"
       y="40"
       id="text1"><tspan
         sodipodi:role="line"
         id="tspan1"
         x="20"
         y="40">Caf\u00e9 \u2014 \u05e9\u05dc\u05d5\u05dd</tspan></text>
  </g>
</svg>
"""


def test_an_inkscape_file_parses() -> None:
    root = parse_svg(INKSCAPE_A4.encode())
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert root.get("width") == "297mm"
    assert root.get(f"{{{INKSCAPE_NS}}}version") == "1.3.2 (091e20e, 2023-11-25)"
    layer = root.find(f"{{{SVG_NS}}}g")
    assert layer is not None
    assert layer.get(f"{{{INKSCAPE_NS}}}label") == "Layer 1"
    tspan = root.find(f".//{{{SVG_NS}}}tspan")
    assert tspan is not None
    assert tspan.get(f"{{{SODIPODI_NS}}}role") == "line"
    assert tspan.text == "Café — שלום"
    assert cast(int, tspan.sourceline) == 35  # lxml-stubs type sourceline oddly


def test_xml_declaration_comments_and_utf16_are_accepted() -> None:
    root = parse_svg(f'<?xml version="1.0" encoding="UTF-16"?>{OPEN}</svg>'.encode("utf-16"))
    assert local_name(root) == "svg"
    assert root.get("height") == "50"


def test_processing_instructions_are_removed() -> None:
    root = parse_svg(svg('<?xml-stylesheet href="https://evil.example/x.css"?><rect/>'))
    serialized = etree.tostring(root)
    assert b"xml-stylesheet" not in serialized
    assert [local_name(child) for child in root] == ["rect"]


def test_nesting_just_under_the_limit_parses() -> None:
    root = parse_svg(nested(MAX_DEPTH - 1))
    depth = max(len(list(e.iterancestors())) + 1 for e in root.iter())
    assert depth == MAX_DEPTH


def test_xinclude_is_not_processed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("XINCLUDE-SECRET-4711")
    body = (
        '<text xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="{secret.as_uri()}" parse="text"/></text>'
    )
    root = parse_svg(svg(body))
    assert "XINCLUDE-SECRET-4711" not in text_of(root)
    assert b"XINCLUDE-SECRET-4711" not in etree.tostring(root)


# --------------------------------------------------------------------------- refused input


def billion_laughs() -> bytes:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    dtd = "<!DOCTYPE svg [\n" + "\n".join(entities) + "\n]>\n"
    return svg("<text>&lol9;</text>", prolog='<?xml version="1.0"?>\n' + dtd)


def test_billion_laughs_is_refused_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateInvalid) as caught:
        parse_svg(billion_laughs())
    assert time.perf_counter() - started < 2.0
    assert "lollollol" not in str(caught.value)
    assert all("lollollol" not in p.message for p in caught.value.errors)


def test_quadratic_blowup_is_refused() -> None:
    big = "x" * 50_000
    doc = svg(
        "<text>" + "&big;" * 5_000 + "</text>",
        prolog=f'<!DOCTYPE svg [<!ENTITY big "{big}">]>\n',
    )
    with pytest.raises(TemplateInvalid):
        parse_svg(doc)


@pytest.mark.parametrize(
    "doctype",
    [
        "<!DOCTYPE svg>",
        "<!DOCTYPE svg []>",
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">',
        '<!DOCTYPE svg [<!ENTITY name "value">]>',
        '<!DOCTYPE svg [<!ELEMENT svg ANY><!ATTLIST svg onload CDATA "alert(1)">]>',
    ],
)
def test_any_doctype_is_refused(doctype: str) -> None:
    with pytest.raises(TemplateInvalid):
        parse_svg(svg("<rect/>", prolog=doctype + "\n"))


def test_external_entity_is_refused_and_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:KNOWN-SECRET-CONTENT")
    doc = svg(
        "<text>&x;</text>",
        prolog=f'<!DOCTYPE svg [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n',
    )
    with pytest.raises(TemplateInvalid) as caught:
        parse_svg(doc)
    assert "DOCTYPE" in caught.value.detail
    assert "KNOWN-SECRET" not in caught.value.detail
    assert all("KNOWN-SECRET" not in p.message for p in caught.value.errors)
    # Defence in depth: even before the DOCTYPE check, the parser does not substitute it.
    root = etree.fromstring(doc, parser._parser())
    assert "KNOWN-SECRET" not in text_of(root)
    assert b"KNOWN-SECRET" not in etree.tostring(root)


def test_etc_passwd_entity_is_refused() -> None:
    doc = svg(
        "<text>&x;</text>",
        prolog='<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n',
    )
    with pytest.raises(TemplateInvalid) as caught:
        parse_svg(doc)
    assert "root:" not in str(caught.value)
    root = etree.fromstring(doc, parser._parser())
    assert "root:" not in text_of(root)


@contextlib.contextmanager
def http_listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback HTTP server that records every request it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    requests: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    requests.append(conn.recv(4096))
                    conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n<!ENTITY leak 'NET-LEAK'>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], requests
    finally:
        stop.set()
        thread.join(2)
        server.close()


def handled_so_far(port: int, requests: list[bytes]) -> None:
    """Return once `http_listener` has recorded every connection made to it before this
    call: it takes them one at a time, in order, so once it has answered one of ours it
    has seen any earlier one. Ours is taken off the record again."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"BARRIER")
        assert sock.recv(64), "the listener did not answer"
    assert requests.pop() == b"BARRIER"


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE svg SYSTEM "http://127.0.0.1:{port}/external.dtd">',
        '<!DOCTYPE svg PUBLIC "-//X//DTD X//EN" "http://127.0.0.1:{port}/public.dtd">',
        '<!DOCTYPE svg [<!ENTITY leak SYSTEM "http://127.0.0.1:{port}/entity">]>',
        '<!DOCTYPE svg [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/param.dtd"> %p;]>',
    ],
)
def test_no_network_request_is_made(prolog: str) -> None:
    with http_listener() as (port, requests):
        doc = svg("<text>&leak;</text>", prolog=prolog.format(port=port) + "\n")
        with pytest.raises(TemplateInvalid) as caught:
            parse_svg(doc)
        handled_so_far(port, requests)  # any request the parser made is recorded by now
    assert requests == []
    assert "NET-LEAK" not in str(caught.value)


def opens_file(doc: bytes, fifo: Path) -> bool:
    """Whether parsing `doc` opens `fifo`. A reader blocks in open() until a writer comes,
    and a non-blocking open for writing succeeds only while a reader has it open."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            parse_svg(doc)
        except BaseException as exc:  # recorded for the assertion below
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while thread.is_alive() and time.monotonic() < deadline:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody is reading the FIFO
            time.sleep(0.01)
            continue
        os.close(fd)  # the reader sees end of file and the parse goes on
        thread.join(10)
        return True
    thread.join(1)
    assert not thread.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], TemplateInvalid)
    return False


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "probe.fifo"
    os.mkfifo(path)
    return path


def test_general_external_entity_file_is_never_opened(fifo: Path) -> None:
    prolog = f'<!DOCTYPE svg [<!ENTITY x SYSTEM "{fifo.as_uri()}">]>\n'
    assert not opens_file(svg("<text>&x;</text>", prolog=prolog), fifo)


def test_external_dtd_file_is_never_opened(fifo: Path) -> None:
    prolog = f'<!DOCTYPE svg SYSTEM "{fifo.as_uri()}">\n'
    assert not opens_file(svg("<rect/>", prolog=prolog), fifo)


def test_parameter_entity_file_is_never_opened(fifo: Path) -> None:
    prolog = f'<!DOCTYPE svg [<!ENTITY % p SYSTEM "{fifo.as_uri()}"> %p;]>\n'
    assert not opens_file(svg("<rect/>", prolog=prolog), fifo)


def test_deep_nesting_is_refused_quickly_without_recursion_error() -> None:
    started = time.perf_counter()
    with pytest.raises(TemplateInvalid):
        parse_svg(nested(10**5))
    assert time.perf_counter() - started < 2.0


def test_nesting_one_over_the_limit_is_refused() -> None:
    with pytest.raises(TemplateInvalid):
        parse_svg(nested(MAX_DEPTH))


def test_depth_check_is_iterative_on_a_built_tree() -> None:
    # libxml2 stops deep documents first; the Python check must not recurse either. (lxml
    # builds deep trees in quadratic time, so ten times the recursion limit stands in.)
    root = etree.Element("svg")
    node = root
    for _ in range(10 * sys.getrecursionlimit()):
        node = etree.SubElement(node, "g")
    with pytest.raises(TemplateInvalid) as caught:
        parser._check_depth(root)
    assert str(MAX_DEPTH) in caught.value.detail
    parser._check_depth(etree.fromstring(nested(MAX_DEPTH - 1)))  # the boundary passes


@pytest.mark.parametrize(
    ("document", "root_name"),
    [
        (b"<html><body/></html>", "html"),
        (b'<x:svg xmlns:x="urn:not-svg" width="10" height="10"/>', "svg"),
        (f'<g xmlns="{SVG_NS}"><svg/></g>'.encode(), "g"),
    ],
)
def test_non_svg_root_is_refused(document: bytes, root_name: str) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        parse_svg(document)
    assert repr(root_name) in caught.value.detail


@pytest.mark.parametrize(
    ("document", "line"),
    [
        (svg("<g>\n<rect>\n</g>"), 4),
        (svg('<rect width="1"\n\n\n  height=2/>'), 5),
        (b"", 1),
        (OPEN.encode(), 1),
        (svg("<text>a &amp b</text>"), 2),
    ],
)
def test_malformed_xml_names_the_line(document: bytes, line: int) -> None:
    with pytest.raises(TemplateInvalid) as caught:
        parse_svg(document)
    assert caught.value.detail.startswith("not well-formed XML")
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].field == f"line {line}"
    assert caught.value.errors[0].message


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(TemplateInvalid):
        parse_svg(svg("<text>\xff</text>").replace("\xff".encode(), b"\xff\xfe"))


# --------------------------------------------------------------------------- helpers


def test_local_name_strips_the_namespace_and_ignores_comments() -> None:
    root = parse_svg(svg("<!-- note --><rect/>"))
    comment, rect = list(root)
    assert local_name(root) == "svg"
    assert local_name(rect) == "rect"
    assert local_name(comment) == ""


def test_text_of_excludes_the_tail() -> None:
    root = parse_svg(svg("<text>a<tspan>b</tspan>c</text>tail"))
    text = root[0]
    assert text_of(text) == "abc"
    assert text_of(text[0]) == "b"


def test_drop_attribute() -> None:
    root = parse_svg(svg('<rect id="r" onclick="x()"/>'))
    rect = root[0]
    drop_attribute(rect, "onclick")
    drop_attribute(rect, "missing")
    assert {str(k): str(v) for k, v in rect.attrib.items()} == {"id": "r"}

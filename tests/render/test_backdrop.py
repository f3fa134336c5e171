"""Backdrops: a render drawn onto the kept pixels of everything before its first text field
is the same image, to the byte, as the render drawn whole; where a cut could change
pixels there is none."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from PIL import Image

from pixeldrive.core.config import PROJECT_ROOT, Settings
from pixeldrive.render import backdrop, worker
from pixeldrive.render.backdrop_cache import BackdropCache
from pixeldrive.render.job import RenderJob
from pixeldrive.templates.fields import discover_fields
from pixeldrive.templates.model import compile_template
from pixeldrive.templates.parser import parse_svg
from pixeldrive.wiring import worker_config

BUNDLED = {"og-card": "title", "product": "name", "certificate": "learner", "quote": "quote"}
WHOLE, KEPT = 0, 32 * 2**20


def png_uri(color: tuple[int, int, int], size: tuple[int, int] = (8, 6)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def doc(body: str, width: int = 240, height: int = 120, head: str = "") -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}">{head}{body}</svg>'
    ).encode()


BACKGROUND = (
    '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
    '<stop offset="0" style="stop-color:#123456" data-pd-field="tone"/>'
    '<stop offset="1" style="stop-color:#fedcba"/></linearGradient>'
    '<clipPath id="c"><circle cx="120" cy="60" r="55"/></clipPath></defs>'
    '<rect width="240" height="120" fill="url(#g)"/>'
    '<circle cx="200" cy="30" r="60" style="fill:#6366f1;fill-opacity:0.3"'
    ' data-pd-field="accent"/>'
)
TITLE = (
    '<text data-pd-field="title" x="10" y="70" style="font-family:Inter;font-size:28px;'
    'fill:#ffffff">Title</text>'
)
CASES: dict[str, bytes] = {
    "layers": doc(
        BACKGROUND + f'<g id="l2"><rect x="5" y="5" width="20" height="20"/>{TITLE}'
        '<rect x="200" y="90" width="30" height="20" fill="#f00"/></g>'
        '<g><circle cx="20" cy="100" r="15" fill="#0f0"/></g>'
    ),
    "clipped, transformed groups": doc(
        BACKGROUND + '<g clip-path="url(#c)" transform="translate(5 3)">'
        '<g transform="rotate(4 120 60)"><rect x="20" y="20" width="200" height="80"'
        f' fill="#222" fill-opacity="0.6"/>{TITLE}<circle cx="60" cy="60" r="30"'
        ' fill="#ff0" fill-opacity="0.5"/></g></g>'
    ),
    "a group with opacity holds the text": doc(
        BACKGROUND + '<g opacity="0.7"><rect x="0" y="60" width="240" height="60"'
        f' fill="#000"/>{TITLE}</g>'
    ),
    "a group with a filter holds the text": doc(
        BACKGROUND + '<g style="filter:url(#f)"><rect x="0" y="60" width="240" height="60"'
        f' fill="#000"/>{TITLE}</g>',
        head='<defs><filter id="f"><feOffset dx="2" dy="2"/></filter></defs>',
    ),
    "a shown or hidden badge and an image in the backdrop": doc(
        BACKGROUND + '<rect x="150" y="10" width="60" height="30" fill="#f0f"'
        ' data-pd-field="badge" data-pd-kind="show"/>'
        '<image x="10" y="10" width="40" height="30" data-pd-field="photo"'
        f' xlink:href="{png_uri((200, 30, 30))}"/>{TITLE}'
    ),
    "a QR code is the first thing that varies": doc(
        BACKGROUND + '<rect id="qr" data-pd-field="link" data-pd-kind="qr" x="140" y="10"'
        ' width="90" height="90" data-pd-default="https://example.com/a"/>' + TITLE
    ),
    "nothing varies but colours": doc(
        BACKGROUND + '<text x="10" y="70" style="font-family:Inter;font-size:28px">Static</text>'
    ),
    "a foreign element holding a drawing": doc(
        BACKGROUND + '<x:note xmlns:x="urn:example"><rect x="60" y="0" width="40" height="120"'
        ' fill="#0f0" fill-opacity="0.5"/></x:note>' + TITLE
    ),
    "text in a placeholder": doc(
        BACKGROUND + '<text x="10" y="70" style="font-family:Inter;font-size:20px">'
        "Hello {{who}}!</text>"
    ),
}
VALUES: dict[str, list[dict[str, Any]]] = {
    "layers": [{"title": "One"}, {"title": "Two", "accent": "#ff000080"}, {"title": "Three"}],
    "a shown or hidden badge and an image in the backdrop": [
        {"title": "A", "badge": True},
        {"title": "B", "badge": False},
        {"title": "C", "badge": True, "photo": png_uri((20, 200, 90))},
        {"title": "D", "badge": True},
    ],
    "a QR code is the first thing that varies": [
        {"title": "A", "link": "https://example.com/1"},
        {"title": "A", "link": "https://example.com/2"},
    ],
    "nothing varies but colours": [{"tone": "#000000"}, {"tone": "#00ff00"}, {"tone": "#000000"}],
    "text in a placeholder": [{"who": "Ada"}, {"who": "Grace"}],
}
DEFAULT_VALUES = [{"title": "One"}, {"title": "Two", "tone": "#ff0000"}, {"title": "Two"}]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = Settings(state_dir=tmp_path_factory.mktemp("state"))
    return worker_config(settings)


def renders(config: Any, source: Path, values: list[dict[str, Any]], kept: int) -> list[bytes]:
    """Each value set rendered as PNG in a fresh in-process worker keeping `kept` bytes
    of backdrops; every one validated first, as the service does."""
    data = source.read_bytes()
    template = compile_template(source.stem, data, max_image_bytes=10**7)
    worker.init_worker(replace(config, backdrop_bytes=kept))
    out = []
    for fields in values:
        job = RenderJob(
            template.version,
            str(source),
            template.validate(fields),
            int(template.width),
            int(template.height),
            "png",
        )
        out.append(worker.run(job).data)
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_drawn_on_a_backdrop_equals_drawn_whole(config: Any, tmp_path: Path, case: str) -> None:
    source = tmp_path / "case.svg"
    source.write_bytes(CASES[case])
    values = VALUES.get(case, DEFAULT_VALUES)
    whole = renders(config, source, values, WHOLE)
    kept = renders(config, source, values, KEPT)
    assert kept == whole
    assert len(set(whole)) > 1, "the values must change the image"
    state = worker._State.backdrops
    assert state.hits + state.misses == len(values), "every render went through a backdrop"
    assert state.hits >= 1


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_templates_drawn_on_their_backdrops_are_unchanged(config: Any, name: str) -> None:
    source = PROJECT_ROOT / "svg_templates" / f"{name}.svg"
    values = [{BUNDLED[name]: f"Value {i}"} for i in range(3)]
    whole = renders(config, source, values, WHOLE)
    kept = renders(config, source, values, KEPT)
    assert kept == whole
    state = worker._State.backdrops
    assert (state.misses, state.hits) == (1, 2), "one backdrop drawn, then reused"
    assert worker._State.templates[next(iter(worker._State.templates))].cut is not None


def test_keyed_values_get_their_own_backdrops(config: Any) -> None:
    source = PROJECT_ROOT / "svg_templates" / "og-card.svg"
    values = [
        {"title": "A", "accent": "#ff0066"},
        {"title": "B", "accent": "#00aa66"},
        {"title": "C", "accent": "#ff0066"},
    ]
    whole = renders(config, source, values, WHOLE)
    assert renders(config, source, values, KEPT) == whole
    assert (worker._State.backdrops.misses, worker._State.backdrops.hits) == (2, 1)


def cut_of(svg: bytes) -> backdrop.Cut | None:
    root = parse_svg(svg)
    return backdrop.plan(root, discover_fields(root))


def test_where_the_cut_falls() -> None:
    layers = cut_of(CASES["layers"])
    # The defs, the background rect and circle, then inside <g id="l2">: rect, text.
    assert layers == backdrop.Cut((3, 1), ("tone", "accent"))
    # A group that composites as a whole is cut before, not inside.
    assert cut_of(CASES["a group with opacity holds the text"]) == backdrop.Cut(
        (3,), ("tone", "accent")
    )
    assert cut_of(CASES["nothing varies but colours"]) == backdrop.Cut((), ("tone", "accent"))


@pytest.mark.parametrize(
    ("why", "svg"),
    [
        ("a style sheet", doc(f"<style>rect {{ fill: red }}</style>{BACKGROUND}{TITLE}")),
        (
            "a <use> of a painted element",
            doc(f'{BACKGROUND}<rect id="r" width="9" height="9"/>{TITLE}<use href="#r" x="30"/>'),
        ),
        (
            "a text field inside a pattern",
            doc(
                '<defs><pattern id="p" width="40" height="40" patternUnits="userSpaceOnUse">'
                '<text data-pd-field="title" y="20">x</text></pattern></defs>'
                '<rect width="240" height="120" fill="url(#p)"/>'
            ),
        ),
        ("nothing before the first text", doc(TITLE + BACKGROUND)),
        (
            "a gradient inside a painted group, used after the cut",
            doc(
                f'{BACKGROUND}<g><linearGradient id="in"><stop offset="0" stop-color="#f00"/>'
                '</linearGradient><rect width="9" height="9" fill="url(#in)"/></g>'
                '<text data-pd-field="title" y="50" fill="url(#in)">x</text>'
            ),
        ),
        (
            "a clip path inside the overlay, used before the cut",
            doc(
                f'{BACKGROUND}<rect width="90" height="90" clip-path="url(#late)"/>'
                f'<g>{TITLE}<g><clipPath id="late"><circle r="40" cx="45" cy="45"/></clipPath>'
                "</g></g>"
            ),
        ),
        (
            "two elements with one id",
            doc(f'{BACKGROUND}<rect id="twice" width="9" height="9"/>{TITLE}<circle id="twice"/>'),
        ),
    ],
)
def test_no_cut_where_one_could_change_pixels(why: str, svg: bytes) -> None:
    assert cut_of(svg) is None, why


def test_a_use_of_a_symbol_in_defs_keeps_the_cut() -> None:
    svg = doc(
        f'<defs><symbol id="s"><rect width="9" height="9"/></symbol></defs>{BACKGROUND}'
        f'{TITLE}<use href="#s" x="30"/>'
    )
    assert cut_of(svg) is not None


def test_the_cache_is_bounded_by_bytes() -> None:
    cache = BackdropCache(100)
    cache.put(b"a", bytes(60))
    cache.put(b"b", bytes(60))
    assert cache.get(b"a") is None
    assert cache.get(b"b") is not None
    assert cache.bytes == 60
    cache.put(b"c", bytes(101))  # larger than the whole bound: not kept
    assert cache.get(b"c") is None
    assert BackdropCache(0).enabled is False


def test_a_worker_without_backdrops_keeps_none(config: Any) -> None:
    source = PROJECT_ROOT / "svg_templates" / "quote.svg"
    renders(config, source, [{"quote": "a"}, {"quote": "b"}], WHOLE)
    assert worker._State.backdrops.bytes == 0
    assert worker._State.backdrops.hits == 0


def test_the_overlay_keeps_what_paints_nothing() -> None:
    root = parse_svg(CASES["layers"])
    cut = cut_of(CASES["layers"])
    assert cut is not None
    under = backdrop.backdrop_of(root, cut)
    over = backdrop.overlay_of(root, cut)
    tags = [etree.QName(e).localname for e in over.iter(etree.Element)]
    assert "linearGradient" in tags
    assert "clipPath" in tags
    assert tags.count("rect") == 1
    assert "text" in tags
    under_tags = [etree.QName(e).localname for e in under.iter(etree.Element)]
    assert "text" not in under_tags
    assert under_tags.count("rect") == 2

"""What each embedded image covers of the output (pixeldrive.render.footprint)."""

from __future__ import annotations

import pytest

from pixeldrive.render.footprint import Footprint, footprints, image_key
from pixeldrive.templates.parser import parse_svg
from tests.svgdoc import NAMESPACES

URI = "data:image/png;base64,AAAA"


def doc(body: str, size: str = 'width="200" height="100"') -> bytes:
    return f"<svg {NAMESPACES} {size}>{body}</svg>".encode()


def image(attrs: str = 'width="20" height="10"', uri: str = URI) -> str:
    return f'<image {attrs} xlink:href="{uri}" data-pd-field="photo"/>'


def of(body: str, width: int = 200, height: int = 100, **kw: str) -> Footprint:
    return footprints(parse_svg(doc(body, **kw)), width, height).of(URI)


@pytest.mark.parametrize(
    ("body", "pixels"),
    [
        (image(), 200.0),
        (f'<g transform="scale(2)">{image()}</g>', 800.0),
        (
            f'<g transform="scale(2) translate(5,5)"><g transform="scale(0.5,3)">{image()}</g></g>',
            1200.0,
        ),
        (image('width="20" height="10" transform="rotate(30) scale(3)"'), 1800.0),
        (image('width="2in" height="1in"'), 192.0 * 96),
        (f'<g transform="scale(100)">{image()}</g>', 200.0 * 100),  # never more than the output
    ],
)
def test_a_known_box_under_its_transforms(body: str, pixels: float) -> None:
    found = of(body)
    assert found.pixels == pytest.approx(pixels)
    assert found.exact
    assert found.field == "photo"


@pytest.mark.parametrize(
    "body",
    [
        image('width="20"'),  # drawn at its own height: its pixels decide
        image(""),
        image('width="50%" height="50%"'),
        f'<defs><pattern id="p" width="9" height="9">{image()}</pattern></defs>',
        f'<defs><symbol id="s">{image()}</symbol></defs><use xlink:href="#s"/>',
        f'<svg width="10" height="10" viewBox="0 0 1 1">{image()}</svg>',
    ],
)
def test_an_unknown_box_is_the_whole_output_and_never_shrunk(body: str) -> None:
    found = of(body)
    assert found.pixels == 200 * 100
    assert not found.exact


def test_the_output_scale_counts_but_never_below_the_templates_own_size() -> None:
    assert of(image(), 400, 200).pixels == pytest.approx(800)
    assert of(image(), 100, 50).pixels == pytest.approx(200)  # as at 200×100
    box = {"size": 'width="200" height="100" viewBox="0 0 20 10"'}
    assert of(image(), **box).pixels == pytest.approx(200 * 100)


def test_one_image_drawn_twice_counts_its_largest_box_and_any_unknown_one() -> None:
    assert of(image() + image('width="40" height="10"')).pixels == pytest.approx(400)
    twice = of(image() + f'<defs><pattern id="p">{image()}</pattern></defs>')
    assert not twice.exact


def test_an_image_not_in_the_document_is_the_whole_output() -> None:
    found = footprints(parse_svg(doc(image())), 200, 100).of("data:image/gif;base64,R0lG")
    assert (found.pixels, found.exact) == (200 * 100, False)


def test_the_key_is_the_data_whatever_the_label() -> None:
    assert image_key("DATA:image/PNG;BASE64, AAAA ") == image_key(URI) == "AAAA"
    assert of(image(uri="data:image/jpeg;base64,AAAA")).exact

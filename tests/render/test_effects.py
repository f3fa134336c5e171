"""Filters, masks, blend modes and markers drawn by render/effects/: hostile filters are
bounded, effects draw, a document without them draws as CairoSVG draws it."""

from __future__ import annotations

import base64
import io
import math
import time

import numpy as np
import pytest
from PIL import Image, ImageChops

from pixeldrive.render.effects import blur
from pixeldrive.render.fetcher import make_fetcher
from pixeldrive.render.job import JobError
from pixeldrive.render.rasterize import rasterize
from pixeldrive.templates.parser import SVG_NS, parse_svg

FETCHER = make_fetcher(2**20, 10_000_000)


def svg(body: str, width: int = 200, height: int = 100) -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        f' width="{width}" height="{height}">{body}</svg>'
    ).encode()


def test_a_filter_past_the_work_bound_is_the_inputs_fault() -> None:
    """60 full-canvas blurs on 40 copies of a 1200×630 rect: ~1.8 G pixel-primitives,
    refused after the first 48 M (a 422 at upload, where the template is drawn once)."""
    blurs = "".join('<feGaussianBlur stdDeviation="30"/>' for _ in range(60))
    uses = "".join('<use xlink:href="#r"/>' for _ in range(40))
    body = (
        f'<defs><filter id="f" x="0" y="0" width="1" height="1">{blurs}</filter>'
        '<rect id="r" width="1200" height="630" fill="red" filter="url(#f)"/></defs>' + uses
    )
    with pytest.raises(JobError, match="too costly"):
        rasterize(svg(body, 1200, 630), 1200, 630, FETCHER)


def test_huge_octaves_and_kernels_are_clamped_while_drawing() -> None:
    body = (
        '<filter id="t"><feTurbulence baseFrequency="0.1" numOctaves="100000"/></filter>'
        '<filter id="k"><feConvolveMatrix order="500" kernelMatrix="1"/></filter>'
        '<rect width="100" height="100" filter="url(#t)"/>'
        '<rect x="100" width="100" height="100" fill="red" filter="url(#k)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER)
    assert image.size == (200, 100)


def test_a_drop_shadow_and_a_css_blur_draw_outside_the_shape() -> None:
    body = (
        '<rect width="200" height="100" fill="#fff"/>'
        '<rect x="20" y="20" width="40" height="40" fill="#00f"'
        ' style="filter:drop-shadow(10px 10px 0 #000)"/>'
        '<rect x="120" y="20" width="40" height="40" fill="#00f" style="filter:blur(4px)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGB")
    assert image.getpixel((65, 65)) == (0, 0, 0)  # the shadow, beyond the shape
    r, _, b = image.getpixel((117, 40))
    assert 0 < r < 255  # the blur reaches past the edge, softened
    assert b == 255


def test_a_luminance_mask_and_multiply_blend() -> None:
    body = (
        '<rect width="200" height="100" fill="#ff0"/>'
        '<mask id="m"><rect width="100" height="100" fill="#808080"/></mask>'
        '<rect width="100" height="100" fill="#f00" mask="url(#m)"/>'
        '<rect x="100" width="100" height="100" fill="#0ff" style="mix-blend-mode:multiply"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGB")
    r, g, b = image.getpixel((50, 50))
    assert (r, b) == (255, 0)  # half red over yellow
    assert 120 < g < 135
    assert image.getpixel((150, 50)) == (0, 255, 0)  # cyan × yellow


def test_a_marker_without_viewbox_draws_and_takes_the_stroke() -> None:
    """CairoSVG raises on a marker without a viewBox whose content has no box
    (examples/markers.svg); context-stroke takes the shape's stroke."""
    body = (
        '<marker id="m" markerWidth="10" markerHeight="10" refX="5" refY="5"'
        ' style="overflow:visible"><g><circle cx="5" cy="5" r="4"'
        ' style="fill:context-stroke"/></g></marker>'
        '<path d="M 20,50 H 180" stroke="#0a0" stroke-width="1" stroke-dasharray="4,4"'
        ' marker-end="url(#m)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")
    assert image.getpixel((180, 50))[:3] == (0, 170, 0)


def test_a_document_without_effects_draws_as_cairosvg_draws_it() -> None:
    import io

    from cairosvg import svg2png
    from PIL import Image

    body = '<rect x="10" y="10" width="80" height="40" fill="#123456" stroke="#f00"/>'
    ours = rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")
    theirs = Image.open(io.BytesIO(svg2png(bytestring=svg(body)))).convert("RGBA")
    assert ImageChops.difference(ours, theirs).getbbox() is None


def test_a_root_without_namespace_is_read_as_svg() -> None:
    root = parse_svg(b'<svg width="10" height="10"><rect width="5" height="5"/></svg>')
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert root[0].tag == f"{{{SVG_NS}}}rect"


def _red_png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), (255, 0, 0)).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


RED_PNG = _red_png()
SWAP = (
    '<filter id="swap" x="0" y="0" width="1" height="1"><feColorMatrix type="matrix"'
    ' values="0 0 1 0 0  0 1 0 0 0  1 0 0 0 0  0 0 0 1 0"/></filter>'
    '<mask id="half"><rect width="20" height="40" fill="#fff"/></mask>'
)


@pytest.mark.parametrize(
    "body",
    [
        f'<image width="40" height="40" xlink:href="{RED_PNG}" filter="url(#swap)"/>',
        f'<g filter="url(#swap)"><image width="40" height="40" xlink:href="{RED_PNG}"/></g>',
        f'<defs><image id="i" width="40" height="40" xlink:href="{RED_PNG}"/></defs>'
        '<use xlink:href="#i" style="filter:url(#swap)"/>',
        f'<image width="40" height="40" xlink:href="{RED_PNG}" style="filter:url(#swap)"'
        ' mask="url(#half)"/>',
    ],
    ids=["image", "group", "use", "masked"],
)
def test_an_image_under_a_filter_or_mask_is_drawn(body: str) -> None:
    """CairoSVG knows no bounding box for an image: the filter region was empty and
    Inkscape's replace-hue example drew nothing where its filtered copies stand."""
    image = rasterize(svg(f"<defs>{SWAP}</defs>{body}"), 200, 100, FETCHER).convert("RGBA")
    assert image.getpixel((10, 20)) == (0, 0, 255, 255)  # red with red and blue swapped


RED, BLUE = (255, 0, 0, 255), (0, 0, 255, 255)
MOVED = '<path id="p" d="M 0,0 H 40 V 40 H 0 Z" fill="#f00" transform="translate(100,0)"/>'


@pytest.mark.parametrize(
    ("body", "color"),
    [
        (f'<defs>{MOVED}</defs><use xlink:href="#p" style="filter:url(#swap)"/>', BLUE),
        (
            '<defs><rect id="r" width="40" height="40" fill="#f00"/></defs>'
            '<use xlink:href="#r" x="100" filter="url(#swap)"/>',
            BLUE,
        ),
        (
            f'<defs>{MOVED}<use id="u" xlink:href="#p" y="10"/></defs>'
            '<use xlink:href="#u" filter="url(#swap)"/>',
            BLUE,
        ),
        (f'<defs>{MOVED}</defs><use xlink:href="#p" mask="url(#whole)"/>', RED),
    ],
    ids=["moved-element", "use-x", "use-of-use", "masked"],
)
def test_a_clone_under_a_filter_or_mask_is_drawn_where_it_stands(
    body: str, color: tuple[int, int, int, int]
) -> None:
    """A <use>'s box is its element's, under that element's transform and moved by the
    use's x and y: Inkscape's clones (rope-3D: a blurred clone of a moved path) drew
    nothing where the clone stands."""
    whole = '<mask id="whole"><rect x="100" width="100" height="100" fill="#fff"/></mask>'
    image = rasterize(svg(f"<defs>{SWAP}{whole}</defs>{body}"), 200, 100, FETCHER)
    assert image.convert("RGBA").getpixel((120, 35)) == color
    assert image.convert("RGBA").getpixel((20, 20))[3] == 0  # nothing where the original is


def test_a_cycle_of_clones_under_a_filter_stays_bounded() -> None:
    """Cycles are refused at upload; drawn anyway, the box search stops at its depth."""
    body = (
        '<defs><use id="a" xlink:href="#b"/><use id="b" xlink:href="#a"/></defs>'
        '<use xlink:href="#a" filter="url(#swap)"/>'
    )
    image = rasterize(svg(f"<defs>{SWAP}</defs>{body}"), 200, 100, FETCHER)
    assert image.getbbox() is None  # nothing to draw, and no box found: drawn as nothing


def _differing(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels with a channel off by more than 32/255."""
    difference = np.asarray(ImageChops.difference(a.convert("RGB"), b.convert("RGB")))
    return float((difference.max(axis=2) > 32).mean())


@pytest.mark.parametrize(
    "light",
    [
        '<feSpecularLighting in="b" surfaceScale="10" specularExponent="20">'
        '<feDistantLight azimuth="225" elevation="45"/></feSpecularLighting>',
        '<feDiffuseLighting in="b" surfaceScale="10">'
        '<fePointLight x="50" y="20" z="60"/></feDiffuseLighting>',
    ],
    ids=["specular-distant", "diffuse-point"],
)
def test_lighting_looks_the_same_at_every_output_size(light: str) -> None:
    """surfaceScale is in device pixels, as Inkscape scales it: a bevel drawn at a quarter
    of the size is not four times as steep (filters.svg, exported at 0.16×, had every
    lit swatch burnt out)."""
    body = (
        '<filter id="f" x="0" y="0" width="1" height="1">'
        '<feGaussianBlur in="SourceAlpha" stdDeviation="4" result="b"/>'
        f'{light}<feComposite in2="SourceAlpha" operator="in"/></filter>'
        '<rect width="200" height="100" fill="#888"/>'
        '<rect x="20" y="20" width="160" height="60" fill="#00f" filter="url(#f)"/>'
    )
    small = rasterize(svg(body), 200, 100, FETCHER)
    large = rasterize(svg(body), 800, 400, FETCHER).resize((200, 100), Image.Resampling.BOX)
    assert _differing(small, large) < 0.02


def test_a_specular_highlight_is_premultiplied_by_its_brightness() -> None:
    """The spec's specular colour is straight with alpha = its brightest channel; Inkscape
    premultiplies it. Over black, a flat surface lit at N·H = 0.5 shows 0.5 × 0.5."""
    body = (
        '<filter id="f" x="0" y="0" width="1" height="1"'
        ' style="color-interpolation-filters:sRGB">'
        '<feSpecularLighting specularExponent="1" lighting-color="#fff">'
        '<feDistantLight elevation="-30"/></feSpecularLighting></filter>'
        '<rect width="200" height="100" fill="#000"/>'
        '<rect width="200" height="100" fill="#fff" filter="url(#f)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGB")
    red, green, blue = image.getpixel((100, 50))
    assert red == green == blue
    assert abs(red - 0.5 * 0.5 * 255) <= 3


@pytest.mark.parametrize("deviation", ["1000", "100000", "1e9", "1e300", "1e9 2", "3 1e12"])
def test_a_huge_blur_is_drawn_at_once_and_bounded(deviation: str) -> None:
    """A deviation of 1000 once padded a 200 px region to 5900 px square (3 s; 1e5 ran
    out of memory): a wide blur runs on a reduced copy, and one past any visible trace
    is transparent."""
    body = (
        f'<filter id="f"><feGaussianBlur stdDeviation="{deviation}"/></filter>'
        '<rect x="20" y="20" width="160" height="160" fill="seagreen" filter="url(#f)"/>'
    )
    started = time.perf_counter()
    image = rasterize(svg(body, 200, 200), 200, 200, FETCHER)
    assert time.perf_counter() - started < 2.0
    assert image.getpixel((100, 100))[3] <= 3  # type: ignore[index]  # spread to nothing


@pytest.mark.parametrize("deviation", [25.0, 40.0, 100.0, 333.0])
def test_a_wide_blur_on_a_reduced_copy_matches_the_full_one(
    deviation: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    px = np.zeros((300, 500, 4), np.float32)
    px[100:200, 150:350] = (0.2, 0.5, 0.3, 0.8)
    px[50:60, 20:480] = (0.0, 0.0, 0.0, 1.0)
    reduced = blur.blur(px, deviation, deviation / 2)
    monkeypatch.setattr(blur, "REDUCE_FROM", math.inf)
    full = blur.blur(px, deviation, deviation / 2)
    assert float(np.abs(reduced - full).max()) * 255 <= 4


def _filtered(primitives: str, attrs: str = 'x="0" y="0" width="1" height="1"') -> bytes:
    """A 200×100 document whose whole area is a rect under a filter of these primitives."""
    return svg(
        f'<filter id="f" {attrs} style="color-interpolation-filters:sRGB">{primitives}</filter>'
        '<rect width="200" height="100" fill="#00f" filter="url(#f)"/>'
    )


def _alpha_columns(image: Image.Image, y: int) -> list[int]:
    """The x of every pixel of row y that is drawn."""
    return [x for x in range(image.width) if image.convert("RGBA").getpixel((x, y))[3]]


BOX_UNITS = 'primitiveUnits="objectBoundingBox"'


@pytest.mark.parametrize(
    ("primitive", "units", "drawn"),
    [
        # What is not given is the filter region's: x=-50 keeps the region's width.
        ('<feFlood flood-color="#f00" x="-50"/>', "", (0, 149)),
        ('<feFlood flood-color="#f00" width="120" x="30"/>', "", (30, 149)),
        # A corner rounds down and a size up, as resvg and Chrome round them.
        ('<feFlood flood-color="#f00" x="10.5" width="20"/>', "", (10, 29)),
        # Bounding-box units: fractions of the region (-10 %…110 % here: half is -20…100),
        # and a flood's of the element's box.
        ('<feGaussianBlur stdDeviation="0" width="0.5"/>', BOX_UNITS, (0, 99)),
        ('<feFlood flood-color="#f00" x="0.25" width="0.5"/>', BOX_UNITS, (50, 149)),
    ],
    ids=["x-only", "x-and-width", "rounding", "box-units-blur", "box-units-flood"],
)
def test_a_primitive_subregion_defaults_to_the_filter_region(
    primitive: str, units: str, drawn: tuple[int, int]
) -> None:
    attributes = units if "Blur" in primitive else f'x="0" y="0" width="1" height="1" {units}'
    image = rasterize(_filtered(primitive, attributes), 200, 100, FETCHER)
    columns = _alpha_columns(image, 50)
    assert (columns[0], columns[-1]) == drawn


@pytest.mark.parametrize(
    "attributes",
    ['x="1e308" width="1e308"', 'x="-1e308" width="1e308"', 'width="-5"', 'y="inf" width="1e999"'],
)
def test_a_hostile_subregion_draws_nothing(attributes: str) -> None:
    image = rasterize(_filtered(f'<feFlood flood-color="#f00" {attributes}/>'), 200, 100, FETCHER)
    assert image.getbbox() is None


def test_an_offset_moves_its_input_unclipped_and_feTile_repeats_its_square() -> None:
    """feOffset is not clipped to its input's subregion, but that subregion is the one
    feTile repeats: a 10-px square offset by 5 tiles the region with 10-px steps, each
    square moved 5 px into its tile. At 1.5× an offset of 5 is 7 pixels (truncated, as
    resvg and Chrome move by whole pixels)."""
    flood = '<feFlood flood-color="#f00" x="0" y="0" width="100" height="50"/>'
    moved = rasterize(_filtered(f'{flood}<feOffset dx="50"/>'), 200, 100, FETCHER)
    assert _alpha_columns(moved, 25) == list(range(50, 150))
    tiles = (
        '<feFlood flood-color="#f00" x="0" y="0" width="10" height="10"/>'
        '<feOffset dx="5" dy="5"/><feTile/>'
    )
    image = rasterize(_filtered(tiles), 300, 150, FETCHER)
    columns = _alpha_columns(image, 11)
    assert columns[:12] == [7, 8, 9, 10, 11, 12, 13, 14, 22, 23, 24, 25]


GREEN = (0, 128, 0, 255)


@pytest.mark.parametrize(
    ("image", "scale", "corner"),
    [
        ('<feImage xlink:href="#sq"/>', 1, (100, 0)),
        ('<feImage xlink:href="#group"/>', 1, (100, 0)),
        ('<feImage xlink:href="#clone"/>', 1, (100, 0)),
        ('<feImage xlink:href="#sq" x="130" y="20"/>', 1, (130, 20)),
        ('<feImage xlink:href="#sq"/>', 2, (200, 0)),
    ],
    ids=["element", "group", "use", "subregion", "scaled"],
)
def test_fe_image_draws_its_element_at_the_subregion_corner(
    image: str, scale: int, corner: tuple[int, int]
) -> None:
    """As resvg and Chrome draw it: the element's user space, scaled as the filtered
    element's, with its origin at the subregion's corner (it was drawn where the element
    stands, outside the region here, so nothing showed)."""
    body = (
        '<defs><rect id="sq" width="20" height="20" fill="green"/>'
        '<g id="group"><rect width="20" height="20" fill="green"/></g>'
        '<use id="clone" xlink:href="#sq"/>'
        f'<filter id="f" x="0" y="0" width="1" height="1">{image}</filter></defs>'
        '<rect x="100" width="100" height="100" fill="red" filter="url(#f)"/>'
    )
    out = rasterize(svg(body), 200 * scale, 100 * scale, FETCHER).convert("RGBA")
    x, y = corner
    assert out.getpixel((x + 5, y + 5)) == GREEN
    assert out.getpixel((x + 25 * scale, y + 25 * scale))[3] == 0
    assert out.getpixel((5, 5))[3] == 0


@pytest.mark.parametrize(
    ("body", "green", "empty"),
    [
        # The filter's image is its own element: the element is drawn plainly.
        (
            '<rect id="me" x="20" y="20" width="40" height="40" fill="green" filter="url(#f)"/>',
            (30, 30),
            (80, 80),
        ),
        # The image's element has the same filter: drawn plainly inside the image.
        (
            '<defs><rect id="me" width="40" height="40" fill="green" filter="url(#f)"/></defs>'
            '<rect x="100" width="100" height="100" fill="red" filter="url(#f)"/>',
            (110, 10),
            (150, 50),
        ),
    ],
    ids=["self", "through-another"],
)
def test_a_filter_drawing_itself_through_fe_image_is_drawn_once(
    body: str, green: tuple[int, int], empty: tuple[int, int]
) -> None:
    image = '<filter id="f" x="0" y="0" width="1" height="1"><feImage xlink:href="#me"/></filter>'
    out = rasterize(svg(f"<defs>{image}</defs>{body}"), 200, 100, FETCHER).convert("RGBA")
    assert out.getpixel(green) == GREEN
    assert out.getpixel(empty)[3] == 0


def test_a_chain_of_fe_images_stays_bounded() -> None:
    """Each filter's image is an element under the next filter, 40 deep: drawn at most
    templates/effect_limits.MAX_FILTER_DEPTH deep."""
    defs = "".join(
        f'<filter id="f{i}" x="0" y="0" width="1" height="1"><feImage xlink:href="#e{i + 1}"/>'
        f'</filter><rect id="e{i + 1}" width="200" height="100" fill="green"'
        f' filter="url(#f{i + 1})"/>'
        for i in range(40)
    )
    body = f'<defs>{defs}</defs><rect width="200" height="100" filter="url(#f0)"/>'
    started = time.perf_counter()
    rasterize(svg(body), 200, 100, FETCHER)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("paint", ["FillPaint", "StrokePaint"])
def test_fill_and_stroke_paint_read_the_source_graphic(paint: str) -> None:
    """As resvg reads them (Inkscape leaves them empty): not the paint over the region, so
    a circle's filter region keeps its corners clear."""
    body = (
        f'<filter id="f" x="0" y="0" width="1" height="1"><feOffset in="{paint}"/></filter>'
        '<circle cx="50" cy="50" r="40" fill="#00f" stroke="#f00" stroke-width="4"'
        ' filter="url(#f)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")
    assert image.getpixel((50, 50)) == (0, 0, 255, 255)
    assert image.getpixel((50, 11)) == (255, 0, 0, 255)
    assert image.getpixel((14, 14))[3] == 0


def test_a_missing_filter_beside_functions_is_skipped_and_alone_hides_the_element() -> None:
    body = (
        '<rect width="200" height="100" fill="#fff"/>'
        '<rect width="100" height="100" fill="#f00" style="filter:grayscale(1) url(#none)"/>'
        '<rect x="100" width="100" height="100" fill="#f00" filter="url(#none)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGB")
    r, g, b = image.getpixel((50, 50))
    assert r == g == b < 100  # red, greyed: the functions drew, the missing url skipped
    assert image.getpixel((150, 50)) == (255, 255, 255)  # a filter that is not there


def test_css_filter_lengths_in_ems_follow_the_font_size() -> None:
    body = (
        '<rect width="200" height="100" fill="#fff"/>'
        '<rect x="20" y="20" width="20" height="20" fill="#000" font-size="20"'
        ' style="filter:drop-shadow(#00f 1.5em 0)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGB")
    assert image.getpixel((55, 30)) == (0, 0, 255)  # 30 px to the right, not 1.5 px
    assert image.getpixel((45, 30)) == (255, 255, 255)


def _small_rect(primitive: str, fill: str = "#00f") -> Image.Image:
    """A 100×60 rect at (50, 20) under one primitive, on a 200×100 canvas, as RGBA."""
    body = (
        f'<filter id="f" style="color-interpolation-filters:sRGB">{primitive}</filter>'
        f'<rect x="50" y="20" width="100" height="60" fill="{fill}" filter="url(#f)"/>'
    )
    return rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")


@pytest.mark.parametrize(
    "primitive",
    [
        '<feOffset dx="20%" dy="40%"/>',  # a percentage is no number: no offset
        '<feGaussianBlur stdDeviation="5 10 15 20"/>',  # more than two values: no blur
        '<feMorphology radius="-5"/>',  # negative: the input passes through
        '<feColorMatrix type="saturate" values="99999"/>',  # clamped to 1: unchanged
    ],
    ids=["percent-offset", "four-deviations", "negative-radius", "huge-saturate"],
)
def test_invalid_primitive_numbers_leave_the_input_as_it_is(primitive: str) -> None:
    """As resvg and browsers read them (Filter Effects 1; saturate clamped as Inkscape
    and resvg clamp it): the rect is drawn unchanged, where it is."""
    image = _small_rect(primitive, fill="#4080c0")
    assert image.getbbox() == (50, 20, 150, 80)
    assert image.getpixel((52, 22)) == (64, 128, 192, 255)
    assert image.getpixel((148, 78)) == (64, 128, 192, 255)


def test_the_clip_path_clips_the_filtered_result_not_the_source() -> None:
    """A blurred rect clipped to its left half: the blur's soft edge shows beyond the
    rect's own top edge, and the clip's edge is sharp."""
    body = (
        '<filter id="f"><feGaussianBlur stdDeviation="4"/></filter>'
        '<clipPath id="c"><rect x="0" y="0" width="100" height="100"/></clipPath>'
        '<rect x="50" y="20" width="100" height="60" fill="#00f" filter="url(#f)"'
        ' clip-path="url(#c)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")
    assert image.getpixel((75, 17))[3] > 0  # the blur, above the rect
    assert image.getpixel((99, 50))[3] == 255  # inside: the blurred source still solid
    assert image.getpixel((100, 50))[3] == 0  # the clip's edge


@pytest.mark.parametrize(
    "effect",
    [
        'filter="url(#f)"',
        'mask="url(#m)"',
        'marker-start="url(#k)" marker-end="url(#k)"',
        'style="mix-blend-mode:multiply"',
    ],
    ids=["filter", "mask", "markers", "blend"],
)
def test_a_clipping_shape_ignores_its_effects(effect: str) -> None:
    """Only a clip path's outlines count: a filter (here one that moves the shape away),
    a mask (empty), markers or a blend mode of a clipping shape change nothing."""
    body = (
        '<filter id="f"><feOffset dx="200"/></filter>'
        '<mask id="m"><rect width="1" height="1" fill="#fff"/></mask>'
        '<marker id="k" markerWidth="40" markerHeight="40" refX="20" refY="20"'
        ' markerUnits="userSpaceOnUse"><rect width="40" height="40"/></marker>'
        f'<clipPath id="c"><path d="M 50 20 H 150 V 80 H 50 Z" {effect}/></clipPath>'
        '<rect width="200" height="100" fill="#0a0" clip-path="url(#c)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")
    assert image.getbbox() == (50, 20, 150, 80)
    assert image.getpixel((100, 50)) == (0, 170, 0, 255)


@pytest.mark.parametrize(
    "body",
    [
        '<rect x="50" width="100" height="100" fill="#0ff" mix-blend-mode="multiply"/>',
        '<g isolation="isolate"><rect x="50" width="100" height="100" fill="#0ff"'
        ' style="mix-blend-mode:multiply"/></g>',
    ],
    ids=["blend-attribute", "isolation-attribute"],
)
def test_blend_mode_and_isolation_are_css_properties_only(body: str) -> None:
    """No presentation attribute: `mix-blend-mode="multiply"` draws normally, and an
    `isolation="isolate"` attribute does not isolate the group (so the cyan multiplies
    the yellow under it), as resvg and browsers read them."""
    image = rasterize(svg('<rect width="200" height="100" fill="#ff0"/>' + body), 200, 100, FETCHER)
    expected = (0, 255, 255) if "mix-blend-mode=" in body else (0, 255, 0)
    assert image.convert("RGB").getpixel((100, 50)) == expected


STAR = "M 100 5 L 130 95 L 50 40 H 150 L 70 95 Z"


@pytest.mark.parametrize(
    ("clip", "inside", "outside"),
    [
        # evenodd: the star's centre is not inside (CairoSVG clips with nonzero only).
        (f'<path d="{STAR}" clip-rule="evenodd"/>', (100, 30), (100, 60)),
        # A clip-path on a clipping child intersects it: only the star's left half.
        (
            f'<path d="{STAR}" clip-path="url(#half)"/>',
            (90, 50),
            (110, 50),
        ),
        # A group is no valid child: nothing is clipped in, so nothing shows.
        (f'<g><path d="{STAR}"/></g>', None, (100, 50)),
    ],
    ids=["evenodd", "clip-on-child", "group-child"],
)
def test_clip_paths_cairosvg_gets_wrong_are_drawn_as_coverage(
    clip: str, inside: tuple[int, int] | None, outside: tuple[int, int]
) -> None:
    body = (
        '<clipPath id="half"><rect width="100" height="100"/></clipPath>'
        f'<clipPath id="c">{clip}</clipPath>'
        '<rect width="200" height="100" fill="#0a0" clip-path="url(#c)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")
    if inside is not None:
        assert image.getpixel(inside) == (0, 170, 0, 255)
    assert image.getpixel(outside)[3] == 0


def test_a_transform_on_a_bounding_box_clip_applies_after_the_box() -> None:
    """clipPathUnits=objectBoundingBox with a transform: the box's units first, then the
    transform in user space (translate(25) moves the clip 25 px, not 25 boxes)."""
    body = (
        '<clipPath id="c" clipPathUnits="objectBoundingBox" transform="translate(25 0)">'
        '<rect width="0.5" height="1"/></clipPath>'
        '<rect width="100" height="100" fill="#0a0" clip-path="url(#c)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")
    assert image.getpixel((10, 50))[3] == 0
    assert image.getpixel((40, 50)) == (0, 170, 0, 255)
    assert image.getpixel((80, 50))[3] == 0


def _with_text(document_bytes: bytes, width: int = 200, height: int = 100) -> Image.Image:
    """Rendered as the worker renders it: its texts set by PixelDrive's engine first
    (glyph groups, not CairoSVG's <text>)."""
    from pathlib import Path

    from lxml import etree

    from pixeldrive.text import document
    from pixeldrive.text.fonts import library_for
    from pixeldrive.text.runs import GlyphRuns
    from pixeldrive.text.svgtext import TextSetter

    library = library_for(str(Path(__file__).parents[2] / "conf" / "fonts.conf"))
    runs = GlyphRuns()
    root = etree.fromstring(document_bytes)
    document.prepare(root, (), TextSetter(library, runs))
    return rasterize(etree.tostring(root), width, height, FETCHER, runs).convert("RGBA")


def test_text_in_a_clip_path_still_clips_when_the_clip_is_drawn_as_coverage() -> None:
    body = (
        '<clipPath id="c"><rect width="10" height="10" clip-rule="evenodd"/>'
        '<text x="20" y="80" font-size="80" font-family="Inter">H</text></clipPath>'
        '<rect width="200" height="100" fill="#0a0" clip-path="url(#c)"/>'
    )
    image = _with_text(svg(body))
    assert image.getpixel((5, 5)) == (0, 170, 0, 255)
    box = image.getbbox()
    assert box is not None
    assert box[2] > 40  # the letter shows


def test_fe_image_draws_an_embedded_image_into_its_subregion() -> None:
    """A 40×40 red PNG in a subregion 100 wide and 40 high: drawn at its aspect ratio
    (xMidYMid meet: 40×40, centred at x 30…70), and stretched with
    preserveAspectRatio="none"."""
    for ratio, drawn in (("", (30, 69)), (' preserveAspectRatio="none"', (0, 99))):
        body = (
            f'<filter id="f" filterUnits="userSpaceOnUse" x="0" y="0" width="200" height="100">'
            f'<feImage x="0" y="0" width="100" height="40"{ratio} xlink:href="{RED_PNG}"/>'
            '</filter><rect width="200" height="100" fill="#00f" filter="url(#f)"/>'
        )
        image = rasterize(svg(body), 200, 100, FETCHER).convert("RGBA")
        columns = _alpha_columns(image, 20)
        assert (columns[0], columns[-1]) == drawn
        assert image.getpixel((50, 20)) == (255, 0, 0, 255)


def _lit(light: str, units: str = "") -> Image.Image:
    """A 100×100 opaque square lit by a diffuse light, as RGB."""
    body = (
        f'<filter id="f" x="0" y="0" width="1" height="1" {units}'
        ' style="color-interpolation-filters:sRGB">'
        f"<feDiffuseLighting>{light}</feDiffuseLighting></filter>"
        '<rect width="100" height="100" filter="url(#f)"/>'
    )
    return rasterize(svg(body, 100, 100), 100, 100, FETCHER).convert("RGB")


def test_a_spot_lights_exponent_is_clamped_to_one_and_up() -> None:
    """specularExponent="-10" on a spot light lights as 1 does (Chrome and resvg clamp
    it to 1…128), not black."""
    spot = '<feSpotLight x="50" y="50" z="40" pointsAtX="50" pointsAtY="50" pointsAtZ="0"{}/>'
    clamped = _lit(spot.format(' specularExponent="-10"'))
    one = _lit(spot.format(' specularExponent="1"'))
    assert clamped.getpixel((50, 50))[0] > 200
    assert _differing(clamped, one) == 0


def test_a_lights_z_is_in_user_units_under_bounding_box_units() -> None:
    """primitiveUnits=objectBoundingBox: x and y are fractions of the box, z is not
    scaled by it (as resvg reads it): z="0.2" is a light almost on the surface, which
    lights a flat surface hardly at all."""
    image = _lit('<fePointLight x="0.5" y="0.5" z="0.2"/>', 'primitiveUnits="objectBoundingBox"')
    assert image.getpixel((20, 20))[0] < 10


def test_of_two_functions_for_one_channel_the_last_applies() -> None:
    """Two feFuncB: the last one (blue → 0) applies alone, not both in turn (the first,
    blue → 1, then the last on its result)."""
    funcs = '<feFuncB type="table" tableValues="0 0 1 1"/><feFuncB type="linear" slope="0.5"/>'
    image = _small_rect(f"<feComponentTransfer>{funcs}</feComponentTransfer>", fill="#4080c0")
    assert image.getpixel((100, 50)) == (64, 128, 96, 255)


@pytest.mark.parametrize(
    ("attributes", "drawn"),
    [
        # 10 taps: under the 81-tap bound, drawn (a box blur along x).
        ('order="10 1" kernelMatrix="' + " ".join(["0.1"] * 10) + '"', True),
        ('order="3" kernelMatrix="1 1 1 1 1 1 1 1 1" divisor="0"', False),  # an error
        ('order="82 1" kernelMatrix="' + " ".join(["1"] * 82) + '"', False),  # past the bound
    ],
    ids=["ten-by-one", "divisor-0", "past-the-bound"],
)
def test_a_convolution_is_bounded_by_its_taps(attributes: str, drawn: bool) -> None:
    image = _small_rect(f"<feConvolveMatrix {attributes}/>")
    assert (image.getpixel((100, 50))[3] == 255) is drawn


@pytest.mark.parametrize(("exponent", "lit"), [("0", False), ("256", False), ("1", True)])
def test_a_specular_exponent_out_of_range_lights_nothing(exponent: str, lit: bool) -> None:
    """specularExponent must be in 1…128 (SVG 1.1): out of it the primitive is
    transparent, as resvg draws it."""
    body = (
        '<filter id="f" x="0" y="0" width="1" height="1">'
        f'<feSpecularLighting specularConstant="5" specularExponent="{exponent}">'
        '<fePointLight x="50" y="50" z="30"/></feSpecularLighting></filter>'
        '<rect width="100" height="100" filter="url(#f)"/>'
    )
    image = rasterize(svg(body, 100, 100), 100, 100, FETCHER).convert("RGBA")
    assert (image.getbbox() is not None) is lit


@pytest.mark.parametrize("shape", ["circle", "path", "text"])
def test_a_bounding_box_clip_on_a_shape_without_width_uses_its_real_box(shape: str) -> None:
    """CairoSVG scales a bounding-box clip by the element's width and height attributes,
    which only a rect has: a circle or a path was clipped to nothing, a set text failed
    to draw (an invalid matrix). The clip's left half of the box shows, not the right."""
    shapes = {
        "circle": '<circle cx="100" cy="50" r="40" fill="#0a0" clip-path="url(#c)"/>',
        "path": '<path d="M 60 10 H 140 V 90 H 60 Z" fill="#0a0" clip-path="url(#c)"/>',
        "text": '<text x="20" y="80" font-size="60" font-family="Inter" fill="#0a0"'
        ' clip-path="url(#c)">HHHH</text>',
    }
    body = (
        '<clipPath id="c" clipPathUnits="objectBoundingBox">'
        '<rect width="0.5" height="1"/></clipPath>' + shapes[shape]
    )
    image = _with_text(svg(body))
    whole = _with_text(svg(body.replace(' clip-path="url(#c)"', "")))
    box, full = image.getbbox(), whole.getbbox()
    assert box is not None
    assert full is not None
    assert box[0] == full[0]
    # The middle of the box (a text's is its glyphs' advances, not their ink: ±8 px).
    assert abs(box[2] - (full[0] + full[2]) / 2) <= (8 if shape == "text" else 1)


def test_a_clip_path_with_an_invalid_transform_shows_nothing() -> None:
    body = (
        '<clipPath id="c" transform="matrix(0 0 0 0 0 0)"><rect width="200" height="100"/>'
        '</clipPath><rect width="200" height="100" fill="#0a0" clip-path="url(#c)"/>'
    )
    assert rasterize(svg(body), 200, 100, FETCHER).getbbox() is None


def test_a_clipping_text_with_spans_clips_with_every_span() -> None:
    """A set text's spans are runs drawn one after the other: each used to start a new
    path, so a clip kept only the last run's outlines (here the space between the spans:
    nothing showed)."""
    body = (
        '<clipPath id="c"><text x="10" y="80" font-size="60" font-family="Inter">'
        '<tspan>HH</tspan> <tspan font-weight="bold">HH</tspan></text></clipPath>'
        '<rect width="200" height="100" fill="#0a0" clip-path="url(#c)"/>'
    )
    image = _with_text(svg(body))
    box = image.getbbox()
    assert box is not None
    assert box[0] < 20  # the first span
    assert box[2] > 120  # the last span


def test_display_none_on_a_clip_path_is_ignored() -> None:
    """display does not apply to a clipPath (never drawn itself): its shapes still clip."""
    body = (
        '<clipPath id="c" display="none"><rect width="100" height="100"/></clipPath>'
        '<rect width="200" height="100" fill="#0a0" clip-path="url(#c)"/>'
    )
    assert rasterize(svg(body), 200, 100, FETCHER).getbbox() == (0, 0, 100, 100)


@pytest.mark.parametrize(
    ("order", "stroke_on_top"),
    [("stroke", False), ("stroke stroke", True), ("stroke invalid", True), ("fill qwe", True)],
)
def test_an_invalid_paint_order_is_the_normal_order(order: str, stroke_on_top: bool) -> None:
    """A repeated or unknown part makes paint-order invalid (CSS): the stroke is drawn
    over the fill, as without it; a valid "stroke" puts the fill over the stroke."""
    body = (
        f'<rect x="50" y="20" width="100" height="60" fill="#0a0" stroke="#00f"'
        f' stroke-width="20" paint-order="{order}"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER).convert("RGB")
    assert image.getpixel((52, 50)) == ((0, 0, 255) if stroke_on_top else (0, 170, 0))


def test_a_clip_path_on_a_clipping_child_is_in_the_childs_user_space() -> None:
    """The child's transform moves its own clip-path too: a child moved right by 100
    with a clip of its left half keeps that half, now at x 100…150."""
    body = (
        '<clipPath id="half"><rect width="50" height="100"/></clipPath>'
        '<clipPath id="c"><rect width="100" height="100" transform="translate(100 0)"'
        ' clip-path="url(#half)"/></clipPath>'
        '<rect width="200" height="100" fill="#0a0" clip-path="url(#c)"/>'
    )
    assert rasterize(svg(body), 200, 100, FETCHER).getbbox() == (100, 0, 150, 100)


def test_a_filter_length_scales_by_the_device_axis_it_runs_along() -> None:
    """Filters run on device pixels: dx moves along the device's x by the matrix's scale
    along that axis (row norm, as resvg reads it). Under rotate(90) scale(2 1) a user
    x unit is 2 device y pixels but 1 device x pixel: dx=10 moves 10 px, not 20."""
    body = (
        '<filter id="f" x="-1" y="-1" width="3" height="3"><feOffset dx="10"/></filter>'
        '<rect width="10" height="40" y="-40" fill="#0a0" filter="url(#f)"'
        ' transform="translate(100 20) rotate(90) scale(2 1)"/>'
    )
    image = rasterize(svg(body), 200, 100, FETCHER)
    assert _alpha_columns(image, 30)[0] == 110


def test_a_paths_bounding_box_goes_around_its_curves_not_its_control_points() -> None:
    """A flood over the path's box: the curve's top is at y 65 (its control point at 45
    is not part of the box, as the spec defines it)."""
    body = (
        '<filter id="f" x="0" y="0" width="1" height="1"><feFlood flood-color="#0a0"/></filter>'
        '<path d="M 50 85 L 65 135 H 150 V 85 Q 100 45 50 85 Z" filter="url(#f)"/>'
    )
    image = rasterize(svg(body, 200, 150), 200, 150, FETCHER)
    assert image.getbbox() == (50, 65, 150, 135)


def test_a_negative_turbulence_seed_is_set_up_as_the_spec_sets_it_up() -> None:
    """The spec's setup_seed in C: a seed of -20 becomes 21 (C's remainder keeps the
    sign; Python's did not, and drew another noise than resvg and browsers)."""

    def noise(seed: str) -> Image.Image:
        body = (
            f'<filter id="f"><feTurbulence baseFrequency="0.05" seed="{seed}"/></filter>'
            '<rect width="100" height="100" filter="url(#f)"/>'
        )
        return rasterize(svg(body, 100, 100), 100, 100, FETCHER)

    assert ImageChops.difference(noise("-20"), noise("21")).getbbox() is None

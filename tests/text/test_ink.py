"""Text fitting, judged by the ink it leaves: where the drawn pixels are, not how.

Each test writes a small Inkscape-style template with a text field, renders a value
through `render_file` and measures the non-white pixels. Frames: `data-pd-box` (a rect),
Inkscape's `shape-inside` (the rect in `<defs>`) and `inline-size` (SPEC §2).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from pixeldrive.cli.file_renders import render_file
from pixeldrive.core.config import Settings

# Antialiasing may put a faint pixel just outside a frame; an ink pixel is one darker than
# this (of 255) in its darkest channel.
AA = 1
INK_LEVEL = 160

LONG = "Fitting a really long headline into a small frame is what this engine must do well"
FRAME = (20, 20, 300, 80)  # x, y, width, height of #frame in the templates below

Box = tuple[int, int, int, int]  # left, top, right, bottom (exclusive), as Pillow gives it
Render = Callable[[str, str], Image.Image]

SVG_HEAD = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg width="600" height="200" viewBox="0 0 600 200" version="1.1" id="svg5"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   xmlns="http://www.w3.org/2000/svg" xmlns:svg="http://www.w3.org/2000/svg">
"""
STYLE = "font-size:48px;line-height:1.25;font-family:Inter;-inkscape-font-specification:Inter"


def boxed(options: str) -> str:
    """A clicked text at the top left of a `#frame` rect, with field options `options`."""
    return f"""{SVG_HEAD}  <defs id="defs2" />
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <rect style="fill:#ffffff;stroke:none" id="bg" width="600" height="200" x="0" y="0" />
    <rect style="fill:none;stroke:none" id="frame" x="20" y="20" width="300" height="80" />
    <text xml:space="preserve" style="{STYLE};fill:#000000" x="20" y="75" id="text1"
       data-pd-field="title" {options}><tspan sodipodi:role="line" id="tspan1"
       x="20" y="75">Designed title</tspan></text>
  </g>
</svg>
"""


def shape_inside(options: str, size: int = 24) -> str:
    """Click-and-drag text as Inkscape 1.2 saves it: the frame in <defs>, the text with
    `shape-inside`, and Inkscape's own pre-wrapped fallback lines (no sodipodi:role)."""
    return f"""{SVG_HEAD}  <defs id="defs2">
    <rect x="20" y="20" width="300" height="80" id="rect123" />
  </defs>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <rect style="fill:#ffffff;stroke:none" id="bg" width="600" height="200" x="0" y="0" />
    <text xml:space="preserve" id="text125" data-pd-field="title" {options}
       style="font-size:{size}px;line-height:1.25;font-family:Inter;-inkscape-font-specification:Inter;white-space:pre;shape-inside:url(#rect123);display:inline;fill:#000000"><tspan
         x="20" y="42.211268" id="tspan21">Sphinx of black quartz, judge </tspan><tspan
         x="20" y="72.211268" id="tspan23">my vow. How vexingly quick </tspan><tspan
         x="20" y="102.21127" id="tspan25">daft zebras jump!</tspan></text>
  </g>
</svg>
"""


def inline_size(options: str) -> str:
    """A fixed-width column (`inline-size:320`) with Inkscape's fallback lines."""
    return f"""{SVG_HEAD}  <defs id="defs2" />
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <rect style="fill:#ffffff;stroke:none" id="bg" width="600" height="200" x="0" y="0" />
    <text xml:space="preserve" data-pd-field="title" {options}
       style="font-size:24px;line-height:1.25;font-family:Inter;-inkscape-font-specification:Inter;inline-size:320;display:inline;fill:#000000"
       x="20" y="50" id="text135"><tspan
         x="20" y="50" id="tspan19">Text typed into a fixed-</tspan><tspan
         x="20" y="80.000002" id="tspan21">width column wraps at the </tspan><tspan
         x="20" y="110" id="tspan23">inline size width.</tspan></text>
  </g>
</svg>
"""


def ink_mask(image: Image.Image) -> Image.Image:
    """A 1-bit image of the inked pixels (darkest channel below INK_LEVEL)."""
    rgb = image.convert("RGB")
    darkest = ImageChops.darker(
        ImageChops.darker(rgb.getchannel(0), rgb.getchannel(1)), rgb.getchannel(2)
    )
    return darkest.point(lambda v: 255 if v < INK_LEVEL else 0).convert("1")


def ink_bbox(image: Image.Image, region: Box | None = None) -> Box | None:
    """The bounding box of the ink (in image coordinates), within `region` if given."""
    mask = ink_mask(image)
    if region is None:
        return mask.getbbox()
    box = mask.crop(region).getbbox()
    if box is None:
        return None
    return (box[0] + region[0], box[1] + region[1], box[2] + region[0], box[3] + region[1])


def ink_bands(image: Image.Image, min_gap: int = 2) -> list[tuple[int, int]]:
    """Horizontal bands of ink (top, bottom exclusive) separated by >= min_gap blank rows:
    one band per line of text."""
    mask = ink_mask(image)
    width, height = mask.size
    rows = [mask.crop((0, y, width, y + 1)).getbbox() is not None for y in range(height)]
    bands: list[tuple[int, int]] = []
    for y, inked in enumerate(rows):
        if not inked:
            continue
        if bands and y - bands[-1][1] < min_gap:
            bands[-1] = (bands[-1][0], y + 1)
        else:
            bands.append((y, y + 1))
    return bands


def frame_box(x: float, y: float, width: float, height: float) -> Box:
    return (int(x), int(y), int(x + width), int(y + height))


def assert_inside(ink: Box | None, frame: Box, what: str) -> None:
    assert ink is not None, f"{what}: no ink at all"
    left, top, right, bottom = frame
    inside = (
        ink[0] >= left - AA
        and ink[1] >= top - AA
        and ink[2] <= right + AA
        and ink[3] <= bottom + AA
    )
    assert inside, f"{what}: ink {ink} runs outside the frame {frame} (±{AA} px)"


@pytest.fixture
def render(make_settings: Callable[..., Settings], tmp_path: Path) -> Render:
    """render(svg, value) -> the rendered image of template `tpl` with title=value."""
    templates = tmp_path / "templates"
    templates.mkdir()
    settings = make_settings(templates_dir=templates)
    count = 0

    def run(svg: str, value: str) -> Image.Image:
        nonlocal count
        count += 1
        (templates / "tpl.svg").write_text(svg, encoding="utf-8")
        out = tmp_path / f"render-{count}.png"
        render_file(settings, "tpl", {"title": value}, out)
        with Image.open(out) as image:
            return image.convert("RGB")

    return run


FRAME_BOX = frame_box(*FRAME)


def test_shrink_puts_a_long_value_inside_the_frame(render: Render) -> None:
    image = render(boxed('data-pd-fit="shrink" data-pd-min-size="10" data-pd-box="#frame"'), LONG)
    assert_inside(ink_bbox(image), FRAME_BOX, "fit=shrink, long value")


def test_shrink_keeps_the_designed_size_of_a_short_value(render: Render) -> None:
    fitted = ink_bbox(
        render(boxed('data-pd-fit="shrink" data-pd-min-size="10" data-pd-box="#frame"'), "Hi")
    )
    plain = ink_bbox(render(boxed(""), "Hi"))
    assert fitted is not None
    assert plain is not None
    assert fitted == plain, f"a value that fits was resized: {fitted} vs unfitted {plain}"


def test_wrap_in_shape_inside_makes_several_lines_inside_the_frame(render: Render) -> None:
    image = render(shape_inside('data-pd-fit="wrap"'), LONG)
    bands = ink_bands(image)
    assert len(bands) >= 2, f"fit=wrap drew {len(bands)} line(s) {bands}, not several"
    assert_inside(ink_bbox(image), FRAME_BOX, "fit=wrap in shape-inside")


def test_ellipsis_cuts_a_long_value_to_one_line_ending_with_an_ellipsis(render: Render) -> None:
    options = 'data-pd-fit="ellipsis" data-pd-box="#frame"'
    image = render(boxed(options), LONG)
    bands = ink_bands(image)
    assert len(bands) == 1, f"fit=ellipsis drew {len(bands)} lines {bands}"
    ink = ink_bbox(image)
    assert_inside(ink, FRAME_BOX, "fit=ellipsis")
    assert ink is not None
    assert ink[2] - ink[0] <= FRAME[2], f"ellipsised ink is {ink[2] - ink[0]} px wide"
    # The last glyph must be "…": the right end of the ink looks like "…" drawn alone.
    alone = ink_bbox(render(boxed(options), "\u2026"))
    assert alone is not None
    dots_width = alone[2] - alone[0]
    tail = ink_bbox(image, (ink[2] - dots_width + 2, 0, ink[2], image.height))
    assert tail is not None
    ends = (
        f"the last {dots_width} px of ink span rows {tail[1]}-{tail[3]}, "
        f"'…' alone spans {alone[1]}-{alone[3]}"
    )
    assert abs(tail[1] - alone[1]) <= AA, f"the line does not end with '…': {ends}"
    assert abs(tail[3] - alone[3]) <= AA, f"the line does not end with '…': {ends}"


def test_max_lines_caps_wrapping_at_two_lines(render: Render) -> None:
    tall = boxed('data-pd-fit="wrap" data-pd-max-lines="2" data-pd-box="#frame"').replace(
        'height="80"', 'height="170"'
    )
    image = render(tall, LONG + " " + LONG)
    bands = ink_bands(image)
    assert 1 <= len(bands) <= 2, f"max-lines=2 drew {len(bands)} lines {bands}"
    assert_inside(ink_bbox(image), frame_box(20, 20, 300, 170), "fit=wrap max-lines=2")


def test_an_empty_value_leaves_no_fallback_lines(render: Render) -> None:
    image = render(shape_inside('data-pd-fit="wrap"'), "")
    ink = ink_bbox(image)
    assert ink is None, f"an empty value left ink at {ink}: Inkscape's fallback lines remain"


def test_inline_size_wraps_a_long_value_within_its_width(render: Render) -> None:
    image = render(inline_size('data-pd-fit="wrap"'), LONG)
    bands = ink_bands(image)
    assert len(bands) >= 2, f"inline-size drew {len(bands)} line(s) {bands}, not several"
    ink = ink_bbox(image)
    assert ink is not None
    column = f"ink {ink} is wider than the inline-size column x=20..340"
    assert ink[0] >= 20 - AA, column
    assert ink[2] <= 20 + 320 + AA, column

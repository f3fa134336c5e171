"""SVG bytes → pixels with CairoSVG, handed to Pillow without a PNG round trip."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from pixeldrive.render.fetcher import Fetcher
from pixeldrive.render.png_bands import KeptRows
from pixeldrive.text.runs import GlyphRuns

FIXED_DATE = "2000-01-01T00:00:00Z"


def rasterize(
    svg: bytes, width: int, height: int, fetcher: Fetcher, runs: GlyphRuns | None = None
) -> Image.Image:
    """Draw `svg` at exactly width×height px (the root's preserveAspectRatio decides how
    a different aspect fits) and return an RGBA image; its glyph elements refer to `runs`
    (none: a document without any).

    CairoSVG only ever sees `bytestring` and our `fetcher`, so it cannot read local files
    or the network by itself. Its exceptions propagate: the worker translates them.
    """
    # Imported here: cairosvg costs ~150 ms to import, paid once in each worker.
    from pixeldrive.render.effects.surfaces import PNGWithEffects

    surface = PNGWithEffects(
        _tree(svg, fetcher),
        None,
        96,
        glyph_runs=runs if runs is not None else GlyphRuns(),
        output_width=width,
        output_height=height,
    )
    return _finished(surface.cairo)


def rasterize_layers(
    backdrop: bytes,
    overlay: bytes | None,
    width: int,
    height: int,
    fetcher: Fetcher,
    runs: GlyphRuns,
) -> tuple[Image.Image, bytes, KeptRows]:
    """Draw `backdrop`, keep a copy of its pixels, draw `overlay` (if any) on top: the
    image, the backdrop's pixels (cairo ARGB32, for `rasterize_over`) and the rows the
    overlay left as they were. Both documents' glyph elements refer to `runs`."""
    from pixeldrive.render.effects.surfaces import PNGWithEffects

    target = PNGWithEffects(
        _tree(backdrop, fetcher),
        None,
        96,
        glyph_runs=runs,
        output_width=width,
        output_height=height,
    ).cairo
    target.flush()
    pixels = bytes(target.get_data())
    if overlay is not None:
        _draw_on(target, overlay, width, height, fetcher, runs)
    target.flush()
    kept = kept_rows(pixels, target.get_data(), height)
    return _finished(target), pixels, kept


def rasterize_over(
    pixels: bytes,
    overlay: bytes | None,
    width: int,
    height: int,
    fetcher: Fetcher,
    runs: GlyphRuns,
) -> tuple[Image.Image, KeptRows]:
    """Draw `overlay` (if any; its glyph elements refer to `runs`) onto a copy of a
    backdrop's pixels: the image and the rows the overlay left as they were."""
    import cairocffi

    stride = cairocffi.ImageSurface.format_stride_for_width(cairocffi.FORMAT_ARGB32, width)
    drawn = _scratch(pixels)
    target = cairocffi.ImageSurface.create_for_data(
        drawn, cairocffi.FORMAT_ARGB32, width, height, stride
    )
    if overlay is not None:
        _draw_on(target, overlay, width, height, fetcher, runs)
    target.flush()
    return _finished(target), kept_rows(pixels, drawn, height)


def kept_rows(before: bytes, after: bytes | memoryview, height: int) -> KeptRows:
    """Per row of two same-sized pixel buffers, whether its bytes are the same in both:
    a memcmp a row with no copy (`startswith` at an offset; about 0.2 ms for og-card),
    and no numpy in a worker that draws no filter."""
    new = memoryview(after)
    stride = len(before) // height if height else 0
    rows = range(0, stride * height, stride)
    return [before.startswith(new[i : i + stride], i) for i in rows]


_SCRATCH = bytearray()


def _scratch(pixels: bytes) -> memoryview:
    """`pixels` copied into the process's one drawing buffer (grown, never shrunk): a
    render does not allocate, fill and free megabytes that the allocator then keeps."""
    global _SCRATCH
    if len(_SCRATCH) < len(pixels):
        _SCRATCH = bytearray(len(pixels))
    view = memoryview(_SCRATCH)[: len(pixels)]
    view[:] = pixels
    return view


def _tree(svg: bytes, fetcher: Fetcher) -> Any:
    from cairosvg.parser import Tree

    return Tree(bytestring=svg, url_fetcher=fetcher, unsafe=False)


def _draw_on(
    target: Any, svg: bytes, width: int, height: int, fetcher: Fetcher, runs: GlyphRuns
) -> None:
    """CairoSVG's PNG drawing, onto an existing cairo image surface."""
    from pixeldrive.render.effects.surfaces import PixelsWithEffects

    tree = _tree(svg, fetcher)
    PixelsWithEffects(tree, target, glyph_runs=runs, output_width=width, output_height=height)


def _finished(target: Any) -> Image.Image:
    target.flush()
    image = to_pillow(
        target.get_data(), target.get_width(), target.get_height(), target.get_stride()
    )
    target.finish()
    return image


def to_pdf(svg: bytes, width: int, height: int, fetcher: Fetcher, runs: GlyphRuns) -> bytes:
    """A vector PDF page of width×height px (at 96 dpi: 0.75 pt per px), its glyph
    elements drawn from `runs`. The creation and modification dates are fixed, so the
    same spec gives the same bytes."""
    from cairocffi import PDF_METADATA_CREATE_DATE, PDF_METADATA_CREATOR, PDF_METADATA_MOD_DATE

    from pixeldrive.render.effects.surfaces import PDFWithEffects

    out = io.BytesIO()
    surface = PDFWithEffects(
        _tree(svg, fetcher), out, 96, glyph_runs=runs, output_width=width, output_height=height
    )
    for field, value in (
        (PDF_METADATA_CREATE_DATE, FIXED_DATE),
        (PDF_METADATA_MOD_DATE, FIXED_DATE),
        (PDF_METADATA_CREATOR, "PixelDrive"),
    ):
        surface.cairo.set_metadata(field, value)
    surface.finish()
    return out.getvalue()


def to_pillow(data: bytes, width: int, height: int, stride: int) -> Image.Image:
    """cairo ARGB32 memory → an RGB image when fully opaque, else RGBA.

    ARGB32 is premultiplied and native-endian: BGRA in memory on x86 and ARM. Opaque
    pixels need no un-premultiplying, and most designed templates are opaque, so the
    alpha is checked first and the cheap path taken.
    """
    in_place = Image.frombuffer("RGBA", (width, height), data, "raw", "RGBA", stride, 1)
    alpha = in_place.getchannel(3).getextrema()
    if alpha == (255, 255):
        return Image.frombuffer("RGB", (width, height), data, "raw", "BGRX", stride, 1)
    return Image.frombuffer("RGBA", (width, height), data, "raw", "BGRa", stride, 1)

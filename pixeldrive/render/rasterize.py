"""SVG bytes → pixels with CairoSVG, handed to Pillow without a PNG round trip."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from pixeldrive.render.fetcher import Fetcher

FIXED_DATE = "2000-01-01T00:00:00Z"


def rasterize(svg: bytes, width: int, height: int, fetcher: Fetcher) -> Image.Image:
    """Draw `svg` at exactly width×height px (the root's preserveAspectRatio decides how
    a different aspect fits) and return an RGBA image.

    CairoSVG only ever sees `bytestring` and our `fetcher`, so it cannot read local files
    or the network by itself. Its exceptions propagate: the worker translates them.
    """
    # Imported here: cairosvg costs ~150 ms to import, paid once in each worker.
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    tree = Tree(bytestring=svg, url_fetcher=fetcher, unsafe=False)
    surface = PNGSurface(tree, None, 96, output_width=width, output_height=height)
    return _finished(surface.cairo)


def rasterize_layers(
    backdrop: bytes, overlay: bytes | None, width: int, height: int, fetcher: Fetcher
) -> tuple[Image.Image, bytes]:
    """Draw `backdrop`, keep a copy of its pixels, draw `overlay` (if any) on top: the
    image and the backdrop's pixels (cairo ARGB32, for `rasterize_over`)."""
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    tree = Tree(bytestring=backdrop, url_fetcher=fetcher, unsafe=False)
    target = PNGSurface(tree, None, 96, output_width=width, output_height=height).cairo
    target.flush()
    pixels = bytes(target.get_data())
    if overlay is not None:
        _draw_on(target, overlay, width, height, fetcher)
    return _finished(target), pixels


def rasterize_over(
    pixels: bytes, overlay: bytes | None, width: int, height: int, fetcher: Fetcher
) -> Image.Image:
    """Draw `overlay` (if any) onto a copy of a backdrop's pixels."""
    import cairocffi

    stride = cairocffi.ImageSurface.format_stride_for_width(cairocffi.FORMAT_ARGB32, width)
    target = cairocffi.ImageSurface.create_for_data(
        _scratch(pixels), cairocffi.FORMAT_ARGB32, width, height, stride
    )
    if overlay is not None:
        _draw_on(target, overlay, width, height, fetcher)
    return _finished(target)


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


def _draw_on(target: Any, svg: bytes, width: int, height: int, fetcher: Fetcher) -> None:
    """CairoSVG's PNG drawing, onto an existing cairo image surface."""
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    class OnPixels(PNGSurface):  # type: ignore[misc]
        def _create_surface(self, w: float, h: float) -> tuple[Any, int, int]:
            return target, target.get_width(), target.get_height()

    tree = Tree(bytestring=svg, url_fetcher=fetcher, unsafe=False)
    OnPixels(tree, None, 96, output_width=width, output_height=height)


def _finished(target: Any) -> Image.Image:
    target.flush()
    image = to_pillow(
        target.get_data(), target.get_width(), target.get_height(), target.get_stride()
    )
    target.finish()
    return image


def to_pdf(svg: bytes, width: int, height: int, fetcher: Fetcher) -> bytes:
    """A vector PDF page of width×height px (at 96 dpi: 0.75 pt per px). The creation
    and modification dates are fixed, so the same spec gives the same bytes."""
    from cairocffi import PDF_METADATA_CREATE_DATE, PDF_METADATA_CREATOR, PDF_METADATA_MOD_DATE
    from cairosvg.parser import Tree
    from cairosvg.surface import PDFSurface

    out = io.BytesIO()
    tree = Tree(bytestring=svg, url_fetcher=fetcher, unsafe=False)
    surface = PDFSurface(tree, out, 96, output_width=width, output_height=height)
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

"""SVG bytes → pixels with CairoSVG, handed to Pillow without a PNG round trip."""

from __future__ import annotations

from PIL import Image

from pixeldrive.render.fetcher import Fetcher


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
    target = surface.cairo
    target.flush()
    w, h, stride = target.get_width(), target.get_height(), target.get_stride()
    # cairo's ARGB32 is premultiplied and native-endian (BGRA in memory on x86/ARM):
    # Pillow's "BGRa" raw mode un-premultiplies while copying.
    image = Image.frombuffer("RGBA", (w, h), bytes(target.get_data()), "raw", "BGRa", stride, 1)
    target.finish()
    return image

"""PixelDrive: SVG templates plus JSON in, negotiated and cached raster images out."""

__version__ = "0.1.0"

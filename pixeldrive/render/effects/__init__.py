"""Filter effects, masks and blending drawn by PixelDrive around CairoSVG's drawing.

CairoSVG draws no filter primitive, masks by alpha only and ignores mix-blend-mode. The
surfaces of `surfaces.py` take over the drawing of an element that has one of those: the
element itself is drawn by CairoSVG (and the text engine) onto pixels of its own, the
filter chain runs on those premultiplied pixels (numpy, `chain.py` and the primitive
modules), the mask and the opacity apply, and the result is composited back into the
cairo drawing at the element's place with its blend mode. An element without any of them
is drawn by CairoSVG exactly as before. Clip paths CairoSVG gets wrong are drawn as
coverage masks (`clips.py`).
"""

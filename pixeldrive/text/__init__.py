"""The text engine: fonts, shaping (HarfBuzz), bidi, line breaking, fitting, glyph paths."""

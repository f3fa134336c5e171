"""What crosses the process boundary: plain, small, picklable data."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixeldrive.core.entry_writer import EntryWriter
from pixeldrive.core.render_spec import RenderSpec
from pixeldrive.text.report import TextReport

FRAME = struct.Struct("!Q")
"""Each message between the server and a worker: its pickle's length, then the pickle."""


@dataclass(frozen=True, slots=True)
class EncodeOptions:
    """Encoder settings per format (tuned for speed at sane sizes; see README)."""

    png_compress_level: int = 7
    png_filter: str = "none"
    jpeg_quality: int = 85
    webp_quality: int = 80
    webp_method: int = 1
    avif_quality: int = 64
    avif_speed: int = 8
    avif_tune: str = "psnr"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    """Given once to every worker process when it starts."""

    fontconfig_file: str
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    max_data_uri_bytes: int = 5 * 2**20
    max_image_pixels: int = 40_000_000
    nice: int = 10
    missing_glyphs: str = "refuse"  # or "replace": draw U+FFFD where no font has one
    fallback_fonts: tuple[str, ...] = ()  # families tried in order; () = the engine's own
    han_language: str = "zh-Hans"  # Han's forms when nothing in the text says otherwise
    backdrop_bytes: int = 32 * 2**20  # pixels of backdrops kept per worker; 0: none
    glyph_bytes: int = 16 * 2**20  # glyph outlines and colour glyphs kept; 0: none
    # A worker idle this long gives its free heap back (render/heap.py); 0: never.
    idle_release_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class RenderJob:
    """One render: a template version (by the path of its bytes), validated field values,
    the output pixel size and encoding; and optionally where the worker stores the bytes."""

    version: str
    source: str
    fields: dict[str, Any]
    width: int
    height: int
    format: str
    quality: int | None = None
    store: EntryWriter | None = None
    fonts: tuple[str, ...] = ()  # font files people uploaded that the template uses

    @classmethod
    def of(
        cls,
        spec: RenderSpec,
        source: Path,
        format: str,
        store: EntryWriter | None = None,
        fonts: tuple[str, ...] = (),
    ) -> RenderJob:
        """The job that draws `spec` from the template bytes at `source`, with the
        uploaded font files at `fonts`."""
        return cls(
            spec.version,
            str(source),
            spec.fields,
            spec.width,
            spec.height,
            format,
            spec.quality,
            store,
            fonts,
        )


@dataclass(frozen=True, slots=True)
class RenderOutput:
    data: bytes
    width: int
    height: int
    draw_ms: float
    encode_ms: float
    text: dict[str, TextReport] = field(default_factory=dict)
    text_ms: float = 0.0
    stored: int | None = None  # what the job's store took (None: not stored)


class JobError(Exception):
    """The job's input cannot be drawn (a bad embedded image, say): the caller's fault.
    `problems` name the fields at fault, as (path, message) pairs."""

    def __init__(self, message: str, problems: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


class JobFailed(Exception):
    """The renderer failed on input that should have worked: PixelDrive's fault."""

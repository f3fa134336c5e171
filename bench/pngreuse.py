#!/usr/bin/env python3
"""PNG bands: what a render saves by reusing its backdrop's compressed rows.

Each bundled template is rendered three times in this process, as a pool worker renders
it (backdrop kept), each with a new value of its text field; the last image is encoded
three ways, in interleaved rounds: by the one-stream writer this replaced (rows unfiltered,
one zlib-ng stream: the reference), by the band writer from scratch (what a worker with no
backdrop pays, and what its bytes are), and by the band writer reusing the backdrop's
bands (the row comparison included). The same for other band heights and without the
rows of context, to show why 32 and 2.

Run it with ``python bench/pngreuse.py [--rounds N] [--write]``; ``--write`` replaces the
section between the pngreuse markers in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import struct
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["FONTCONFIG_FILE"] = str(ROOT / "conf" / "fonts.conf")

import numpy as np  # noqa: E402
from common import (  # noqa: E402
    command_line,
    machine_line,
    publish,
    python_version,
    section,
    source_state,
    table,
)
from PIL import Image  # noqa: E402
from zlib_ng import zlib_ng  # noqa: E402

from pixeldrive.render import png_bands, worker  # noqa: E402
from pixeldrive.render.job import EncodeOptions, RenderJob, WorkerConfig  # noqa: E402
from pixeldrive.render.png import COLOR_TYPES, encode_unfiltered  # noqa: E402
from pixeldrive.render.png_bands import Reuse, Segments  # noqa: E402
from pixeldrive.render.rasterize import kept_rows, to_pillow  # noqa: E402
from pixeldrive.templates.model import compile_template  # noqa: E402

BEGIN, END = "<!-- pngreuse:begin -->", "<!-- pngreuse:end -->"
FIELDS = {"og-card": "title", "product": "name", "certificate": "learner", "quote": "quote"}
LEVEL = 7
AIM = 0.5  # og-card, title changed: encode with reuse / from scratch
SHAPES = [(16, 2), (32, 0), (32, 2), (64, 2)]  # (band rows, context rows)
CHOSEN = (png_bands.BAND_ROWS, png_bands.CONTEXT_ROWS)


@dataclass(frozen=True, slots=True)
class Case:
    """One template's last render: the image, its backdrop's pixels, the rows kept."""

    name: str
    image: Image.Image
    backdrop: bytes
    kept: png_bands.KeptRows


def one_stream(image: Image.Image) -> bytes:
    """The writer before bands: every row into one zlib-ng stream (the reference)."""
    color_type, channels = COLOR_TYPES[image.mode]
    stride = image.width * channels
    view = memoryview(image.tobytes())
    compressor = zlib_ng.compressobj(LEVEL)
    parts = []
    for row in range(image.height):
        parts.append(compressor.compress(b"\0"))
        parts.append(compressor.compress(view[row * stride : (row + 1) * stride]))
    parts.append(compressor.flush())
    data = b"".join(parts)
    header = struct.pack(">IIBBBBB", image.width, image.height, 8, color_type, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", data),
            chunk(b"IEND", b""),
        )
    )


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def cases() -> list[Case]:
    """Each template rendered three times in this process; the last image, kept."""
    worker.init_worker(
        WorkerConfig(fontconfig_file=str(ROOT / "conf" / "fonts.conf"), backdrop_bytes=2**28)
    )
    seen: list[tuple[Image.Image, Reuse | None]] = []
    real = worker.encode

    def keeping(
        image: Image.Image,
        fmt: str,
        quality: int | None,
        options: EncodeOptions,
        reuse: Reuse | None = None,
    ) -> bytes:
        seen.append((image.copy(), reuse))
        return real(image, fmt, quality, options, reuse)

    worker.encode = keeping
    out = []
    for name, text_field in FIELDS.items():
        source = ROOT / "svg_templates" / f"{name}.svg"
        template = compile_template(name, source.read_bytes(), max_image_bytes=10**7)
        for i in range(3):
            fields = template.validate({text_field: f"Bench png {i + 17}"})
            job = RenderJob(
                template.version,
                str(source),
                fields,
                int(template.width),
                int(template.height),
                "png",
            )
            worker.run(job)
        image, reuse = seen[-1]
        assert reuse is not None, f"{name} was not drawn on a backdrop"
        (backdrop,) = (b for b in worker._State.backdrops._kept.values())
        out.append(Case(name, image, backdrop.pixels, reuse.kept_rows))
        worker._State.backdrops = type(worker._State.backdrops)(2**28)
    worker.encode = real
    return out


@contextmanager
def shape(rows: int, context: int) -> Iterator[None]:
    saved = png_bands.BAND_ROWS, png_bands.CONTEXT_ROWS
    png_bands.BAND_ROWS, png_bands.CONTEXT_ROWS = rows, context
    try:
        yield
    finally:
        png_bands.BAND_ROWS, png_bands.CONTEXT_ROWS = saved


def backdrop_segments(case: Case) -> Segments:
    """The backdrop's bands, at the current shape, as a render that draws nothing leaves."""
    under = to_pillow(case.backdrop, case.image.width, case.image.height, case.image.width * 4)
    assert under.mode == case.image.mode
    segments = Segments()
    everything = np.ones(case.image.height, dtype=np.bool_)
    encode_unfiltered(under, LEVEL, Reuse(segments, everything))
    return segments


def reusing(case: Case, segments: Segments) -> Callable[[], bytes]:
    """A render's encode with reuse: the row comparison, then the bands."""
    drawn = bytes(case.backdrop)  # what rasterize compares against: same size, all work
    height = case.image.height

    def run() -> bytes:
        kept_rows(case.backdrop, drawn, height)
        return encode_unfiltered(case.image, LEVEL, Reuse(segments, case.kept))

    return run


def best_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


@dataclass
class Row:
    name: str
    rows: int
    context: int
    one_stream_bytes: int
    bytes: int
    reused_bands: int
    bands: int
    one_ms: list[float] = field(default_factory=list)
    full_ms: list[float] = field(default_factory=list)
    reuse_ms: list[float] = field(default_factory=list)


def measure(all_cases: list[Case], rounds: int, repeat: int) -> list[Row]:
    rows: list[Row] = []
    plans = []
    for case in all_cases:
        reference = one_stream(case.image)
        for rows_, context in SHAPES:
            with shape(rows_, context):
                segments = backdrop_segments(case)
                full = encode_unfiltered(case.image, LEVEL)
                again = encode_unfiltered(case.image, LEVEL, Reuse(segments, case.kept))
                assert again == full, "reused bands changed the bytes"
                assert Image.open(io.BytesIO(full)).tobytes() == case.image.tobytes()
                bands = -(-case.image.height // rows_)
                reused = sum(
                    bool(case.kept[max(0, b * rows_ - context) : (b + 1) * rows_].all())
                    for b in range(bands)
                )
            row = Row(case.name, rows_, context, len(reference), len(full), reused, bands)
            rows.append(row)
            plans.append((row, case, segments))
    for _ in range(rounds):
        for row, case, segments in plans:
            with shape(row.rows, row.context):
                row.one_ms.append(best_ms(lambda c=case: one_stream(c.image), repeat))
                row.full_ms.append(
                    best_ms(lambda c=case: encode_unfiltered(c.image, LEVEL), repeat)
                )
                row.reuse_ms.append(best_ms(reusing(case, segments), repeat))
    return rows


def report(rows: list[Row], rounds: int, repeat: int) -> str:
    med = statistics.median
    chosen = [r for r in rows if (r.rows, r.context) == CHOSEN]
    og = next(r for r in chosen if r.name == "og-card")
    ratio = med(og.reuse_ms) / med(og.full_ms)
    lines = [
        f"**The aim** (og-card, title changed; band {CHOSEN[0]} rows, {CHOSEN[1]} of context)",
        "",
        table(
            ["figure", "measured", "aim", ""],
            [
                [
                    "encode reusing the backdrop's bands / from scratch",
                    f"{ratio:.2f}",
                    f"≤ {AIM}",
                    "MET" if ratio <= AIM else "NOT MET",
                ],
                [
                    "bytes / one stream",
                    f"{og.bytes / og.one_stream_bytes:.3f}",
                    "within a few %",
                    "",
                ],
            ],
        ),
        "",
        f"**By template and band shape** (ms: median over {rounds} interleaved rounds of the "
        f"best of {repeat}; *reuse* includes comparing the drawn pixels with the backdrop's; "
        "every encode checked to give the same bytes reused or not, and to decode to the image)",
        "",
    ]
    body = []
    for r in rows:
        mark = " (chosen)" if (r.rows, r.context) == CHOSEN else ""
        body.append(
            [
                r.name,
                f"{r.rows} / {r.context}{mark}",
                f"{r.one_stream_bytes:,}",
                f"{r.bytes:,} ({r.bytes / r.one_stream_bytes:.3f}×)",
                f"{r.reused_bands} of {r.bands}",
                f"{med(r.one_ms):.2f}",
                f"{med(r.full_ms):.2f} ({med(r.full_ms) / med(r.one_ms):.2f}×)",
                f"{med(r.reuse_ms):.2f} ({med(r.reuse_ms) / med(r.full_ms):.2f}×)",
            ]
        )
    lines.append(
        table(
            [
                "template",
                "band / context rows",
                "one stream bytes",
                "bands bytes",
                "bands reused",
                "one stream ms",
                "bands, from scratch, ms",
                "bands, reusing, ms (/ scratch)",
            ],
            body,
        )
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--repeat", type=int, default=15, help="encodes per round, best (15)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    facts = "\n".join(
        [
            machine_line(),
            f"- Python {python_version()}, zlib-ng {zlib_ng.ZLIBNG_VERSION}, level {LEVEL}, "
            f"source {source_state()}; in process, one thread",
        ]
    )
    rows = measure(cases(), args.rounds, args.repeat)
    body = report(rows, args.rounds, args.repeat)
    command = command_line("pngreuse.py", sys.argv[1:] if argv is None else argv)
    text = section(BEGIN, END, body, facts, command, started)
    publish(text, BEGIN, END, write=args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())

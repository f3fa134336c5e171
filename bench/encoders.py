"""Encoder settings per format: time, bytes and fidelity on the four bundled templates.

Each template is drawn once with its defaults by an in-process render worker (PNG,
decoded back: the exact pixels the worker hands its encoder). Then every candidate
setting encodes those pixels, calls interleaved round-robin so that a busy moment of the
machine falls on all of them alike:

- **alone**: this process encodes, nothing else of ours runs;
- **2 busy**: two processes run the same loop at the same time, as two render workers do
  under load on a 2-core machine (an encoder thread then has no free core to run on).

Figures: the median ms of each, and its ratio to PixelDrive's PNG writer measured in the
same loop; the bytes, and their ratio to the previous defaults (`before`) of the same
format; PSNR over RGB and a luma SSIM (8×8 windows) against the drawn pixels. The row
the server's configured encoder gives byte-for-byte is marked *configured*. Candidates
are Pillow 13 `save()` parameters: WebP `quality`/`method`, AVIF (libavif + libaom,
all-intra) `quality`/`speed`/`max_threads`/`tile_cols` and the libaom `tune` option
(libavif 1.4 with libaom 3.12 or later tunes stills for `iq` unless told otherwise).

Then the same end to end: cold og-card renders over HTTP (`POST /v1/renders`, each a new
title, so every one is a miss) in PNG, WebP and AVIF, against two `pixeldrive serve` of 1
worker each, one with the configured encoders and one with the previous defaults set
through the environment, requests interleaved (one of each format and server per round).

Usage: python bench/encoders.py [--runs N] [--http-runs N] [--write]   (writes the
``encoders`` section of bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import renders
from common import (
    ROOT,
    command_line,
    machine_line,
    publish,
    python_version,
    section,
    start_pixeldrive,
    table,
)
from PIL import Image

os.environ.setdefault("FONTCONFIG_FILE", str(ROOT / "conf" / "fonts.conf"))
sys.path.insert(0, str(ROOT))

BEGIN, END = "<!-- encoders:begin -->", "<!-- encoders:end -->"
TEMPLATES = ("og-card", "product", "certificate", "quote")


@dataclass(frozen=True, slots=True)
class Candidate:
    label: str
    fmt: str  # Pillow's name; "PNG" is PixelDrive's own writer (render/png.py)
    params: dict[str, Any]
    before: bool = False  # the defaults this replaced: the bytes reference of its format


CANDIDATES = (
    Candidate("png, PixelDrive's writer, level 7", "PNG", {"level": 7}),
    Candidate("webp q82 method 2 (before)", "WEBP", {"quality": 82, "method": 2}, before=True),
    Candidate("webp q80 method 1", "WEBP", {"quality": 80, "method": 1}),
    Candidate("webp q82 method 1", "WEBP", {"quality": 82, "method": 1}),
    Candidate("webp q82 method 0", "WEBP", {"quality": 82, "method": 0}),
    Candidate("webp q76 method 0", "WEBP", {"quality": 76, "method": 0}),
    Candidate(
        "avif q60 speed 8 tune iq, libavif's default (before)",
        "AVIF",
        {"quality": 60, "speed": 8, "max_threads": 1},
        before=True,
    ),
    Candidate(
        "avif q64 speed 8 tune psnr",
        "AVIF",
        {"quality": 64, "speed": 8, "max_threads": 1, "advanced": {"tune": "psnr"}},
    ),
    Candidate(
        "avif q70 speed 8 tune ssim",
        "AVIF",
        {"quality": 70, "speed": 8, "max_threads": 1, "advanced": {"tune": "ssim"}},
    ),
    Candidate(
        "avif q64 speed 8 tune psnr, 2 threads",
        "AVIF",
        {"quality": 64, "speed": 8, "max_threads": 2, "advanced": {"tune": "psnr"}},
    ),
    Candidate(
        "avif q64 speed 8 tune psnr, 2 threads, 2 tile columns",
        "AVIF",
        {
            "quality": 64,
            "speed": 8,
            "max_threads": 2,
            "tile_cols": 1,
            "advanced": {"tune": "psnr"},
        },
    ),
    Candidate(
        "avif q60 speed 9 tune psnr (10 is the same)",
        "AVIF",
        {"quality": 60, "speed": 9, "max_threads": 1, "advanced": {"tune": "psnr"}},
    ),
)


def drawn(name: str) -> Image.Image:
    """The template drawn with its defaults by an in-process worker, as RGB(A) pixels."""
    from pixeldrive.core.config import load_settings
    from pixeldrive.render import worker
    from pixeldrive.render.job import RenderJob
    from pixeldrive.templates.model import compile_template
    from pixeldrive.wiring import worker_config

    settings = load_settings()
    worker.init_worker(worker_config(settings))
    source = settings.templates_dir / f"{name}.svg"
    template = compile_template(name, source.read_bytes(), max_image_bytes=10**7)
    fields = template.validate(template.preview_values())
    job = RenderJob(template.version, str(source), fields, template.width, template.height, "png")
    image = Image.open(io.BytesIO(worker.run(job).data))
    image.load()
    return image


def encoder(image: Image.Image, candidate: Candidate) -> Callable[[], bytes]:
    if candidate.fmt == "PNG":
        from pixeldrive.render.png import encode_unfiltered

        return lambda: encode_unfiltered(image, candidate.params["level"])

    def save() -> bytes:
        out = io.BytesIO()
        image.save(out, candidate.fmt, **candidate.params)
        return out.getvalue()

    return save


def configured(image: Image.Image, fmt: str) -> bytes:
    """What the server's encoder (its configured settings) makes of these pixels."""
    from pixeldrive.core.config import load_settings
    from pixeldrive.render.encode import encode
    from pixeldrive.wiring import encode_options

    return encode(image, fmt.lower(), None, encode_options(load_settings()))


def timings(name: str, runs: int) -> list[list[float]]:
    """ms per run of each candidate, in CANDIDATES order, calls interleaved."""
    image = drawn(name)
    calls = [encoder(image, c) for c in CANDIDATES]
    for call in calls:
        call()  # warm: libraries loaded, buffers allocated once
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(runs):
        for i, call in enumerate(calls):
            start = time.perf_counter()
            call()
            times[i].append((time.perf_counter() - start) * 1000)
    return times


def busy_timings(name: str, runs: int) -> list[list[float]]:
    """The same loop in two processes at once; both processes' samples pooled."""
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        both = pool.starmap(timings, [(name, runs), (name, runs)])
    return [a + b for a, b in zip(*both, strict=True)]


def psnr(reference: np.ndarray, decoded: np.ndarray) -> float:
    mse = float(((reference.astype(np.float64) - decoded.astype(np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * float(np.log10(255**2 / mse))


def ssim(reference: np.ndarray, decoded: np.ndarray, k: int = 8) -> float:
    """Mean SSIM of luma over k×k windows (a plain, box-window SSIM)."""

    def windows(rgb: np.ndarray) -> np.ndarray:
        y = rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        h, w = (y.shape[0] // k) * k, (y.shape[1] // k) * k
        return y[:h, :w].reshape(h // k, k, w // k, k)

    a, b = windows(reference), windows(decoded)
    ma, mb = a.mean((1, 3)), b.mean((1, 3))
    va, vb = a.var((1, 3)), b.var((1, 3))
    cov = ((a - ma[:, None, :, None]) * (b - mb[:, None, :, None])).mean((1, 3))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    index = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    return float(index.mean())


def fidelity(image: Image.Image, data: bytes) -> tuple[float, float]:
    reference = np.asarray(image.convert("RGB"))
    decoded = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return psnr(reference, decoded), ssim(reference, decoded)


def rows_for(name: str, runs: int) -> list[tuple[object, ...]]:
    alone = [statistics.median(t) for t in timings(name, runs)]
    busy = [statistics.median(t) for t in busy_timings(name, runs)]
    image = drawn(name)
    outputs = [encoder(image, c)() for c in CANDIDATES]
    mine = {fmt: configured(image, fmt) for fmt in ("PNG", "WEBP", "AVIF")}
    before = {c.fmt: len(out) for c, out in zip(CANDIDATES, outputs, strict=True) if c.before}
    rows: list[tuple[object, ...]] = []
    for i, (candidate, data) in enumerate(zip(CANDIDATES, outputs, strict=True)):
        label = candidate.label + (" **configured**" if data == mine[candidate.fmt] else "")
        db, index = fidelity(image, data)
        reference = before.get(candidate.fmt)
        rows.append(
            (
                name,
                label,
                f"{alone[i]:.1f}",
                f"{alone[i] / alone[0]:.2f}×",
                f"{busy[i]:.1f}",
                f"{busy[i] / busy[0]:.2f}×",
                f"{len(data):,}",
                f"{len(data) / reference:.2f}×" if reference else "",
                "lossless" if db == float("inf") else f"{db:.2f}",
                f"{index:.4f}",
            )
        )
    return rows


def libraries() -> str:
    import PIL
    from PIL import _avif, features

    codecs = _avif.codec_versions()  # "dav1d [dec]:…, aom [enc]:3.14.1"
    return (
        f"Pillow {PIL.__version__}, libavif {features.version('avif')} ({codecs}), "
        f"libwebp {features.version('webp')}"
    )


HEADERS = (
    "template",
    "setting",
    "alone ms",
    "alone / png",
    "2 busy ms",
    "2 busy / png",
    "bytes",
    "bytes / before",
    "PSNR dB",
    "SSIM",
)


# ---- end to end -----------------------------------------------------------------------------

HTTP_FORMATS = ("png", "webp", "avif")
# The encoder defaults before this benchmark chose the current ones.
BEFORE_ENV = {
    "PIXELDRIVE_ENCODE__WEBP_QUALITY": "82",
    "PIXELDRIVE_ENCODE__WEBP_METHOD": "2",
    "PIXELDRIVE_ENCODE__AVIF_QUALITY": "60",
    "PIXELDRIVE_ENCODE__AVIF_TUNE": "iq",  # libavif's default for stills, unnamed before
}


async def interleaved_cold(
    bases: dict[str, str], template: str, runs: int
) -> dict[tuple[str, str], list[float]]:
    """ms of `runs` misses per (server, format), one of each per round."""
    times: dict[tuple[str, str], list[float]] = {(a, f): [] for a in bases for f in HTTP_FORMATS}
    async with renders.client_session() as session:
        for i in range(renders.WARMUP + runs):
            for arm, base in bases.items():
                for fmt in HTTP_FORMATS:
                    body = renders.payload(template, f"Encoders {fmt} {i}", fmt)
                    ms, answer = await renders.post_render(session, base, body)
                    if answer["cached"]:
                        raise RuntimeError(f"expected an uncached render, got {answer}")
                    if i >= renders.WARMUP:
                        times[arm, fmt].append(ms)
    return times


def http_rows(template: str, runs: int) -> list[tuple[object, ...]]:
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pd-encoders-")))
        bases = {
            "before": start_pixeldrive(stack, 1, work, **BEFORE_ENV).base,
            "configured": start_pixeldrive(stack, 1, work).base,
        }
        times = asyncio.run(interleaved_cold(bases, template, runs))
    median = {where: statistics.median(t) for where, t in times.items()}
    return [
        (
            template,
            fmt,
            f"{median['before', fmt]:.1f}",
            f"{median['before', fmt] / median['before', 'png']:.2f}×",
            f"{median['configured', fmt]:.1f}",
            f"{median['configured', fmt] / median['configured', 'png']:.2f}×",
        )
        for fmt in HTTP_FORMATS
    ]


HTTP_HEADERS = (
    "template",
    "format",
    "before, median ms",
    "before / its png",
    "configured, median ms",
    "configured / its png",
)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--templates", default=",".join(TEMPLATES))
    parser.add_argument("--http-runs", type=int, default=30)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    runs = f"runs {args.runs} in process, {args.http_runs} over HTTP"
    facts = "\n".join([machine_line(), f"- Python {python_version()}, {libraries()}, {runs}"])
    rows = []
    for name in args.templates.split(","):
        print(f"{name} …", file=sys.stderr, flush=True)
        rows += rows_for(name, args.runs)
    print("og-card over HTTP …", file=sys.stderr, flush=True)
    http = http_rows("og-card", args.http_runs)
    body = "\n\n".join(
        [
            "**In process**, the pixels of each template encoded by each setting",
            table(HEADERS, rows),
            f"**Cold og-card over HTTP** (`POST /v1/renders`, a new title each time, "
            f"{args.http_runs} per server and format after {renders.WARMUP} warm-ups, "
            "interleaved; 1 worker each; *before* = "
            + ", ".join(f"`{k}={v}`" for k, v in BEFORE_ENV.items())
            + ")",
            table(HTTP_HEADERS, http),
        ]
    )
    text = section(BEGIN, END, body, facts, command_line("encoders.py", argv), started)
    publish(text, BEGIN, END, write=args.write)


if __name__ == "__main__":
    main(sys.argv[1:])

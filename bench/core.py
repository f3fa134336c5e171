#!/usr/bin/env python3
"""PixelDrive core benchmark: the og-card template against its floor and its ceiling.

Measured side by side in one run, because the machine is shared and noisy and only ratios
between figures taken minutes apart mean anything:

1. the floor: plain ``cairosvg.svg2png`` in this process, plus Pillow encoding the same
   pixels to each format with the server's settings (draw and encode apart);
2. cold renders through the HTTP API (``pixeldrive serve`` in a subprocess, fresh state,
   every POST a cache miss), per format and per worker count;
3. cache-hit throughput with wrk against the memory tier, and the same wrk command against a
   bare aiohttp handler serving the same bytes (the ceiling);
4. encoded bytes per format for the og-card default.

Run it with ``bench/run`` (installs wrk if needed); ``--write`` puts the figures into
bench/README.md between the ``core`` markers. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SVG_PATH = ROOT / "svg_templates" / "og-card.svg"
FONTS_CONF = ROOT / "conf" / "fonts.conf"
BEGIN, END = "<!-- core:begin -->", "<!-- core:end -->"

# Same fonts as the render workers: fontconfig reads this when cairo first loads a font.
os.environ["FONTCONFIG_FILE"] = str(FONTS_CONF)

import aiohttp  # noqa: E402  (after FONTCONFIG_FILE, like every import below)
from common import (  # noqa: E402
    HOST,
    README,
    Wrk,
    command_line,
    free_port,
    machine_line,
    ms,
    python_version,
    running,
    section,
    start_pixeldrive,
    table,
    wait_ready,
    write_readme,
)
from common import run_wrk as common_run_wrk  # noqa: E402
from PIL import Image  # noqa: E402

TEMPLATE = "og-card"
SIZE = (1200, 630)
FORMATS = ("png", "jpeg", "webp", "avif")
EXT = {"png": "png", "jpeg": "jpg", "webp": "webp", "avif": "avif"}
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif"}
DEFAULT_TITLE = "Ship beautiful images from a single API"  # og-card's own title text
WARMUP = 4
WRK_THREADS, WRK_CONNECTIONS = 2, 32

# The ceiling: the least an aiohttp app can do to answer with these bytes. argv: port, file,
# media type, and "log" to turn on INFO logging the way `pixeldrive serve` does (access log).
BARE_APP = """
import logging, sys
from pathlib import Path
from aiohttp import web
port, path, mime = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if sys.argv[4:] == ["log"]:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
body = Path(path).read_bytes()
async def image(request):
    return web.Response(body=body, content_type=mime)
async def ready(request):
    return web.Response(text="ok")
app = web.Application()
app.router.add_get("/v1/images/{name}", image)
app.router.add_get("/readyz", ready)
web.run_app(app, host="127.0.0.1", port=port, print=None)
"""


# ---- statistics ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """Wall-clock samples in milliseconds."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p90(self) -> float:
        if len(self.samples) < 2:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=10, method="inclusive")[8]


def time_calls(fn: Callable[[], object], runs: int, warmup: int = WARMUP) -> Timing:
    """Call `fn` `warmup` times untimed, then `runs` times timed."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return Timing(tuple(samples))


# ---- 1. the floor: CairoSVG and Pillow in this process -------------------------------------


@dataclass(frozen=True, slots=True)
class Floor:
    svg2png: Timing
    draw_only: Timing
    encode: dict[str, Timing]
    svg2png_bytes: int
    encoded_bytes: dict[str, int]


def sample_svg(title: str) -> bytes:
    """og-card's SVG with its title set by plain text replacement (``{{title}}`` if the
    template has that placeholder, else its default title text)."""
    text = SVG_PATH.read_text(encoding="utf-8")
    text = text.replace("{{title}}", title).replace(DEFAULT_TITLE, title)
    return text.encode()


def draw_only(svg: bytes) -> None:
    """CairoSVG's drawing without the PNG write (what the render worker does)."""
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    surface = PNGSurface(Tree(bytestring=svg), None, 96)
    surface.cairo.finish()


def pillow_encoders() -> Callable[[Image.Image, str], bytes]:
    """PixelDrive's own encoder per format, with the configured settings."""
    from pixeldrive.config import load_settings
    from pixeldrive.factory import encode_options
    from pixeldrive.render.encode import encode

    options = encode_options(load_settings())
    return lambda image, fmt: encode(image, fmt, None, options)


def measure_floor(runs: int) -> Floor:
    import cairosvg

    svg = sample_svg("Benchmark title 0")
    png = cairosvg.svg2png(bytestring=svg)
    svg2png = time_calls(lambda: cairosvg.svg2png(bytestring=svg), runs)
    drawn = time_calls(lambda: draw_only(svg), runs)
    encode = pillow_encoders()
    pixels = _pixels(png)
    timings = {fmt: time_calls(functools.partial(encode, pixels, fmt), runs) for fmt in FORMATS}
    default_png = cairosvg.svg2png(bytestring=sample_svg(DEFAULT_TITLE))
    default_pixels = _pixels(default_png)
    sizes = {fmt: len(encode(default_pixels, fmt)) for fmt in FORMATS}
    return Floor(svg2png, drawn, timings, len(default_png), sizes)


def _pixels(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


# ---- 2. cold renders through HTTP ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cold:
    workers: int
    timings: dict[str, Timing]
    repeat: Timing  # the same png payload again: cached, so HTTP + service cost alone
    default_bytes: dict[str, int]
    default_urls: dict[str, str]


async def post_render(
    session: aiohttp.ClientSession, base: str, title: str, fmt: str
) -> tuple[float, dict[str, Any]]:
    """One POST /v1/renders: (milliseconds until the 201 body is read, that body)."""
    payload = {"template": TEMPLATE, "fields": {"title": title}, "format": fmt}
    start = time.perf_counter()
    async with session.post(f"{base}/v1/renders", json=payload) as resp:
        body: dict[str, Any] = await resp.json(content_type=None)
    elapsed = (time.perf_counter() - start) * 1000
    if resp.status != 201:
        raise RuntimeError(f"POST /v1/renders → {resp.status}: {body}")
    return elapsed, body


async def cold_format(session: aiohttp.ClientSession, base: str, fmt: str, runs: int) -> Timing:
    """`runs` sequential misses (each title unique) after a few untimed warm-up misses."""
    for i in range(WARMUP):
        await post_render(session, base, f"Warm-up title {i}", fmt)
    samples = []
    for i in range(runs):
        ms, body = await post_render(session, base, f"Benchmark title {i}", fmt)
        if body["cached"] or (body["width"], body["height"]) != SIZE:
            raise RuntimeError(f"expected an uncached {SIZE} render, got {body}")
        samples.append(ms)
    return Timing(tuple(samples))


async def repeat_render(session: aiohttp.ClientSession, base: str, runs: int) -> Timing:
    """POST the default png payload again and again: every answer comes from cache."""
    samples = []
    for _ in range(runs):
        ms, body = await post_render(session, base, DEFAULT_TITLE, "png")
        if not body["cached"]:
            raise RuntimeError(f"expected a cached render, got {body}")
        samples.append(ms)
    return Timing(tuple(samples))


async def measure_cold(base: str, workers: int, runs: int) -> Cold:
    async with aiohttp.ClientSession() as session:
        timings = {fmt: await cold_format(session, base, fmt, runs) for fmt in FORMATS}
        defaults = {
            fmt: (await post_render(session, base, DEFAULT_TITLE, fmt))[1] for fmt in FORMATS
        }
        repeat = await repeat_render(session, base, runs)
    return Cold(
        workers,
        timings,
        repeat,
        {fmt: int(body["bytes"]) for fmt, body in defaults.items()},
        {fmt: str(body["url"]) for fmt, body in defaults.items()},
    )


async def fetch_hit(url: str) -> tuple[bytes, str]:
    """GET an image that must come from cache: (bytes, Content-Type)."""
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        data = await resp.read()
        if resp.status != 200 or resp.headers.get("X-Cache") != "hit":
            raise RuntimeError(f"GET {url} → {resp.status}, X-Cache {resp.headers.get('X-Cache')}")
        return data, resp.headers["Content-Type"]


# ---- 3. cache hits with wrk ---------------------------------------------------------------


def run_wrk(url: str, duration: int) -> Wrk:
    return common_run_wrk(url, duration, WRK_THREADS, WRK_CONNECTIONS)


@dataclass(frozen=True, slots=True)
class Hits:
    """wrk on one cached image and on the bare handlers; one result per round each."""

    path: str
    size: int
    pixeldrive: list[Wrk]
    bare: list[Wrk]
    bare_log: list[Wrk]


def best(rounds: Sequence[Wrk]) -> Wrk:
    """The round with the most requests/s: noise from other tenants only ever slows."""
    return max(rounds, key=lambda w: w.rps)


def start_bare(stack: contextlib.ExitStack, body: Path, mime: str, *, log: bool) -> str:
    """The bare aiohttp handler serving `body`, stopped when `stack` closes: its image URL."""
    port = free_port()
    cmd = [sys.executable, "-c", BARE_APP, str(port), str(body), mime, *(["log"] if log else [])]
    log_path = body.with_name(f"bare{'-log' * log}.log")
    proc = stack.enter_context(running(cmd, dict(os.environ), log_path))
    base = f"http://{HOST}:{port}"
    asyncio.run(wait_ready(base, proc, log_path))
    return f"{base}/v1/images/bench.{mime.split('/')[1]}"


def measure_hits(
    stack: contextlib.ExitStack, base: str, path: str, work: Path, duration: int, rounds: int
) -> Hits:
    """wrk on PixelDrive's hit, the bare handler and the bare handler with an access log,
    interleaved round by round so that a burst of load elsewhere hits all three alike."""
    data, mime = asyncio.run(fetch_hit(base + path))
    body = work / "image.bin"
    body.write_bytes(data)
    urls = [
        base + path,
        start_bare(stack, body, mime, log=False),
        start_bare(stack, body, mime, log=True),
    ]
    results: list[list[Wrk]] = [[], [], []]
    for _ in range(rounds):
        for url, out in zip(urls, results, strict=True):
            out.append(run_wrk(url, duration))
    return Hits(path, len(data), *results)


# ---- the run ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Results:
    floor: Floor
    cold: list[Cold]
    hits: Hits


def run(runs: int, duration: int, rounds: int, worker_counts: Sequence[int]) -> Results:
    floor = measure_floor(runs)
    colds: list[Cold] = []
    hits: Hits | None = None
    with tempfile.TemporaryDirectory(prefix="pixeldrive-bench-") as tmp:
        work = Path(tmp)
        for workers in worker_counts:
            with contextlib.ExitStack() as stack:
                base = start_pixeldrive(stack, workers, work).base
                colds.append(asyncio.run(measure_cold(base, workers, runs)))
                if hits is None:
                    path = colds[-1].default_urls["png"]
                    hits = measure_hits(stack, base, path, work, duration, rounds)
    assert hits is not None
    return Results(floor, colds, hits)


# ---- report -------------------------------------------------------------------------------


def floor_table(floor: Floor, runs: int) -> str:
    rows: list[list[object]] = [
        ["`cairosvg.svg2png` (draw + cairo PNG)", ms(floor.svg2png.median), ms(floor.svg2png.p90)],
        ["CairoSVG draw only (no PNG write)", ms(floor.draw_only.median), ms(floor.draw_only.p90)],
    ]
    rows += [
        [f"Pillow encode {fmt} (server settings)", ms(t.median), ms(t.p90)]
        for fmt, t in floor.encode.items()
    ]
    return f"**Floor, in process** ({runs} runs after {WARMUP} warm-ups)\n\n" + table(
        ["step", "median ms", "p90 ms"], rows
    )


def cold_rows(cold: Cold, floor: Floor) -> list[list[object]]:
    rows: list[list[object]] = []
    for fmt, t in cold.timings.items():
        in_process = floor.draw_only.median + floor.encode[fmt].median
        ratio = f"{t.median / in_process:.2f}"
        vs_svg2png = f"{t.median / floor.svg2png.median:.2f}"
        rows.append([cold.workers, fmt, ms(t.median), ms(t.p90), ms(in_process), ratio, vs_svg2png])
    repeat = cold.repeat
    label = "png, same payload again (`cached: true`)"
    rows.append([cold.workers, label, ms(repeat.median), ms(repeat.p90), "—", "—", "—"])
    return rows


def cold_table(results: Results, runs: int) -> str:
    rows = [row for cold in results.cold for row in cold_rows(cold, results.floor)]
    headers = ["workers", "format", "median ms", "p90 ms", "draw + encode in process ms"]
    headers += ["HTTP / in process", "HTTP / svg2png"]
    title = (
        f"**Cold renders over HTTP** (POST /v1/renders, {runs} unique titles per format, "
        "sequential, every one a miss)"
    )
    return f"{title}\n\n" + table(headers, rows)


def hits_table(hits: Hits, duration: int) -> str:
    cmd = f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{duration}s --latency"
    rows: list[list[object]] = []
    for name, rounds in (
        (f"PixelDrive memory hit (`{hits.path}`)", hits.pixeldrive),
        ("bare aiohttp, same bytes (the ceiling)", hits.bare),
        ("bare aiohttp + INFO access log, as `pixeldrive serve` logs", hits.bare_log),
    ):
        w = best(rounds)
        each = " / ".join(f"{r.rps:,.0f}" for r in rounds)
        errors = sum(r.errors for r in rounds)
        rows.append([name, f"{w.rps:,.0f}", each, ms(w.p50_ms), ms(w.p99_ms), errors])
    title = (
        f"**Cache hits** (`{cmd} URL`, {hits.size:,} bytes of PNG each; {len(hits.bare)} "
        "rounds, the three servers interleaved; the best round is shown)"
    )
    headers = ["server", "requests/s", "each round", "p50 ms", "p99 ms", "errors"]
    return f"{title}\n\n" + table(headers, rows)


def ratio_table(results: Results) -> str:
    svg2png = results.floor.svg2png.median
    rows: list[list[object]] = [
        [
            f"HTTP png median / svg2png median ({c.workers} worker{'s' * (c.workers > 1)})",
            f"{c.timings['png'].median / svg2png:.2f}",
            "≤ 1.0",
        ]
        for c in results.cold
    ]
    hit, bare, bare_log = (
        best(r) for r in (results.hits.pixeldrive, results.hits.bare, results.hits.bare_log)
    )
    rows += [
        ["hits rps / bare rps", f"{hit.rps / bare.rps:.2f}", "≥ 0.5"],
        ["hits p99 / bare p99", f"{hit.p99_ms / bare.p99_ms:.2f}", "—"],
        ["hits rps / bare-with-access-log rps", f"{hit.rps / bare_log.rps:.2f}", "—"],
    ]
    return "**Ratios** (what to compare between runs)\n\n" + table(["ratio", "value", "aim"], rows)


def bytes_table(results: Results) -> str:
    http = results.cold[0].default_bytes
    local = results.floor.encoded_bytes
    rows = [[fmt, f"{http[fmt]:,}", f"{local[fmt]:,}"] for fmt in FORMATS]
    rows.append(["png by cairo (`svg2png`)", "", f"{results.floor.svg2png_bytes:,}"])
    title = "**Encoded bytes, og-card default** (title = its default text, 1200×630)"
    return f"{title}\n\n" + table(["format", "PixelDrive", "Pillow on svg2png's pixels"], rows)


def report(results: Results, runs: int, duration: int) -> str:
    return "\n\n".join(
        [
            ratio_table(results),
            floor_table(results.floor, runs),
            cold_table(results, runs),
            hits_table(results.hits, duration),
            bytes_table(results),
        ]
    )


def machine_facts() -> str:
    import cairosvg
    import PIL

    return (
        f"{machine_line()}\n"
        f"- Python {python_version()}, CairoSVG {cairosvg.__version__}, "
        f"Pillow {PIL.__version__}, aiohttp {aiohttp.__version__}"
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per measurement")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--workers",
        default="1,2",
        help="render worker counts to measure cold renders with (wrk uses the first)",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="interleaved wrk rounds per server (best counts)"
    )
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    if args.runs < 2 or args.duration < 1 or args.rounds < 1:
        parser.error("--runs must be ≥ 2, --duration and --rounds ≥ 1")
    args.worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    facts = machine_facts()
    clock = time.monotonic()
    results = run(args.runs, args.duration, args.rounds, args.worker_counts)
    body = report(results, args.runs, args.duration)
    text = section(BEGIN, END, body, facts, command_line("core.py", argv), started)
    print(text)
    print(f"\n(benchmark took {time.monotonic() - clock:.0f} s)")
    if args.write:
        write_readme(text, BEGIN, END)
        print(f"wrote {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

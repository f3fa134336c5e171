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
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SVG_PATH = ROOT / "svg_templates" / "og-card.svg"
FONTS_CONF = ROOT / "conf" / "fonts.conf"
README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- core:begin -->", "<!-- core:end -->"

# Same fonts as the render workers: fontconfig reads this when cairo first loads a font.
os.environ["FONTCONFIG_FILE"] = str(FONTS_CONF)

import aiohttp  # noqa: E402  (after FONTCONFIG_FILE, like every import below)
from PIL import Image  # noqa: E402

TEMPLATE = "og-card"
SIZE = (1200, 630)
FORMATS = ("png", "jpeg", "webp", "avif")
EXT = {"png": "png", "jpeg": "jpg", "webp": "webp", "avif": "avif"}
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif"}
DEFAULT_TITLE = "Ship beautiful images from a single API"  # og-card's own title text
HOST = "127.0.0.1"
WARMUP = 4
STOP_GRACE_S = 5.0
READY_TIMEOUT_S = 60.0
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


# ---- subprocesses -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running(
    cmd: Sequence[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `cmd` in its own process group; on exit SIGTERM it, SIGKILL after 5 s, and kill
    whatever it left behind in its group (render workers)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group we created: leftovers only


async def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited ({proc.returncode}); see {log}:\n{_tail(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{base}/readyz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base}/readyz not 200 after {READY_TIMEOUT_S:g} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def pixeldrive_command(port: int) -> list[str]:
    script = Path(sys.executable).parent / "pixeldrive"
    exe = [str(script)] if script.exists() else [sys.executable, "-m", "pixeldrive.cli"]
    return [*exe, "serve", "--host", HOST, "--port", str(port)]


def pixeldrive_env(state_dir: Path, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELDRIVE_")}
    env.update(
        PIXELDRIVE_STATE_DIR=str(state_dir),
        PIXELDRIVE_WORKERS=str(workers),
        PIXELDRIVE_AUTH="off",
        PYTHONUNBUFFERED="1",
    )
    return env


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


@dataclass(frozen=True, slots=True)
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, duration: int) -> Wrk:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: run bench/run, which installs it")
    cmd = [wrk, f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{duration}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return parse_wrk(out)


def parse_wrk(out: str) -> Wrk:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    latency = {
        m.group(1): float(m.group(2)) * _UNIT_MS[m.group(3)]
        for m in re.finditer(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    }
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return Wrk(float(rps.group(1)), latency["50"], latency["99"], errors)


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


def start_pixeldrive(stack: contextlib.ExitStack, workers: int, work: Path) -> str:
    """`pixeldrive serve` with a fresh state dir, stopped when `stack` closes: its URL."""
    port = free_port()
    state = Path(tempfile.mkdtemp(prefix=f"state-w{workers}-", dir=work))  # fresh every time
    env = pixeldrive_env(state, workers)
    log = state.with_suffix(".log")
    proc = stack.enter_context(running(pixeldrive_command(port), env, log))
    base = f"http://{HOST}:{port}"
    asyncio.run(wait_ready(base, proc, log))
    return base


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
                base = start_pixeldrive(stack, workers, work)
                colds.append(asyncio.run(measure_cold(base, workers, runs)))
                if hits is None:
                    path = colds[-1].default_urls["png"]
                    hits = measure_hits(stack, base, path, work, duration, rounds)
    assert hits is not None
    return Results(floor, colds, hits)


# ---- report -------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value: float) -> str:
    return f"{value:.1f}"


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

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"- nproc {os.cpu_count()}, CPU {cpu}, load average at start {load}\n"
        f"- Python {platform.python_version()}, CairoSVG {cairosvg.__version__}, "
        f"Pillow {PIL.__version__}, aiohttp {aiohttp.__version__}"
    )


def command_line(argv: Sequence[str]) -> str:
    return os.environ.get("BENCH_COMMAND") or shlex.join(["python", "bench/core.py", *argv])


def section(body: str, facts: str, command: str, started: dt.datetime) -> str:
    date = started.strftime("%Y-%m-%d %H:%M UTC")
    return f"{BEGIN}\nLast run: {date}\n\n{facts}\n\nCommand: `{command}`\n\n{body}\n{END}"


def write_readme(text: str) -> None:
    current = README.read_text(encoding="utf-8") if README.exists() else ""
    start, end = current.find(BEGIN), current.find(END)
    if start == -1 or end < start:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    else:
        updated = current[:start] + text + current[end + len(END) :]
    tmp = README.with_suffix(".md.tmp")
    tmp.write_text(updated, encoding="utf-8")
    tmp.replace(README)


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
    text = section(body, facts, command_line(argv), started)
    print(text)
    print(f"\n(benchmark took {time.monotonic() - clock:.0f} s)")
    if args.write:
        write_readme(text)
        print(f"wrote {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""PixelDrive core benchmark: the four bundled templates against the renderers people
would pick instead, against what the machine allows, and under load.

Measured side by side in one run, because the machine is shared and noisy and only ratios
between figures taken minutes apart mean anything:

1. the rivals, on the same filled SVG bytes: ``cairosvg.svg2png`` in this process,
   resvg-js in a persistent Node process, ``rsvg-convert`` per invocation (and its start
   on a trivial SVG); og-card's draw and encode apart, in process;
2. cold renders through the HTTP API (``pixeldrive serve`` in a subprocess, fresh state,
   every POST a cache miss), per template, format and worker count;
3. renders per second in a closed loop (unique payloads; then 50 % and 90 % repeats);
4. cache-hit throughput with wrk against the memory tier and a bare aiohttp handler;
5. encoded bytes per template and format; peak RSS of the server's process tree.

Run it with ``bench/run`` (installs wrk, rsvg-convert and resvg-js if needed); ``--write``
puts the figures into bench/README.md between the ``core`` markers. All traffic stays on
127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONTS_CONF = ROOT / "conf" / "fonts.conf"
BEGIN, END = "<!-- core:begin -->", "<!-- core:end -->"

# Same fonts as the render workers: fontconfig reads this when cairo first loads a font.
os.environ["FONTCONFIG_FILE"] = str(FONTS_CONF)

import aiohttp  # noqa: E402  (after FONTCONFIG_FILE, like every import below)
import hits as hitbench  # noqa: E402
import poolonly  # noqa: E402
import renders  # noqa: E402
import report  # noqa: E402
from common import (  # noqa: E402
    CLK_TCK,
    README,
    PeakRss,
    Server,
    command_line,
    machine_line,
    process_tree,
    progress,
    python_version,
    scan_proc,
    section,
    start_pixeldrive,
    write_readme,
)
from PIL import Image  # noqa: E402
from rivals import Rivals, Samples, measure_rivals, preview_svgs, time_calls  # noqa: E402

TEMPLATES = ("og-card", "product", "certificate", "quote")
FORMATS = ("png", "jpeg", "webp", "avif")
CLIENTS = 4  # closed-loop clients, for every worker count alike
REPEAT_SHARES = (0.5, 0.9)


# ---- 1. in process: og-card's draw and encode apart ---------------------------------------


@dataclass(frozen=True, slots=True)
class Floor:
    draw_only: Samples
    encode: dict[str, Samples]


def draw_only(svg: bytes) -> None:
    """CairoSVG's drawing without the PNG write (what the render worker does)."""
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    surface = PNGSurface(Tree(bytestring=svg), None, 96)
    surface.cairo.finish()


def pillow_encoders() -> Callable[[Image.Image, str], bytes]:
    """PixelDrive's own encoder per format, with the configured settings."""
    from pixeldrive.core.config import load_settings
    from pixeldrive.render.encode import encode
    from pixeldrive.wiring import encode_options

    options = encode_options(load_settings())
    return lambda image, fmt: encode(image, fmt, None, options)


def measure_floor(svg: bytes, runs: int) -> Floor:
    import cairosvg

    drawn = time_calls(lambda: draw_only(svg), runs)
    encode = pillow_encoders()
    pixels = Image.open(io.BytesIO(cairosvg.svg2png(bytestring=svg)))
    pixels.load()
    timings = {fmt: time_calls(functools.partial(encode, pixels, fmt), runs) for fmt in FORMATS}
    return Floor(drawn, timings)


# ---- 2. cold renders through HTTP ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cold:
    timings: dict[tuple[str, str], Samples]  # (template, format)
    repeat: Samples  # og-card's default png again: cached, so HTTP + service cost alone
    default_bytes: dict[tuple[str, str], int]
    default_url: str  # og-card's default png


def defaults() -> dict[str, str]:
    """The varied field's default per template: posting it gives the preview's SVG."""
    from pixeldrive.templates.model import compile_template

    found = {}
    for name, field in renders.VARIED.items():
        data = (ROOT / "svg_templates" / f"{name}.svg").read_bytes()
        template = compile_template(name, data, max_image_bytes=5 * 2**20)
        found[name] = str(next(f.default for f in template.fields if f.name == field))
    return found


async def measure_cold(base: str, runs: int, templates: Sequence[str]) -> Cold:
    default = defaults()
    async with renders.client_session() as session:
        timings = {
            (t, fmt): await renders.cold(session, base, t, fmt, runs)
            for t in templates
            for fmt in FORMATS
        }
        answers = {
            (t, fmt): (
                await renders.post_render(session, base, renders.payload(t, default[t], fmt))
            )[1]
            for t in templates
            for fmt in FORMATS
        }
        og_png = renders.payload("og-card", default["og-card"], "png")
        repeat = await renders.repeated(session, base, og_png, runs)
    sizes = {where: int(a["bytes"]) for where, a in answers.items()}
    return Cold(timings, repeat, sizes, str(answers["og-card", "png"]["url"]))


# ---- the run ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerRun:
    """Everything measured against one `pixeldrive serve` with `workers` workers."""

    workers: int
    cold: Cold
    throughput: list[Loop]  # all-new first, then each repeat share
    peak_rss: int
    pids_seen: int


@dataclass(frozen=True, slots=True)
class Results:
    rivals: Rivals
    floor: Floor
    servers: list[ServerRun]
    hits: hitbench.Hits
    pools: list[poolonly.PoolRun]


@dataclass(frozen=True, slots=True)
class Loop:
    """A closed loop, and the cores its server used meanwhile: its own process (the event
    loop), and its descendants (the render workers)."""

    run: renders.Throughput
    server_cores: float
    worker_cores: float
    rounds: tuple[float, ...] = ()  # answers/s of every round of its arm, this one's best


def tree_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds so far: (the process `pid`, its live descendants)."""
    procs = scan_proc()
    rest = sum(procs[p].cpu for p in process_tree(pid, procs) if p != pid)
    # Workers recycled meanwhile are gone from /proc: their time is in the server's
    # cutime + cstime once it has waited for them.
    return procs[pid].cpu / CLK_TCK, (rest + procs[pid].reaped) / CLK_TCK


def one_loop(server: Server, workers: int, seconds: int, share: float, tag: str) -> Loop:
    """A closed loop of og-card PNGs (new titles, or `share` repeats) against one server,
    with the cores its process and its workers used meanwhile."""
    if share:
        asyncio.run(renders.fill_pool(server.base, "og-card", "png", tag))
    progress(
        f"  {workers} worker(s): closed loop (wrk), {CLIENTS} clients, {share:.0%} repeats, "
        f"{seconds} s"
    )
    before = tree_cpu(server.proc.pid)
    run = renders.wrk_loop(server.base, CLIENTS, seconds, "og-card", tag, share)
    after = tree_cpu(server.proc.pid)
    used = [(a - b) / run.seconds for a, b in zip(after, before, strict=True)]
    return Loop(run, *used)


def measure_loops(
    arms: Sequence[tuple[int, Server, float]], seconds: int, rounds: int
) -> dict[tuple[int, float], Loop]:
    """Each arm (workers, its server, repeat share) in interleaved rounds (1 worker new,
    2 new, 2 at 50 %, 2 at 90 %, then again), so that a burst from another tenant slows
    all alike; each arm's best round counts (other load only ever slows a run)."""
    seen: dict[tuple[int, float], list[Loop]] = {}
    for number in range(rounds):
        for workers, server, share in arms:
            tag = f"w{workers} r{share:.0%} n{number}"
            seen.setdefault((workers, share), []).append(
                one_loop(server, workers, seconds, share, tag)
            )
    return {
        arm: dataclasses.replace(
            max(loops, key=lambda loop: loop.run.rate),
            rounds=tuple(loop.run.rate for loop in loops),
        )
        for arm, loops in seen.items()
    }


def run(args: argparse.Namespace) -> Results:
    hits: hitbench.Hits | None = None
    with tempfile.TemporaryDirectory(prefix="pixeldrive-bench-") as tmp:
        work = Path(tmp)
        with contextlib.ExitStack() as stack:
            server = start_pixeldrive(stack, 1, work)
            svgs = asyncio.run(preview_svgs(server.base, TEMPLATES, work))
        progress("rivals: svg2png, resvg-js, rsvg-convert on the templates' preview SVGs")
        rivals = measure_rivals(svgs, work, args.runs)
        floor = measure_floor(svgs["og-card"].read_bytes(), args.runs)
        pools = []
        for workers in args.worker_counts:
            progress(f"the pool alone, {workers} worker(s), {CLIENTS} callers, {args.duration} s")
            pools.append(poolonly.measure_pool(workers, args.duration, CLIENTS))
        started: list[tuple[int, Server, PeakRss, Cold]] = []
        with contextlib.ExitStack() as stack:
            for workers in args.worker_counts:
                server = start_pixeldrive(stack, workers, work)
                rss = stack.enter_context(PeakRss(server.proc.pid, every=0.5))
                progress(f"{workers} worker(s): cold renders, {args.runs} per format")
                cold = asyncio.run(measure_cold(server.base, args.runs, TEMPLATES))
                if hits is None:
                    progress(f"hits: wrk, {args.rounds} round(s) of 3 × {args.duration} s")
                    hits = hitbench.measure_hits(
                        stack, server.base, cold.default_url, work, args.duration, args.rounds
                    )
                started.append((workers, server, rss, cold))
            progress(f"renders per second: {args.rounds} interleaved round(s)")
            last, server, _, _ = started[-1]
            arms = [(w, s, 0.0) for w, s, _, _ in started]
            arms += [(last, server, share) for share in REPEAT_SHARES]
            best = measure_loops(arms, args.duration, args.rounds)
    servers = [
        ServerRun(
            w,
            cold,
            [best[w, 0.0], *(best[w, share] for share in REPEAT_SHARES if w == last)],
            rss.peak,
            len(rss.pids),
        )
        for w, _, rss, cold in started
    ]
    assert hits is not None
    return Results(rivals, floor, servers, hits, pools)


# ---- main ---------------------------------------------------------------------------------


def machine_facts() -> str:
    import cairosvg
    import PIL

    return (
        f"{machine_line()}\n"
        f"- Python {python_version()}, CairoSVG {cairosvg.__version__}, "
        f"Pillow {PIL.__version__}, aiohttp {aiohttp.__version__}, "
        f"{report.rival_versions()}"
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per measurement")
    parser.add_argument(
        "--duration", type=int, default=6, help="seconds per wrk run and closed loop"
    )
    parser.add_argument(
        "--workers", default="1,2", help="render worker counts (wrk uses the first)"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="interleaved wrk rounds per server (best counts)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 5 runs, 3 s loops, 1 wrk round"
    )
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.duration, args.rounds = 5, 3, 1
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
    results = run(args)
    body = report.render(results, args)
    text = section(BEGIN, END, body, facts, command_line("core.py", argv), started)
    print(text)
    print(f"\n(benchmark took {time.monotonic() - clock:.0f} s)")
    if args.write:
        write_readme(text, BEGIN, END)
        print(f"wrote {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

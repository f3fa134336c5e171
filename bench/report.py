"""The markdown tables of ``bench/core.py``: targets first, then the figures behind them."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
from collections.abc import Sequence
from typing import TYPE_CHECKING

from common import ms, table
from hits import best, hits_table
from rivals import RESVG_MODULE, Samples

if TYPE_CHECKING:
    from core import Results, ServerRun

FORMATS = ("png", "jpeg", "webp", "avif")
MIB = 1024 * 1024


def met(ok: bool) -> str:
    return "MET" if ok else "**NOT MET**"


def ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def rival_versions() -> str:
    """rsvg-convert's and resvg-js's versions, as one phrase."""
    parts = []
    if shutil.which("rsvg-convert"):
        out = subprocess.run(["rsvg-convert", "--version"], capture_output=True, text=True)
        parts.append(out.stdout.strip() or "rsvg-convert (version unknown)")
    package = RESVG_MODULE / "package.json"
    if package.exists():
        parts.append(f"resvg-js {json.loads(package.read_text())['version']}")
    return ", ".join(parts) or "no rival renderers installed"


def _pngs(server: ServerRun) -> dict[str, Samples]:
    return {t: s for (t, fmt), s in server.cold.timings.items() if fmt == "png"}


# ---- targets ------------------------------------------------------------------------------


def target_rows(results: Results) -> list[list[object]]:
    """(what, measured, target, met) per target this script measures."""
    first = results.servers[0]
    http = first.cold.timings["og-card", "png"].median
    svg2png = results.rivals.svg2png["og-card"]
    rows: list[list[object]] = []
    label = f"{first.workers} worker{'s' * (first.workers > 1)}"
    rows.append(
        [
            f"cold og-card PNG over HTTP / `svg2png` ({label}), median",
            ratio(http / svg2png.samples.median),
            "≤ 1.0",
            met(http <= svg2png.samples.median),
        ]
    )
    resvg = results.rivals.resvg.get("og-card")
    rows.append(
        [
            f"cold og-card PNG over HTTP / resvg-js ({label}), median",
            ratio(http / resvg.samples.median) if resvg else "not installed",
            "≤ 1.0",
            met(http <= resvg.samples.median) if resvg else "—",
        ]
    )
    size = first.cold.default_bytes["og-card", "png"] / svg2png.bytes
    rows.append(["og-card PNG bytes / CairoSVG's own", ratio(size), "≤ 1.1", met(size <= 1.1)])
    hit, bare = best(results.hits.pixeldrive), best(results.hits.bare)
    rps, p99 = hit.rps / bare.rps, hit.p99_ms / bare.p99_ms
    rows.append(["cache hits req/s / bare aiohttp req/s", ratio(rps), "≥ 0.5", met(rps >= 0.5)])
    rows.append(["cache hits p99 / bare aiohttp p99", ratio(p99), "≤ 2.0", met(p99 <= 2.0)])
    rows += scaling_rows(results.servers)
    one = next((p for p in results.pools if p.workers == 1), None)
    two = next((p for p in results.pools if p.workers == 2), None)
    if one and two:
        gain = two.rate / one.rate
        rows.append(
            ["renders/s, 2 workers / 1 worker, the pool alone (no HTTP)", ratio(gain), "—", ""]
        )
    rows.append(
        ["memory flat over the last half of 10,000 renders", "see `memory.py`", "±10 %", ""]
    )
    return rows


def scaling_rows(servers: Sequence[ServerRun]) -> list[list[object]]:
    rows: list[list[object]] = []
    one = next((s for s in servers if s.workers == 1), None)
    two = next((s for s in servers if s.workers == 2), None)
    if one and two:
        gain = two.throughput[0].run.rate / one.throughput[0].run.rate
        rows.append(["renders/s, 2 workers / 1 worker", ratio(gain), "≥ 1.7", met(gain >= 1.7)])
    last = servers[-1]
    new = last.throughput[0].run.rate
    for run in (loop.run for loop in last.throughput[1:]):
        gain = run.rate / new
        aim = "≥ 1.8" if run.repeat_share == 0.5 else "—"
        ok = met(gain >= 1.8) if run.repeat_share == 0.5 else ""
        what = f"answers/s, {run.repeat_share:.0%} repeats / all new ({last.workers} workers)"
        rows.append([what, ratio(gain), aim, ok])
    return rows


def targets_table(results: Results) -> str:
    return "**Targets** (ratios taken side by side in this run)\n\n" + table(
        ["figure", "measured", "target", ""], target_rows(results)
    )


# ---- figures ------------------------------------------------------------------------------


def rivals_table(results: Results) -> str:
    rivals, first = results.rivals, results.servers[0]
    startup = rivals.rsvg_startup
    rows = []
    for name, cairo in rivals.svg2png.items():
        http = _pngs(first)[name].median
        resvg, rsvg = rivals.resvg.get(name), rivals.rsvg.get(name)
        rows.append(
            [
                name,
                ms(http),
                ms(cairo.samples.median),
                ms(resvg.samples.median) if resvg else "—",
                ms(rsvg.samples.median) if rsvg else "—",
                ms(rsvg.samples.median - startup.median) if rsvg and startup else "—",
                ratio(http / cairo.samples.median),
                ratio(http / resvg.samples.median) if resvg else "—",
            ]
        )
    headers = ["template", "PixelDrive HTTP", "`svg2png`", "resvg-js", "rsvg-convert"]
    headers += ["rsvg-convert − start", "HTTP / svg2png", "HTTP / resvg-js"]
    start = f"{ms(startup.median)} ms" if startup else "not measured"
    title = (
        f"**PNG, cold, by renderer** (median ms; PixelDrive: POST /v1/renders, "
        f"{first.workers} worker, a miss each time; the others draw the same filled SVG bytes; "
        f"rsvg-convert is a new process per image, its start on a 1×1 SVG: {start})"
    )
    return f"{title}\n\n" + table(headers, rows)


def cold_table(results: Results, runs: int) -> str:
    floor = results.floor
    rows: list[list[object]] = []
    for server in results.servers:
        for (name, fmt), t in server.cold.timings.items():
            in_process = "—"
            if name == "og-card":
                in_process = ms(floor.draw_only.median + floor.encode[fmt].median)
            rows.append([server.workers, name, fmt, ms(t.median), ms(t.p90), in_process])
        repeat = server.cold.repeat
        label = "png, same payload again (`cached: true`)"
        rows.append([server.workers, "og-card", label, ms(repeat.median), ms(repeat.p90), "—"])
    headers = ["workers", "template", "format", "median ms", "p90 ms"]
    headers.append("draw + encode in process ms")
    title = (
        f"**Cold renders over HTTP** (POST /v1/renders, {runs} unique payloads per template "
        "and format, sequential, every one a miss; og-card's CairoSVG draw alone "
        f"{ms(floor.draw_only.median)} ms in process)"
    )
    return f"{title}\n\n" + table(headers, rows)


def bytes_table(results: Results) -> str:
    first, rivals = results.servers[0], results.rivals
    rows = []
    for name, cairo in rivals.svg2png.items():
        sizes = [f"{first.cold.default_bytes[name, fmt]:,}" for fmt in FORMATS]
        others = [rivals.resvg.get(name), rivals.rsvg.get(name)]
        png = first.cold.default_bytes[name, "png"]
        rows.append(
            [
                name,
                *sizes,
                f"{cairo.bytes:,}",
                *(f"{o.bytes:,}" if o else "—" for o in others),
                ratio(png / cairo.bytes),
            ]
        )
    headers = ["template", *(f"PixelDrive {fmt}" for fmt in FORMATS), "cairo png"]
    headers += ["resvg-js png", "rsvg-convert png", "PixelDrive png / cairo png"]
    title = "**Encoded bytes** (each template with its defaults, at its own size)"
    return f"{title}\n\n" + table(headers, rows)


def throughput_table(results: Results) -> str:
    rows = []
    for server in results.servers:
        for loop in server.throughput:
            run = loop.run
            rows.append(
                [
                    server.workers,
                    f"{run.repeat_share:.0%}",
                    f"{run.rate:.1f}",
                    " / ".join(f"{rate:.1f}" for rate in loop.rounds),
                    f"{run.drawn / run.seconds:.1f}",
                    ms(run.latency.median),
                    ms(run.latency.p99),
                    sum(run.other.values()),
                    f"{loop.server_cores:.2f}",
                    f"{loop.worker_cores:.2f}",
                ]
            )
    headers = ["workers", "repeats", "answers/s", "each round", "drawn/s", "p50 ms", "p99 ms"]
    headers += ["not 201"]
    headers += ["server process, cores", "workers, cores"]
    title = (
        f"**Renders per second** (closed loop: {results.servers[0].throughput[0].run.clients} "
        "clients, each posting an og-card PNG as soon as its last answer is read; new titles, "
        "or repeats of 16 images rendered before; the best of the interleaved rounds is shown, "
        "with the cores the server's own process and its workers used in it, of 2)"
    )
    return f"{title}\n\n" + table(headers, rows)


def pool_table(results: Results) -> str:
    rows = [
        [p.workers, f"{p.rate:.1f}", f"{p.workers_cores:.2f}", f"{p.caller_cores:.2f}"]
        for p in results.pools
    ]
    title = (
        "**The pool alone** (`RenderPool.render` called from this process, no HTTP: 4 callers, "
        "each rendering a new og-card PNG as soon as its last is done; the cores the workers "
        "and this process used meanwhile)"
    )
    headers = ["workers", "renders/s", "workers, cores", "caller, cores"]
    return f"{title}\n\n" + table(headers, rows)


def memory_table(results: Results) -> str:
    rows = [[s.workers, f"{s.peak_rss / MIB:.0f}", s.pids_seen] for s in results.servers]
    title = (
        "**Peak RSS of the server's process tree** (VmRSS of `pixeldrive serve` and every "
        "descendant, summed, sampled every 0.5 s while the server was measured)"
    )
    return f"{title}\n\n" + table(["workers", "peak MiB", "processes seen"], rows)


def render(results: Results, args: argparse.Namespace) -> str:
    return "\n\n".join(
        [
            targets_table(results),
            rivals_table(results),
            cold_table(results, args.runs),
            throughput_table(results),
            pool_table(results),
            hits_table(results.hits, args.duration),
            bytes_table(results),
            memory_table(results),
        ]
    )

#!/usr/bin/env python3
"""A/B: this checkout against another one (an earlier commit), side by side in one run.

    git worktree add /tmp/pd-base <rev>
    python bench/ab.py --against /tmp/pd-base --write

Two `pixeldrive serve` of 2 workers each, one per checkout (the other runs with its source
first on PYTHONPATH, the same venv and libraries), measured in interleaved rounds so that
the machine's drift slows both alike: cold og-card PNGs over HTTP (sequential misses),
renders per second in a closed loop (wrk, unique payloads) with the cores the server's own
process used per render, and memory-tier hits per second (wrk on one image URL). Each
arm's best round counts; the table gives every round. `--write` puts it into
bench/README.md between the `ab` markers. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- ab:begin -->", "<!-- ab:end -->"
os.environ["FONTCONFIG_FILE"] = str(ROOT / "conf" / "fonts.conf")

import renders  # noqa: E402
from common import (  # noqa: E402
    Server,
    command_line,
    machine_line,
    progress,
    publish,
    run_wrk,
    section,
    source_state,
    start_pixeldrive,
    table,
)
from core import tree_cpu  # noqa: E402

WORKERS = 2
CLIENTS = 4
HIT_THREADS, HIT_CONNECTIONS = 1, 32


@dataclass
class Arm:
    """One checkout's server and what each round measured on it."""

    name: str
    server: Server
    cold_ms: list[float] = field(default_factory=list)  # median of each round
    renders: list[float] = field(default_factory=list)  # renders/s of each round
    server_ms: list[float] = field(default_factory=list)  # server CPU ms per render
    hits: list[float] = field(default_factory=list)  # req/s of each round


def revision(checkout: Path) -> str:
    out = subprocess.run(
        ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()[:72] or str(checkout)


async def cold(base: str, runs: int, tag: str) -> float:
    """The median of `runs` sequential misses, each a title not drawn before."""
    samples = []
    async with renders.client_session() as session:
        for i in range(runs):
            body = renders.payload("og-card", f"A/B {tag} {i}", "png")
            ms, answer = await renders.post_render(session, base, body)
            assert not answer["cached"], answer
            samples.append(ms)
    return statistics.median(samples)


async def image_url(base: str) -> str:
    async with renders.client_session() as session:
        body = renders.payload("og-card", "A/B hit", "png")
        _, answer = await renders.post_render(session, base, body)
        _, again = await renders.post_render(session, base, body)
    assert again["cached"], again
    return f"{base}{answer['url']}"


def one_round(arm: Arm, number: int, args: argparse.Namespace, hit_url: str) -> None:
    progress(f"  {arm.name}, round {number + 1}: cold, closed loop, hits")
    arm.cold_ms.append(asyncio.run(cold(arm.server.base, args.runs, f"{arm.name} {number}")))
    before = tree_cpu(arm.server.proc.pid)
    loop = renders.wrk_loop(
        arm.server.base, CLIENTS, args.duration, "og-card", f"{arm.name}{number}"
    )
    after = tree_cpu(arm.server.proc.pid)
    arm.renders.append(loop.rate)
    arm.server_ms.append((after[0] - before[0]) * 1000 / max(1, loop.drawn))
    arm.hits.append(run_wrk(hit_url, args.duration, HIT_THREADS, HIT_CONNECTIONS).rps)


def measure(args: argparse.Namespace) -> list[Arm]:
    with (
        tempfile.TemporaryDirectory(prefix="pixeldrive-ab-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        other = {"PYTHONPATH": str(args.against)}
        arms = [
            Arm("this", start_pixeldrive(stack, WORKERS, work)),
            Arm("against", start_pixeldrive(stack, WORKERS, work, **other)),
        ]
        urls = {arm.name: asyncio.run(image_url(arm.server.base)) for arm in arms}
        for number in range(args.rounds):
            for arm in arms if number % 2 == 0 else reversed(arms):
                one_round(arm, number, args, urls[arm.name])
    return arms


def report(arms: list[Arm]) -> str:
    this, against = arms

    def row(figure: str, a: list[float], b: list[float], lower_is_better: bool) -> list[str]:
        best_a, best_b = (min(a), min(b)) if lower_is_better else (max(a), max(b))
        rounds = " / ".join(f"{x:.1f}" for x in a) + " vs " + " / ".join(f"{x:.1f}" for x in b)
        return [figure, f"{best_a:.1f}", f"{best_b:.1f}", f"{best_a / best_b:.2f}", rounds]

    rows = [
        row("cold og-card PNG over HTTP, median ms", this.cold_ms, against.cold_ms, True),
        row("renders/s, closed loop, 2 workers", this.renders, against.renders, False),
        row("server CPU ms per render", this.server_ms, against.server_ms, True),
        row("memory hits req/s (wrk -t1 -c32)", this.hits, against.hits, False),
    ]
    return table(["figure", "this", "against", "this / against", "every round"], rows)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", type=Path, required=True, help="the other checkout")
    parser.add_argument("--runs", type=int, default=30, help="cold renders per round")
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    args.against = args.against.resolve()
    started = dt.datetime.now(dt.UTC)
    body = report(measure(args))
    facts = (
        f"{machine_line()}\n\nthis: {source_state()}; against: {revision(args.against)}; "
        f"{WORKERS} workers each, auth off, fresh state dirs"
    )
    text = section(BEGIN, END, body, facts, command_line("ab.py", argv), started)
    publish(text, BEGIN, END, write=args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())

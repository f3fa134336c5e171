"""Cold negotiated AVIF and WebP over HTTP, fast first, against the cold PNG.

One `pixeldrive serve` (1 worker, authentication on, a key made with `pixeldrive keys
create`) and signed og-card URLs, a new title for every request so that each is a miss.
Per round, interleaved: the explicit `.png` URL; the extension-less URL with Chromium's
image Accept (negotiates AVIF) and Safari 14's (WebP), answered first with the PNG while
the negotiated format is encoded (`encode.fast_first`, the default); and the explicit
`.avif` and `.webp` URLs, what those clients waited for before. Each timed request is
followed, untimed, by requests of the same URL until one is not a stand-in, so the
follow-up encode never delays the next timed request (it runs on the one worker).

Figures: the median ms of each kind per repeat, its ratio to that repeat's PNG, and the
median of the repeats' ratios (the machine is shared: ratios within one run are what
compare).

Usage: python bench/fastfirst.py [--runs N] [--repeats N] [--write]   (writes the
``fastfirst`` section of bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from common import (
    command_line,
    machine_line,
    pixeldrive_env,
    publish,
    python_version,
    section,
    start_pixeldrive,
    table,
)

from pixeldrive.auth.url_signature import sign_url

BEGIN, END = "<!-- fastfirst:begin -->", "<!-- fastfirst:end -->"
CHROMIUM = "image/jxl,image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
SAFARI_14 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"
# (label, extension, Accept): what each kind of request asks for.
KINDS = (
    ("png (`.png`)", ".png", CHROMIUM),
    ("negotiated AVIF, fast first (Chromium)", "", CHROMIUM),
    ("negotiated WebP, fast first (Safari 14)", "", SAFARI_14),
    ("avif (`.avif`), as before", ".avif", CHROMIUM),
    ("webp (`.webp`), as before", ".webp", CHROMIUM),
)
WARMUP = 4


def make_key(state: Path) -> tuple[str, str]:
    """(kid, signing secret) of a new key in the server's state."""
    env = pixeldrive_env(state, 1, PIXELDRIVE_AUTH="on")
    out = subprocess.run(
        [sys.executable, "-m", "pixeldrive.cli", "keys", "create", "--name", "bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    made = json.loads(out.strip().splitlines()[-1])
    return made["id"], made["signing_secret"]


async def once(
    session: aiohttp.ClientSession, url: str, accept: str
) -> tuple[float, aiohttp.ClientResponse]:
    start = time.perf_counter()
    async with session.get(url, headers={"Accept": accept}) as response:
        await response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {url} → {response.status}")
    return (time.perf_counter() - start) * 1000, response


async def one_repeat(base: str, kid: str, secret: str, runs: int, tag: str) -> list[float]:
    """The median ms of each kind over `runs` rounds."""
    times: list[list[float]] = [[] for _ in KINDS]
    async with aiohttp.ClientSession() as session:
        for i in range(WARMUP + runs):
            for k, (_label, ext, accept) in enumerate(KINDS):
                path = sign_url(
                    f"/v1/t/og-card{ext}",
                    [("title", f"Fast first {tag} {i} {k}")],
                    kid=kid,
                    secret=secret,
                    ttl=3600,
                )
                ms, response = await once(session, base + path, accept)
                if response.headers["X-Cache"] != "miss":
                    raise RuntimeError(f"expected a miss: {dict(response.headers)}")
                if k in (1, 2) and "X-Fast-First" not in response.headers:
                    raise RuntimeError(f"expected a stand-in: {dict(response.headers)}")
                while "X-Fast-First" in response.headers:  # untimed: the follow-up done
                    _, response = await once(session, base + path, accept)
                if i >= WARMUP:
                    times[k].append(ms)
    return [statistics.median(t) for t in times]


def measure(runs: int, repeats: int) -> list[list[float]]:
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pd-fastfirst-")))
        server = start_pixeldrive(stack, 1, work, PIXELDRIVE_AUTH="on")
        kid, secret = make_key(server.log.with_suffix(""))
        return [
            asyncio.run(one_repeat(server.base, kid, secret, runs, str(r))) for r in range(repeats)
        ]


def rows(medians: list[list[float]]) -> list[tuple[object, ...]]:
    out = []
    for k, (label, _ext, _accept) in enumerate(KINDS):
        ratios = [m[k] / m[0] for m in medians]
        out.append(
            (
                label,
                " / ".join(f"{m[k]:.1f}" for m in medians),
                " / ".join(f"{r:.2f}×" for r in ratios),
                f"**{statistics.median(ratios):.2f}×**",
            )
        )
    return out


HEADERS = ("cold og-card, first request", "median ms per repeat", "/ png per repeat", "median")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    facts = "\n".join(
        [
            machine_line(),
            f"- Python {python_version()}, 1 worker, {args.runs} rounds after {WARMUP} "
            f"warm-ups, {args.repeats} repeats, load average {os.getloadavg()[0]:.2f}",
        ]
    )
    body = table(HEADERS, rows(measure(args.runs, args.repeats)))
    text = section(BEGIN, END, body, facts, command_line("fastfirst.py", argv), started)
    publish(text, BEGIN, END, write=args.write)


if __name__ == "__main__":
    main(sys.argv[1:])

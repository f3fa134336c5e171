"""Cache hits under wrk: PixelDrive's memory tier beside a bare aiohttp handler serving
the same bytes (the ceiling), and the bare handler with the access log that `pixeldrive
serve` used to write. Imported by ``bench/core.py``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from common import HOST, Wrk, free_port, ms, running, table, wait_ready
from common import run_wrk as common_run_wrk

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


def hits_table(hits: Hits, duration: int) -> str:
    cmd = f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{duration}s --latency"
    rows: list[list[object]] = []
    for name, rounds in (
        (f"PixelDrive memory hit (`{hits.path}`)", hits.pixeldrive),
        ("bare aiohttp, same bytes (the ceiling)", hits.bare),
        ("bare aiohttp + its INFO access log (off in `pixeldrive serve`)", hits.bare_log),
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

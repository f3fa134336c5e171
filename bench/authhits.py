#!/usr/bin/env python3
"""Authenticated cache hits: what a credential costs on the hot path.

1. wrk (`-t1 -c32`) on one og-card PNG held in the memory tier of a `pixeldrive serve` with
   authentication on, fetched four ways: `Authorization: Bearer <API key>`, `Bearer
   <token>`, its signed `public_url` (no header), and, on a second server with auth off, no
   credential at all; beside a bare aiohttp handler serving the same bytes (the ceiling).
   The five run in interleaved rounds, so a burst of load elsewhere hits all alike, and each
   one's best round is reported (other load only ever slows).
2. Each step of an authenticated hit timed in this process (`timeit`, best of 5): the
   checks a credential costs when it is verified in full, and what a hit costs once it is
   remembered.

Run it with ``python bench/authhits.py [--duration S]
[--rounds N] [--write]``; ``--write`` replaces the section between the authhits markers in
bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from common import (
    HOST,
    Wrk,
    command_line,
    free_port,
    machine_line,
    ms,
    parse_wrk,
    publish,
    python_version,
    running,
    section,
    source_state,
    start_pixeldrive,
    table,
    wait_ready,
    wrk_command,
    wrk_version,
)
from hits import BARE_APP

from pixeldrive.auth import url_signature
from pixeldrive.auth.api_keys import hash_secret, scopes_of, secret_matches, split_key
from pixeldrive.auth.principal import Principal
from pixeldrive.auth.scopes import Scopes
from pixeldrive.auth.tokens import SigningKeys, TokenIssuer
from pixeldrive.http.respond import IMMUTABLE, hit_headers
from pixeldrive.observe.metrics import Metrics
from pixeldrive.storage.key_records import KeyRecord

BEGIN, END = "<!-- authhits:begin -->", "<!-- authhits:end -->"
THREADS, CONNECTIONS = 1, 32


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    url: str
    headers: tuple[str, ...] = ()  # "Name: value" for wrk -H


async def prepare(auth_on: str, auth_off: str, admin_key: str) -> tuple[list[Target], bytes]:
    """One og-card PNG rendered on each server and read back until it is a memory hit;
    a token minted with the admin key. The targets, and the image's bytes."""
    bearer = {"Authorization": f"Bearer {admin_key}"}
    body = {"template": "og-card", "fields": {"title": "Hits"}, "format": "png"}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{auth_on}/v1/renders", json=body, headers=bearer) as resp:
            made = await resp.json()
        async with session.post(
            f"{auth_on}/v1/tokens", json={"ttl": 86400}, headers=bearer
        ) as resp:
            token = (await resp.json())["token"]
        async with session.post(f"{auth_off}/v1/renders", json=body) as resp:
            await resp.read()
        targets = [
            Target(
                "API key (`Authorization: Bearer pd_…`)",
                auth_on + made["url"],
                (f"Authorization: Bearer {admin_key}",),
            ),
            Target(
                "token (`Authorization: Bearer eyJ…`)",
                auth_on + made["url"],
                (f"Authorization: Bearer {token}",),
            ),
            Target("signed `public_url` (no header)", auth_on + made["public_url"]),
            Target("auth off (no credential)", auth_off + made["url"]),
        ]
        data = b""
        for target in targets:
            headers = dict(h.split(": ", 1) for h in target.headers)
            for _ in range(2):
                async with session.get(target.url, headers=headers) as resp:
                    data = await resp.read()
                    cache = resp.headers.get("X-Cache")
            if resp.status != 200 or cache != "hit":
                raise RuntimeError(f"{target.name}: {resp.status}, X-Cache {cache}")
    return targets, data


def run_wrk(target: Target, duration: int) -> Wrk:
    cmd = wrk_command(THREADS, CONNECTIONS, duration)
    for header in target.headers:
        cmd += ["-H", header]
    out = subprocess.run(
        [*cmd, target.url], capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    return parse_wrk(out)


def measure_wrk(duration: int, rounds: int, work: Path) -> tuple[list[Target], list[list[Wrk]]]:
    with contextlib.ExitStack() as stack:
        on = start_pixeldrive(stack, 1, work, PIXELDRIVE_AUTH="on")
        off = start_pixeldrive(stack, 1, work)
        admin = admin_key(on.log)
        targets, data = asyncio.run(prepare(on.base, off.base, admin))
        image = work / "hit.png"
        image.write_bytes(data)
        port = free_port()
        log = work / "bare.log"
        cmd = [sys.executable, "-c", BARE_APP, str(port), str(image), "image/png"]
        proc = stack.enter_context(running(cmd, dict(os.environ), log))
        asyncio.run(wait_ready(f"http://{HOST}:{port}", proc, log))
        targets.append(
            Target(
                "bare aiohttp, same bytes (the ceiling)", f"http://{HOST}:{port}/v1/images/hit.png"
            )
        )
        results: list[list[Wrk]] = [[] for _ in targets]
        for _ in range(rounds):
            for target, out in zip(targets, results, strict=True):
                out.append(run_wrk(target, duration))
        return targets, results


def admin_key(log: Path) -> str:
    """The first admin key, from the file the server names in its log."""
    for line in log.read_text().splitlines():
        if line.strip().startswith("The key and its signing secret are in"):
            path = Path(line.split(" are in ", 1)[1].strip())
            for row in path.read_text().splitlines():
                if row.startswith("export PD_KEY="):
                    return row.split("=", 1)[1]
    raise RuntimeError(f"no admin key file named in {log}")


# ---- the steps, in this process ------------------------------------------------------------


def per_call_us(step: Callable[[], object], number: int = 20_000) -> float:
    return min(timeit.repeat(step, number=number, repeat=5)) / number * 1e6


def steps() -> list[tuple[str, float]]:
    """Each step of an authenticated hit, µs per call."""
    key_id, secret = "abcdefghijkl", secrets.token_urlsafe(32)
    presented = f"pd_{key_id}_{secret}"
    header = f"Bearer {presented}"
    scopes = Scopes(templates=("og-*",), formats=("png", "webp"))
    record = KeyRecord(
        key_id,
        "bench",
        hash_secret(secret),
        "s" * 43,
        scopes.model_dump_json(),
        None,
        time.time(),
        None,
    )
    issuer = TokenIssuer(SigningKeys.generate())
    token, _ = issuer.mint(key_id, scopes, 3600)
    query = url_signature.sign_url(
        f"/v1/images/{'0' * 32}.png", [], kid=key_id, secret=record.signing_secret, ttl=3600
    )
    path, _, raw = query.partition("?")
    pairs = [(k, v) for k, _, v in (p.partition("=") for p in raw.split("&"))]
    principal = Principal(key_id, scopes, "key")
    remembered = {hashlib.sha256(header.encode()).digest(): (0.0, principal)}
    metrics = Metrics(formats=("png",))
    name = "0" * 32
    ids = random.Random()  # as the server makes request ids

    def key_in_full() -> object:
        parts = split_key(presented)
        assert parts is not None
        return secret_matches(record, parts[1]) and scopes_of(record)

    def cold_require() -> None:
        Principal(key_id, scopes, "key").require("render", template="og-card", format="png")

    return [
        (
            "API key in full: pattern, SHA-256 compare, scopes parsed (pydantic)",
            per_call_us(key_in_full),
        ),
        (
            "token in full: JWT verified (PyJWT, HS256)",
            per_call_us(lambda: issuer.verify(token), 5_000),
        ),
        (
            "signed URL in full: HMAC-SHA256 of the canonical URL",
            per_call_us(lambda: url_signature.verify(path, pairs, lambda _: record.signing_secret)),
        ),
        (
            "**remembered credential: SHA-256 of the header, dict lookup**",
            per_call_us(lambda: remembered.get(hashlib.sha256(header.encode()).digest())),
        ),
        ("scope check, first time (globs matched)", per_call_us(cold_require)),
        (
            "**scope check, remembered**",
            per_call_us(lambda: principal.require("render", template="og-card", format="png")),
        ),
        (
            "hit headers (cached per variant)",
            per_call_us(lambda: hit_headers(name, "png", False, IMMUTABLE)),
        ),
        (
            "request id (64 random bits, not for secrets)",
            per_call_us(lambda: f"{ids.getrandbits(64):016x}"),
        ),
        (
            "metrics: one response counted",
            per_call_us(lambda: metrics.response("/v1/images/{name}", "GET", 200, 0.001)),
        ),
    ]


# ---- the report ----------------------------------------------------------------------------


def report(
    targets: Sequence[Target],
    results: Sequence[Sequence[Wrk]],
    duration: int,
    step_costs: Sequence[tuple[str, float]],
) -> str:
    bare = max(results[-1], key=lambda w: w.rps)
    rows = []
    for target, rounds in zip(targets, results, strict=True):
        best = max(rounds, key=lambda w: w.rps)
        each = " / ".join(f"{w.rps:,.0f}" for w in rounds)
        rows.append(
            [
                target.name,
                f"{best.rps:,.0f}",
                each,
                ms(best.p50_ms),
                ms(best.p99_ms),
                f"{best.rps / bare.rps:.2f}",
                f"{best.p99_ms / bare.p99_ms:.2f}",
                sum(w.errors for w in rounds),
            ]
        )
    cmd = f"wrk -t{THREADS} -c{CONNECTIONS} -d{duration}s --latency [-H …] URL"
    wrk_title = (
        f"**Memory hits by credential** (`{cmd}`, one og-card PNG; {len(results[0])} "
        "rounds, interleaved; the best round of each)"
    )
    headers = [
        "fetched with",
        "requests/s",
        "each round",
        "p50 ms",
        "p99 ms",
        "req/s / bare",
        "p99 / bare",
        "errors",
    ]
    step_rows = [[name, f"{us:.2f}"] for name, us in step_costs]
    step_title = (
        "**The steps of an authenticated hit** (µs per call in this process, "
        "`timeit`, best of 5; bold: what a repeat hit pays)"
    )
    return "\n\n".join(
        [wrk_title, table(headers, rows), step_title, table(["step", "µs"], step_rows)]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run (6)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds (4)")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    machine = machine_line()
    with tempfile.TemporaryDirectory(prefix="pixeldrive-authhits-") as tmp:
        targets, results = measure_wrk(args.duration, args.rounds, Path(tmp))
    step_costs = steps()
    facts = (
        f"{machine}\n- Python {python_version()}, {wrk_version()}, "
        f"source {source_state()}; 1 render worker each; load average at the end "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    body = report(targets, results, args.duration, step_costs)
    command = command_line("authhits.py", list(argv or sys.argv[1:]))
    text = section(BEGIN, END, body, facts, command, started)
    publish(text, BEGIN, END, write=args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The connections phase of bench/load: idle connections held against a node while hundreds
of clients post unique renders and a few read cached images.

- idle: 1,000 sockets that send nothing, all opened at once before the clients start; each
  one the server closes is opened again at once, as an attacker would, and its age at the
  close is noted;
- renders: 500 clients, started evenly over the first second, each on its own kept-alive
  connection posting a new og-card title as soon as it has its answer, and after a 503
  waiting what `Retry-After` says, as RFC 9110 asks of a client;
- hits: 16 clients on kept-alive connections, each reading one of 50 PNGs rendered before
  the phase every 50 ms.

The clients speak HTTP/1.1 over asyncio streams (a few tens of microseconds a request,
where aiohttp's client takes about a millisecond of the CPU the server needs too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from common import fmt_ms, percentile, table

IDLE = 1000
RENDER_CLIENTS = 500
HIT_CLIENTS = 16
HIT_PAUSE_S = 0.05
HIT_POOL = 50
RAMP_S = 1.0  # the render clients start evenly over this
REQUEST_TIMEOUT_S = 30.0
WINDOW_S = 10  # the 503s' p99 is also given per window of this many seconds
TEMPLATE = "og-card"


@dataclass(frozen=True, slots=True)
class Reply:
    kind: str  # "render" or "hit"
    status: int | str  # the HTTP status, or the exception's name
    latency_ms: float  # from writing the request to the whole answer read
    at: float  # seconds since the phase began, when answered
    retry_after: str | None
    x_cache: str | None
    image_bytes: int  # a 201: the image's size from its body


@dataclass(slots=True)
class Idle:
    """The idle connections: how often the server closed one, and after how long."""

    started: int = 0  # connections that made their first attempt to open
    opened: int = 0
    ages: list[float] = field(default_factory=list)  # seconds from connect to the close
    errors: Counter[str] = field(default_factory=Counter)  # failed opens, by exception


@dataclass(frozen=True, slots=True)
class Flood:
    duration: float
    replies: list[Reply]
    idle: Idle
    patient: bool  # the render clients waited Retry-After after a 503

    def of(self, kind: str, status: int | str | None = None) -> list[Reply]:
        return [r for r in self.replies if r.kind == kind and status in (None, r.status)]

    def p99_503(self) -> float:
        return percentile([r.latency_ms for r in self.of("render", 503)], 99)

    def unexpected(self) -> int:
        """Answers other than 201 or 503 to a render, or 200 to a hit."""
        wanted = {"render": (201, 503), "hit": (200,)}
        return sum(1 for r in self.replies if r.status not in wanted[r.kind])


# ---- HTTP/1.1 over a stream ---------------------------------------------------------------


class Answered(Exception):
    """The server closed the connection (or it broke) before answering."""


class Connection:
    """One kept-alive client connection, opened again after the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status, headers = _parse_head(head)
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.close()
            raise Answered(type(exc).__name__) from exc
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ", 2)[1]), headers


def post_render(title: str) -> bytes:
    body = json.dumps({"template": TEMPLATE, "fields": {"title": title}}).encode()
    head = (
        "POST /v1/renders HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: image/png\r\n\r\n".encode()


# ---- the clients --------------------------------------------------------------------------


class Phase:
    """The clients of one run, sharing its clock, deadline and what they saw."""

    def __init__(self, base: str, duration: float, tag: str, *, patient: bool) -> None:
        url = urlsplit(base)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.duration, self.tag, self.patient = duration, tag, patient
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.replies: list[Reply] = []
        self.idle = Idle()

    @property
    def deadline(self) -> float:
        return self.t0 + self.duration

    async def timed(self, conn: Connection, kind: str, request: bytes) -> Reply:
        sent = self.loop.time()
        retry_after = x_cache = None
        status: int | str
        size = 0
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                status, headers, body = await conn.exchange(request)
            retry_after, x_cache = headers.get("retry-after"), headers.get("x-cache")
            if status == 201:
                size = int(json.loads(body)["bytes"])
        except Answered as exc:
            status = str(exc)
        except (TimeoutError, OSError) as exc:
            conn.close()
            status = type(exc).__name__
        done = self.loop.time()
        latency = (done - sent) * 1000
        reply = Reply(kind, status, latency, done - self.t0, retry_after, x_cache, size)
        self.replies.append(reply)
        return reply

    async def render_client(self, number: int) -> None:
        await asyncio.sleep(RAMP_S * number / RENDER_CLIENTS)
        conn = Connection(self.host, self.port)
        sent = 0
        while self.loop.time() < self.deadline:
            title = f"Connections {self.tag} {number:03d} {sent:05d}"
            reply = await self.timed(conn, "render", post_render(title))
            sent += 1
            if reply.status == 503 and self.patient:
                await asyncio.sleep(_seconds(reply.retry_after))
            elif reply.status != 201:
                await asyncio.sleep(0.1)  # a broken connection: not a tight loop
        conn.close()

    async def hit_client(self, number: int, paths: Sequence[str]) -> None:
        conn = Connection(self.host, self.port)
        turn = number
        while self.loop.time() < self.deadline:
            await self.timed(conn, "hit", get(paths[turn % len(paths)]))
            turn += HIT_CLIENTS
            await asyncio.sleep(HIT_PAUSE_S)
        conn.close()

    async def idle_connection(self, opened: asyncio.Event) -> None:
        """Hold a connection that sends nothing until the phase ends; open it again at once
        whenever the server closes it."""
        first = True
        while self.loop.time() < self.deadline:
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError as exc:
                self.idle.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.1)
                continue
            finally:
                if first:
                    first = False
                    self.idle.started += 1
                    if self.idle.started == IDLE:
                        opened.set()
            self.idle.opened += 1
            since = self.loop.time()
            try:
                async with asyncio.timeout(max(0.0, self.deadline - since)):
                    await reader.read(1)  # b"" when the server closes
                self.idle.ages.append(self.loop.time() - since)
            except TimeoutError:
                pass  # still open when the phase ended
            except OSError:
                self.idle.ages.append(self.loop.time() - since)
            writer.close()


async def run(
    base: str, duration: float, tag: str, hit_paths: Sequence[str], *, patient: bool = True
) -> Flood:
    """The phase: the idle connections first (all open), then the render and hit clients
    for `duration` seconds; every client stops sending at the end and waits for answers.
    Impatient render clients post again at once after a 503."""
    phase = Phase(base, duration, tag, patient=patient)
    opened = asyncio.Event()
    idle = [asyncio.create_task(phase.idle_connection(opened)) for _ in range(IDLE)]
    await opened.wait()
    phase.t0 = phase.loop.time()
    clients = [phase.render_client(i) for i in range(RENDER_CLIENTS)]
    clients += [phase.hit_client(i, hit_paths) for i in range(HIT_CLIENTS)]
    await asyncio.gather(*clients)
    for task in idle:
        task.cancel()
    await asyncio.gather(*idle, return_exceptions=True)
    return Flood(duration, phase.replies, phase.idle, patient)


def _seconds(value: str | None) -> float:
    try:
        return float(value or 1)
    except ValueError:
        return 1.0


def raise_file_limit() -> None:
    """Room for the phase's sockets: the soft limit of open files raised to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# ---- report -------------------------------------------------------------------------------


HEADERS = ["request", "answer", "count", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms"]


def report(flood: Flood, head_timeout: float) -> str:
    after_503 = (
        "each waiting `Retry-After` after a 503"
        if flood.patient
        else "each posting again at once after a 503 (`--impatient`)"
    )
    title = (
        f"**4. Connections** ({IDLE:,} idle connections, each opened again at once when the "
        f"server closes it; {RENDER_CLIENTS} clients posting unique og-card titles, started "
        f"over {RAMP_S:g} s, {after_503}; {HIT_CLIENTS} clients "
        f"reading {HIT_POOL} rendered PNGs every {HIT_PAUSE_S * 1000:g} ms; "
        f"{flood.duration:g} s; latency from writing the request to the whole answer)"
    )
    lines = [f"{title}\n\n" + table(HEADERS, _rows(flood))]
    ages = flood.idle.ages
    if ages:
        lines.append(
            f"- idle connections: {IDLE:,} held, {flood.idle.opened:,} opened in "
            f"all; the server closed {len(ages):,}, after {statistics.median(ages):.2f} s "
            f"(median; {min(ages):.2f}–{max(ages):.2f} s) with nothing sent "
            f"(`server.head_timeout` = {head_timeout:g} s); failed opens: "
            f"{sum(flood.idle.errors.values())}"
        )
    refused = flood.of("render", 503)
    retry = Counter(r.retry_after for r in refused)
    lines.append(
        f"- 503s without `Retry-After`: {retry.pop(None, 0)}; its values: "
        + (", ".join(f"{v} s × {n:,}" for v, n in sorted(retry.items())) or "none")
    )
    lines.append(f"- the 503s' p99 per {WINDOW_S} s: {_windows(refused, flood.duration)}")
    misses = sum(1 for r in flood.of("hit", 200) if r.x_cache != "hit")
    lines.append(f"- hits not served from memory (`X-Cache` ≠ hit): {misses}")
    return "\n".join(lines)


def _rows(flood: Flood) -> list[list[object]]:
    rows: list[list[object]] = []
    groups = Counter((r.kind, r.status) for r in flood.replies)
    for (kind, status), count in sorted(groups.items(), key=lambda kv: str(kv[0])):
        values = [r.latency_ms for r in flood.of(kind, status)]
        rows.append(
            [kind, status, f"{count:,}", f"{count / flood.duration:,.1f}"]
            + [fmt_ms(percentile(values, q)) for q in (50, 90, 99)]
            + [fmt_ms(max(values))]
        )
    return rows


def _windows(replies: Sequence[Reply], duration: float) -> str:
    cells = []
    for start in range(0, max(1, int(duration)), WINDOW_S):
        inside = [r.latency_ms for r in replies if start <= r.at < start + WINDOW_S]
        cells.append(fmt_ms(percentile(inside, 99)))
    return " / ".join(cells) + " ms"

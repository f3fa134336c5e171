"""The node's connections, bounded: a deadline on every request head, and at most so many
open, the next answered 503 without parsing, routing or a request object.

aiohttp closes a connection that stays idle for `keepalive_timeout`, counted from its
connect and from each answer, but has no deadline for a head that arrives slowly: its timer
closes a connection only while it waits with nothing received. A client that sends a byte
every few seconds (slowloris) or nothing at all would hold a connection for the whole
keep-alive bound, and enough of them would take every file descriptor of the process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from pixeldrive.core.errors import Overloaded, problem_body

SWEEP_SECONDS = 0.1  # how often heads past their deadline are looked for (at most)
# Connections closed per sweep at most, oldest first (500 a second): a crowd that connected
# together, closed together, would reconnect together, and the accepts and closes of a
# thousand connections in one instant hold every request in between for tens of ms.
CLOSE_PER_SWEEP = 50
REFUSAL_SECONDS = 1.0  # a refused connection is aborted after this, answered or not
# Refused connections answered at once; beyond, one is reset at once, unanswered: a flood
# of connections must not take the file descriptors the limit keeps free.
MAX_REFUSING = 128
RETRY_AFTER_SECONDS = 1
CLOSE_BATCH = 16  # connections closed per turn of the event loop by the sweep


class Waiting(asyncio.Protocol):
    """A connection that has sent nothing yet: its transport and when it connected.
    aiohttp's protocol (a parser, a task, a timer) is made on its first bytes, so a
    crowd of connections that send nothing costs one small object each, and closing
    them at their deadline cancels no task."""

    __slots__ = ("_guard", "since", "transport")

    def __init__(self, guard: ConnectionGuard) -> None:
        self._guard = guard
        self.transport: asyncio.Transport | None = None
        self.since = 0.0  # loop time of the connect

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.since = asyncio.get_running_loop().time()
        self._guard.waiting(self, opened=True)

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        assert transport is not None
        self._guard.waiting(self, opened=False)
        self.transport = None
        handler = self._guard.handler(self.since)
        transport.set_protocol(handler)
        handler.connection_made(transport)
        handler.data_received(data)

    def eof_received(self) -> bool:
        return False  # the transport closes itself

    def connection_lost(self, exc: BaseException | None) -> None:
        if self.transport is not None:  # closed before it sent anything
            self.transport = None
            self._guard.waiting(self, opened=False)
            self._guard.closed(None)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class HeadTimedHandler(RequestHandler):
    """aiohttp's HTTP/1.1 protocol, noting when the request head it waits for began:
    at connect, then at the first byte after each answer. `ConnectionGuard` closes the
    connection when the head is not complete within its deadline.

    A head is complete once aiohttp's parser has queued its message (or a request is
    being handled and what came is its body): aiohttp's own state, read after it has
    parsed the bytes; aiohttp is pinned, and tests/http/test_connections.py holds this
    to it.
    """

    __slots__ = ("_guard", "head_since")

    def __init__(
        self, guard: ConnectionGuard, manager: web.Server, since: float, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self.head_since: float | None = since  # loop time; None while no head is awaited

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._guard.opened(self)
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._guard.closed(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._messages or self._current_request is not None:
            self.head_since = None  # a head is complete (or this was a request's body)
        elif self.head_since is None:  # part of a head came after an answer
            self.head_since = self._loop.time()


class Refusal(asyncio.Protocol):
    """A connection beyond the limit. Its first bytes are answered with a 503 problem and
    the write side is shut; what the client still sends is read and dropped (closing with
    unread bytes would send a reset that can destroy the answer before the client reads
    it). No parsing, routing or request object: a refusal stays cheap under a flood."""

    def __init__(self, guard: ConnectionGuard) -> None:
        self._guard = guard
        self._transport: asyncio.Transport | None = None
        self._answered = False
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if not self._guard.refusing(self, opened=True):
            transport.abort()
            return
        self._transport = transport
        self._timer = asyncio.get_running_loop().call_later(REFUSAL_SECONDS, transport.abort)

    def data_received(self, data: bytes) -> None:
        if not self._answered and self._transport is not None:
            self._answered = True
            self._transport.write(self._guard.refusal())
            self._transport.write_eof()

    def eof_received(self) -> bool:
        return False  # the transport closes itself

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._guard.refusing(self, opened=False)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


class ConnectionGuard:
    """The protocol factory of the node's listening socket. While fewer than `limit`
    connections are open it makes aiohttp's protocol (`HeadTimedHandler`, with
    `handler_args` such as `keepalive_timeout`, on the runner's `server`), beyond that a
    `Refusal`. `start()` begins a sweep that closes connections whose request head is not
    complete `head_timeout` seconds after it began; `close()` ends it.

    Counted from the factory's calls, so a burst of accepts in one turn of the loop cannot
    overshoot the limit. Also a Prometheus collector: open, refused, timed out."""

    def __init__(
        self,
        server: web.Server,
        *,
        limit: int,
        head_timeout: float,
        handler_args: dict[str, Any],
    ) -> None:
        self.limit = limit
        self.head_timeout = head_timeout
        self._server = server
        self._handler_args = handler_args
        self._open: set[HeadTimedHandler] = set()
        self._waiting: dict[Waiting, None] = {}  # in the order they connected
        self._refusing: set[Refusal] = set()
        self._count = 0  # protocols made and not yet closed (made before connected)
        self.refused = 0
        self.timed_out = 0
        self._sweeper: asyncio.Task[None] | None = None
        self._answer = _refusal_answer(limit)
        self._ids = random.Random()  # noqa: S311 (request ids name log lines, need not be secret)

    @property
    def open(self) -> int:
        return self._count

    def __call__(self) -> asyncio.Protocol:
        if self._count >= self.limit:
            self.refused += 1
            return Refusal(self)
        self._count += 1
        return Waiting(self)

    def handler(self, since: float) -> HeadTimedHandler:
        """aiohttp's protocol for a connection that has begun a request, its head begun
        at `since`."""
        return HeadTimedHandler(
            self, self._server, since, loop=asyncio.get_running_loop(), **self._handler_args
        )

    def waiting(self, connection: Waiting, *, opened: bool) -> None:
        if opened:
            self._waiting[connection] = None
        else:
            self._waiting.pop(connection, None)

    def opened(self, handler: HeadTimedHandler) -> None:
        self._open.add(handler)

    def closed(self, handler: HeadTimedHandler | None) -> None:
        """A connection closed: `handler`, or one that never sent anything (None)."""
        if handler is not None:
            self._open.discard(handler)
        self._count -= 1

    def refusing(self, refusal: Refusal, *, opened: bool) -> bool:
        """Note a refusal opened or closed; False when too many are open to answer it."""
        if not opened:
            self._refusing.discard(refusal)
        elif len(self._refusing) < MAX_REFUSING:
            self._refusing.add(refusal)
        else:
            return False
        return True

    def refusal(self) -> bytes:
        """The 503 answer, with a request id of its own."""
        request_id = f"{self._ids.getrandbits(64):016x}".encode()
        return self._answer % (request_id, request_id)

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(
            self._sweep(), name="connection-sweep"
        )

    async def close(self) -> None:
        """Stop sweeping and drop the connections being refused (the runner closes the
        others, letting requests in flight finish)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
            self._sweeper = None
        for refusal in list(self._refusing):
            refusal.abort()
        for waiting in list(self._waiting):
            waiting.close()

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        every = min(SWEEP_SECONDS, self.head_timeout / 4)
        while True:
            await asyncio.sleep(every)
            await self._close_late_heads(loop.time() - self.head_timeout)

    async def _close_late_heads(self, began_before: float) -> None:
        """Close the connections whose awaited head began before `began_before`, oldest
        first, at most `CLOSE_PER_SWEEP`, a batch per turn of the loop: requests in
        between must not wait for a whole crowd."""
        silent = list(itertools.islice(self._silent_since(began_before), CLOSE_PER_SWEEP))
        for start in range(0, len(silent), CLOSE_BATCH):
            for waiting in silent[start : start + CLOSE_BATCH]:
                if waiting.transport is not None:  # it may have sent something since
                    waiting.close()  # connection_lost follows, from the loop
                    self.timed_out += 1
            await asyncio.sleep(0)
        room = CLOSE_PER_SWEEP - len(silent)
        late = [h for h in self._open if _began_before(h, began_before)][:room]
        for start in range(0, len(late), CLOSE_BATCH):
            for handler in late[start : start + CLOSE_BATCH]:
                if _began_before(handler, began_before):  # its head may have come since
                    handler.force_close()  # connection_lost follows, from the loop
                    self.timed_out += 1
            await asyncio.sleep(0)

    def _silent_since(self, began_before: float) -> Iterator[Waiting]:
        """Connections that have sent nothing since before `began_before`, oldest first."""
        for waiting in self._waiting:
            if waiting.since >= began_before:
                return
            yield waiting

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "pixeldrive_connections", "Open HTTP connections (refused ones not counted)", self.open
        )
        yield GaugeMetricFamily(
            "pixeldrive_connections_silent",
            "Open HTTP connections that have sent nothing yet (no request state made for them)",
            len(self._waiting),
        )
        yield CounterMetricFamily(
            "pixeldrive_connections_refused",
            "Connections answered 503 because server.max_connections were open",
            self.refused,
        )
        yield CounterMetricFamily(
            "pixeldrive_connections_head_timeouts",
            "Connections closed for not sending a whole request head within server.head_timeout",
            self.timed_out,
        )


def _began_before(handler: HeadTimedHandler, moment: float) -> bool:
    return handler.head_since is not None and handler.head_since < moment


def _refusal_answer(limit: int) -> bytes:
    """The whole 503 answer as bytes with two `%s` for the request id (header and body)."""
    problem = problem_body(
        Overloaded.status,
        Overloaded.title,
        f"this node has its limit of {limit} connections open; retry shortly",
        "too-many-connections",
    )
    marker = "REQUEST-ID"
    body = json.dumps({**problem, "request_id": marker}).replace("%", "%%")
    body = body.replace(marker, "%s")
    size = len((body % ("0" * 16)).encode())  # an id is 16 hex digits
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {size}\r\n"
        f"Retry-After: {RETRY_AFTER_SECONDS}\r\n"
        "X-Request-Id: %s\r\n"
        "Connection: close\r\n\r\n"
    )
    return (head + body).encode()

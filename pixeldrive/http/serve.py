"""Running the HTTP app until SIGTERM or SIGINT: the listening socket, its connections
bounded (`connections.py`), the process's file limit raised to fit them, a graceful stop.

`web.run_app` cannot do this: its sites hand every connection to aiohttp's own protocol,
with no way to choose another per connection, so the runner and the site are built here.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import resource
import signal
import socket
from collections.abc import Callable
from typing import Any

from aiohttp import web
from yarl import URL

from pixeldrive.core.config import ServerSettings
from pixeldrive.http.app_keys import METRICS, SERVICES
from pixeldrive.http.connections import ConnectionGuard

log = logging.getLogger("pixeldrive.http")
# File descriptors kept for everything but client connections: the listening socket, the
# render workers' sockets, SQLite, cache files being read, Redis, PostgreSQL, logs.
FILE_RESERVE = 256
# New connections taken from the kernel's queue in one turn of the event loop. asyncio
# passes one number both to listen() and as this count; a turn that sets up hundreds of
# connections holds up every request in flight for tens of milliseconds, so the turn is
# kept short and the queue (`server.backlog`) long.
ACCEPT_BATCH = 16


def serve(app: web.Application, settings: ServerSettings, announce: Callable[[], None]) -> None:
    """Serve `app` on `settings.host`:`settings.port` until SIGTERM or SIGINT, then stop
    accepting, let the requests in flight finish (within `shutdown_timeout`) and close the
    app's parts. `announce` is called once the socket listens. OSError when the address
    cannot be bound."""
    limit = connection_limit(settings.max_connections)
    asyncio.run(_serve(app, settings, limit, announce))


def connection_limit(wanted: int) -> int:
    """How many connections the process may hold: `wanted`, once the soft file limit is
    raised to fit them and the reserve (up to the hard limit); else as many as fit, with a
    warning naming the setting."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FILE_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    fits = max(1, soft - FILE_RESERVE)
    log.warning(
        "server.max_connections is %d, but the file limit (ulimit -n) is %d: at most %d "
        "connections; raise the hard limit (LimitNOFILE= under systemd) or lower the setting",
        wanted,
        soft,
        fits,
    )
    return fits


async def _serve(
    app: web.Application, settings: ServerSettings, limit: int, announce: Callable[[], None]
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(app, shutdown_timeout=settings.shutdown_timeout)
    await runner.setup()  # the app's parts open here (cleanup_ctx)
    # What start-up made (templates, schemas, modules: about 100,000 objects) lives as
    # long as the process: left to the collector, each full collection walks all of it
    # and holds the event loop for 100-180 ms, so every request in flight waits.
    gc.freeze()
    draining: asyncio.Task[None] | None = None
    try:
        assert runner.server is not None
        guard = ConnectionGuard(
            runner.server,
            limit=limit,
            head_timeout=settings.head_timeout,
            handler_args=_handler_args(settings),
        )
        app[METRICS].registry.register(guard)
        site = GuardedSite(runner, guard, settings.host, settings.port, backlog=settings.backlog)
        await site.start()
        announce()
        await stop.wait()
        # Batch items first: take no more at once, and hand back what cannot finish soon,
        # while the requests in flight drain beside it.
        batches = app[SERVICES].batch_runner
        if batches is not None:
            draining = asyncio.create_task(batches.close())
    finally:
        await runner.cleanup()  # stop accepting, finish requests in flight, close the parts
        if draining is not None:
            await draining  # done by now: the parts' close waited for it


def _handler_args(settings: ServerSettings) -> dict[str, Any]:
    """aiohttp's protocol options: the idle bound, and the access log (off by default:
    one formatted line per request halves the cache-hit throughput)."""
    access_log = logging.getLogger("aiohttp.access") if settings.access_log else None
    return {"keepalive_timeout": settings.keepalive_timeout, "access_log": access_log}


class GuardedSite(web.BaseSite):
    """A TCP site whose connections `guard` makes (bounded in number and in the time a
    request head may take), where aiohttp's `TCPSite` hands each to the runner's server."""

    def __init__(
        self, runner: web.BaseRunner, guard: ConnectionGuard, host: str, port: int, *, backlog: int
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self._guard = guard
        self._host = host
        self._port = port

    @property
    def name(self) -> str:
        return str(URL.build(scheme="http", host=self._host, port=self._port))

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._guard, self._host, self._port, backlog=ACCEPT_BATCH
        )
        for listening in self._server.sockets:
            _listen(listening.fileno(), self._backlog)
        self._guard.start()

    async def stop(self) -> None:
        await self._guard.close()
        await super().stop()


def _listen(fileno: int, backlog: int) -> None:
    """listen() again on a listening socket: the kernel queues `backlog` connections."""
    with socket.socket(fileno=os.dup(fileno)) as same:  # closes the duplicate only
        same.listen(backlog)

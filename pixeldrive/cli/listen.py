"""Before `serve` starts anything: can it listen where it is told?"""

from __future__ import annotations

import errno
import socket

from pixeldrive.cli.mistakes import FAILED, CommandError


def check_listen(host: str, port: int) -> None:
    """CommandError, naming the flag or setting that changes it, when `serve` could not
    listen on host:port. Checked before the render pool starts or a first key is made, so
    the mistake costs nothing; binding each address as the server will (SO_REUSEADDR, as
    asyncio sets it), then letting go."""
    if port == 0:  # any free port: nothing to check
        return
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CommandError(
            f"cannot listen on {host}:{port}: {host!r} does not resolve ({exc.strerror}); "
            "give an address of this machine with --host (or PIXELDRIVE_HOST), e.g. 127.0.0.1"
        ) from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                raise cannot_listen(host, port, exc) from None


def cannot_listen(host: str, port: int, exc: OSError) -> CommandError:
    """Why `serve` cannot listen on host:port, and the setting or flag that changes it."""
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return CommandError(
            f"cannot listen on {where}: the port is in use (another pixeldrive serve?); "
            "choose another with --port N, PIXELDRIVE_PORT or server.port in the configuration",
            status=FAILED,
        )
    if exc.errno == errno.EACCES:
        return CommandError(
            f"cannot listen on {where}: ports below 1024 need privileges; choose a port above "
            "1023 with --port N (or PIXELDRIVE_PORT), and put a proxy in front for port 80",
            status=FAILED,
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return CommandError(
            f"cannot listen on {where}: {host} is not an address of this machine; "
            "give one of its own with --host (or PIXELDRIVE_HOST), e.g. 127.0.0.1 or 0.0.0.0"
        )
    return CommandError(
        f"cannot listen on {where}: {exc.strerror or exc}; --host and --port "
        "(PIXELDRIVE_HOST, PIXELDRIVE_PORT) choose where",
        status=FAILED,
    )

"""Which remote image URLs and addresses may be fetched: pure checks, no I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Final

from yarl import URL

from pixeldrive.core.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_URL_LENGTH: Final = 4096
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
_BROADCAST = ipaddress.ip_address("255.255.255.255")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are the IPv4 target
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d (RFC 4291 §2.5.5.1)


def _site_local(ip: IPAddress) -> bool:
    return isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local


# Checked in order, so an address is named by its most telling property. The library's
# flags alone are not enough: 224.0.0.1, ff02::1 and fec0::1 count as "global" for it.
_CATEGORIES: Final[tuple[tuple[Callable[[IPAddress], bool], str], ...]] = (
    (lambda ip: ip.is_unspecified, "is the unspecified address"),
    (lambda ip: ip.is_loopback, "is a loopback address"),
    (lambda ip: ip.is_link_local, "is a link-local address"),
    (lambda ip: ip in _SHARED, "is a shared (carrier-grade NAT) address"),
    (lambda ip: any(ip in net for net in _RFC1918), "is a private address"),
    (lambda ip: ip in _UNIQUE_LOCAL, "is a unique local (private) address"),
    (_site_local, "is a site-local address"),
    (lambda ip: ip.is_multicast, "is a multicast address"),
    (lambda ip: ip == _BROADCAST, "is the broadcast address"),
    (lambda ip: ip.is_reserved, "is a reserved address"),
    (lambda ip: not ip.is_global, "is not a public address"),
)


class ImageRefused(InvalidInput):
    """A remote image that may not be used; the message names the reason, for the client."""

    slug = "image-refused"


def check_url(url: str | URL, allow_hosts: Iterable[str], schemes: Iterable[str]) -> URL:
    """The parsed URL when its scheme is in `schemes`, it names a host and no credentials,
    and the host matches `allow_hosts` (exact names, or `*.example.com` for the
    sub-domains of example.com; IDNA, case and a trailing dot do not matter). Any port.
    The returned URL (fragment dropped) is the one to request: checking one parse and
    fetching another is how allow-lists get bypassed. Raises ImageRefused."""
    if isinstance(url, str) and len(url) > MAX_URL_LENGTH:
        raise ImageRefused(f"the image URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = url if isinstance(url, URL) else URL(url)
    except (ValueError, TypeError) as exc:
        raise ImageRefused(f"the image URL is not valid: {exc}") from exc
    if parsed.scheme not in set(schemes):
        raise ImageRefused(f"scheme {parsed.scheme or '(none)'} is not allowed")
    if not parsed.raw_host:
        raise ImageRefused("the image URL names no host")
    if parsed.user is not None or parsed.password is not None:
        raise ImageRefused("the image URL carries a user name or password")
    host = normalise_host(parsed.raw_host)
    if not any(host_matches(host, pattern) for pattern in allow_hosts):
        raise ImageRefused(f"host {parsed.host} is not on the image allow-list")
    return parsed.with_fragment(None)


def normalise_host(host: str) -> str:
    """The comparable form of a host: IP literals canonical, names lower-case IDNA
    (punycode) without a trailing dot."""
    host = host.strip().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    host = host.rstrip(".")
    if not host.isascii():
        # yarl's IDNA encoding is the one the request will use.
        host = URL.build(scheme="https", host=host).raw_host or ""
    return host.lower()


def host_matches(host: str, pattern: str) -> bool:
    """`host` (normalised) against one allow-list pattern: an exact host, or `*.domain`
    matching strict sub-domains of `domain` (never `domain` itself)."""
    if pattern.startswith("*."):
        return host.endswith("." + normalise_host(pattern[2:]))
    return host == normalise_host(pattern)


def check_address(ip: IPAddress, allow_networks: Iterable[IPNetwork]) -> None:
    """Refuse an address that is not public — loopback, private, link-local (cloud
    metadata lives at 169.254.169.254), shared, unspecified, multicast, reserved,
    broadcast, unique/site-local — unless it is inside one of `allow_networks`. IPv6
    forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged
    by that address too. Raises ImageRefused naming the address and the reason."""
    reason = forbidden(ip, tuple(allow_networks))
    if reason is not None:
        raise ImageRefused(f"{ip} {reason}")


def forbidden(ip: IPAddress, allow_networks: tuple[IPNetwork, ...]) -> str | None:
    """Why `ip` may not be fetched ("is a loopback address"), or None when it may."""
    if any(ip.version == net.version and ip in net for net in allow_networks):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        embedded, decisive = _embedded_ipv4(ip)
        if embedded is not None:
            inner = forbidden(embedded, allow_networks)
            if inner is not None:
                return f"embeds {embedded}, which {inner}"
            if decisive:
                return None  # the packets go to the embedded address: it was fine
    for test, reason in _CATEGORIES:
        if test(ip):
            return reason
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address | None, bool]:
    """(the IPv4 address inside `ip`, whether that address alone decides).

    Mapped (::ffff:a.b.c.d) and NAT64 addresses reach exactly the embedded IPv4 host, so
    it decides. 6to4, Teredo and the deprecated IPv4-compatible form reach it through a
    relay: a bad embedded address refuses, a good one still leaves the IPv6 checks."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, True
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), True
    if ip.sixtofour is not None:
        return ip.sixtofour, False
    if ip.teredo is not None:
        return ip.teredo[1], False  # the client; the server half is a public relay
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # not :: or ::1, judged as themselves
        return ipaddress.IPv4Address(int(ip)), False
    return None, False

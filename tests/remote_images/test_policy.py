"""The image policy: which URLs and which addresses may be fetched."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError
from yarl import URL

from pixeldrive.core.config import ImageSettings, load_settings
from pixeldrive.core.errors import InvalidInput
from pixeldrive.remote_images.policy import ImageRefused, check_address, check_url

HTTPS = ("https",)


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("https://images.example.com/a.png", "images.example.com"),
        ("https://IMAGES.Example.COM./a.png", "images.example.com"),
        ("https://images.example.com/a.png", "Images.Example.com."),
        ("https://images.example.com:8443/a.png", "images.example.com"),  # any port
        ("https://a.example.com/x.png", "*.example.com"),
        ("https://a.b.example.com/x.png", "*.example.com"),
        ("https://A.Example.Com/x.png", "*.EXAMPLE.com"),
        ("https://bücher.de/x.png", "xn--bcher-kva.de"),
        ("https://xn--bcher-kva.de/x.png", "Bücher.de"),
        ("https://bilder.BÜCHER.de/x.png", "*.bücher.de"),
        ("https://93.184.216.34/x.png", "93.184.216.34"),
        ("https://[2606:2800:220:1::]/x.png", "2606:2800:220:1::"),
        ("https://[2606:2800:220:1::]/x.png", "[2606:2800:0220:0001::]"),
    ],
)
def test_allowed_hosts(url: str, allow: str) -> None:
    checked = check_url(url, [allow], HTTPS)
    assert isinstance(checked, URL)
    assert checked.scheme == "https"


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("https://example.com/x.png", "*.example.com"),  # the wildcard is sub-domains only
        ("https://badexample.com/x.png", "*.example.com"),
        ("https://example.com.evil.test/x.png", "example.com"),
        ("https://evil.test/example.com/x.png", "example.com"),
        ("https://images.example.com.evil.test/x.png", "*.example.com"),
        ("https://sub.images.example.com/x.png", "images.example.com"),
        ("https://93.184.216.35/x.png", "93.184.216.34"),
    ],
)
def test_hosts_off_the_list_are_refused(url: str, allow: str) -> None:
    with pytest.raises(ImageRefused, match=r"host \S+ is not on the image allow-list"):
        check_url(url, [allow], HTTPS)


def test_an_empty_allow_list_fetches_nothing() -> None:
    with pytest.raises(ImageRefused, match=r"host evil\.test is not on the image allow-list"):
        check_url("https://evil.test/a.png", [], HTTPS)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme file is not allowed"),
        ("http://images.example.com/a.png", "scheme http is not allowed"),
        ("data:image/png;base64,AAAA", "scheme data is not allowed"),
        ("ftp://images.example.com/a.png", "scheme ftp is not allowed"),
        ("gopher://images.example.com/", "scheme gopher is not allowed"),
        ("/relative/a.png", r"scheme \(none\) is not allowed"),
        ("https:///a.png", "names no host"),
        ("https://user:pw@images.example.com/a.png", "user name or password"),
        ("https://user@images.example.com/a.png", "user name or password"),
        ("https://images.example.com\\@evil.test/", "not valid"),
        ("https://images.example.com/" + "a" * 5000, "longer than 4096"),
    ],
)
def test_bad_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(ImageRefused, match=reason):
        check_url(url, ["images.example.com"], HTTPS)


def test_the_checked_url_is_the_one_to_fetch() -> None:
    checked = check_url("https://images.example.com:444/a%20b.png?x=1#frag", ["*.com"], HTTPS)
    assert str(checked) == "https://images.example.com:444/a%20b.png?x=1"
    assert check_url(checked, ["images.example.com"], HTTPS) == checked


def test_a_refusal_is_a_422_naming_the_problem() -> None:
    with pytest.raises(ImageRefused) as info:
        check_url("file:///etc/passwd", [], HTTPS)
    assert isinstance(info.value, InvalidInput)
    assert info.value.status == 422
    assert info.value.slug == "image-refused"
    assert str(info.value) == "scheme file is not allowed"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("127.255.0.9", "127.255.0.9 is a loopback address"),
        ("::1", "::1 is a loopback address"),
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("172.16.0.1", "172.16.0.1 is a private address"),
        ("172.31.255.254", "172.31.255.254 is a private address"),
        ("192.168.1.1", "192.168.1.1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("100.64.0.1", "100.64.0.1 is a shared (carrier-grade NAT) address"),
        ("0.0.0.0", "0.0.0.0 is the unspecified address"),
        ("::", ":: is the unspecified address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("ff02::1", "ff02::1 is a multicast address"),
        ("255.255.255.255", "255.255.255.255 is the broadcast address"),
        ("240.0.0.1", "240.0.0.1 is a reserved address"),
        ("192.0.2.1", "192.0.2.1 is not a public address"),  # documentation range
        ("198.18.0.1", "198.18.0.1 is not a public address"),  # benchmarking range
        ("fc00::1", "fc00::1 is a unique local (private) address"),
        ("fd12:3456::1", "fd12:3456::1 is a unique local (private) address"),
        ("fe80::1", "fe80::1 is a link-local address"),
        ("fec0::1", "fec0::1 is a site-local address"),
        # IPv6 forms that carry an IPv4 address are judged by it.
        ("::ffff:127.0.0.1", "::ffff:7f00:1 embeds 127.0.0.1, which is a loopback address"),
        ("::ffff:10.0.0.1", "::ffff:a00:1 embeds 10.0.0.1, which is a private address"),
        ("::ffff:169.254.169.254", "embeds 169.254.169.254, which is a link-local address"),
        ("64:ff9b::7f00:1", "64:ff9b::7f00:1 embeds 127.0.0.1, which is a loopback address"),
        ("64:ff9b::a9fe:a9fe", "embeds 169.254.169.254, which is a link-local address"),
        ("2002:7f00:1::", "2002:7f00:1:: embeds 127.0.0.1, which is a loopback address"),
        ("2002:a00:1::1", "embeds 10.0.0.1, which is a private address"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "embeds 10.0.0.1, which is a private address"),
        ("::7f00:1", "::7f00:1 embeds 127.0.0.1, which is a loopback address"),
        ("::5db8:d822", "::5db8:d822 is a reserved address"),  # deprecated IPv4-compatible
        ("64:ff9b:1::1", "64:ff9b:1::1 is a reserved address"),  # local-use NAT64
    ],
)
def test_forbidden_addresses(address: str, message: str) -> None:
    with pytest.raises(ImageRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_address(ipaddress.ip_address(address), [])


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:2800:220:1::",
        "2a00:1450:4001:82b::200e",
        "::ffff:93.184.216.34",  # mapped: the packets go to the public IPv4 address
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    check_address(ipaddress.ip_address(address), [])


@pytest.mark.parametrize(
    ("address", "networks"),
    [
        ("127.0.0.1", ["127.0.0.0/8"]),
        ("127.0.0.2", ["127.0.0.0/8", "::1/128"]),
        ("::1", ["127.0.0.0/8", "::1/128"]),
        ("::ffff:127.0.0.1", ["127.0.0.0/8"]),
        ("10.20.30.40", ["10.20.0.0/16"]),
        ("169.254.169.254", ["169.254.169.254/32"]),
    ],
)
def test_allow_networks_let_named_ranges_through(address: str, networks: list[str]) -> None:
    check_address(ipaddress.ip_address(address), [ipaddress.ip_network(n) for n in networks])


@pytest.mark.parametrize(
    ("address", "networks"),
    [
        ("127.0.0.2", ["127.0.0.1/32"]),
        ("10.0.0.1", ["127.0.0.0/8"]),
        ("::1", ["127.0.0.0/8"]),
        ("10.21.0.1", ["10.20.0.0/16"]),
    ],
)
def test_allow_networks_let_nothing_else_through(address: str, networks: list[str]) -> None:
    with pytest.raises(ImageRefused):
        check_address(ipaddress.ip_address(address), [ipaddress.ip_network(n) for n in networks])


def test_image_settings_defaults_fetch_nothing_remote() -> None:
    images = ImageSettings()
    assert images.allow_hosts == ()
    assert images.allow_networks == ()
    assert images.schemes == ("https",)
    assert (images.max_bytes, images.max_pixels) == (10 * 2**20, 40_000_000)
    assert (images.timeout, images.max_redirects, images.cache_bytes) == (5.0, 3, 64 * 2**20)
    # conf/pixeldrive.toml spells out the same defaults.
    assert load_settings().images == images


def test_image_settings_parse_networks_and_refuse_bad_values() -> None:
    images = ImageSettings(allow_networks=["127.0.0.0/8", "::1/128"], schemes=["http", "https"])
    assert images.allow_networks == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    for bad in (["*.*.example.com"], ["*"], ["ex*ample.com"], ["a.com/x"], [""]):
        with pytest.raises(ValidationError, match=r"images\.allow_hosts"):
            load_settings(images={"allow_hosts": bad})
    with pytest.raises(ValidationError, match=r"images\.schemes"):
        load_settings(images={"schemes": ["file"]})
    with pytest.raises(ValidationError, match=r"images\.allow_networks"):
        load_settings(images={"allow_networks": ["10.0.0.1/8"]})

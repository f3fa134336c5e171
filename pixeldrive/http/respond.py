"""Image responses: negotiated format, validators, cache headers, 304."""

from __future__ import annotations

from functools import lru_cache

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from pixeldrive.core.errors import NotAcceptable
from pixeldrive.core.formats import BY_EXT, BY_MIME, FORMATS, NEGOTIABLE, WIDEST_FIRST, ImageFormat
from pixeldrive.http.app_keys import PRINCIPAL, SETTINGS
from pixeldrive.http.negotiate import negotiate_image, parse_accept, quality
from pixeldrive.service.pipeline import Rendered

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=60, must-revalidate"
# A stand-in (PNG while the negotiated format is encoded) is this request's answer, not
# the URL's: a cache may keep it only to revalidate it, and its ETag (the PNG's) then
# no longer matches once the negotiated format is there.
STAND_IN = "public, no-cache"
HEADER_CREDENTIALS = frozenset({"key", "token"})


def for_caller(request: web.Request, cache_control: str) -> str:
    """An answer to a request authenticated by its header is the caller's own: the
    browser may keep it, a shared cache may not (it would hand it to anyone, in the
    format this credential chose). Signed URLs and auth off stay public."""
    if request[PRINCIPAL].via in HEADER_CREDENTIALS and cache_control.startswith("public"):
        return "private" + cache_control.removeprefix("public")
    return cache_control


def image_offers(request: web.Request) -> list[str]:
    """The media types negotiation may answer: the negotiable formats the caller's
    credential allows, in the server's preference order."""
    preference = request.app[SETTINGS].encode.preference
    allowed = request[PRINCIPAL].scopes.formats
    names = [*preference, *(name for name in NEGOTIABLE if name not in preference)]
    return [FORMATS[name].mime for name in names if name in allowed]


def universal_types(request: web.Request) -> list[str]:
    """What a wildcard in Accept (or no Accept) may stand for, first choice first: the
    fallback format, then the most widely decoded ones."""
    fallback = request.app[SETTINGS].encode.fallback_format
    return [FORMATS[name].mime for name in dict.fromkeys((fallback, *WIDEST_FIRST))]


def negotiate_format(request: web.Request) -> ImageFormat:
    """The format for an extension-less URL: a format the client names explicitly
    competes by its q, a wildcard stands for the fallback format, and only formats the
    credential allows take part; NotAcceptable (406) lists what is offered."""
    offers = image_offers(request)
    chosen = _negotiated(request.headers.get("Accept"), tuple(offers), *universal_types(request))
    if chosen is None:
        raise not_acceptable(request, offers)
    return BY_MIME[chosen]


def stand_in_for(request: web.Request, fmt: ImageFormat) -> ImageFormat | None:
    """What an extension-less URL answers first when `fmt`, negotiated, must be drawn:
    PNG, for a format in `encode.fast_first` and a client and credential that take PNG
    (the PNG variant's own bytes, lossless, with alpha); None: `fmt` itself."""
    png = FORMATS["png"]
    if fmt.name not in request.app[SETTINGS].encode.fast_first:
        return None
    if png.name not in request[PRINCIPAL].scopes.formats:
        return None
    return png if _takes(request.headers.get("Accept"), png.mime) else None


@lru_cache(maxsize=512)
def _takes(header: str | None, mime: str) -> bool:
    """Whether Accept `header` gives `mime` a q above 0, wildcards included."""
    return quality(parse_accept(header), mime) > 0


@lru_cache(maxsize=512)
def _negotiated(header: str | None, offers: tuple[str, ...], *universal: str) -> str | None:
    """Browsers send a handful of Accept headers: each is read once (about 40 µs), not
    on every request for an extension-less image."""
    return negotiate_image(header, offers, universal=universal, preference=offers)


def default_format(request: web.Request) -> ImageFormat:
    """The format of a render that names none: `encode.default_format`, or where the
    credential does not allow it, the most widely decoded format it does allow."""
    default = request.app[SETTINGS].encode.default_format
    allowed = request[PRINCIPAL].scopes.formats
    name = next((n for n in (default, *WIDEST_FIRST) if n in allowed), default)
    return FORMATS[name]


def not_acceptable(request: web.Request, offers: list[str]) -> NotAcceptable:
    """406 naming what could have been answered (within the credential's formats)."""
    allowed = request[PRINCIPAL].scopes.formats
    scoped = (
        "" if set(NEGOTIABLE) <= set(allowed) else f" (this credential allows {', '.join(allowed)})"
    )
    listed = ", ".join(offers) or "no format that can be negotiated"
    return NotAcceptable(
        f"none of the offered types is acceptable: {listed}{scoped}",
        headers={"Vary": "Accept"},
    )


def not_modified(request: web.Request, etag: str) -> bool:
    """If-None-Match matches (weak comparison, as RFC 9110 §13.1.2 asks for GETs)."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


def validator_headers(
    key: str, fmt: ImageFormat, *, negotiated: bool, cache_control: str = IMMUTABLE
) -> dict[str, str]:
    headers = {"ETag": f'"{key}.{fmt.ext}"', "Cache-Control": cache_control}
    if negotiated:
        headers["Vary"] = "Accept"
    if fmt.name == "svg":
        # A document a browser may open: it may show itself and its data: images, no more.
        headers["Content-Security-Policy"] = SVG_POLICY
    return headers


SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


@lru_cache(maxsize=4096)
def hit_headers(key: str, ext: str, negotiated: bool, cache_control: str) -> CIMultiDictProxy[str]:
    """The headers of a memory hit on variant `key`.`ext`, built once per variant (a few
    hundred bytes each, for the 4,096 variants last served): the hit path copies them
    instead of formatting the ETag and setting each header on every request."""
    fmt = BY_EXT[ext]
    headers = CIMultiDict(
        validator_headers(key, fmt, negotiated=negotiated, cache_control=cache_control)
    )
    headers["X-Cache"] = "hit"
    headers["Content-Type"] = fmt.mime
    return CIMultiDictProxy(headers)


def image_response(
    request: web.Request,
    rendered: Rendered,
    *,
    negotiated: bool,
    cache_control: str = IMMUTABLE,
) -> web.Response:
    """The bytes with validators; 304 when the client already holds them. A stand-in
    says so (`X-Fast-First: avif-pending`) and may not be kept as the URL's answer."""
    if rendered.pending is not None:
        cache_control = STAND_IN
    cache_control = for_caller(request, cache_control)
    headers = validator_headers(
        rendered.key, rendered.format, negotiated=negotiated, cache_control=cache_control
    )
    headers["X-Cache"] = "hit" if rendered.cached else "miss"
    if rendered.pending is not None:
        headers["X-Fast-First"] = f"{rendered.pending.name}-pending"
    if not_modified(request, headers["ETag"]):
        return web.Response(status=304, headers=headers)
    return web.Response(body=rendered.data, content_type=rendered.format.mime, headers=headers)

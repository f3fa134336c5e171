"""Image responses: negotiated format, validators, cache headers, 304."""

from __future__ import annotations

from functools import lru_cache

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from pixeldrive.core.errors import NotAcceptable
from pixeldrive.core.formats import BY_EXT, BY_MIME, FORMATS, NEGOTIABLE, ImageFormat
from pixeldrive.http.app_keys import SETTINGS
from pixeldrive.http.negotiate import negotiate
from pixeldrive.service.pipeline import Rendered

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=60, must-revalidate"


def image_offers(request: web.Request) -> list[str]:
    """The offered media types for Accept negotiation, in the server's preference order."""
    preference = request.app[SETTINGS].encode.preference
    names = [*preference, *(name for name in NEGOTIABLE if name not in preference)]
    return [FORMATS[name].mime for name in names]


def negotiate_format(request: web.Request) -> ImageFormat:
    """The format the client's Accept header prefers; NotAcceptable (406) lists offers."""
    offers = image_offers(request)
    chosen = negotiate(request.headers.get("Accept"), offers, offers)
    if chosen is None:
        raise NotAcceptable(
            f"none of the offered types is acceptable: {', '.join(offers)}",
            headers={"Vary": "Accept"},
        )
    return BY_MIME[chosen]


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
def hit_headers(key: str, ext: str, negotiated: bool) -> CIMultiDictProxy[str]:
    """The headers of a memory hit on variant `key`.`ext`, built once per variant (a few
    hundred bytes each, for the 4,096 variants last served): the hit path copies them
    instead of formatting the ETag and setting each header on every request."""
    fmt = BY_EXT[ext]
    headers = CIMultiDict(validator_headers(key, fmt, negotiated=negotiated))
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
    """The bytes with validators; 304 when the client already holds them."""
    headers = validator_headers(
        rendered.key, rendered.format, negotiated=negotiated, cache_control=cache_control
    )
    headers["X-Cache"] = "hit" if rendered.cached else "miss"
    if not_modified(request, headers["ETag"]):
        return web.Response(status=304, headers=headers)
    return web.Response(body=rendered.data, content_type=rendered.format.mime, headers=headers)

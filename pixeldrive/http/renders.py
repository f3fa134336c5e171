"""POST /v1/renders: a payload in, a deterministic URL (or the bytes) out."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.errors import NotAcceptable
from pixeldrive.http.bodies import read_json
from pixeldrive.http.keys import SERVICE, SETTINGS
from pixeldrive.http.negotiate import negotiate
from pixeldrive.http.respond import image_offers, image_response
from pixeldrive.models import RenderCreated, RenderRequest
from pixeldrive.render.formats import BY_MIME, FORMATS, ImageFormat

JSON = "application/json"


def _answer_type(request: web.Request) -> str:
    """JSON, or an image media type when the client's Accept prefers one (ties: JSON)."""
    offers, _ = image_offers(request.app[SETTINGS].encode.preference)
    chosen = negotiate(request.headers.get("Accept"), [JSON, *offers], [JSON, *offers])
    if chosen is None:
        raise NotAcceptable(f"none of the offered types is acceptable: {JSON}, {', '.join(offers)}")
    return chosen


async def create_render(request: web.Request) -> web.StreamResponse:
    body = await read_json(request, RenderRequest)
    answer = _answer_type(request)
    fmt: ImageFormat
    if body.format is not None:
        fmt = FORMATS[body.format]
    elif answer != JSON:
        fmt = BY_MIME[answer]
    else:
        fmt = FORMATS[request.app[SETTINGS].encode.default_format]
    rendered = await request.app[SERVICE].render(body, fmt)
    url = f"/v1/images/{rendered.key}.{fmt.ext}"
    if answer != JSON:
        response = image_response(request, rendered, negotiated=body.format is None)
        response.headers["Content-Location"] = url
        return response
    created = RenderCreated(
        url=url,
        key=rendered.key,
        format=fmt.name,
        width=rendered.width,
        height=rendered.height,
        bytes=len(rendered.data),
        cached=rendered.cached,
    )
    return web.json_response(
        created.model_dump(), status=201, headers={"Location": url, "Vary": "Accept"}
    )

"""POST /v1/renders: a payload in, a deterministic URL (or the bytes) out."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.errors import NotAcceptable
from pixeldrive.http.bodies import read_json
from pixeldrive.http.keys import PRINCIPAL, SERVICE, SETTINGS
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


def _format(request: web.Request, body: RenderRequest, answer: str) -> ImageFormat:
    if body.format is not None:
        return FORMATS[body.format]
    if answer != JSON:
        return BY_MIME[answer]
    return FORMATS[request.app[SETTINGS].encode.default_format]


async def create_render(request: web.Request) -> web.StreamResponse:
    body = await read_json(request, RenderRequest)
    answer = _answer_type(request)
    fmt = _format(request, body, answer)
    service, principal = request.app[SERVICE], request[PRINCIPAL]
    key, spec = await service.prepare_for(principal, body, fmt)
    rendered = await service.render(key, spec, fmt, principal)
    url = f"/v1/images/{rendered.key}.{fmt.ext}"
    if answer != JSON:
        response = image_response(request, rendered, negotiated=body.format is None)
        response.headers["Content-Location"] = url
        return response
    created = RenderCreated(
        url=url,
        key=rendered.key,
        format=fmt.name,
        width=spec.width,
        height=spec.height,
        bytes=len(rendered.data),
        cached=rendered.cached,
    )
    return web.json_response(
        created.model_dump(), status=201, headers={"Location": url, "Vary": "Accept"}
    )

"""POST /v1/renders: a payload in, a deterministic URL (or the bytes) out."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.core.formats import BY_MIME, FORMATS, ImageFormat
from pixeldrive.http.api_models import RenderChecked, RenderCreated, TextLayout
from pixeldrive.http.app_keys import PRINCIPAL, SERVICES
from pixeldrive.http.bodies import read_json
from pixeldrive.http.negotiate import negotiate_image
from pixeldrive.http.respond import (
    default_format,
    image_offers,
    image_response,
    not_acceptable,
    universal_types,
)
from pixeldrive.http.signed_urls import public_url
from pixeldrive.service.pipeline import Order, Rendered
from pixeldrive.service.render_request import PublicTtl, RenderRequest
from pixeldrive.text.report import TextReport

JSON = "application/json"


def _answer_type(request: web.Request) -> str:
    """JSON, or an image media type when the client's Accept prefers one (ties: JSON).
    Images are chosen as for an extension-less URL: `image/*` alone asks for the
    fallback format, and only formats the credential allows take part."""
    offers = image_offers(request)
    chosen = negotiate_image(
        request.headers.get("Accept"),
        offers,
        universal=universal_types(request),
        preference=[JSON, *offers],
        others=[JSON],
    )
    if chosen is None:
        raise not_acceptable(request, [JSON, *offers])
    return chosen


def _format(request: web.Request, body: RenderRequest, answer: str) -> ImageFormat:
    if body.format is not None:
        return FORMATS[body.format]
    if answer != JSON:
        return BY_MIME[answer]
    return default_format(request)


async def create_render(request: web.Request) -> web.StreamResponse:
    body = await read_json(request, RenderRequest)
    answer = _answer_type(request)
    fmt = _format(request, body, answer)
    order, pipeline = Order(request[PRINCIPAL], fmt, body), request.app[SERVICES].pipeline
    if body.dry_run:
        await pipeline.lay_out(order)
        width, height = order.size
        checked = RenderChecked(
            url=f"/v1/images/{order.key}.{fmt.ext}",
            key=order.key,
            format=fmt.name,
            width=width,
            height=height,
            text=_layouts(order.layout),
        )
        return web.json_response(checked.model_dump(), status=200)
    rendered = await pipeline.render(order)
    url = f"/v1/images/{rendered.key}.{fmt.ext}"
    if answer != JSON:
        response = image_response(request, rendered, negotiated=body.format is None)
        response.headers["Content-Location"] = url
        add_server_timing(response, rendered)
        return response
    return await _created(request, order, rendered, url, body.ttl)


async def _created(
    request: web.Request, order: Order, rendered: Rendered, url: str, ttl: PublicTtl
) -> web.Response:
    """201 with the image's URL, and the URL to embed (no header needed)."""
    width, height = order.size
    public, public_expires_at = await public_url(request, url, ttl)
    created = RenderCreated(
        url=url,
        public_url=public,
        public_url_expires_at=public_expires_at,
        key=rendered.key,
        format=rendered.format.name,
        width=width,
        height=height,
        bytes=len(rendered.data),
        cached=rendered.cached,
        text=_layouts(rendered.text) if rendered.timing is not None else None,
    )
    return web.json_response(
        created.model_dump(exclude_none=True),
        status=201,
        headers={"Location": url, "Vary": "Accept"},
    )


def _layouts(reports: dict[str, TextReport]) -> dict[str, TextLayout]:
    return {name: TextLayout.model_validate(r, from_attributes=True) for name, r in reports.items()}


def add_server_timing(response: web.StreamResponse, rendered: Rendered) -> None:
    """Server-Timing on an image this request drew: text, draw and encode times, and per
    text field its final size, lines, truncation and fallback fonts (RFC 8941-style
    quoted desc)."""
    if rendered.timing is None:
        return
    text_ms, draw_ms, encode_ms = rendered.timing
    parts = [f"text;dur={text_ms:.1f}", f"draw;dur={draw_ms:.1f}", f"encode;dur={encode_ms:.1f}"]
    for name, r in rendered.text.items():
        fallbacks = ",".join(r.fallbacks) or "none"
        desc = f"size={r.size:g} lines={r.lines} truncated={int(r.truncated)} fallbacks={fallbacks}"
        parts.append(f'text.{name};desc="{desc}"')
    response.headers["Server-Timing"] = ", ".join(parts)

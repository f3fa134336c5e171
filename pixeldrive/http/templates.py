"""The template resources: list, describe, preview."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.errors import BadRequest
from pixeldrive.http.keys import PRINCIPAL, SERVICE, SETTINGS, TEMPLATES
from pixeldrive.http.respond import REVALIDATE, image_response, negotiate_format
from pixeldrive.models import (
    PreviewQuery,
    RenderRequest,
    TemplateDescription,
    TemplateList,
    TemplateSummary,
)
from pixeldrive.render.formats import FORMATS


def _visible(request: web.Request, template_id: str) -> bool:
    return request[PRINCIPAL].scopes.allows_template(template_id)


async def list_templates(request: web.Request) -> web.Response:
    """The templates this credential may render."""
    templates = [t for t in request.app[TEMPLATES].all() if _visible(request, t.id)]
    listing = TemplateList(
        templates=[
            TemplateSummary(
                id=t.id,
                version=t.version,
                width=t.width,
                height=t.height,
                fields=[f.name for f in t.fields],
            )
            for t in templates
        ]
    )
    return web.json_response(listing.model_dump())


async def get_template(request: web.Request) -> web.Response:
    template = request.app[TEMPLATES].get(request.match_info["id"])
    request[PRINCIPAL].require("render", template=template.id)
    described = TemplateDescription.model_validate(template.describe())
    return web.json_response(described.model_dump(exclude_none=True))


async def preview(request: web.Request) -> web.StreamResponse:
    """The template drawn with its defaults (cached like any render, revalidated often
    because the template behind the URL may change)."""
    template = request.app[TEMPLATES].get(request.match_info["id"])
    try:
        query = PreviewQuery.model_validate(dict(request.query))
    except ValueError as exc:
        raise BadRequest("preview takes ?width=, ?height= and ?format= only") from exc
    if query.format is not None:
        fmt = FORMATS["jpeg" if query.format == "jpg" else query.format]
    else:
        fmt = negotiate_format(request, request.app[SETTINGS].encode.preference)
    order = RenderRequest(
        template=template.id,
        fields=template.preview_values(),
        width=query.width,
        height=query.height,
    )
    service, principal = request.app[SERVICE], request[PRINCIPAL]
    key, spec = await service.prepare_for(principal, order, fmt)
    rendered = await service.render(key, spec, fmt, principal)
    return image_response(
        request, rendered, negotiated=query.format is None, cache_control=REVALIDATE
    )

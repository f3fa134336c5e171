"""The template resources: list, describe, preview."""

from __future__ import annotations

from aiohttp import web

from pixeldrive.core.errors import BadRequest
from pixeldrive.core.formats import FORMATS
from pixeldrive.http.api_models import (
    PreviewQuery,
    TemplateDescription,
    TemplateFinding,
    TemplateFont,
    TemplateList,
    TemplateSummary,
    TemplateUploaded,
)
from pixeldrive.http.app_keys import PRINCIPAL, SERVICES
from pixeldrive.http.bodies import read_body
from pixeldrive.http.respond import REVALIDATE, image_response, negotiate_format
from pixeldrive.service.pipeline import Order
from pixeldrive.service.render_request import RenderRequest
from pixeldrive.templates.model import Template


async def list_templates(request: web.Request) -> web.Response:
    """The templates this credential may render."""
    scopes = request[PRINCIPAL].scopes
    templates = [t for t in request.app[SERVICES].templates.all() if scopes.allows_template(t.id)]
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
    template = request.app[SERVICES].templates.get(request.match_info["id"])
    return web.json_response(_described(request, template).model_dump(exclude_none=True))


def _described(request: web.Request, template: Template) -> TemplateDescription:
    """The template's description, with the families it names and where each comes from."""
    catalog = request.app[SERVICES].fonts.catalog
    described = TemplateDescription.model_validate(template.describe())
    described.fonts = [
        TemplateFont(family=family, source=catalog.source(family)) for family in template.families
    ]
    return described


async def preview(request: web.Request) -> web.StreamResponse:
    """The template drawn with its defaults (cached like any render, revalidated often
    because the template behind the URL may change)."""
    template = request.app[SERVICES].templates.get(request.match_info["id"])
    try:
        query = PreviewQuery.model_validate(dict(request.query))
    except ValueError as exc:
        raise BadRequest("preview takes ?width=, ?height= and ?format= only") from exc
    fmt = FORMATS[query.format] if query.format is not None else negotiate_format(request)
    defaults = RenderRequest(
        template=template.id,
        fields=template.preview_values(),
        width=query.width,
        height=query.height,
    )
    rendered = await request.app[SERVICES].pipeline.render(Order(request[PRINCIPAL], fmt, defaults))
    return image_response(
        request, rendered, negotiated=query.format is None, cache_control=REVALIDATE
    )


async def put_template(request: web.Request) -> web.Response:
    """Upload or replace a template (SVG body); 422 lists every problem found."""
    data = await read_body(request)
    uploaded = await request.app[SERVICES].uploads.put(request.match_info["id"], data)
    answer = TemplateUploaded(
        template=_described(request, uploaded.template),
        findings=[
            TemplateFinding.model_validate(f, from_attributes=True) for f in uploaded.findings
        ],
        replaced=uploaded.replaced,
    )
    return web.json_response(
        answer.model_dump(exclude_none=True), status=200 if uploaded.replaced else 201
    )


async def delete_template(request: web.Request) -> web.Response:
    """Remove an uploaded template (a bundled one of the same id serves again)."""
    await request.app[SERVICES].uploads.delete(request.match_info["id"])
    return web.Response(status=204)

"""Every endpoint in one table: the router is built from it, and so is the OpenAPI
document, so the documentation cannot drift from what is served."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from pixeldrive.http import (
    batches,
    cluster,
    fonts,
    health,
    images,
    openapi,
    playground,
    renders,
    signed_urls,
    templates,
    tokens,
    usage,
)
from pixeldrive.http.api_models import (
    BatchCreated,
    BatchRequest,
    BatchStatus,
    ClusterStatusBody,
    FontList,
    FontUploaded,
    Health,
    PreviewQuery,
    Readiness,
    RenderChecked,
    RenderCreated,
    SignedUrl,
    SignRequest,
    TemplateDescription,
    TemplateList,
    TemplateUploaded,
    TokenCreated,
    TokenRequest,
    Usage,
)
from pixeldrive.http.app_keys import ROUTES
from pixeldrive.http.endpoints import Answer, Endpoint
from pixeldrive.http.metrics import get_metrics
from pixeldrive.service.render_request import RenderRequest

IMAGES = ("image/png", "image/jpeg", "image/webp", "image/avif")
IMAGE_HEADERS = ("ETag", "Cache-Control", "X-Cache", "Vary")
# What a font upload may be sent as; the bytes decide what it is.
FONT_MEDIA = ("font/ttf", "font/otf", "font/woff", "font/woff2", "application/octet-stream")


def _asset(path: str, handler: Handler, summary: str, what: str, media: str) -> Endpoint:
    """A public file of pixeldrive/web, read once at import, revalidated by its ETag."""
    return Endpoint(
        "GET",
        path,
        handler,
        summary,
        "playground",
        access="public",
        answers={
            200: Answer(what, media=(media,), headers=("ETag",)),
            304: Answer("not modified (If-None-Match)", headers=("ETag",)),
        },
    )


# GET / and its assets.
PLAYGROUND: tuple[Endpoint, ...] = (
    _asset(
        "/",
        playground.playground_page,
        "The playground: gallery, form, live preview, signed URL",
        "the page",
        "text/html",
    ),
    _asset(
        "/playground.js",
        playground.playground_script,
        "The playground's script",
        "the script",
        "text/javascript",
    ),
    _asset(
        "/playground.css",
        playground.playground_style,
        "The playground's style sheet",
        "the style sheet",
        "text/css",
    ),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/healthz",
        health.healthz,
        "Liveness",
        "operations",
        access="public",
        answers={200: Answer("the process answers", Health)},
    ),
    Endpoint(
        "GET",
        "/readyz",
        health.readyz,
        "Readiness: pool, database, templates",
        "operations",
        access="public",
        answers={200: Answer("ready", Readiness), 503: Answer("not ready", Readiness)},
    ),
    Endpoint(
        "GET",
        "/v1/templates",
        templates.list_templates,
        "The templates you may render",
        "templates",
        answers={200: Answer("the list", TemplateList)},
        errors=(401,),
    ),
    Endpoint(
        "GET",
        "/v1/templates/{id}",
        templates.get_template,
        "A template's fields, kinds, defaults, constraints, size and version",
        "templates",
        operation="render",
        template_param="id",
        answers={200: Answer("the template", TemplateDescription)},
        errors=(401, 403, 404),
    ),
    Endpoint(
        "GET",
        "/v1/templates/{id}/preview",
        templates.preview,
        "The template drawn with its defaults",
        "templates",
        operation="render",  # checked here too: the handler looks the template up first
        template_param="id",
        query=PreviewQuery,
        answers={200: Answer("the image", media=IMAGES, headers=IMAGE_HEADERS)},
        errors=(400, 401, 403, 404, 406, 422, 429, 503, 504),
    ),
    Endpoint(
        "PUT",
        "/v1/templates/{id}",
        templates.put_template,
        "Upload or replace a template (an SVG body); 422 lists every problem",
        "templates",
        operation="templates:write",
        template_param="id",
        raw_body=("image/svg+xml",),
        answers={
            201: Answer("uploaded", TemplateUploaded),
            200: Answer("replaced", TemplateUploaded),
        },
        errors=(400, 401, 403, 413, 422, 503),
    ),
    Endpoint(
        "DELETE",
        "/v1/templates/{id}",
        templates.delete_template,
        "Remove an uploaded template",
        "templates",
        operation="templates:write",
        template_param="id",
        answers={204: Answer("removed")},
        errors=(401, 403, 404),
    ),
    Endpoint(
        "GET",
        "/v1/fonts",
        fonts.list_fonts,
        "Every font family, bundled and uploaded, with its faces and licence fields",
        "fonts",
        answers={200: Answer("the families", FontList)},
        errors=(401, 503),
    ),
    Endpoint(
        "PUT",
        "/v1/fonts/{name}",
        fonts.put_font,
        "Upload or replace a font (TTF, OTF, WOFF or WOFF2); 422 names why one is refused",
        "fonts",
        operation="templates:write",
        raw_body=FONT_MEDIA,
        answers={
            201: Answer("uploaded", FontUploaded),
            200: Answer("replaced", FontUploaded),
        },
        errors=(401, 403, 409, 413, 422, 503),
    ),
    Endpoint(
        "DELETE",
        "/v1/fonts/{name}",
        fonts.delete_font,
        "Remove an uploaded font (images made with it keep their pixels)",
        "fonts",
        operation="templates:write",
        answers={204: Answer("removed")},
        errors=(401, 403, 404, 503),
    ),
    Endpoint(
        "POST",
        "/v1/renders",
        renders.create_render,
        "Render (or find) an image; the URL works at once",
        "renders",
        operation="render",
        renders=True,
        body=RenderRequest,
        answers={
            201: Answer("the image's deterministic URL", RenderCreated, headers=("Location",)),
            200: Answer(
                "the bytes, when Accept prefers an image; or, for a dry run, the layout",
                RenderChecked,
                media=IMAGES,
                headers=(*IMAGE_HEADERS, "Content-Location"),
            ),
        },
        errors=(400, 401, 403, 404, 406, 413, 422, 429, 500, 503, 504),
    ),
    Endpoint(
        "GET",
        "/v1/images/{name}",
        images.get_image,
        "An image by key; KEY.png/.jpg/.webp/.avif/.pdf/.svg, or KEY alone to negotiate",
        "renders",
        access="credential-or-signed-url",
        operation="render",
        renders=True,
        answers={
            200: Answer("the image", media=IMAGES, headers=IMAGE_HEADERS),
            304: Answer("not modified (If-None-Match)"),
        },
        errors=(401, 403, 404, 406, 429, 500, 503, 504),
    ),
    Endpoint(
        "GET",
        "/v1/t/{name}",
        signed_urls.signed_render,
        "Signed on-the-fly render for <img> tags: fields, kid, exp and sig in the query",
        "renders",
        access="signed-url",
        operation="render",
        renders=True,
        answers={200: Answer("the image", media=IMAGES, headers=IMAGE_HEADERS)},
        errors=(400, 401, 403, 404, 406, 422, 429, 503, 504),
    ),
    Endpoint(
        "POST",
        "/v1/sign",
        signed_urls.sign,
        "Sign a GET /v1/t/ URL with your API key's signing secret (API keys only)",
        "renders",
        operation="render",
        renders=True,
        body=SignRequest,
        answers={201: Answer("the signed URL and when it expires", SignedUrl)},
        errors=(400, 401, 403, 404, 409, 413, 422),
    ),
    Endpoint(
        "POST",
        "/v1/batches",
        batches.create_batch,
        "Queue one template rendered with many field sets; the workers of every node draw",
        "batches",
        operation="batch",
        body=BatchRequest,
        answers={202: Answer("queued: follow `url`", BatchCreated, headers=("Location",))},
        errors=(400, 401, 403, 404, 413, 422, 503),
    ),
    Endpoint(
        "GET",
        "/v1/batches/{id}",
        batches.get_batch,
        "A batch's progress and, per item in order, its image URL or its problem",
        "batches",
        operation="batch",
        answers={200: Answer("the batch", BatchStatus)},
        errors=(401, 403, 404, 503),
    ),
    Endpoint(
        "POST",
        "/v1/tokens",
        tokens.create_token,
        "Mint a token whose scopes narrow yours",
        "auth",
        operation="tokens",
        body=TokenRequest,
        answers={201: Answer("the token", TokenCreated)},
        errors=(400, 401, 403, 422),
    ),
    Endpoint(
        "GET",
        "/v1/usage",
        usage.get_usage,
        "Your renders, cache hits and bytes, per day and per template",
        "auth",
        operation="usage:read",
        answers={200: Answer("the usage", Usage)},
        errors=(401, 403),
    ),
    Endpoint(
        "GET",
        "/v1/cluster",
        cluster.get_cluster,
        "The nodes seen in the last minute and the batch queue (admin key)",
        "operations",
        admin=True,
        answers={200: Answer("the cluster", ClusterStatusBody)},
        errors=(401, 403),
    ),
    Endpoint(
        "GET",
        "/openapi.json",
        openapi.openapi_json,
        "This API as an OpenAPI 3.1 document, generated from the code",
        "operations",
        access="public",
        answers={
            200: Answer("the document", media=("application/json",), headers=("ETag",)),
            304: Answer("not modified (If-None-Match)", headers=("ETag",)),
        },
    ),
    Endpoint(
        "GET",
        "/docs",
        openapi.docs_page,
        "This documentation, rendered from /openapi.json",
        "operations",
        access="public",
        answers={200: Answer("the page", media=("text/html",))},
    ),
    Endpoint(
        "GET",
        "/metrics",
        get_metrics,
        "Metrics for Prometheus: renders, cache, pool and responses",
        "operations",
        access="public",
        answers={200: Answer("Prometheus text format", media=("text/plain",))},
    ),
    *PLAYGROUND,
)


def add_routes(app: web.Application, endpoints: tuple[Endpoint, ...] = ENDPOINTS) -> None:
    """Register every endpoint (each GET also answers HEAD, headers only), and what each
    route needs of its caller, for the access middleware."""
    routes = app[ROUTES] = {}
    for endpoint in endpoints:
        resource = app.router.add_resource(endpoint.path)
        methods = ("GET", "HEAD") if endpoint.method == "GET" else (endpoint.method,)
        for method in methods:
            routes[resource.add_route(method, endpoint.handler)] = endpoint

"""The OpenAPI 3.1 document, generated from the endpoint table and the very pydantic models
the handlers use, and the /docs page that renders it."""

from __future__ import annotations

import base64
import copy
import hashlib
import inspect
import json
import re
from collections.abc import Sequence
from functools import cached_property
from http import HTTPStatus
from importlib import resources
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

import pixeldrive
from pixeldrive.http.api_models import FieldError, Problem
from pixeldrive.http.endpoints import Answer, Endpoint
from pixeldrive.http.playground import SECURITY
from pixeldrive.http.problems import PROBLEM_TYPE
from pixeldrive.http.respond import not_modified
from pixeldrive.http.signed_urls import OPTIONS, RESERVED
from pixeldrive.service.render_request import RenderRequest

REF = "#/components/schemas/{model}"
JSON = "application/json"
BINARY = {"type": "string", "format": "binary"}
DESCRIPTION = (
    "PixelDrive turns SVG templates plus a JSON payload into raster images (PNG, JPEG, WebP, "
    "AVIF) at deterministic URLs, and serves repeats from cache. Render with POST /v1/renders "
    "(its `public_url` goes into <img> and og:image with no header), or sign a GET /v1/t/ URL "
    "to render in an <img> tag without exposing a credential. Every "
    "error is an RFC 9457 problem document (application/problem+json)."
)
TAGS = {
    "templates": "The SVG templates: their fields, constraints and previews.",
    "renders": "Images: render them, fetch them by key (with a header, or by a render's "
    "signed public_url), or render through signed URLs.",
    "batches": "Many field sets for one template, rendered through the queue by every node.",
    "fonts": "Fonts people bring: checked, sanitised, shared by every node, part of render keys.",
    "auth": "Scoped tokens minted from an API key, and the key's usage.",
    "operations": "Health, readiness and this documentation.",
    "playground": "A page to try templates and payloads, and copy a signed URL.",
}
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "An API key (`pixeldrive keys create`) or a scoped token from POST /v1/tokens, "
            "sent as `Authorization: Bearer <key or token>`."
        ),
    }
}
ERRORS = {
    400: "Malformed request: the body is not a JSON object, or the query is not understood.",
    401: "Missing or invalid credentials (for a signed URL: no kid, exp and sig).",
    403: "Outside the credential's scopes, or a signed URL that was altered, has expired, or "
    "names an unknown key.",
    404: "No such template or image.",
    406: "None of the offered media types is acceptable; the detail lists them.",
    409: "The server's state does not allow it (signing with authentication off; a font face "
    "already uploaded under another name).",
    413: "The body, or the requested pixel size, is larger than the server allows.",
    422: "Validation failed: `errors` names each field and what is wrong with it.",
    429: "The key's render quota is used up; Retry-After says when it renews.",
    500: "The server or the renderer failed; the request id names it in the logs.",
    503: "Overloaded: the render queue is full (Retry-After), or a store is unreachable.",
    504: "The render took longer than the configured timeout.",
}
IMAGE_URL = {
    "description": "The image's deterministic URL, under /v1/images/.",
    "schema": {"type": "string"},
}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "Names the request in the logs (a safe X-Request-Id sent is echoed).",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": "A strong validator; send it back in If-None-Match to get a 304.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": "`public, max-age=31536000, immutable` on content-addressed image URLs "
        "(`private` when the request carries a credential in its Authorization header); "
        "on signed URLs (a public_url included) until the signature expires, at most "
        "access.signed_url_max_age; shorter on previews.",
        "schema": {"type": "string"},
    },
    "X-Cache": {
        "description": "Whether the image came from a cache tier or was rendered now.",
        "schema": {"type": "string", "enum": ["hit", "miss"]},
    },
    "Vary": {
        "description": "`Accept` when the format was negotiated.",
        "schema": {"type": "string"},
    },
    "Location": IMAGE_URL,
    "Content-Location": IMAGE_URL,
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWW-Authenticate": {"description": "`Bearer`.", "schema": {"type": "string"}},
}
ERROR_HEADERS = {401: ("WWW-Authenticate",), 429: ("Retry-After",), 503: ("Retry-After",)}
TEMPLATE_ID = "A template id, such as `og-card`."
WITH_EXTENSION = " alone (the format is negotiated from Accept) or with .png, .jpg, .webp or .avif"
PATH_PARAMETERS = {
    "/v1/images/{name}": {"name": "The image key" + WITH_EXTENSION + "."},
    "/v1/t/{name}": {"name": "A template id" + WITH_EXTENSION + "."},
}
PARAMETERS = {"id": TEMPLATE_ID}
_PATH_PARAMETER = re.compile(r"\{([^{}:]+)(?::[^{}]*)?\}")
SIGNATURE = {
    "kid": ("The id of the API key whose signing secret signed the URL.", {"type": "string"}),
    "exp": ("When the URL expires, in Unix seconds.", {"type": "integer"}),
    "sig": (
        "base64url (no padding) HMAC-SHA256 of the path, `?`, and every other query pair "
        "sorted by name then value, RFC 3986 percent-encoded and joined by `&`.",
        {"type": "string"},
    ),
}

PUBLIC_URL_QUERY = (
    "All three or none: a render's `public_url` carries them in place of an Authorization "
    "header, and then the signature decides."
)


def build_openapi(endpoints: Sequence[Endpoint], *, version: str) -> dict[str, Any]:
    """The OpenAPI 3.1.0 document of `endpoints`; ValueError if two rows share a method and
    path or a handler name (the operationId)."""
    refs, schemas = _schemas(endpoints)
    paths: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for endpoint in endpoints:
        path = _PATH_PARAMETER.sub(r"{\1}", endpoint.path)
        method = endpoint.method.lower()
        operation = _operation(endpoint, refs)
        if method in paths.get(path, {}) or operation["operationId"] in seen:
            raise ValueError(f"{endpoint.method} {endpoint.path} is documented twice")
        seen.add(operation["operationId"])
        paths.setdefault(path, {})[method] = operation
    used = {e.tag for e in endpoints}
    tags = [t for t in TAGS if t in used] + sorted(used - TAGS.keys())
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "PixelDrive",
            "version": version,
            "description": DESCRIPTION,
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": t, "description": TAGS[t]} if t in TAGS else {"name": t} for t in tags],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "headers": HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
    return copy.deepcopy(document)  # callers may edit theirs; the constants stay as they are


Key = tuple[type[BaseModel], JsonSchemaMode]


def _schemas(endpoints: Sequence[Endpoint]) -> tuple[dict[Key, Any], dict[str, Any]]:
    """$refs and component schemas: request bodies and queries as pydantic validates them,
    answers as it serialises them."""
    wanted: list[Key] = [(Problem, "serialization"), (FieldError, "serialization")]
    for endpoint in endpoints:
        wanted += [(m, "validation") for m in (endpoint.body, endpoint.query) if m is not None]
        wanted += [(a.model, "serialization") for a in endpoint.answers.values() if a.model]
    keys = list(dict.fromkeys(wanted))
    refs, definitions = models_json_schema(keys, ref_template=REF)
    return {key: refs[key] for key in keys}, definitions.get("$defs", {})


def _operation(endpoint: Endpoint, refs: dict[Key, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.handler.__name__,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
    }
    description = inspect.getdoc(endpoint.handler)
    if description:
        operation["description"] = " ".join(description.split())
    parameters = _parameters(endpoint)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": refs[endpoint.body, "validation"]}},
        }
    elif endpoint.raw_body:
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": dict(BINARY)} for media in endpoint.raw_body},
        }
    operation["responses"] = _responses(endpoint, refs)
    if endpoint.access == "credential-or-signed-url":  # the header, or a signed query
        operation["security"] = [{"bearer": []}, {}]
    elif endpoint.access != "credential":  # public, or a signed URL's query
        operation["security"] = []
    if endpoint.operation is not None:
        operation["x-pixeldrive-operation"] = endpoint.operation
    return operation


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    notes = PATH_PARAMETERS.get(endpoint.path, {})
    parameters = [
        _parameter(name, "path", {"type": "string"}, notes.get(name) or PARAMETERS.get(name), True)
        for name in _PATH_PARAMETER.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query)
    if endpoint.access == "signed-url":
        parameters += _signed_parameters()
    elif endpoint.access == "credential-or-signed-url":
        parameters += [
            _parameter(name, "query", schema, f"{note} {PUBLIC_URL_QUERY}")
            for name, (note, schema) in SIGNATURE.items()
        ]
    if 304 in endpoint.answers:
        parameters.append(
            _parameter(
                "If-None-Match",
                "header",
                {"type": "string"},
                "An ETag you hold: a 304 without a body answers if it still matches.",
            )
        )
    return parameters


def _parameter(
    name: str, where: str, schema: dict[str, Any], description: str | None, required: bool = False
) -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": where, "required": required}
    if description:
        parameter["description"] = description
    parameter["schema"] = schema
    return parameter


def _query_parameters(query: type[BaseModel]) -> list[dict[str, Any]]:
    schema = query.model_json_schema(mode="validation", ref_template=REF)
    required = set(schema.get("required", ()))
    return [
        _parameter(
            name, "query", _optional(prop), prop.get("description"), required=name in required
        )
        for name, prop in schema.get("properties", {}).items()
    ]


def _signed_parameters() -> list[dict[str, Any]]:
    """The query of a signed URL: its signature, render options prefixed "_" (validated by
    RenderRequest, so documented from it), and the template's fields."""
    parameters = [
        _parameter(name, "query", SIGNATURE[name][1], SIGNATURE[name][0], required=True)
        for name in RESERVED
    ]
    options = RenderRequest.model_json_schema(mode="validation", ref_template=REF)["properties"]
    parameters += [
        _parameter(
            name,
            "query",
            _optional(options[field]),
            f"The render's `{field}`, as in POST /v1/renders.",
        )
        for name, field in OPTIONS.items()
    ]
    parameters.append(
        {
            "name": "fields",
            "in": "query",
            "required": False,
            "description": "The template's fields, one query pair each, such as "
            "`title=Hello`; GET /v1/templates/{id} lists them.",
            "style": "form",
            "explode": True,
            "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        }
    )
    return parameters


def _optional(schema: dict[str, Any]) -> dict[str, Any]:
    """A query value's schema without pydantic's `| None` and title: an absent parameter
    is how a query says None."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    if schema.get("default", 0) is None:
        del schema["default"]
    branches = [b for b in schema.get("anyOf", ()) if b != {"type": "null"}]
    if "anyOf" in schema and len(branches) == 1:
        del schema["anyOf"]
        schema |= branches[0]
    elif "anyOf" in schema:
        schema["anyOf"] = branches
    return schema


def _responses(endpoint: Endpoint, refs: dict[Key, Any]) -> dict[str, Any]:
    responses = {status: _answer(answer, refs) for status, answer in endpoint.answers.items()}
    for status in endpoint.errors:
        responses.setdefault(status, _problem(status, refs))
    return {str(status): responses[status] for status in sorted(responses)}


def _headers(names: Sequence[str]) -> dict[str, Any]:
    """Every response carries X-Request-Id (the problems middleware sets it)."""
    return {
        name: {"$ref": f"#/components/headers/{name}"}
        if name in HEADERS
        else {"schema": {"type": "string"}}
        for name in ("X-Request-Id", *names)
    }


def _answer(answer: Answer, refs: dict[Key, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if answer.model is not None:
        content[JSON] = {"schema": refs[answer.model, "serialization"]}
    for media in answer.media:
        content[media] = {"schema": _media_schema(media)}
    response: dict[str, Any] = {"description": answer.description}
    response["headers"] = _headers(answer.headers)
    if content:
        response["content"] = content
    return response


def _media_schema(media: str) -> dict[str, Any]:
    if media == JSON or media.endswith("+json"):
        return {"type": "object"}
    if media.startswith("text/"):
        return {"type": "string"}
    return dict(BINARY)


def _problem(status: int, refs: dict[Key, Any]) -> dict[str, Any]:
    return {
        "description": ERRORS.get(status) or HTTPStatus(status).phrase,
        "headers": _headers(ERROR_HEADERS.get(status, ())),
        "content": {PROBLEM_TYPE: {"schema": refs[Problem, "serialization"]}},
    }


class ServedDocument:
    """The document of an app's endpoints as served, and its ETag: built on first use (the
    table and the models cannot change while the app runs)."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self._endpoints = endpoints

    @cached_property
    def body_and_etag(self) -> tuple[bytes, str]:
        document = build_openapi(self._endpoints, version=pixeldrive.__version__)
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"'


OPENAPI = web.AppKey("openapi", ServedDocument)


async def openapi_json(request: web.Request) -> web.Response:
    """This API's OpenAPI 3.1 document; revalidate it with If-None-Match."""
    body, etag = request.app[OPENAPI].body_and_etag
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if not_modified(request, etag):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=JSON, headers=headers)


def _page_policy(html: str) -> str:
    """A strict policy for the page: its own inline script and style (by hash), fetches to
    this origin, nothing else."""

    def hashes(tag: str) -> str:
        blocks = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)
        digests = (base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() for b in blocks)
        return " ".join(f"'sha256-{d}'" for d in digests) or "'none'"

    return (
        f"default-src 'none'; script-src {hashes('script')}; style-src {hashes('style')}; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


# Read once at import, before any event loop runs: requests never touch the disk. The
# headers are the playground's, with a policy of the page's own.
DOCS_HTML = resources.files(pixeldrive).joinpath("web/docs.html").read_text(encoding="utf-8")
DOCS_HEADERS = SECURITY | {"Content-Security-Policy": _page_policy(DOCS_HTML)}


async def docs_page(request: web.Request) -> web.Response:
    """A readable page of this API, rendered in the browser from /openapi.json."""
    return web.Response(
        text=DOCS_HTML, content_type="text/html", charset="utf-8", headers=DOCS_HEADERS
    )

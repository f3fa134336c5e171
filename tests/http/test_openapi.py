"""The OpenAPI document: valid 3.1, true to the router, true to real answers; and /docs."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

import pixeldrive
from pixeldrive.http.openapi import build_openapi
from pixeldrive.http.routes import ENDPOINTS, add_routes
from pixeldrive.service.render_request import RenderRequest

Client = TestClient[Any, Any]
DOC_URI = "urn:pixeldrive:openapi"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def built() -> dict[str, Any]:
    """The document as the table builds it, through JSON as it is served."""
    document = build_openapi(ENDPOINTS, version=pixeldrive.__version__)
    loaded: dict[str, Any] = json.loads(json.dumps(document))
    return loaded


async def served(client: Client) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    document: dict[str, Any] = await response.json()
    return document


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every route, without the HEAD twins aiohttp adds for GETs."""
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


def pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def check_body(
    document: dict[str, Any], method: str, path: str, status: int, media: str, body: Any
) -> None:
    """Validate `body` against the document's schema for that answer, $refs resolved
    against the whole document."""
    answer = document["paths"][path][method.lower()]["responses"][str(status)]
    assert media in answer["content"], f"{method} {path} {status} does not document {media}"
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource(contents=document, specification=DRAFT202012)
    )
    where = pointer("paths", path, method.lower(), "responses", str(status), "content", media)
    schema = {"$ref": f"{DOC_URI}#/{where}/schema"}
    Draft202012Validator(schema, registry=registry).validate(body)


# The document itself


async def test_the_served_document_is_valid_openapi_3_1(client: Client) -> None:
    document = await served(client)
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "PixelDrive"
    assert document["info"]["version"] == pixeldrive.__version__
    assert document == built()


async def test_the_document_is_cached_by_etag(client: Client) -> None:
    first = await client.get("/openapi.json")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = await client.get("/openapi.json", headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.headers["ETag"] == etag


async def test_every_route_is_documented_and_every_operation_is_routed(client: Client) -> None:
    assert routes(client.app) == operations(await served(client))


def test_the_drift_check_sees_an_undocumented_route() -> None:
    async def extra(request: web.Request) -> web.Response:
        return web.Response()

    app = web.Application()
    add_routes(app)
    app.router.add_get("/v1/undocumented", extra)
    assert routes(app) - operations(built()) == {("GET", "/v1/undocumented")}


def test_two_rows_for_one_route_are_refused() -> None:
    with pytest.raises(ValueError, match="documented twice"):
        build_openapi((*ENDPOINTS, ENDPOINTS[0]), version="0")


def test_operations_carry_the_tables_ids_tags_and_scopes() -> None:
    document = built()
    for endpoint in ENDPOINTS:
        operation = document["paths"][endpoint.path][endpoint.method.lower()]
        assert operation["operationId"] == endpoint.handler.__name__
        assert operation["tags"] == [endpoint.tag]
        assert operation.get("x-pixeldrive-operation") == endpoint.operation
        for status in endpoint.errors:
            problem = operation["responses"][str(status)]["content"]["application/problem+json"]
            assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_public_operations_need_no_security() -> None:
    document = built()
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for endpoint in ENDPOINTS:
        operation = document["paths"][endpoint.path][endpoint.method.lower()]
        if endpoint.access == "credential-or-signed-url":  # the header, or signed in its query
            assert operation["security"] == [{"bearer": []}, {}], endpoint.path
        elif endpoint.access != "credential":  # public, or signed in its query
            assert operation["security"] == [], endpoint.path
        else:
            assert "security" not in operation, endpoint.path  # the global bearer applies
    public = {
        e.path for e in ENDPOINTS if e.access not in ("credential", "credential-or-signed-url")
    }
    assert {"/healthz", "/readyz", "/v1/t/{name}", "/openapi.json", "/docs"} <= public
    assert "/v1/images/{name}" not in public


def test_the_public_url_query_of_an_image_is_documented_and_optional() -> None:
    operation = built()["paths"]["/v1/images/{name}"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"name", "kid", "exp", "sig"} <= set(parameters)
    assert not any(parameters[n]["required"] for n in ("kid", "exp", "sig"))
    assert parameters["exp"]["schema"]["type"] == "integer"
    created = built()["components"]["schemas"]["RenderCreated"]
    assert {"url", "public_url"} <= set(created["required"])
    assert "public_url_expires_at" in created["properties"]


def test_schemas_are_the_models_own() -> None:
    schemas = built()["components"]["schemas"]
    assert schemas["RenderRequest"] == RenderRequest.model_json_schema(
        mode="validation", ref_template="#/components/schemas/{model}"
    )
    assert {"Problem", "FieldError"} <= set(schemas)


def test_the_signed_url_query_is_documented() -> None:
    operation = built()["paths"]["/v1/t/{name}"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert {"name", "kid", "exp", "sig", "_width", "_height", "_scale", "_quality"} <= set(
        parameters
    )
    assert parameters["exp"]["schema"]["type"] == "integer"
    assert all(parameters[n]["required"] for n in ("kid", "exp", "sig"))
    fields = next(p for p in operation["parameters"] if p["schema"].get("additionalProperties"))
    assert fields["in"] == "query"
    assert fields["style"] == "form"
    assert fields["explode"] is True


def test_image_answers_are_binary_per_media_type() -> None:
    answer = built()["paths"]["/v1/images/{name}"]["get"]["responses"]["200"]
    assert set(answer["content"]) == {"image/png", "image/jpeg", "image/webp", "image/avif"}
    for media in answer["content"].values():
        assert media["schema"] == {"type": "string", "format": "binary"}
    assert {"ETag", "Cache-Control", "X-Cache", "Vary"} <= set(answer["headers"])


# Real answers against the document


async def test_template_answers_match_the_document(client: Client) -> None:
    document = await served(client)
    response = await client.get("/v1/templates")
    assert response.status == 200
    check_body(document, "GET", "/v1/templates", 200, response.content_type, await response.json())
    response = await client.get("/v1/templates/og-card")
    assert response.status == 200
    body = await response.json()
    check_body(document, "GET", "/v1/templates/{id}", 200, response.content_type, body)


async def test_a_render_and_a_validation_problem_match_the_document(client: Client) -> None:
    document = await served(client)
    response = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": {"title": "Documented"}}
    )
    assert response.status == 201, await response.text()
    check_body(document, "POST", "/v1/renders", 201, response.content_type, await response.json())

    response = await client.post("/v1/renders", json={"template": "og-card", "width": 0})
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["errors"]
    check_body(document, "POST", "/v1/renders", 422, response.content_type, problem)


async def test_usage_and_readiness_match_the_document(client: Client) -> None:
    document = await served(client)
    response = await client.get("/v1/usage")
    assert response.status == 200
    check_body(document, "GET", "/v1/usage", 200, response.content_type, await response.json())
    response = await client.get("/readyz")
    assert response.status == 200
    check_body(document, "GET", "/readyz", 200, response.content_type, await response.json())


async def test_a_wrong_body_fails_the_check(client: Client) -> None:
    from jsonschema import ValidationError

    document = await served(client)
    with pytest.raises(ValidationError):
        check_body(document, "GET", "/readyz", 200, "application/json", {"status": "fine"})


# The page


async def test_docs_is_a_page_that_loads_the_document(client: Client) -> None:
    response = await client.get("/docs")
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.charset == "utf-8"
    page = await response.text()
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    assert any("/openapi.json" in s for s in scripts)
    # The page's policy allows exactly its own inline script, by hash.
    policy = response.headers["Content-Security-Policy"]
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "connect-src 'self'" in policy
    assert '<html lang="en">' in page
    assert "<main" in page

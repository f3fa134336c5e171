"""Bad input over HTTP (SPEC §8 rows of the core): a problem+json naming the cause, never a 500."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

Client = TestClient[Any, Any]
PROBLEM = "application/problem+json"


async def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body: dict[str, Any] = await response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def fields_named(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


async def post_raw(client: Client, data: bytes) -> Any:
    return await client.post("/v1/renders", data=data, headers={"Content-Type": "application/json"})


async def test_malformed_json_is_400(client: Client) -> None:
    body = await problem(await post_raw(client, b'{"template": "og-card",'), 400)
    assert "JSON" in body["detail"]


async def test_invalid_utf8_is_400(client: Client) -> None:
    await problem(
        await post_raw(client, b'{"template": "og-card", "fields": {"title": "\xff\xfe"}}'), 400
    )


async def test_deeply_nested_json_is_400_or_422(client: Client) -> None:
    deep = b'{"template": "og-card", "fields": {"title": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    response = await post_raw(client, deep)
    assert response.status in (400, 422)
    assert response.content_type == PROBLEM


async def test_body_must_be_an_object(client: Client) -> None:
    body = await problem(await post_raw(client, b'["og-card"]'), 400)
    assert "object" in body["detail"]


async def test_missing_template_names_the_field(client: Client) -> None:
    body = await problem(await client.post("/v1/renders", json={"fields": {}}), 422)
    assert fields_named(body) == {"template"}


async def test_unknown_top_level_member_is_named(client: Client) -> None:
    body = await problem(
        await client.post("/v1/renders", json={"template": "og-card", "colour": "red"}), 422
    )
    assert fields_named(body) == {"colour"}


async def test_unknown_template_is_404(client: Client) -> None:
    body = await problem(await client.post("/v1/renders", json={"template": "nope"}), 404)
    assert "nope" in body["detail"]


async def test_wrong_field_type_names_the_field(client: Client) -> None:
    response = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": {"title": 12}}
    )
    body = await problem(response, 422)
    assert fields_named(body) == {"fields.title"}


async def test_unknown_field_names_it_and_lists_the_real_ones(client: Client) -> None:
    response = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": {"titel": "typo"}}
    )
    body = await problem(response, 422)
    assert fields_named(body) == {"fields.titel", "fields.title"}
    typo = next(e for e in body["errors"] if e["field"] == "fields.titel")
    assert "unknown field" in typo["message"]
    assert "title" in typo["message"]


async def test_missing_required_field_is_named(client: Client) -> None:
    response = await client.post("/v1/renders", json={"template": "og-card", "fields": {}})
    body = await problem(response, 422)
    assert fields_named(body) == {"fields.title"}
    assert "required" in body["errors"][0]["message"]


async def test_over_long_text_is_422(client: Client) -> None:
    response = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": {"title": "x" * 5000}}
    )
    body = await problem(response, 422)
    assert fields_named(body) == {"fields.title"}


async def test_bad_colour_is_422(client: Client) -> None:
    response = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": {"title": "T", "accent": "url(#evil)"}},
    )
    body = await problem(response, 422)
    assert fields_named(body) == {"fields.accent"}


async def test_huge_size_is_422_naming_width_and_height(client: Client) -> None:
    response = await client.post(
        "/v1/renders",
        json={
            "template": "og-card",
            "fields": {"title": "Big"},
            "width": 100_000,
            "height": 100_000,
        },
    )
    body = await problem(response, 422)
    assert fields_named(body) == {"width", "height"}


async def test_bad_size_values(client: Client) -> None:
    for extra, named in (
        ({"width": 0}, "width"),
        ({"width": "wide"}, "width"),
        ({"scale": 0}, "scale"),
        ({"scale": 2, "width": 100}, "scale"),
        ({"quality": 101}, "quality"),
        ({"format": "gif"}, "format"),
    ):
        response = await client.post(
            "/v1/renders", json={"template": "og-card", "fields": {"title": "S"}, **extra}
        )
        body = await problem(response, 422)
        assert named in fields_named(body), extra


async def test_body_over_the_limit_is_413(make_settings: Any, aiohttp_client: Any) -> None:
    from pixeldrive.http.app import create_app

    # Settings read the TOML file: load them off the event loop, as start-up does.
    settings = await asyncio.to_thread(make_settings, server={"max_body_bytes": 2048})
    client = await aiohttp_client(create_app(settings))
    big = b'{"template": "og-card", "fields": {"title": "' + b"x" * 4096 + b'"}}'
    body = await problem(await post_raw(client, big), 413)
    assert "2048" in body["detail"]


@pytest.mark.parametrize(
    "text",
    ["bell\x07", "nul\x00", "esc\x1b[31m"],
)
async def test_control_characters_are_422_naming_them(client: Client, text: str) -> None:
    response = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": {"title": text}}
    )
    body = await problem(response, 422)
    assert fields_named(body) == {"fields.title"}
    assert "U+00" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "text",
    [
        "\u202eevil override\u202c",  # bidi override
        "שלום עולם and English",  # right-to-left mixed with left-to-right
        "مرحبا بالعالم",
        "東京 中文",  # CJK, from the last fallback font
        "Zalgo Z̴̡̛a̸l̶g̷o̵ combining",  # stacked combining marks
        "tab\tand\nnewline",
    ],
)
async def test_hard_unicode_renders(client: Client, text: str) -> None:
    response = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": {"title": text}}
    )
    assert response.status == 201, await response.text()


async def test_emoji_are_drawn(client: Client) -> None:
    """Emoji sequences render (SPEC §8: rendered or 422); characters no font draws are
    a 422 naming them (tests/http/test_text.py)."""
    response = await client.post(
        "/v1/renders",
        json={"template": "og-card", "fields": {"title": "family 👨‍👩‍👧‍👦 flag 🇫🇷 skin 👋🏽"}},
    )
    assert response.status == 201, await response.text()
    assert (await response.json())["text"]["title"]["fallbacks"] == ["Noto Color Emoji"]


async def test_wrong_method_is_a_405_problem(client: Client) -> None:
    response = await client.delete("/v1/renders")
    await problem(response, 405)
    assert "POST" in response.headers["Allow"]


async def test_preview_with_bad_query_is_400(client: Client) -> None:
    await problem(await client.get("/v1/templates/og-card/preview?width=huge"), 400)
    await problem(await client.get("/v1/templates/og-card/preview?format=gif"), 400)

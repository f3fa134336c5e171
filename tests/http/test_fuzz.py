"""Fuzzing the HTTP API: hostile payloads, field values and Accept headers never give a
5xx, and every error is a well-formed problem document."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

STATUSES = {200, 201, 400, 404, 406, 413, 422}
FUZZ = settings(
    max_examples=40,
    deadline=None,
    # One server serves every example: it must not matter what earlier examples did.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
render_bodies = st.fixed_dictionaries(
    {"template": st.sampled_from(["og-card", "quote", "nope", "", "../etc"]) | st.text(max_size=8)},
    optional={
        "fields": st.dictionaries(
            st.sampled_from(["title", "subtitle", "author", "accent", "avatar", "x"]),
            json_values,
            max_size=4,
        ),
        "format": st.sampled_from(["png", "jpg", "webp", "avif", "gif"]) | json_values,
        "width": st.integers(-5, 20_000) | json_values,
        "height": st.integers(-5, 20_000),
        "scale": st.floats(-1, 20, allow_nan=False) | st.just("big"),
        "quality": st.integers(-1, 200),
    },
)


async def check_answer(response: Any) -> None:
    assert response.status in STATUSES, (response.status, await response.text())
    if response.status >= 400:
        assert response.content_type == "application/problem+json"
        problem = json.loads(await response.read())
        assert problem["status"] == response.status
        assert isinstance(problem["detail"], str)
        assert problem["detail"]
        for error in problem.get("errors", []):
            assert set(error) == {"field", "message"}


@FUZZ
@given(body=render_bodies)
async def test_render_payloads(client: Any, body: dict[str, Any]) -> None:
    await check_answer(await client.post("/v1/renders", json=body))


@FUZZ
@given(raw=st.binary(max_size=200))
async def test_raw_bodies(client: Any, raw: bytes) -> None:
    response = await client.post(
        "/v1/renders", data=raw, headers={"Content-Type": "application/json"}
    )
    await check_answer(response)


@FUZZ
@given(
    title=st.text(min_size=1, max_size=120),
    author=st.text(max_size=60),
    accent=st.text(max_size=30) | st.sampled_from(["#fff", "hsl(10 20% 30%)", "red"]),
)
async def test_field_values(client: Any, title: str, author: str, accent: str) -> None:
    fields = {"title": title, "author": author, "accent": accent}
    response = await client.post(
        "/v1/renders", json={"template": "og-card", "fields": fields, "width": 300}
    )
    await check_answer(response)


@FUZZ
@given(accept=st.text(max_size=200) | st.sampled_from(["image/*;q=0", "*/*;q=0.0", ",,,"]))
async def test_accept_headers(client: Any, accept: str) -> None:
    created = await client.post(
        "/v1/renders", json={"template": "quote", "fields": {"quote": "Fuzz."}, "width": 216}
    )
    key = (await created.json())["key"]
    try:
        response = await client.get(f"/v1/images/{key}", headers={"Accept": accept})
    except ValueError:
        return  # the client refuses to send this header at all (e.g. a newline in it)
    await check_answer(response)
    assert response.headers["Vary"] == "Accept"

"""The /metrics endpoint over a running app, and the pieces that feed it."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client.parser import text_string_to_metric_families

from pixeldrive.cache.disk import HEADER_SIZE
from pixeldrive.core.errors import InvalidInput, Overloaded, RenderFailed, RenderTimeout
from pixeldrive.http.app_keys import SERVICES
from pixeldrive.observe.metrics import MeteredPool, Metrics
from pixeldrive.render.job import RenderJob, RenderOutput

Client = TestClient[Any, Any]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    """Every sample of an exposition, keyed by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def at(found: Samples, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


async def scrape(client: Client) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"] == Metrics.content_type
    return samples(await response.text())


async def test_metrics_after_a_render_a_repeat_a_404_and_a_422(client: Client) -> None:
    body = {"template": "og-card", "fields": {"title": "Metered"}}
    first = await client.post("/v1/renders", json=body)
    assert first.status == 201
    size = (await first.json())["bytes"]
    assert (await client.post("/v1/renders", json=body)).status == 201
    assert (await client.get("/v1/templates/nope")).status == 404
    bad = {"template": "og-card", "fields": {"nope": "x"}}
    assert (await client.post("/v1/renders", json=bad)).status == 422
    await client.app[SERVICES].pipeline.cache.drain()  # the disk copy is written behind the answer

    found = await scrape(client)

    assert at(found, "pixeldrive_render_seconds_count", format="png") == 1
    assert at(found, "pixeldrive_renders_total", format="png", outcome="ok") == 1
    assert at(found, "pixeldrive_renders_total", format="png", outcome="failed") == 0
    assert at(found, "pixeldrive_render_seconds_count", format="webp") == 0
    cache = "pixeldrive_cache_requests_total"
    assert at(found, cache, tier="memory", result="miss") == 1
    assert at(found, cache, tier="memory", result="hit") == 1
    assert at(found, cache, tier="disk", result="miss") == 1
    assert at(found, cache, tier="disk", result="hit") == 0
    responses = "pixeldrive_http_responses_total"
    assert at(found, responses, route="/v1/renders", method="POST", status="2xx") == 2
    assert at(found, responses, route="/v1/renders", method="POST", status="4xx") == 1
    assert at(found, responses, route="/v1/templates/{id}", method="GET", status="4xx") == 1
    assert at(found, "pixeldrive_http_request_seconds_count", route="/v1/renders") == 3
    assert at(found, "pixeldrive_queue_depth") == 0
    assert at(found, "pixeldrive_pool_workers") == 1
    assert at(found, "pixeldrive_pool_restarts_total") == 0
    assert at(found, "pixeldrive_cache_bytes", tier="memory") == size > 0
    assert at(found, "pixeldrive_cache_entries", tier="memory") == 1
    assert at(found, "pixeldrive_cache_bytes", tier="disk") == size + HEADER_SIZE
    assert at(found, "pixeldrive_cache_entries", tier="disk") == 1
    for counter in ("corrupt", "errors", "evictions"):
        assert at(found, f"pixeldrive_cache_{counter}_total", tier="disk") == 0
    assert not any(
        name == "pixeldrive_cache_corrupt_total" and ("tier", "memory") in labels
        for name, labels in found
    )


async def test_labels_stay_bounded_whatever_the_client_sends(client: Client) -> None:
    assert (await client.get("/no/such/path")).status == 404
    assert (await client.get(f"/v1/images/{'0' * 32}.png")).status == 404
    assert (await client.request("PROPFIND", "/v1/renders")).status == 405
    found = await scrape(client)
    responses = "pixeldrive_http_responses_total"
    assert at(found, responses, route="unmatched", method="GET", status="4xx") == 1
    assert at(found, responses, route="/v1/images/{name}", method="GET", status="4xx") == 1
    assert at(found, responses, route="unmatched", method="other", status="4xx") == 1
    routes = {dict(labels).get("route") for name, labels in found if name == responses}
    assert routes == {"unmatched", "/v1/images/{name}"}


async def test_the_scrape_itself_is_counted_by_the_next_one(client: Client) -> None:
    await scrape(client)
    found = await scrape(client)
    responses = "pixeldrive_http_responses_total"
    assert at(found, responses, route="/metrics", method="GET", status="2xx") == 1


class FakePool:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    async def render(self, job: RenderJob, place: object = None) -> RenderOutput:
        if self.error is not None:
            raise self.error
        return RenderOutput(b"png", 1, 1, 0.0, 0.0)


JOB = RenderJob("v1", "/nowhere.svg", {}, 1, 1, "webp", None)


class FullPool:
    def hold(self, fmt: str) -> None:
        raise Overloaded(f"no room for a {fmt} render")


def test_a_render_refused_before_it_is_sent_is_counted_as_overloaded() -> None:
    metrics = Metrics(formats=["webp"])
    metered = MeteredPool(FullPool(), metrics)  # type: ignore[arg-type]
    with pytest.raises(Overloaded):
        metered.hold("webp")
    found = samples(metrics.exposition().decode())
    assert at(found, "pixeldrive_renders_total", format="webp", outcome="overloaded") == 1
    assert at(found, "pixeldrive_render_seconds_count", format="webp") == 0


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "ok"),
        (InvalidInput("bad"), "invalid"),
        (RenderTimeout("slow"), "timeout"),
        (RenderFailed("died"), "failed"),
        (Overloaded("busy"), "overloaded"),
        (RuntimeError("unexpected"), "failed"),
    ],
)
async def test_each_render_is_counted_by_outcome(error: Exception | None, outcome: str) -> None:
    metrics = Metrics(formats=["webp"])
    metered = MeteredPool(FakePool(error), metrics)  # type: ignore[arg-type]
    if error is None:
        await metered.render(JOB)
    else:
        with pytest.raises(type(error)):
            await metered.render(JOB)
    found = samples(metrics.exposition().decode())
    counts = {
        dict(labels)["outcome"]: value
        for (name, labels), value in found.items()
        if name == "pixeldrive_renders_total"
    }
    assert counts == {o: (1 if o == outcome else 0) for o in counts}
    assert len(counts) == 5
    drawn = at(found, "pixeldrive_render_seconds_count", format="webp")
    assert drawn == (1 if outcome == "ok" else 0)


def test_each_app_has_its_own_registry() -> None:
    one, two = Metrics(formats=["png"]), Metrics(formats=["png"])  # no DuplicateTimeseries
    one.render("png", "ok", 0.1)
    assert (
        at(
            samples(two.exposition().decode()),
            "pixeldrive_renders_total",
            format="png",
            outcome="ok",
        )
        == 0
    )

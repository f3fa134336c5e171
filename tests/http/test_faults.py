"""Render faults over HTTP (SPEC §8): timeout 504, killed worker 500, overload 503 — and
the next requests succeed, and cache hits never wait behind renders."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.http.app import create_app
from pixeldrive.http.app_keys import SERVICES
from tests.procs import cpu_seconds, drawing, worker_pids
from tests.waiting import eventually

CIRCLES = 40_000  # CairoSVG walks these in Python: seconds of work for one render


def write_templates(target: Path) -> Path:
    target.mkdir()
    shutil.copy(PROJECT_ROOT / "svg_templates" / "quote.svg", target)
    dots = "".join(
        f'<circle cx="{i % 400}" cy="{i // 400 % 200}" r="1" fill="#123"/>' for i in range(CIRCLES)
    )
    (target / "slow.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200">'
        f'<text data-pd-field="label" x="10" y="20">slow</text>{dots}</svg>'
    )
    return target


@pytest.fixture
async def faulty(aiohttp_client: Any, make_settings: Any, tmp_path: Path) -> Any:
    """A server with one worker, no queue beyond it, a 1.5 s limit and a slow template."""
    templates = await asyncio.to_thread(write_templates, tmp_path / "templates")
    settings = await asyncio.to_thread(
        make_settings,
        templates_dir=templates,
        render={"workers": 1, "queue_depth": 0, "timeout": 1.5},
    )
    return await aiohttp_client(create_app(settings))


async def slow(client: Any, label: str) -> Any:
    return await client.post("/v1/renders", json={"template": "slow", "fields": {"label": label}})


async def quick(client: Any, quote: str) -> Any:
    return await client.post("/v1/renders", json={"template": "quote", "fields": {"quote": quote}})


async def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict[str, Any] = await response.json()
    return body


async def test_a_render_past_its_limit_is_504_and_the_next_succeeds(faulty: Any) -> None:
    body = await problem_of(await slow(faulty, "too slow"), 504)
    assert "1.5 s" in body["detail"]
    assert (await quick(faulty, "After a timeout.")).status == 201


async def test_a_killed_worker_fails_its_request_only(faulty: Any) -> None:
    pids = await asyncio.to_thread(worker_pids)
    assert len(pids) == 1
    idle = cpu_seconds(pids[0])
    pending = asyncio.ensure_future(slow(faulty, "killed"))
    await eventually(lambda: drawing(pids[0], idle), "the worker started on the slow render")
    os.kill(pids[0], signal.SIGKILL)
    body = await problem_of(await pending, 500)
    assert "died" in body["detail"]
    assert (await quick(faulty, "After a crash.")).status == 201
    assert (await faulty.get("/readyz")).status == 200


async def test_overload_is_503_at_once_while_hits_are_served(faulty: Any) -> None:
    cached = await (await quick(faulty, "Cached before the rush.")).json()
    pending = asyncio.ensure_future(slow(faulty, "occupies the only worker"))
    pool = faulty.app[SERVICES].pool
    await eventually(lambda: pool.in_flight == 1, "the slow render was admitted to the pool")
    refused = await quick(faulty, "No room for me.")
    body = await problem_of(refused, 503)
    assert int(refused.headers["Retry-After"]) >= 1
    assert "in flight" in body["detail"]
    hit = await faulty.get(cached["url"])
    assert hit.status == 200
    assert hit.headers["X-Cache"] == "hit"
    assert not pending.done()  # both answers came while the render was still running
    await pending


async def test_a_full_pool_refuses_new_renders_but_joins_the_one_it_draws(faulty: Any) -> None:
    pool = faulty.app[SERVICES].pool
    first = asyncio.ensure_future(slow(faulty, "being drawn"))
    await eventually(lambda: pool.in_flight == 1, "the slow render was admitted to the pool")
    same = asyncio.ensure_future(slow(faulty, "being drawn"))
    await problem_of(await quick(faulty, "No room for me."), 503)
    answers = [await first, await same]
    assert [a.status for a in answers] == [504, 504]  # one draw for both, past its limit
    assert pool.restarts == 1
    metrics = await (await faulty.get("/metrics")).text()
    assert 'pixeldrive_renders_total{format="png",outcome="overloaded"} 1.0' in metrics


async def test_a_crowd_is_refused_at_the_door_and_only_the_admitted_render_is_sent(
    faulty: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = faulty.app[SERVICES].pool
    sent: list[str] = []
    render = pool.render

    async def spy(job: Any, place: Any = None) -> Any:
        sent.append(job.fields["label"])
        return await render(job, place)

    monkeypatch.setattr(pool, "render", spy)
    labels = [f"crowd {n}" for n in range(8)]
    answers = await asyncio.gather(*(slow(faulty, label) for label in labels))
    statuses = sorted(a.status for a in answers)
    assert statuses == [503] * 7 + [504], statuses  # one place: the render past its limit
    assert len(sent) == 1, f"refused renders reached the pool: {sent}"
    for answer in answers:
        if answer.status == 503:
            assert int(answer.headers["Retry-After"]) >= 1
    assert pool.in_flight == 0

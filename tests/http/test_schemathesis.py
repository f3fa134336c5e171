"""schemathesis against a real server's /openapi.json: for generated requests to every
operation, no 5xx, and every answer conforms to the document.

schemathesis's own pytest integration does not run on pytest 9 yet, so each operation's
hypothesis strategy is driven here directly; the checks are schemathesis's, all but one:
"schema-valid data is accepted" cannot hold for this API, because a render's `fields` are
validated against the chosen template's own schema and sizes against configured limits
(width × height), which a static document cannot express. Those 422s are still checked to
be well-formed problems conforming to the document.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from pixeldrive.auth import key_admin
from pixeldrive.core.config import load_settings
from tests.http.test_shutdown import free_port, wait_ready


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schemathesis")


@pytest.fixture(scope="module")
def bearer(state: Path) -> dict[str, str]:
    """A real key, so generated requests get past authentication (and schemathesis can
    check that requests with broken credentials do not)."""
    made = key_admin.create_key(load_settings(state_dir=state), "schemathesis")
    return {"Authorization": f"Bearer {made.key}"}


@pytest.fixture(scope="module")
def api(state: Path, bearer: dict[str, str]) -> Iterator[schemathesis.BaseSchema]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PIXELDRIVE_AUTH": "on",
        "PIXELDRIVE_PORT": str(port),
        "PIXELDRIVE_STATE_DIR": str(state),
        "PIXELDRIVE_WORKERS": "1",
    }
    log = state / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "pixeldrive.cli", "serve"], env=env, stdout=sink, stderr=sink
        )
    try:
        wait_ready(base, server)
        yield schemathesis.openapi.from_url(f"{base}/openapi.json")
    finally:
        server.terminate()
        server.wait(timeout=30)


def operations(api: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in api.get_all_operations()]


def test_every_operation_is_exercised(api: schemathesis.BaseSchema) -> None:
    paths = {(op.method.upper(), op.path) for op in operations(api)}
    assert ("POST", "/v1/renders") in paths
    assert ("GET", "/v1/images/{name}") in paths
    assert len(paths) >= 12


def test_the_api_conforms_to_its_document(
    api: schemathesis.BaseSchema, bearer: dict[str, str]
) -> None:
    for operation in operations(api):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc

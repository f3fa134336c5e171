"""Structured logs: JSON lines with the request id, and secrets redacted."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from pydantic import ValidationError
from yarl import URL

from pixeldrive.core.config import Settings
from pixeldrive.core.errors import RenderFailed
from pixeldrive.http.app import create_app
from pixeldrive.observe.logs import REDACTED, RedactSecrets, configure_logging

API_KEY = "pd_abcdefgh2345_" + "Zq3-_x" * 7 + "A"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrXzEifQ.c2lnbmF0dXJlLWJ5dGVz-_x"
SIG = "Hk2m9Qx_AbCdEf-123"
SIGNED_URL = f"/v1/t/og-card.png?exp=1893456000&kid=abcdefgh2345&title=Hi&sig={SIG}"
SECRETS = (API_KEY, JWT, SIG, API_KEY[16:])


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def captured() -> Iterator[Captured]:
    """configure_logging pointed at a buffer; the root logger restored afterwards."""
    root = logging.getLogger()
    level = root.level
    out = Captured()
    handler = configure_logging("INFO", json=True, stream=out.stream)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


async def logs_deep_inside(request: web.Request) -> web.Response:
    log = logging.getLogger("pixeldrive.service.pipeline")
    log.info("drawing for %s", request.path)
    try:
        raise ValueError("a fault far from the handler")
    except ValueError:
        log.exception("it failed")
    return web.json_response({})


async def fails(request: web.Request) -> web.Response:
    raise RenderFailed("the worker died")


async def test_every_line_of_a_request_carries_its_id(
    aiohttp_client: Any, settings: Settings, captured: Captured
) -> None:
    app = create_app(settings)
    app.router.add_get("/test/log", logs_deep_inside)
    app.router.add_get("/test/fail", fails)
    client = await aiohttp_client(app)
    logging.getLogger("pixeldrive.test").info("outside any request")

    response = await client.get("/test/log")
    assert response.status == 200
    request_id = response.headers["X-Request-Id"]
    failed = await client.get("/test/fail", headers={"X-Request-Id": "trace-42"})
    assert failed.status == 500
    for _ in range(100):  # the access log line is written just after the answer
        if sum(line["logger"] == "aiohttp.access" for line in captured.lines()) == 2:
            break
        await asyncio.sleep(0.01)

    lines = captured.lines()
    outside = next(line for line in lines if line["message"] == "outside any request")
    assert outside["request_id"] is None
    drawing = next(line for line in lines if line["message"] == "drawing for /test/log")
    assert drawing == {
        "ts": drawing["ts"],
        "level": "INFO",
        "logger": "pixeldrive.service.pipeline",
        "message": "drawing for /test/log",
        "request_id": request_id,
    }
    assert datetime.fromisoformat(drawing["ts"]).utcoffset() == UTC.utcoffset(None)
    failure = next(line for line in lines if line["message"] == "it failed")
    assert failure["request_id"] == request_id
    assert failure["level"] == "ERROR"
    assert "ValueError: a fault far from the handler" in failure["exc"]
    assert failure["exc"].startswith("Traceback")
    reported = next(line for line in lines if line["logger"] == "pixeldrive.http")
    assert reported["request_id"] == "trace-42"
    assert "the worker died" in reported["message"]
    access = [line for line in lines if line["logger"] == "aiohttp.access"]
    assert [line["request_id"] for line in access] == [request_id, "trace-42"]


def test_text_format_shows_the_request_id_or_a_dash() -> None:
    root, stream = logging.getLogger(), io.StringIO()
    level = root.level
    handler = configure_logging("debug", json=False, stream=stream)
    try:
        logging.getLogger("pixeldrive.test").debug("plain %d", 7)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert stream.getvalue().rstrip().endswith("DEBUG pixeldrive.test [-] plain 7")


def test_configure_logging_replaces_its_own_handler_only() -> None:
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    first = configure_logging("INFO", json=True, stream=io.StringIO())
    second = configure_logging("INFO", json=True, stream=io.StringIO())
    try:
        assert first not in root.handlers
        assert root.handlers == [*before, second]
    finally:
        root.removeHandler(second)
        root.setLevel(level)


def record(msg: str, args: Any = None, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise PermissionError(f"refused {API_KEY}")
        except PermissionError as error:
            exc_info = (type(error), error, error.__traceback__)
    return logging.LogRecord("pixeldrive.x", logging.INFO, __file__, 1, msg, args, exc_info)


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert REDACTED in text


def test_redaction_in_the_message() -> None:
    rec = record(f"Bearer {API_KEY} then {JWT} then {SIGNED_URL}")
    assert RedactSecrets().filter(rec)
    assert_clean(rec.getMessage())
    assert "pd_abcdefgh2345_" in rec.getMessage()  # the key id is public; its secret is not
    assert "title=Hi" in rec.getMessage()


def test_redaction_in_the_arguments() -> None:
    rec = record("key %s, token %s, url %s, count %d", (API_KEY, JWT, URL(SIGNED_URL), 3))
    RedactSecrets().filter(rec)
    message = rec.getMessage()
    assert_clean(message)
    assert message.endswith("count 3")


def test_redaction_of_a_secret_split_between_message_and_arguments() -> None:
    rec = record("fetching /v1/t/x.png?kid=k&sig=%s", (SIG,))
    RedactSecrets().filter(rec)
    assert_clean(rec.getMessage())


def test_redaction_of_mapping_arguments_that_do_not_fit() -> None:
    # A broken record keeps its (redacted) arguments for the handler to report.
    rec = record("%(key)s and %s")
    rec.args = {"key": API_KEY, "token": JWT}
    RedactSecrets().filter(rec)
    assert isinstance(rec.args, dict)
    assert_clean(json.dumps(rec.args))


def test_redaction_of_a_traceback() -> None:
    rec = record("failed", exc=True)
    RedactSecrets().filter(rec)
    assert rec.exc_text is not None
    assert_clean(rec.exc_text)


def test_redacted_through_the_handler(captured: Captured) -> None:
    logging.getLogger("pixeldrive.test").warning(
        "auth %s for %s", f"Bearer {JWT}", f"https://x.example{SIGNED_URL}"
    )
    (line,) = captured.lines()
    assert_clean(line["message"])
    percent_encoded = f"next=%2Fv1%2Ft%2Fx.png%3Fkid%3Dk%26sig%3D{SIG}"
    logging.getLogger("pixeldrive.test").warning("redirect %s", percent_encoded)
    assert_clean(captured.lines()[1]["message"])


def test_log_settings_default_to_json_at_info_and_are_checked(
    make_settings: Callable[..., Settings],
) -> None:
    server = make_settings().server
    assert (server.log_format, server.log_level) == ("json", "INFO")
    assert make_settings(server={"log_level": "debug"}).server.log_level == "DEBUG"
    with pytest.raises(ValidationError, match="log_format"):
        make_settings(server={"log_format": "xml"})
    with pytest.raises(ValidationError, match="log_level"):
        make_settings(server={"log_level": "loud"})

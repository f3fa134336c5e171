"""Structured logs: one JSON object per line, the request id on every line logged while
a request is handled, and secrets redacted before anything is written."""

from __future__ import annotations

import json as jsonlib
import logging
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

# A ContextVar is per task, not shared state: aiohttp handles each request in a task of
# its own, so a value set while handling one request is seen by every log call made
# for it (the service, the cache, the access log) and by no other request.
current_request_id: ContextVar[str | None] = ContextVar("pixeldrive_request_id", default=None)

REDACTED = "[REDACTED]"
# An API key keeps its id (public: `pixeldrive keys list` shows it), loses its secret.
_API_KEY = re.compile(r"(pd_[a-z2-7]{12}_)[A-Za-z0-9_-]{43}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# A signed URL's signature, plain or percent-encoded inside another URL.
_SIG = re.compile(r"(?<![A-Za-z])(sig(?:=|%3D))[^&\s#\"'<>]+", re.IGNORECASE)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def redact(text: str) -> str:
    """`text` with API key secrets, JWTs and `sig=` values replaced."""
    text = _API_KEY.sub(rf"\1{REDACTED}", text)
    text = _JWT.sub(REDACTED, text)
    return _SIG.sub(rf"\1{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Redacts the message, its arguments and any traceback of every record it sees.

    The message is merged with its arguments first, so a secret split between the two
    (`"…&sig=%s", sig`) is caught too; a record whose arguments do not fit its message
    keeps them, each redacted, for the handler to report.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            record.msg = redact(str(record.msg))
            record.args = _redact_args(record.args)
        else:
            record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redact_args(args: Any) -> Any:
    if isinstance(args, Mapping):
        return {key: _redact_value(value) for key, value in args.items()}
    if isinstance(args, tuple):
        return tuple(_redact_value(value) for value in args)
    return args


def _redact_value(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    text = str(value)  # a URL, an exception: replaced by its text only if that held a secret
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class RequestIdFilter(logging.Filter):
    """Copies the current request's id onto the record (unless it already has one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO 8601, UTC), level, logger, message,
    request_id (null outside a request), and exc when there is a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return jsonlib.dumps(entry, ensure_ascii=False, default=str)


class _Handler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs (a type of its own, so it can be
    replaced without touching handlers others installed, such as pytest's)."""


def configure_logging(level: str, json: bool, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to `stream` (stderr by default) as JSON lines or as text,
    with request ids and redaction; replaces an earlier call's handler. Returns it."""
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecrets())
    if json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT, defaults={"request_id": "-"}))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler

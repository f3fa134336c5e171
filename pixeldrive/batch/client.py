"""A small client of a running server's /v1/batches (the `pixeldrive batch --server` path):
submit rows, follow progress, download the images. Standard library only, no event loop."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixeldrive.core.errors import BadRequest, problem_line

POLL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class ServerBatch:
    """Where one submitted chunk of rows stands (`first` is its first row, from 1)."""

    id: str
    first: int
    total: int


class BatchClient:
    """Talks to `base` (e.g. http://127.0.0.1:8080) with an API key (or none: auth off)."""

    def __init__(self, base: str, key: str | None, *, timeout: float = 60.0) -> None:
        self._base = base.rstrip("/")
        self._key = key
        self._timeout = timeout

    def submit(
        self, template: str, rows: Sequence[dict[str, Any]], options: dict[str, Any], chunk: int
    ) -> list[ServerBatch]:
        """POST the rows in batches of at most `chunk` items."""
        batches = []
        for start in range(0, len(rows), chunk):
            items = list(rows[start : start + chunk])
            body = {"template": template, "items": items, **options}
            created = self._json("POST", "/v1/batches", body)
            batches.append(ServerBatch(created["id"], start + 1, len(items)))
        return batches

    def follow(
        self, batches: Sequence[ServerBatch], on_progress: Callable[[int], None]
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Wait for every batch; tell `on_progress` how many items are finished in all;
        then yield (row, result) for every row in order."""
        finished: dict[str, dict[str, Any]] = {}
        while len(finished) < len(batches):
            count = 0
            for batch in batches:
                state = finished.get(batch.id) or self._json("GET", f"/v1/batches/{batch.id}")
                if state["status"] == "done":
                    finished[batch.id] = state
                count += state["done"] + state["failed"]
            on_progress(count)
            if len(finished) < len(batches):
                time.sleep(POLL_SECONDS)
        for batch in batches:
            for offset, result in enumerate(finished[batch.id]["results"]):
                yield batch.first + offset, result

    def download(self, url: str, path: Path) -> None:
        with self._open("GET", url, None) as answer:
            path.write_bytes(answer.read())

    def _json(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        with self._open(method, path, data) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result

    def _open(self, method: str, path: str, data: bytes | None) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json, */*"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        request = urllib.request.Request(  # noqa: S310 (the user names the server)
            self._base + path, data=data, headers=headers, method=method
        )
        try:
            return urllib.request.urlopen(request, timeout=self._timeout)  # noqa: S310
        except urllib.error.HTTPError as exc:
            raise BadRequest(f"{method} {path}: {exc.code} {_detail(exc)}") from exc
        except urllib.error.URLError as exc:
            raise BadRequest(f"cannot reach {self._base}: {exc.reason}") from exc


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        problem = json.loads(exc.read())
    except ValueError:
        return exc.reason
    return problem_line({"detail": exc.reason} | problem)

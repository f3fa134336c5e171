"""Renders written to files, without a server: `pixeldrive render` and `pixeldrive batch`.

They run the server's own pipeline (the same validation, remote-image checks, keys and
workers), on a state of their own in a temporary directory: nothing is billed, cached on
disk or left behind, and identical rows are drawn once.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pixeldrive.auth.principal import LOCAL
from pixeldrive.cli.mistakes import CommandError
from pixeldrive.core.config import Settings
from pixeldrive.core.errors import BadRequest, PixelDriveError, problem_line
from pixeldrive.core.formats import BY_EXT, FORMATS, ImageFormat
from pixeldrive.service.pipeline import Order
from pixeldrive.service.render_request import RenderRequest
from pixeldrive.templates.model import Template
from pixeldrive.wiring import Services, open_services

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One CSV row's image (`path`) or why it was not drawn (`error`); rows count from 1."""

    row: int
    path: Path | None = None
    error: str | None = None


def render_file(
    settings: Settings, template_id: str, values: dict[str, str], output: Path, **size: Any
) -> tuple[int, int]:
    """Render one image into `output` (format from its extension); returns its size."""
    fmt = BY_EXT.get(output.suffix.lower().lstrip("."))
    if fmt is None:
        raise BadRequest(f"cannot tell the format from {output.name!r}; use .png .jpg .webp .avif")

    async def run(services: Services) -> tuple[int, int]:
        order = _order(template_id, values, fmt, size)
        rendered = await services.pipeline.render(order)
        await asyncio.to_thread(output.write_bytes, rendered.data)
        return order.size

    return _with_pipeline(settings, 1, run)


def render_rows(
    settings: Settings,
    template_id: str,
    rows: Sequence[dict[str, str]],
    out_dir: Path,
    format_name: str,
    *,
    names: Sequence[str],
    on_outcome: Callable[[RowOutcome], None],
    **size: Any,
) -> None:
    """Render one image per row (field name → text) into `out_dir/<name>.<ext>`, on
    `render.workers` processes; `on_outcome` hears of each row as it finishes."""
    fmt = FORMATS[format_name]
    workers = settings.render.worker_count

    async def run(services: Services) -> None:
        _check_columns(services.templates.get(template_id), rows)
        await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
        pipeline = services.pipeline
        slots = asyncio.Semaphore(workers)  # as many as the workers, so none is refused

        async def one(number: int, values: dict[str, str], path: Path) -> None:
            async with slots:
                try:
                    rendered = await pipeline.render(_order(template_id, values, fmt, size))
                    await asyncio.to_thread(path.write_bytes, rendered.data)
                except PixelDriveError as exc:
                    on_outcome(RowOutcome(number, error=problem_line(exc.problem())))
                    return
            on_outcome(RowOutcome(number, path=path))

        await asyncio.gather(
            *(
                one(number, values, out_dir / f"{name}.{fmt.ext}")
                for number, (values, name) in enumerate(zip(rows, names, strict=True), start=1)
            )
        )

    _with_pipeline(settings, workers, run)


def _check_columns(template: Template, rows: Sequence[dict[str, str]]) -> None:
    """A column that names no field would fail every row the same way: said once, before
    anything is drawn."""
    fields = [f.name for f in template.fields]
    unknown = sorted({column for row in rows for column in row} - set(fields))
    if unknown:
        raise CommandError(
            f"{', '.join(map(repr, unknown))}: not a field of {template.id} (its fields: "
            f"{', '.join(fields)}); rename the column, or start its name with _ to keep it out"
        )


def _order(
    template_id: str, values: dict[str, str], fmt: ImageFormat, size: dict[str, Any]
) -> Order:
    options = {k: v for k, v in size.items() if v}
    request = RenderRequest(template=template_id, fields=values, **options)
    return Order(LOCAL, fmt, request, text_fields=True)


def _with_pipeline(settings: Settings, workers: int, run: Callable[[Services], Awaitable[T]]) -> T:
    """`run` on services with `workers` render processes, in an event loop of its own."""

    async def opened(offline: Settings) -> T:
        async with open_services(offline, serve=False) as services:
            return await run(services)

    with tempfile.TemporaryDirectory(prefix="pixeldrive-") as state:
        offline = settings.model_copy(
            update={
                "state_dir": Path(state),
                "cache_dir": Path(state) / "cache",
                "redis_url": None,
                "database_url": None,
                "cache": settings.cache.model_copy(update={"disk_bytes": 0}),
                "render": settings.render.model_copy(update={"workers": workers}),
            }
        )
        return asyncio.run(opened(offline))

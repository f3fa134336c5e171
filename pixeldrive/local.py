"""Rendering in this process, without a server: the `pixeldrive render` command."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixeldrive.config import Settings
from pixeldrive.errors import BadRequest, InvalidInput, PixelDriveError
from pixeldrive.factory import worker_config
from pixeldrive.images.fetch import ImageFetcher
from pixeldrive.models import RenderRequest
from pixeldrive.render import worker
from pixeldrive.render.formats import BY_EXT, FORMATS
from pixeldrive.render.job import JobError, JobFailed, RenderJob, RenderOutput
from pixeldrive.render.sizing import output_size
from pixeldrive.service import embed_remote_images, validate_fields
from pixeldrive.templates.coerce import coerce
from pixeldrive.templates.model import Template, compile_template


async def _fetched(
    settings: Settings, template: Template, values: dict[str, str]
) -> dict[str, Any]:
    """Field values from text, with image URLs fetched under the server's allow-list."""
    fields = coerce(template, values)
    async with ImageFetcher(settings.images) as fetcher:
        return await embed_remote_images(fetcher, template, fields)


def render_file(
    settings: Settings,
    template_id: str,
    values: dict[str, str],
    output: Path,
    **size: Any,
) -> tuple[int, int]:
    """Render one image into `output` (format from its extension); returns its size."""
    fmt = BY_EXT.get(output.suffix.lower().lstrip("."))
    if fmt is None:
        raise BadRequest(f"cannot tell the format from {output.name!r}; use .png .jpg .webp .avif")
    source, template, request, (width, height) = _sized(settings, template_id, size)
    fields = validate_fields(template, asyncio.run(_fetched(settings, template, values)))
    worker.init_worker(worker_config(settings))
    job = RenderJob(template.version, str(source), fields, width, height, fmt.name, request.quality)
    try:
        result = worker.run(job)
    except JobError as exc:
        raise InvalidInput(str(exc)) from exc
    output.write_bytes(result.data)
    return result.width, result.height


def _sized(
    settings: Settings, template_id: str, size: dict[str, Any]
) -> tuple[Path, Template, RenderRequest, tuple[int, int]]:
    """The template's source and compiled form, the size options as a request, and the
    output size they give."""
    source = settings.templates_dir / f"{template_id}.svg"
    if not source.is_file():
        raise BadRequest(f"no template {template_id!r} in {settings.templates_dir}")
    template = compile_template(
        template_id, source.read_bytes(), max_image_bytes=settings.render.max_data_uri_bytes
    )
    request = RenderRequest(template=template_id, **{k: v for k, v in size.items() if v})
    dimensions = output_size(
        (template.width, template.height),
        request.width,
        request.height,
        request.scale,
        max_side=settings.render.max_side,
        max_pixels=settings.render.max_pixels,
    )
    return source, template, request, dimensions


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One CSV row's image (`path`) or why it was not drawn (`error`); rows count from 1."""

    row: int
    path: Path | None = None
    error: str | None = None


def describe(exc: PixelDriveError) -> str:
    """An error on one line, with each field problem."""
    problems = "; ".join(f"{p.field}: {p.message}" for p in exc.errors)
    return f"{exc.detail} ({problems})" if problems else exc.detail


def render_rows(
    settings: Settings,
    template_id: str,
    rows: Sequence[dict[str, str]],
    out_dir: Path,
    format_name: str,
    *,
    names: Sequence[str],
    **size: Any,
) -> Iterator[RowOutcome]:
    """Render one image per row (field name → text) into `out_dir/<name>.<ext>`, on
    `render.workers` processes; outcomes come as the images finish, in any order."""
    fmt = FORMATS[format_name]
    source, template, request, (width, height) = _sized(settings, template_id, size)
    out_dir.mkdir(parents=True, exist_ok=True)
    spawn = multiprocessing.get_context("spawn")  # workers pin their own fontconfig
    with ProcessPoolExecutor(
        settings.render.worker_count,
        mp_context=spawn,
        initializer=worker.init_worker,
        initargs=(worker_config(settings),),
    ) as pool:
        pending: dict[Future[RenderOutput], tuple[int, Path]] = {}
        for number, (values, name) in enumerate(zip(rows, names, strict=True), start=1):
            try:
                fields = validate_fields(template, _row_fields(settings, template, values))
            except PixelDriveError as exc:
                yield RowOutcome(number, error=describe(exc))
                continue
            job = RenderJob(
                template.version, str(source), fields, width, height, fmt.name, request.quality
            )
            pending[pool.submit(worker.run, job)] = (number, out_dir / f"{name}.{fmt.ext}")
        for future in as_completed(pending):
            number, path = pending[future]
            try:
                path.write_bytes(future.result().data)
            except (JobError, JobFailed) as exc:
                yield RowOutcome(number, error=str(exc))
                continue
            yield RowOutcome(number, path=path)


def _row_fields(settings: Settings, template: Template, values: dict[str, str]) -> dict[str, Any]:
    if any(v.startswith(("http://", "https://")) for v in values.values()):
        return asyncio.run(_fetched(settings, template, values))
    return coerce(template, values)

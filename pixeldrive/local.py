"""Rendering in this process, without a server: the `pixeldrive render` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pixeldrive.config import Settings
from pixeldrive.errors import BadRequest, InvalidInput
from pixeldrive.factory import worker_config
from pixeldrive.images.fetch import ImageFetcher
from pixeldrive.models import RenderRequest
from pixeldrive.render import worker
from pixeldrive.render.formats import BY_EXT
from pixeldrive.render.job import JobError, RenderJob
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
    source = settings.templates_dir / f"{template_id}.svg"
    if not source.is_file():
        raise BadRequest(f"no template {template_id!r} in {settings.templates_dir}")
    template = compile_template(
        template_id, source.read_bytes(), max_image_bytes=settings.render.max_data_uri_bytes
    )
    fields = validate_fields(template, asyncio.run(_fetched(settings, template, values)))
    request = RenderRequest(template=template_id, **{k: v for k, v in size.items() if v})
    width, height = output_size(
        (template.width, template.height),
        request.width,
        request.height,
        request.scale,
        max_side=settings.render.max_side,
        max_pixels=settings.render.max_pixels,
    )
    worker.init_worker(worker_config(settings))
    job = RenderJob(template.version, str(source), fields, width, height, fmt.name, request.quality)
    try:
        result = worker.run(job)
    except JobError as exc:
        raise InvalidInput(str(exc)) from exc
    output.write_bytes(result.data)
    return result.width, result.height

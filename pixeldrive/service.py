"""The render service: a request becomes a spec, a key, and bytes from cache or a worker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pixeldrive.cache.flight import SingleFlight
from pixeldrive.cache.keys import RenderSpec, render_key
from pixeldrive.cache.tiered import TieredCache
from pixeldrive.config import RenderSettings
from pixeldrive.errors import FieldProblem, InvalidInput, NotFound
from pixeldrive.models import RenderRequest
from pixeldrive.render.formats import ImageFormat
from pixeldrive.render.job import RenderJob, RenderOutput
from pixeldrive.render.pool import RenderPool
from pixeldrive.render.sizing import output_size
from pixeldrive.storage.specs import SpecStore
from pixeldrive.templates.model import Template
from pixeldrive.templates.store import TemplateStore


@dataclass(frozen=True, slots=True)
class Rendered:
    """An encoded image and how it was obtained (`tier` is None when just drawn)."""

    key: str
    format: ImageFormat
    data: bytes
    width: int
    height: int
    tier: str | None

    @property
    def cached(self) -> bool:
        return self.tier is not None


class RenderService:
    """Orchestrates a render as a checklist: validate → key → spec saved → cache → draw."""

    def __init__(
        self,
        templates: TemplateStore,
        cache: TieredCache,
        specs: SpecStore,
        pool: RenderPool,
        *,
        fingerprint: str,
        limits: RenderSettings,
    ) -> None:
        self.templates = templates
        self.cache = cache
        self.specs = specs
        self.pool = pool
        self.fingerprint = fingerprint
        self.limits = limits
        self._flight: SingleFlight[RenderOutput] = SingleFlight()

    def prepare(self, request: RenderRequest) -> tuple[str, RenderSpec]:
        """Validate the request against its template: (key, canonical spec). No I/O."""
        template = self.templates.get(request.template)
        values = validate_fields(template, request.fields)
        width, height = output_size(
            (template.width, template.height),
            request.width,
            request.height,
            request.scale,
            max_side=self.limits.max_side,
            max_pixels=self.limits.max_pixels,
        )
        spec = RenderSpec(
            template=template.id,
            version=template.version,
            fields=values,
            width=width,
            height=height,
            quality=request.quality,
        )
        return render_key(spec, self.fingerprint), spec

    async def render(self, request: RenderRequest, fmt: ImageFormat) -> Rendered:
        """Render (or find) the image a request describes; its spec is stored first, so
        the key stays renderable even after its bytes are evicted."""
        key, spec = self.prepare(request)
        # The spec is durable before the answer, but need not be before the draw.
        _saved, rendered = await asyncio.gather(
            self.specs.save(key, spec), self.produce(key, spec, fmt)
        )
        return rendered

    async def image(self, key: str, fmt: ImageFormat) -> Rendered:
        """The image for a key handed out earlier: from cache, or drawn again from its spec."""
        variant = f"{key}.{fmt.ext}"
        hit = await self.cache.get(variant)
        if hit is not None:
            return Rendered(key, fmt, hit[0], 0, 0, hit[1])
        spec = await self.specs.load(key)
        if spec is None:
            raise NotFound(f"no image with key {key!r}")
        return await self.produce(key, spec, fmt)

    def cached_bytes(self, key: str, fmt: ImageFormat) -> bytes | None:
        """A memory-tier hit without any await: the fastest path."""
        return self.cache.peek_memory(f"{key}.{fmt.ext}")

    async def produce(self, key: str, spec: RenderSpec, fmt: ImageFormat) -> Rendered:
        variant = f"{key}.{fmt.ext}"
        hit = await self.cache.get(variant)
        if hit is not None:
            return Rendered(key, fmt, hit[0], spec.width, spec.height, hit[1])
        output, _shared = await self._flight.do(variant, lambda: self._draw(variant, spec, fmt))
        return Rendered(key, fmt, output.data, output.width, output.height, None)

    async def _draw(self, variant: str, spec: RenderSpec, fmt: ImageFormat) -> RenderOutput:
        job = RenderJob(
            version=spec.version,
            source=str(self.templates.source_path(spec.version)),
            fields=spec.fields,
            width=spec.width,
            height=spec.height,
            format=fmt.name,
            quality=spec.quality,
        )
        output = await self.pool.render(job)
        await self.cache.put_behind(variant, output.data)
        return output


def validate_fields(template: Template, fields: dict[str, Any]) -> dict[str, Any]:
    """Every field's value after validation, defaults filled; InvalidInput names each
    problem as `fields.<name>`."""
    try:
        model = template.model.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput(
            f"the fields do not fit template {template.id!r}",
            errors=tuple(_field_problem(template, e) for e in exc.errors()),
        ) from exc
    return model.model_dump()


def _field_problem(template: Template, error: Any) -> FieldProblem:
    path = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        known = ", ".join(f.name for f in template.fields) or "none"
        return FieldProblem(f"fields.{path}", f"unknown field; this template has: {known}")
    if error["type"] == "missing":
        return FieldProblem(f"fields.{path}", "required field is missing")
    message = str(error["msg"]).removeprefix("Value error, ")
    return FieldProblem(f"fields.{path}", message)

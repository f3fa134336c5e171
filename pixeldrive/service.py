"""The render service: a request becomes a spec, a key, and bytes from cache or a worker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from cachetools import LRUCache
from pydantic import ValidationError

from pixeldrive.auth.metering import Meter
from pixeldrive.auth.principal import Principal
from pixeldrive.cache.cluster_flight import ClusterFlight
from pixeldrive.cache.flight import SingleFlight
from pixeldrive.cache.keys import RenderSpec, render_key
from pixeldrive.cache.tiered import TieredCache
from pixeldrive.config import RenderSettings
from pixeldrive.errors import FieldProblem, InvalidInput, NotFound
from pixeldrive.images.fetch import ImageFetcher, to_data_uri
from pixeldrive.images.policy import ImageRefused
from pixeldrive.models import RenderRequest
from pixeldrive.render.formats import ImageFormat
from pixeldrive.render.job import RenderJob, RenderOutput, Store
from pixeldrive.render.sizing import output_size
from pixeldrive.storage.specs import SpecStore
from pixeldrive.templates.model import Template
from pixeldrive.templates.store import TemplateStore
from pixeldrive.text.report import TextReport


class Renderer(Protocol):
    """What the service needs of the render pool (`RenderPool`, or a wrapper that
    observes it): draw one job, or raise Overloaded, RenderTimeout, RenderFailed or
    InvalidInput."""

    async def render(self, job: RenderJob) -> RenderOutput: ...

    async def layout(self, job: RenderJob) -> dict[str, TextReport]: ...


@dataclass(frozen=True, slots=True)
class Rendered:
    """An encoded image and how it was obtained (`tier` is None when just drawn)."""

    key: str
    format: ImageFormat
    data: bytes
    width: int
    height: int
    tier: str | None
    text: dict[str, TextReport] = field(default_factory=dict)
    timing: tuple[float, float, float] | None = None  # text, draw, encode (ms) when drawn

    @property
    def cached(self) -> bool:
        return self.tier is not None


class RenderService:
    """Orchestrates a render as a checklist: validate → key → cache → quota → draw →
    meter and spec saved (or, for a cached image, spec saved). Callers authorise between
    `prepare` and `render`."""

    def __init__(
        self,
        templates: TemplateStore,
        cache: TieredCache,
        specs: SpecStore,
        pool: Renderer,
        meter: Meter,
        *,
        fingerprint: str,
        limits: RenderSettings,
        images: ImageFetcher | None = None,
        cluster: ClusterFlight[RenderOutput] | None = None,
    ) -> None:
        self.templates = templates
        self.cache = cache
        self.specs = specs
        self.pool = pool
        self.meter = meter
        self.images = images
        self.fingerprint = fingerprint
        self.limits = limits
        self.cluster = cluster
        # (output, drawn by another node): local callers share one draw, and in cluster
        # mode one node draws for all (`ClusterFlight`).
        self._flight: SingleFlight[tuple[RenderOutput, bool]] = SingleFlight()
        # key → template id, for scope checks and per-template metering of hits.
        self._template_of: LRUCache[str, str] = LRUCache(maxsize=100_000)

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
        key = render_key(spec, self.fingerprint)
        self._template_of[key] = spec.template
        return key, spec

    async def prepare_for(
        self, principal: Principal, request: RenderRequest, fmt: ImageFormat
    ) -> tuple[str, RenderSpec]:
        """Authorise, fetch, then prepare: the template and format are checked against the
        caller's scopes before anything else (a template outside them is a 403, not a list
        of its fields, and no image is fetched for it); remote images become data: URIs;
        the pixel count is checked once the size is known."""
        principal.require("render", template=request.template, format=fmt.name)
        request = await self.fetch_images(request)
        key, spec = self.prepare(request)
        principal.require("render", pixels=spec.width * spec.height)
        return key, spec

    async def fetch_images(self, request: RenderRequest) -> RenderRequest:
        """The request with its remote images embedded (see `embed_remote_images`)."""
        if self.images is None:
            return request
        template = self.templates.get(request.template)
        fields = await embed_remote_images(self.images, template, request.fields)
        return (
            request if fields is request.fields else request.model_copy(update={"fields": fields})
        )

    async def render(
        self, key: str, spec: RenderSpec, fmt: ImageFormat, principal: Principal
    ) -> Rendered:
        """Render (or find) a prepared spec, and store the spec durably before answering,
        so the key stays renderable after its bytes are evicted. A refused render (503,
        429) stores nothing."""
        rendered = await self.produce(key, spec, fmt, principal)
        if rendered.cached:  # else `_draw` stored it, beside the ledger row
            await self.specs.save(key, spec)
        return rendered

    async def template_of(self, key: str) -> str:
        """The template a key was made from; NotFound for a key never handed out."""
        known = self._template_of.get(key)
        if known is not None:
            return known
        spec = await self.specs.load(key)
        if spec is None:
            raise NotFound(f"no image with key {key!r}")
        self._template_of[key] = spec.template
        return spec.template

    def peek(
        self, key: str, fmt: ImageFormat, principal: Principal, template: str | None = None
    ) -> bytes | None:
        """A memory-tier hit, counted, without any await: the fastest path. Call after
        `template_of(key)` (it is what authorisation needs anyway), and pass what it
        answered as `template` to spare a second lookup."""
        data = self.cache.peek_memory(f"{key}.{fmt.ext}")
        if data is not None:
            template = template or self._template_of.get(key, "?")
            self.meter.hit(principal, template, len(data))
        return data

    async def image(self, key: str, fmt: ImageFormat, principal: Principal) -> Rendered:
        """The image for a key handed out earlier: from cache, or drawn again from its spec."""
        template = await self.template_of(key)
        hit = await self.cache.get(f"{key}.{fmt.ext}")
        if hit is not None:
            self.meter.hit(principal, template, len(hit[0]))
            return Rendered(key, fmt, hit[0], 0, 0, hit[1])
        spec = await self.specs.load(key)
        if spec is None:
            raise NotFound(f"no image with key {key!r}")
        # Drawing a variant nobody has yet is a render like any other: its size counts.
        principal.require("render", pixels=spec.width * spec.height)
        return await self._draw_missing(key, spec, fmt, principal, stored=True)

    async def produce(
        self, key: str, spec: RenderSpec, fmt: ImageFormat, principal: Principal
    ) -> Rendered:
        variant = f"{key}.{fmt.ext}"
        hit = await self.cache.get(variant)
        if hit is not None:
            self.meter.hit(principal, spec.template, len(hit[0]))
            return Rendered(key, fmt, hit[0], spec.width, spec.height, hit[1])
        return await self._draw_missing(key, spec, fmt, principal)

    async def _draw_missing(
        self,
        key: str,
        spec: RenderSpec,
        fmt: ImageFormat,
        principal: Principal,
        *,
        stored: bool = False,
    ) -> Rendered:
        """Draw a variant the cache was just found not to hold (no second lookup); the
        spec is saved with the ledger row unless it was `stored` already."""
        variant = f"{key}.{fmt.ext}"
        async with self.meter.admission(principal, variant):
            (output, by_peer), shared = await self._flight.do(
                variant, lambda: self._draw_once(variant, spec, fmt, principal, stored)
            )
        if shared or by_peer:  # drawn for another caller at the same moment: free here
            self.meter.hit(principal, spec.template, len(output.data))
        tier = self.cluster.tier_name if by_peer and self.cluster else None
        timing = (
            None if tier else (output.text_ms, output.draw_ms - output.text_ms, output.encode_ms)
        )
        return Rendered(
            key, fmt, output.data, output.width, output.height, tier, output.text, timing
        )

    async def _draw_once(
        self, variant: str, spec: RenderSpec, fmt: ImageFormat, principal: Principal, stored: bool
    ) -> tuple[RenderOutput, bool]:
        """Draw here, or (cluster mode) take the bytes another node is drawing."""
        if self.cluster is None:
            return await self._draw(variant, spec, fmt, principal, stored), False
        output, by_peer = await self.cluster.do(
            variant,
            lambda: self._draw(variant, spec, fmt, principal, stored),
            publish=lambda out: out.data,
            found=lambda data: RenderOutput(data, spec.width, spec.height, 0.0, 0.0),
        )
        if by_peer:
            await self.cache.put_behind(variant, output.data)
        return output, by_peer

    async def layout(self, spec: RenderSpec) -> dict[str, TextReport]:
        """A dry run: the spec's text laid out in a worker, nothing drawn, cached or billed."""
        return await self.pool.layout(self._job(spec, "png"))

    def _job(self, spec: RenderSpec, fmt: str, store: Store | None = None) -> RenderJob:
        return RenderJob(
            version=spec.version,
            source=str(self.templates.source_path(spec.version)),
            fields=spec.fields,
            width=spec.width,
            height=spec.height,
            format=fmt,
            quality=spec.quality,
            store=store,
        )

    async def _draw(
        self, variant: str, spec: RenderSpec, fmt: ImageFormat, principal: Principal, stored: bool
    ) -> RenderOutput:
        # The worker writes the disk tier's file itself: no copy of the bytes is written,
        # hashed or handed to a thread in this process, which serves every worker.
        job = self._job(spec, fmt.name, self.cache.writer(variant))
        output = await self.pool.render(job)
        await self.cache.put_behind(variant, output.data, written=output.stored)
        billed = self.meter.render(
            principal,
            variant,
            spec.template,
            fmt.name,
            pixels=output.width * output.height,
            ms=output.draw_ms + output.encode_ms,
            size=len(output.data),
        )
        if stored:
            await billed
        else:  # the ledger row and the spec: one trip to the database when both live there
            await asyncio.gather(billed, self.specs.save(variant.partition(".")[0], spec))
        return output


async def embed_remote_images(
    fetcher: ImageFetcher, template: Template, fields: dict[str, Any]
) -> dict[str, Any]:
    """Image fields given as URLs, fetched (allow-list, address and size checks) and
    replaced by data: URIs: the spec then names the exact bytes, so the key and the pixels
    stay the same even if the remote image later changes. Returns `fields` itself when
    there is nothing to fetch; InvalidInput names the field of a refused image."""
    images = {spec.name for spec in template.fields if spec.kind == "image"}
    remote = {
        name: value
        for name, value in fields.items()
        if name in images and isinstance(value, str) and value.startswith(("http://", "https://"))
    }
    if not remote:
        return fields
    embedded = dict(fields)
    for name, url in remote.items():
        try:
            embedded[name] = to_data_uri(await fetcher.fetch(url))
        except ImageRefused as exc:
            raise InvalidInput(
                f"the image for {name!r} was not fetched: {exc.detail}",
                errors=(FieldProblem(f"fields.{name}", exc.detail),),
                slug="image-refused",
            ) from exc
    return embedded


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

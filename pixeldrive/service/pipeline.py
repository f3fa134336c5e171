"""The render pipeline: every way into a render runs the same named steps, in one order.

An entry point (POST /v1/renders, GET /v1/images/{key}, a signed URL, a preview, a batch
item, the command line) fills in an `Order` and runs one of the step lists at the end of
this module. What differs between entries is data (who asks, for which operation, whether
the spec comes from a request or from a key handed out earlier), never a copy of the steps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from cachetools import LRUCache

from pixeldrive.auth.metering import Meter
from pixeldrive.auth.principal import Principal
from pixeldrive.batch.queue import Batch
from pixeldrive.cache.cluster_flight import ClusterFlight
from pixeldrive.cache.flight import SingleFlight
from pixeldrive.cache.tiered import TieredCache
from pixeldrive.core.config import RenderSettings
from pixeldrive.core.errors import FieldProblem, InvalidInput, NotFound
from pixeldrive.core.formats import FORMATS, ImageFormat
from pixeldrive.core.render_spec import RenderSpec, render_key
from pixeldrive.remote_images.fetch import ImageFetcher, to_data_uri
from pixeldrive.remote_images.policy import ImageRefused
from pixeldrive.render.job import RenderJob, RenderOutput
from pixeldrive.render.pool import Place
from pixeldrive.render.sizing import output_size
from pixeldrive.service.fonts import FontCatalog
from pixeldrive.service.render_request import RenderRequest
from pixeldrive.service.shared_templates import SharedTemplates
from pixeldrive.storage.specs import SpecStore
from pixeldrive.templates.coerce import coerce
from pixeldrive.templates.store import TemplateStore
from pixeldrive.text.report import TextReport

Operation = Literal["render", "batch"]
log = logging.getLogger("pixeldrive.pipeline")


class Renderer(Protocol):
    """What the pipeline needs of the render pool (`RenderPool`, or a wrapper that
    observes it): draw one job, or raise Overloaded, RenderTimeout, RenderFailed or
    InvalidInput; and hold a place for a job of format `fmt` at once, or raise
    Overloaded when none is left."""

    async def render(self, job: RenderJob, place: Place | None = None) -> RenderOutput: ...

    async def layout(self, job: RenderJob) -> dict[str, TextReport]: ...

    def hold(self, fmt: str) -> Place: ...

    def idle(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Rendered:
    """An encoded image and how it was obtained (`tier` is None when just drawn).
    `pending`: this image stands in for that format, which is being encoded for the
    next request (see `RenderPipeline.stand_in`)."""

    key: str
    format: ImageFormat
    data: bytes
    tier: str | None
    text: dict[str, TextReport] = field(default_factory=dict)
    timing: tuple[float, float, float] | None = None  # text, draw, encode (ms) when drawn
    pending: ImageFormat | None = None

    @property
    def cached(self) -> bool:
        return self.tier is not None


@dataclass(slots=True)
class Order:
    """One render on its way through the steps: who asks, for what, and what each step
    found. An order starts from a `request`, or from the `key` of an image handed out
    earlier; the steps fill in the rest, and the entry point reads `rendered`."""

    principal: Principal
    format: ImageFormat | None  # None: a URL to sign whose format Accept will decide
    request: RenderRequest | None = None
    key: str = ""
    operation: Operation = "render"
    text_fields: bool = False  # the fields are written as text (a query, a command line)
    template: str = ""
    spec: RenderSpec | None = None
    spec_saved: bool = False
    rendered: Rendered | None = None
    layout: dict[str, TextReport] = field(default_factory=dict)
    # A faster format the client also takes, to answer with when `format` (negotiated)
    # must be drawn; `pending` is then the negotiated one, encoded after the answer.
    stand_in: ImageFormat | None = None
    pending: ImageFormat | None = None
    bill: bool = True  # False: an encode for a later request, whose caller paid already

    def __post_init__(self) -> None:
        if self.request is not None:
            self.template = self.request.template

    @property
    def output(self) -> ImageFormat:
        """The format to draw (every order that draws has one)."""
        assert self.format is not None, "only a URL to sign leaves the format open"
        return self.format

    @property
    def variant(self) -> str:
        return f"{self.key}.{self.output.ext}"

    @property
    def size(self) -> tuple[int, int]:
        assert self.spec is not None, "validated or loaded first"
        return self.spec.width, self.spec.height


Step = Callable[["RenderPipeline", Order], Awaitable[None]]


class RenderPipeline:
    """The steps, and the parts they use. Entry points call `render`, `image`, `check`,
    `lay_out`, `render_item` or, for the fastest path, `peek`."""

    def __init__(
        self,
        templates: TemplateStore,
        cache: TieredCache,
        specs: SpecStore,
        renderer: Renderer,
        meter: Meter,
        images: ImageFetcher,
        *,
        fingerprint: str,
        limits: RenderSettings,
        cluster: ClusterFlight[RenderOutput] | None = None,
        fonts: FontCatalog | None = None,
        sources: SharedTemplates | None = None,
    ) -> None:
        self.templates = templates
        self.cache = cache
        self.specs = specs
        self.renderer = renderer
        self.meter = meter
        self.images = images
        self.fingerprint = fingerprint
        self.limits = limits
        self.cluster = cluster
        self.fonts = fonts  # uploaded fonts: their digests go into specs, their files to jobs
        self.sources = sources  # template versions this node lacks, fetched from the database
        # (output, drawn by another node): local callers share one draw, and in cluster
        # mode one node draws for all (`ClusterFlight`).
        self._flight: SingleFlight[tuple[RenderOutput, bool]] = SingleFlight()
        # key → template id, for scope checks and per-template metering of hits.
        self._template_of: LRUCache[str, str] = LRUCache(maxsize=100_000)

    # ------------------------------------------------------------------ entry points

    async def run(self, steps: tuple[Step, ...], order: Order) -> Order:
        for step in steps:
            await step(self, order)
        return order

    async def render(self, order: Order) -> Rendered:
        """A request rendered, or found: POST /v1/renders, signed URLs, previews, the CLI."""
        await self.run(FROM_REQUEST, order)
        assert order.rendered is not None
        return order.rendered

    async def image(self, order: Order) -> Rendered:
        """The image of a key handed out earlier: found, or drawn again from its spec."""
        await self.run(FROM_KEY, order)
        assert order.rendered is not None
        return order.rendered

    async def check(self, order: Order) -> Order:
        """A request authorised and validated, nothing fetched or drawn (POST /v1/sign)."""
        return await self.run(CHECK, order)

    async def lay_out(self, order: Order) -> Order:
        """A dry run: the text laid out in a worker, nothing drawn, cached or billed."""
        return await self.run(DRY_RUN, order)

    async def render_item(self, batch: Batch, fields: dict[str, Any]) -> dict[str, Any]:
        """One batch item, as POST /v1/renders would render it: `{url, key, bytes,
        cached}`. ValueError when the item is not a valid render request."""
        request = RenderRequest(template=batch.template, fields=fields, **batch.options)
        order = Order(batch.principal, FORMATS[batch.format], request, operation="batch")
        rendered = await self.render(order)
        url = f"/v1/images/{rendered.key}.{rendered.format.ext}"
        return {
            "url": url,
            "key": rendered.key,
            "bytes": len(rendered.data),
            "cached": rendered.cached,
        }

    def peek(self, principal: Principal, key: str, fmt: ImageFormat) -> bytes | None:
        """A memory hit without a single await: authorised, counted. None when this node
        does not know the key's template yet or memory does not hold it (then `image`)."""
        template = self._template_of.get(key)
        if template is None:
            return None
        principal.require("render", template=template, format=fmt.name)
        data = self.cache.peek_memory(f"{key}.{fmt.ext}")
        if data is not None:
            self.meter.hit(principal, template, len(data))
        return data

    # ------------------------------------------------------------ the steps, in order

    async def find_key(self, order: Order) -> None:
        """The template a key was made from (known here, else from its stored spec);
        NotFound for a key never handed out."""
        template = self._template_of.get(order.key)
        if template is None:
            await self.load_spec(order)
            template = self._template_of[order.key] = order.template
        order.template, order.spec_saved = template, True

    async def authorise(self, order: Order) -> None:
        """The operation, template and format within the caller's scopes (403), before
        anything else: no field list and no remote image for a template outside them."""
        fmt = order.format.name if order.format is not None else None
        order.principal.require(order.operation, template=order.template, format=fmt)

    async def fetch_images(self, order: Order) -> None:
        """Image fields given as URLs, fetched (allow-list, address and size checks) and
        embedded as data: URIs: the spec then names the exact bytes, so the key and the
        pixels stay the same even if the remote image changes. 422 names a refused one."""
        assert order.request is not None
        request = order.request
        images = {f.name for f in self.templates.get(request.template).fields if f.kind == "image"}
        remote = {
            name: value
            for name, value in request.fields.items()
            if name in images
            and isinstance(value, str)
            and value.startswith(("http://", "https://"))
        }
        if not remote:
            return
        fields = dict(request.fields)
        for name, url in remote.items():
            try:
                fields[name] = to_data_uri(await self.images.fetch(url))
            except ImageRefused as exc:
                raise InvalidInput(
                    f"the image for {name!r} was not fetched: {exc.detail}",
                    errors=(FieldProblem(f"fields.{name}", exc.detail),),
                    slug="image-refused",
                ) from exc
        order.request = request.model_copy(update={"fields": fields})

    async def validate(self, order: Order) -> None:
        """The fields validated against the template (defaults filled), the output size
        within the limits: the canonical spec and its key. No I/O."""
        assert order.request is not None
        request = order.request
        template = self.templates.get(request.template)
        width, height = output_size(
            (template.width, template.height),
            request.width,
            request.height,
            request.scale,
            max_side=self.limits.max_side,
            max_pixels=self.limits.max_pixels,
        )
        order.spec = RenderSpec(
            template=template.id,
            version=template.version,
            fields=template.validate(
                coerce(template, request.fields) if order.text_fields else request.fields
            ),
            width=width,
            height=height,
            quality=request.quality,
            fonts=self.fonts.digests(template.families) if self.fonts is not None else (),
        )
        order.key = render_key(order.spec, self.fingerprint)
        self._template_of[order.key] = template.id

    async def look_up(self, order: Order) -> None:
        """Memory, disk, then (cluster mode) the shared tier; a hit is counted, free."""
        hit = await self.cache.get(order.variant)
        if hit is not None:
            data, tier = hit
            self.meter.hit(order.principal, order.template, len(data))
            order.rendered = Rendered(order.key, order.output, data, tier)

    async def load_spec(self, order: Order) -> None:
        """The spec of a key handed out earlier, to draw it again; NotFound when none."""
        if order.spec is not None or order.rendered is not None:
            return
        order.spec = await self.specs.load(order.key)
        if order.spec is None:
            raise NotFound(f"no image with key {order.key!r}")
        order.template = order.spec.template

    async def authorise_size(self, order: Order) -> None:
        """The pixels to draw within the caller's scopes (403). What is found is served
        whatever its size; drawing a variant nobody has yet is a render like any other."""
        if order.rendered is None:
            width, height = order.size
            order.principal.require(order.operation, pixels=width * height)

    async def stand_in(self, order: Order) -> None:
        """A negotiated format that must be drawn, for a client that also takes a faster
        one (`order.stand_in`, which only an entry point sets): the faster one answers,
        found or drawn and billed like any render, and the asked one is encoded after it
        (`follow_up`). Not while the asked one is being drawn: joining that is as quick."""
        if order.rendered is not None or order.stand_in is None:
            return
        if self._flight.running(order.variant):
            return
        order.pending, order.format = order.output, order.stand_in
        await self.look_up(order)

    async def draw(self, order: Order) -> None:
        """Unless found: a place under the key's quota (429), then one draw per variant
        for every caller (and, in cluster mode, every node). Callers that joined a draw
        already under way, or took another node's bytes, are counted as hits. A draw
        the pool would refuse (503) is refused before anything is set up for it."""
        if order.rendered is not None:
            return
        async with self.meter.admission(order.principal, order.variant):
            # What an overloaded node answers most, refused here: no flight task, cluster
            # lock or cache writer is made only to be taken down again. Joining a draw
            # under way needs no place.
            place = None
            if not self._flight.running(order.variant):
                place = self.renderer.hold(order.output.name)
            try:
                (output, by_peer), joined = await self._flight.do(
                    order.variant, lambda: self._draw_once(order, place)
                )
            finally:
                if place is not None:
                    place.release()  # not used: joined, drawn by a peer, or failed first
        if joined or by_peer:
            self.meter.hit(order.principal, order.template, len(output.data))
        tier = self.cluster.tier_name if by_peer and self.cluster else None
        timing = (output.text_ms, output.draw_ms - output.text_ms, output.encode_ms)
        order.spec_saved = order.spec_saved or not by_peer  # saved by the draw, else below
        order.rendered = Rendered(
            order.key, order.output, output.data, tier, output.text, None if tier else timing
        )

    async def follow_up(self, order: Order) -> None:
        """After a stand-in, the asked format drawn in the background for the next
        request: one draw for every caller (they share its single-flight, and callers
        asking meanwhile join it), not billed (this caller's render was the stand-in).
        Skipped when no worker is idle: it never queues ahead of a render, and a later
        request tries again."""
        if order.pending is None:
            return
        assert order.rendered is not None
        order.rendered = replace(order.rendered, pending=order.pending)
        later = Order(
            order.principal,
            order.pending,
            key=order.key,
            template=order.template,
            spec=order.spec,
            spec_saved=True,
            bill=False,
        )
        if self._flight.running(later.variant) or not self.renderer.idle():
            return
        self._flight.start(later.variant, lambda: self._draw_once(later, None)).add_done_callback(
            _report_follow_up
        )

    async def keep_spec(self, order: Order) -> None:
        """The spec stored durably before the answer, so the key can always be drawn
        again after its bytes are evicted (a draw stored it with its ledger row)."""
        if not order.spec_saved:
            assert order.spec is not None
            await self.specs.save(order.key, order.spec)
            order.spec_saved = True

    async def text_layout(self, order: Order) -> None:
        """The spec's text laid out in a worker (the dry run's answer)."""
        assert order.spec is not None
        order.layout = await self.renderer.layout(await self._job(order.spec, "png"))

    # --------------------------------------------------------------- the draw itself

    async def _draw_once(self, order: Order, place: Place | None) -> tuple[RenderOutput, bool]:
        """Draw here, or (cluster mode) take the bytes another node is drawing. Runs in
        the single-flight's own task: a caller that goes away stops none of it."""
        if self.cluster is None:
            return await self._draw_here(order, place), False
        spec = order.spec
        assert spec is not None
        output, by_peer = await self.cluster.do(
            order.variant,
            lambda: self._draw_here(order, place),
            publish=lambda out: out.data,
            found=lambda data: RenderOutput(data, spec.width, spec.height, 0.0, 0.0),
        )
        if by_peer:
            await self.cache.put_behind(order.variant, output.data)
        return output, by_peer

    async def _draw_here(self, order: Order, place: Place | None) -> RenderOutput:
        """The pool draws; the tiers keep the bytes; the ledger row (and, unless loaded
        from the store, the spec) are written in one trip, all before anyone answers."""
        spec, variant = order.spec, order.variant
        assert spec is not None
        # The worker may write the disk tier's file itself (the cache decides): no copy
        # of the bytes is then written, hashed or handed to a thread in this process.
        fonts = await self._font_files(spec)
        source = await self._source(spec)
        output = await self.cache.fill(
            variant,
            lambda writer: self.renderer.render(
                RenderJob.of(spec, source, order.output.name, writer, fonts), place
            ),
        )
        if not order.bill:
            return output
        billed = self.meter.render(
            order.principal,
            variant,
            spec.template,
            order.output.name,
            pixels=output.width * output.height,
            ms=output.draw_ms + output.encode_ms,
            size=len(output.data),
        )
        if order.spec_saved:
            await billed
        else:  # one trip to the database when both live there
            await asyncio.gather(billed, self.specs.save(order.key, spec))
        return output

    async def _job(self, spec: RenderSpec, fmt: str) -> RenderJob:
        return RenderJob.of(spec, await self._source(spec), fmt, fonts=await self._font_files(spec))

    async def _source(self, spec: RenderSpec) -> Path:
        """The local file of the spec's template version; a version this node has not
        seen (uploaded, or replaced, through another node) is fetched from the database
        first."""
        if self.sources is None:
            return self.templates.source_path(spec.version)
        return await self.sources.source(spec.version)

    async def _font_files(self, spec: RenderSpec) -> tuple[str, ...]:
        """The local files of the spec's uploaded fonts (exactly those it names, so a
        spec drawn again later is set in the fonts it was first drawn in); a file this
        node has not seen yet is fetched from the database first."""
        if not spec.fonts or self.fonts is None:
            return ()
        return await self.fonts.paths(spec.fonts)


def _report_follow_up(task: asyncio.Task[tuple[RenderOutput, bool]]) -> None:
    """A follow-up encode nobody awaits: its failure is logged (a later request asks
    again), never left unretrieved."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("a follow-up encode failed: %s", exc)


# The entries. Each is the same steps in the same order; an entry leaves out what does
# not apply to it (a key handed out earlier needs no validation; a URL to sign is checked,
# not drawn).
FROM_REQUEST: tuple[Step, ...] = (
    RenderPipeline.authorise,
    RenderPipeline.fetch_images,
    RenderPipeline.validate,
    RenderPipeline.authorise_size,
    RenderPipeline.look_up,
    RenderPipeline.stand_in,
    RenderPipeline.draw,
    RenderPipeline.follow_up,
    RenderPipeline.keep_spec,
)
FROM_KEY: tuple[Step, ...] = (
    RenderPipeline.find_key,
    RenderPipeline.authorise,
    RenderPipeline.look_up,
    RenderPipeline.load_spec,
    RenderPipeline.authorise_size,
    RenderPipeline.stand_in,
    RenderPipeline.draw,
    RenderPipeline.follow_up,
)
CHECK: tuple[Step, ...] = (
    RenderPipeline.authorise,
    RenderPipeline.validate,
    RenderPipeline.authorise_size,
)
DRY_RUN: tuple[Step, ...] = (
    RenderPipeline.authorise,
    RenderPipeline.fetch_images,
    RenderPipeline.validate,
    RenderPipeline.authorise_size,
    RenderPipeline.text_layout,
)

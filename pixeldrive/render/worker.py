"""What runs inside a render process: top-level, picklable, import-light functions."""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, TypeVar

from lxml import etree

from pixeldrive.render.encode import encode
from pixeldrive.render.fetcher import Fetcher, make_fetcher
from pixeldrive.render.job import JobError, JobFailed, RenderJob, RenderOutput, WorkerConfig
from pixeldrive.render.rasterize import rasterize, to_pdf
from pixeldrive.render.substitute import fill
from pixeldrive.templates.fields import FieldSpec, discover_fields
from pixeldrive.templates.model import template_version
from pixeldrive.templates.normalize import normalize
from pixeldrive.templates.parser import parse_svg

KEEP_TEMPLATES = 64
T = TypeVar("T")
WARM_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="16">'
    b'<text y="12" font-family="sans-serif" font-size="12">warm</text>'
    b'<text y="12" font-family="serif" font-weight="bold">warm</text></svg>'
)


@dataclass(frozen=True, slots=True)
class _Prepared:
    root: etree._Element
    fields: tuple[FieldSpec, ...]


class _State:
    # Per-process state, set by init_worker; a worker process serves one config.
    config: ClassVar[WorkerConfig | None] = None
    fetcher: ClassVar[Fetcher | None] = None
    templates: ClassVar[OrderedDict[str, _Prepared]] = OrderedDict()


def init_worker(config: WorkerConfig) -> None:
    """Process initializer: pin fonts to the project's fontconfig file before cairo loads
    any font, import CairoSVG, and draw once so the first real render is not slow."""
    os.environ["FONTCONFIG_FILE"] = config.fontconfig_file
    # Below the server's priority: on a busy machine the event loop (cache hits, 503s,
    # health checks) must keep answering while workers use every core for renders.
    if config.nice:
        os.nice(config.nice)
    _State.config = config
    _State.fetcher = make_fetcher(config.max_data_uri_bytes, config.max_image_pixels)
    _State.templates = OrderedDict()
    rasterize(WARM_SVG, 64, 16, _State.fetcher)


def ping() -> int:
    """A no-op task: proves a worker is up (its pid)."""
    return os.getpid()


def run(job: RenderJob) -> RenderOutput:
    """Fill, draw and encode one job. Raises JobError (the input's fault) or JobFailed."""
    if _State.config is None or _State.fetcher is None:
        raise JobFailed("worker not initialised")
    prepared = _prepared(job)
    start = time.perf_counter()
    svg = fill(prepared.root, prepared.fields, job.fields)
    fetcher = _State.fetcher
    if job.format == "pdf":
        data = _drawing(lambda: to_pdf(svg, job.width, job.height, fetcher))
        ms = (time.perf_counter() - start) * 1000
        return RenderOutput(data, job.width, job.height, draw_ms=ms, encode_ms=0.0)
    image = _drawing(lambda: rasterize(svg, job.width, job.height, fetcher))
    drawn = time.perf_counter()
    data = encode(image, job.format, job.quality, _State.config.encode)
    done = time.perf_counter()
    return RenderOutput(
        data=data,
        width=image.width,
        height=image.height,
        draw_ms=(drawn - start) * 1000,
        encode_ms=(done - drawn) * 1000,
    )


def _drawing(draw: Callable[[], T]) -> T:
    """Run CairoSVG, translating what it raises once, by type: our own JobError passes,
    runaway nesting is the input's fault, anything else is a renderer failure."""
    try:
        return draw()
    except JobError:
        raise
    except RecursionError as exc:
        raise JobError("the template nests references too deeply to draw") from exc
    except Exception as exc:  # CairoSVG raises many unrelated types on odd input
        raise JobFailed(f"the renderer failed: {type(exc).__name__}") from exc


def _prepared(job: RenderJob) -> _Prepared:
    cached = _State.templates.get(job.version)
    if cached is not None:
        _State.templates.move_to_end(job.version)
        return cached
    try:
        data = Path(job.source).read_bytes()
    except OSError as exc:
        raise JobFailed(f"the template source {job.source} cannot be read") from exc
    if template_version(data) != job.version:
        raise JobFailed(f"template source {job.source} does not hold version {job.version}")
    root = parse_svg(data)
    # The worker's own tree, parsed from the designer's bytes: the syntaxes CairoSVG
    # misreads are rewritten once per version, before fields are found (indexes stay put:
    # normalize never adds or removes elements).
    normalize(root)
    prepared = _Prepared(root, discover_fields(root))
    _State.templates[job.version] = prepared
    while len(_State.templates) > KEEP_TEMPLATES:
        _State.templates.popitem(last=False)
    return prepared

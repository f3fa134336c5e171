"""What runs inside a render process: top-level, picklable, import-light functions."""

from __future__ import annotations

import os
import pickle
import select
import signal
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from lxml import etree
from PIL.Image import Image

from pixeldrive.core.errors import TemplateInvalid
from pixeldrive.render import backdrop, heap
from pixeldrive.render.backdrop_cache import BackdropCache
from pixeldrive.render.encode import encode
from pixeldrive.render.fetcher import Fetcher, make_fetcher
from pixeldrive.render.footprint import footprints
from pixeldrive.render.job import (
    FRAME,
    JobError,
    JobFailed,
    RenderJob,
    RenderOutput,
    WorkerConfig,
)
from pixeldrive.render.png_bands import Reuse
from pixeldrive.render.rasterize import rasterize, rasterize_layers, rasterize_over, to_pdf
from pixeldrive.render.substitute import fill_tree
from pixeldrive.templates.fields import FieldSpec, discover_fields
from pixeldrive.templates.normalize import normalize
from pixeldrive.templates.parser import parse_svg
from pixeldrive.templates.version import template_version
from pixeldrive.text import document, glyph_cache
from pixeldrive.text.fonts import FontLibrary, library_for
from pixeldrive.text.report import TextReport
from pixeldrive.text.runs import GlyphRuns
from pixeldrive.text.svgout import to_svg
from pixeldrive.text.svgtext import TextSetter

KEEP_TEMPLATES = 64
PARENT_CHECK_SECONDS = 0.1  # how soon a worker notices that its server is gone
KEEP_LIBRARIES = 8
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
    plan: document.TextPlan
    runs: GlyphRuns  # its static text's glyph runs: they live and die with this entry
    cut: backdrop.Cut | None  # where it splits into a reusable backdrop and the rest
    library: FontLibrary  # the fonts it is set in: the bundled ones, and uploaded ones


class _State:
    # Per-process state, set by init_worker; a worker process serves one config.
    config: ClassVar[WorkerConfig | None] = None
    templates: ClassVar[OrderedDict[str, _Prepared]] = OrderedDict()
    library: ClassVar[FontLibrary | None] = None
    # The bundled fonts with a set of uploaded font files, per set, fewest recently used out.
    libraries: ClassVar[OrderedDict[tuple[str, ...], FontLibrary]] = OrderedDict()
    replace_missing: ClassVar[bool] = False
    backdrops: ClassVar[BackdropCache] = BackdropCache(0)


def init_worker(config: WorkerConfig) -> None:
    """Process initializer: pin fonts to the project's fontconfig file before cairo loads
    any font, import CairoSVG, and draw once so the first real render is not slow."""
    os.environ["FONTCONFIG_FILE"] = config.fontconfig_file
    # Below the server's priority: on a busy machine the event loop (cache hits, 503s,
    # health checks) must keep answering while workers use every core for renders.
    if config.nice:
        os.nice(config.nice)
    _State.config = config
    _State.templates = OrderedDict()
    _State.libraries = OrderedDict()
    _State.backdrops = BackdropCache(config.backdrop_bytes)
    glyph_cache.GLYPHS.resize(config.glyph_bytes)
    _State.library = library_for(config.fontconfig_file, config.fallback_fonts, config.han_language)
    _State.replace_missing = config.missing_glyphs == "replace"
    warm, runs = parse_svg(WARM_SVG), GlyphRuns()
    document.prepare(warm, (), _setter(runs))
    rasterize(etree.tostring(warm), 64, 16, make_fetcher(0, 0), runs)


def _setter(runs: GlyphRuns, library: FontLibrary | None = None) -> TextSetter:
    """The worker's text setter in `library` (the bundled fonts unless given), keeping the
    runs it lays out in `runs`."""
    return TextSetter(library or _library(()), runs, replace_missing=_State.replace_missing)


def _library(fonts: tuple[str, ...]) -> FontLibrary:
    """The bundled fonts, with the uploaded font files `fonts` when there are any."""
    if _State.library is None:
        raise JobFailed("worker not initialised")
    if not fonts:
        return _State.library
    library = _State.libraries.get(fonts)
    if library is None:
        try:
            library = _State.library.with_files(fonts)
        except OSError as exc:
            raise JobFailed(f"an uploaded font cannot be read: {exc}") from exc
        _State.libraries[fonts] = library
        while len(_State.libraries) > KEEP_LIBRARIES:
            _State.libraries.popitem(last=False)
    _State.libraries.move_to_end(fonts)
    return library


def main() -> None:
    """The render process's entry point (see render/pool.py): its arguments are the file
    descriptor of its end of the socket pair to the server, and the server's pid."""
    serve(socket.socket(fileno=int(sys.argv[1])), int(sys.argv[2]))


def serve(channel: socket.socket, server: int) -> None:
    """A render process of the server whose pid is `server`: read its config,
    initialise, say so, then answer one job at a time until the server says stop (None)
    or goes away (end of file, or, in the middle of a job, its process gone: see
    `_exit_with`)."""
    # Ctrl-C in a terminal, or a service manager's SIGTERM, reaches the whole process
    # group: the server lets admitted renders finish, then stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _exit_with(server)
    try:
        config = _receive(channel)
    except (EOFError, OSError):
        return
    init_worker(config)
    _send(channel, ("ready", os.getpid()))
    while True:
        try:
            _wait(channel, config.idle_release_seconds)
            message = _receive(channel)
            if message is None:
                return
            name, job = message
            _send(channel, answer(name, job))
        except (EOFError, OSError):  # the server is gone
            return


def _exit_with(server: int) -> None:
    """Exit at once when the server process is gone (SIGKILLed, say): a job in hand
    would otherwise be drawn to its end and its file written, for no one. The main thread
    notices only between jobs, so a thread watches the parent pid (a dead parent's
    children are given to another: getppid changes). Not prctl(PR_SET_PDEATHSIG): it
    fires when the *thread* that started the worker ends, and the pool starts workers
    from passing executor threads; Linux-only besides."""

    def watch() -> None:
        while os.getppid() == server:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="pixeldrive-parent-watch", daemon=True).start()


def _wait(channel: socket.socket, idle_seconds: float) -> None:
    """Return when the next message has arrived; if none comes within `idle_seconds`,
    give the heap's free pages back first (render/heap.py). Under load the next job is
    already there: no cost."""
    if not idle_seconds:
        return
    ready, _, _ = select.select([channel], [], [], idle_seconds)
    if not ready:
        heap.release()
        select.select([channel], [], [])


def answer(name: str, job: RenderJob) -> tuple[str, Any]:
    """("ok", result), or ("input", (why, field problems)) for the caller's fault,
    ("failed", why) else."""
    try:
        return "ok", TASKS[name](job)
    except JobError as exc:
        return "input", (str(exc), exc.problems)
    except TemplateInvalid as exc:
        return "input", (str(exc), tuple((p.field, p.message) for p in exc.errors))
    except JobFailed as exc:
        return "failed", str(exc) or "the render failed"
    except Exception as exc:  # the process boundary: a failed render, named by type
        return "failed", f"the render failed: {type(exc).__name__}"


def _send(channel: socket.socket, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    channel.sendall(FRAME.pack(len(data)) + data)


def _receive(channel: socket.socket) -> Any:
    (size,) = FRAME.unpack(_exactly(channel, FRAME.size))
    # Only the server writes to this socket pair: nothing untrusted is unpickled.
    return pickle.loads(_exactly(channel, size))  # noqa: S301


def _exactly(channel: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = channel.recv(min(size - len(data), 1 << 20))
        if not chunk:
            raise EOFError("the server closed the connection")
        data += chunk
    return bytes(data)


def run(job: RenderJob) -> RenderOutput:
    """Fill, draw and encode one job, then hand the bytes to its store, if it has one.
    Raises JobError (the input's fault) or JobFailed."""
    output = _drawn(job)
    if job.store is None:
        return output
    return replace(output, stored=job.store.write(output.data))


def _drawn(job: RenderJob) -> RenderOutput:
    config = _State.config
    if config is None:
        raise JobFailed("worker not initialised")
    prepared = _prepared(job)
    start = time.perf_counter()
    # This render's glyph runs, over its template version's static ones: they go when
    # the render returns or fails.
    runs = GlyphRuns(prepared.runs)
    tree, reports = _filled(prepared, job, runs)
    set_ms = (time.perf_counter() - start) * 1000
    # Images are decoded at the size they are drawn (render/footprint.py); a PDF keeps
    # them whole, for print, within the same budget.
    images = footprints(tree, job.width, job.height, shrink=job.format != "pdf")
    fetcher = make_fetcher(config.max_data_uri_bytes, config.max_image_pixels, images)
    if job.format == "svg":
        data = to_svg(tree, runs)
        ms = (time.perf_counter() - start) * 1000
        return RenderOutput(data, job.width, job.height, ms, 0.0, reports, set_ms)
    if job.format == "pdf":
        svg = etree.tostring(tree)
        data = _drawing(lambda: to_pdf(svg, job.width, job.height, fetcher, runs))
        ms = (time.perf_counter() - start) * 1000
        return RenderOutput(data, job.width, job.height, ms, 0.0, reports, set_ms)
    image, reuse = _drawing(lambda: _raster(prepared, tree, job, fetcher, runs))
    drawn = time.perf_counter()
    data = encode(image, job.format, job.quality, config.encode, reuse)
    _State.backdrops.trim()  # the PNG bands the encoder kept count toward the bound
    done = time.perf_counter()
    return RenderOutput(
        data=data,
        width=image.width,
        height=image.height,
        draw_ms=(drawn - start) * 1000,
        encode_ms=(done - drawn) * 1000,
        text=reports,
        text_ms=set_ms,
    )


def _raster(
    prepared: _Prepared, tree: etree._Element, job: RenderJob, fetcher: Fetcher, runs: GlyphRuns
) -> tuple[Image, Reuse | None]:
    """The filled document's pixels; from its backdrop's pixels when the template has a
    cut and the backdrop is kept (see render/backdrop.py), else drawn whole. The backdrop
    and the overlay are separate documents; the glyph elements of both refer to `runs`.
    With a backdrop, also what the PNG encoder may reuse of it: its compressed bands, and
    which rows the overlay left as they were."""
    cut, backdrops = prepared.cut, _State.backdrops
    if cut is None or not backdrops.enabled:
        return rasterize(etree.tostring(tree), job.width, job.height, fetcher, runs), None
    key = backdrop.backdrop_key(
        job.version, job.width, job.height, cut, prepared.fields, job.fields, job.fonts
    )
    found = backdrops.get(key)
    if found is not None:
        overlay = _overlay(tree, cut)
        image, kept = rasterize_over(found.pixels, overlay, job.width, job.height, fetcher, runs)
        return image, Reuse(found.bands, kept)
    # The backdrop is copied out first: the overlay is the tree itself, cut in place.
    under = etree.tostring(backdrop.backdrop_of(tree, cut))
    overlay = _overlay(tree, cut)
    image, pixels, kept = rasterize_layers(under, overlay, job.width, job.height, fetcher, runs)
    return image, Reuse(backdrops.put(key, pixels).bands, kept)


def _overlay(tree: etree._Element, cut: backdrop.Cut) -> bytes | None:
    """The overlay document, or None when the whole template is backdrop."""
    return etree.tostring(backdrop.overlay_of(tree, cut)) if cut.path else None


def layout(job: RenderJob) -> dict[str, TextReport]:
    """Fill and set the text of one job without drawing it (a dry run)."""
    prepared = _prepared(job)
    return _filled(prepared, job, GlyphRuns(prepared.runs))[1]


TASKS: dict[str, Callable[[RenderJob], Any]] = {"run": run, "layout": layout}


def _filled(
    prepared: _Prepared, job: RenderJob, runs: GlyphRuns
) -> tuple[etree._Element, dict[str, TextReport]]:
    """The filled document with its field texts set (their runs kept in `runs`), and
    what the text engine did."""
    setter = _setter(runs, prepared.library)
    plan = prepared.plan
    tree, targets = fill_tree(prepared.root, prepared.fields, job.fields, tuple(plan.dynamic))
    try:
        reports = document.set_fields(tree, targets, plan, setter)
    except document.MissingGlyphs as exc:
        raise JobError(str(exc), exc.problems) from exc
    return tree, reports


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
    """The template version parsed, its static text set in the job's fonts: once per
    version and set of uploaded fonts."""
    key = f"{job.version}\0" + "\0".join(job.fonts)
    cached = _State.templates.get(key)
    if cached is not None:
        _State.templates.move_to_end(key)
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
    fields = discover_fields(root)
    # Static text is set once per version; its glyph runs live as long as the version.
    runs, library = GlyphRuns(), _library(job.fonts)
    try:
        fields, plan = document.prepare(root, fields, _setter(runs, library))
    except document.MissingGlyphs as exc:
        raise JobError(str(exc)) from exc
    prepared = _Prepared(root, fields, plan, runs, backdrop.plan(root, fields), library)
    _State.templates[key] = prepared
    while len(_State.templates) > KEEP_TEMPLATES:
        _State.templates.popitem(last=False)
    return prepared

"""Fidelity harness: how close PixelDrive's renders are to Inkscape's and to resvg's references.

Two corpora, each rendered by PixelDrive (the worker, as the server runs it) and by plain
`cairosvg.svg2png` (the baseline), compared pixel by pixel with a reference at the same size:

1. **Inkscape corpus**: the bundled templates (filled with their preview values) and every
   drawable `.svg` that Debian's inkscape package installs under /usr/share/inkscape/examples
   and /usr/share/inkscape/templates. The reference is `inkscape --export-type=png` of the
   same (filled) document, with the project's fontconfig file, so both sides see the same
   fonts.
2. **resvg suite**: every case of ../shared/corpus/resvg-tests against its reference PNG.

Measure (the corpus README's): every image composited onto white; a file is *within
tolerance* when under 2 % of its pixels differ by more than 64/255 in some channel.

Renders run in a pebble process pool (spawned, `worker.init_worker` with the project
fontconfig, as RenderPool does), one task per file and renderer, each with a time limit.
Writes bench/fidelity.md and side-by-side PNGs of the bundled templates to bench/out/.
Run it with `bench/fidelity` (installs Inkscape if missing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import multiprocessing
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FONTCONFIG = ROOT / "conf" / "fonts.conf"
# Before anything can load cairo or fontconfig: the main process draws nothing, but the
# linter's fc-list and Inkscape are given the same file explicitly too.
os.environ["FONTCONFIG_FILE"] = str(FONTCONFIG)

import pebble  # noqa: E402
from lxml import etree  # noqa: E402
from PIL import Image, ImageChops, ImageDraw  # noqa: E402

from pixeldrive.core.errors import TemplateInvalid  # noqa: E402
from pixeldrive.lint.linter import lint  # noqa: E402
from pixeldrive.render import worker  # noqa: E402
from pixeldrive.render.job import JobError, JobFailed, RenderJob, WorkerConfig  # noqa: E402
from pixeldrive.render.substitute import fill_tree  # noqa: E402
from pixeldrive.templates.model import Template, compile_template  # noqa: E402
from pixeldrive.templates.parser import local_name, parse_svg  # noqa: E402
from pixeldrive.templates.sanitize import sanitize  # noqa: E402

TEMPLATES = ROOT / "svg_templates"
INKSCAPE_DIRS = (Path("/usr/share/inkscape/examples"), Path("/usr/share/inkscape/templates"))
RESVG = ROOT.parent / "shared" / "corpus" / "resvg-tests"
REPORT = ROOT / "bench" / "fidelity.md"
OUT = ROOT / "bench" / "out"
CONFIG = WorkerConfig(fontconfig_file=str(FONTCONFIG))

THRESHOLD = 64  # a channel differs when |a - b| > 64 (of 255)
TOLERANCE = 0.02  # a file is within tolerance when under 2 % of its pixels differ
MAX_SIDE = 2000  # larger documents are exported scaled down to this side (filters.svg)
MAX_IMAGE_BYTES = CONFIG.max_data_uri_bytes
DRAWN = frozenset(
    {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "image"}
    | {"use", "flowRoot"}
)
NOT_DRAWN = frozenset(
    {"defs", "metadata", "namedview", "symbol", "clipPath", "mask", "marker", "pattern"}
)
LOCALISED_DEFAULT = re.compile(r"^default\.[A-Za-z_@]+\.svg$")


# ---- in the worker processes -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    """One renderer on one file: the share of differing pixels, or why there is none."""

    share: float | None
    error: str = ""

    @property
    def within(self) -> bool:
        return self.share is not None and self.share < TOLERANCE


def flatten(image: Image.Image) -> Image.Image:
    """The image composited onto opaque white, as RGB."""
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def difference_mask(a: Image.Image, b: Image.Image) -> Image.Image:
    """An L image: 255 where some channel of a and b differs by more than THRESHOLD."""
    red, green, blue = ImageChops.difference(a, b).split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    return largest.point(lambda v: 255 if v > THRESHOLD else 0)


def share_differing(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        raise ValueError(f"sizes differ: {a.size} vs {b.size}")
    return difference_mask(a, b).histogram()[255] / (a.size[0] * a.size[1])


def describe(exc: BaseException) -> str:
    """An exception as `Type: message`, with what caused it (worker errors wrap CairoSVG's)."""
    message = str(getattr(exc, "detail", "") or exc).splitlines()[0] if str(exc) else ""
    text = f"{type(exc).__name__}: {message}"[:160]
    cause = exc.__cause__
    if cause is not None:
        text += f" ← {type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
    return text[:240]


def pixeldrive_png(source: str, width: int, height: int, workdir: str, *, upload: bool) -> bytes:
    """PixelDrive's render of `source` at width×height with the template's preview values.

    `upload`: the upload path (sanitize, then compile the cleaned bytes; a sanitiser error
    refuses the file). Bundled templates are compiled from their own bytes, as the store does.
    Raises TemplateInvalid, JobError or JobFailed as the server would see them."""
    data = Path(source).read_bytes()
    if upload:
        cleaned, findings = sanitize(parse_svg(data))
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise TemplateInvalid(f"refused at upload: {errors[0].what}")
        data = etree.tostring(cleaned, xml_declaration=True, encoding="UTF-8")
    template = compile_template("fidelity", data, max_image_bytes=MAX_IMAGE_BYTES)
    try:
        values = template.model.model_validate(template.preview_values()).model_dump()
    except ValueError as exc:
        raise TemplateInvalid(f"the template's defaults do not validate: {exc}") from exc
    path = Path(workdir) / f"{os.getpid()}-{template.version}.svg"
    path.write_bytes(data)
    try:
        output = worker.run(RenderJob(template.version, str(path), values, width, height, "png"))
    finally:
        path.unlink()
    return output.data


def cairosvg_png(source: str, width: int, height: int) -> bytes:
    """Plain CairoSVG, as a naive integration calls it (relative links resolve)."""
    import cairosvg

    return cairosvg.svg2png(url=source, output_width=width, output_height=height)


def measure(
    renderer: str,
    source: str,
    reference: str,
    workdir: str,
    upload: bool,
    keep: str | None = None,
) -> Measured:
    """Render `source` with `renderer` ("pixeldrive" or "cairosvg") at the reference PNG's
    size and compare. `keep`: also save the flattened render there (a PNG path)."""
    ref = flatten(Image.open(reference))
    width, height = ref.size
    try:
        if renderer == "pixeldrive":
            data = pixeldrive_png(source, width, height, workdir, upload=upload)
        else:
            data = cairosvg_png(source, width, height)
    except (TemplateInvalid, JobError, JobFailed) as exc:
        return Measured(None, describe(exc))
    except Exception as exc:  # plain CairoSVG raises many types on odd input: a miss
        return Measured(None, describe(exc))
    image = flatten(Image.open(io.BytesIO(data)))
    if keep:
        image.save(keep)
    return Measured(share_differing(image, ref))


# ---- the pool --------------------------------------------------------------------------------


def run_pool(
    tasks: dict[tuple[str, str], tuple[Any, ...]],
    workers: int,
    timeout: float,
    config: WorkerConfig = CONFIG,
) -> dict[tuple[str, str], Measured]:
    """measure(*args) for every task, in a pebble pool set up like the server's."""
    with pebble.ProcessPool(
        max_workers=workers,
        initializer=worker.init_worker,
        initargs=[config],
        context=multiprocessing.get_context("spawn"),
    ) as pool:
        futures = {
            key: pool.schedule(measure, args=list(args), timeout=timeout)
            for key, args in tasks.items()
        }
        return {key: outcome(future, timeout) for key, future in futures.items()}


def outcome(future: Future[Measured], timeout: float) -> Measured:
    try:
        return future.result()
    except TimeoutError:
        return Measured(None, f"timeout: over {timeout:g} s")
    except pebble.ProcessExpired as exc:
        return Measured(None, f"worker died (exit code {exc.exitcode})")
    except Exception as exc:  # a harness bug: name it rather than lose the run
        return Measured(None, f"harness: {describe(exc)}")


# ---- the Inkscape corpus ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the Inkscape corpus: `drawn` is the SVG given to Inkscape and to plain
    CairoSVG (the filled template, or the file itself when it has no fields)."""

    name: str
    path: Path
    bundled: bool
    drawn: Path
    width: int | None  # the export width asked of Inkscape (None: its default)


@dataclass(frozen=True, slots=True)
class Skipped:
    name: str
    why: str


@dataclass
class Row:
    name: str
    size: tuple[int, int] | None
    pixeldrive: Measured
    cairosvg: Measured
    reason: str = ""


def drawn_elements(root: etree._Element) -> int:
    """How many shapes, texts, images and <use>s are drawn (outside defs and the like)."""
    count = 0
    for element in root.iter(etree.Element):
        if local_name(element) not in DRAWN:
            continue
        node: etree._Element | None = element.getparent()
        hidden = False
        while node is not None:
            if local_name(node) in NOT_DRAWN:
                hidden = True
                break
            node = node.getparent()
        count += not hidden
    return count


def collect(workdir: Path) -> tuple[list[Entry], list[Skipped]]:
    """The corpus: bundled templates first, then Inkscape's files; and what is skipped."""
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for path in sorted(TEMPLATES.glob("*.svg")):
        data = path.read_bytes()
        template = compile_template(path.stem, data, max_image_bytes=MAX_IMAGE_BYTES)
        values = template.model.model_validate(template.preview_values()).model_dump()
        filled = workdir / f"filled-{path.name}"
        filled.write_bytes(etree.tostring(fill_tree(template.root, template.fields, values)[0]))
        width = export_width(template)
        entries.append(Entry(f"svg_templates/{path.name}", path, True, filled, width))
    for folder in INKSCAPE_DIRS:
        if not folder.is_dir():
            skipped.append(Skipped(str(folder), "not installed"))
            continue
        for path in sorted(folder.iterdir()):
            name = f"{folder.name}/{path.name}"
            if path.suffix != ".svg":
                why = "not an .svg file"
                if path.suffix == ".svgz":
                    why = "gzipped SVG (.svgz): outside the corpus (`.svg` files only)"
                skipped.append(Skipped(name, why))
                continue
            if LOCALISED_DEFAULT.match(path.name):
                skipped.append(Skipped(name, "translated blank page (see default.svg)"))
                continue
            try:
                root = parse_svg(path.read_bytes())
            except TemplateInvalid as exc:
                # Compared all the same: PixelDrive's refusal is a miss, with its reason.
                print(f"  {name}: PixelDrive cannot parse it: {exc.detail}", flush=True)
                entries.append(Entry(name, path, False, path, None))
                continue
            if drawn_elements(root) == 0:
                skipped.append(Skipped(name, "blank page: nothing drawn (layers/guides only)"))
                continue
            try:
                template = compile_template(
                    "fidelity", path.read_bytes(), max_image_bytes=MAX_IMAGE_BYTES
                )
            except TemplateInvalid:
                width = None
            else:
                width = export_width(template)
            entries.append(Entry(name, path, False, path, width))
    return entries, skipped


def export_width(template: Template) -> int:
    scale = min(1.0, MAX_SIDE / max(template.width, template.height))
    return max(1, round(template.width * scale))


def inkscape_env() -> dict[str, str]:
    return {**os.environ, "FONTCONFIG_FILE": str(FONTCONFIG)}


def inkscape_export(entry: Entry, target: Path, timeout: float) -> str:
    """Export entry.drawn with Inkscape to target; '' or why it failed."""
    command = [
        "inkscape",
        "--export-type=png",
        f"--export-filename={target}",
        str(entry.drawn),
    ]
    if entry.width is not None:
        command.insert(2, f"--export-width={entry.width}")
    try:
        done = subprocess.run(  # fixed program, our own paths
            command, env=inkscape_env(), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return f"Inkscape timed out after {timeout:g} s"
    if done.returncode != 0 or not target.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        return f"Inkscape failed ({done.returncode}): {tail[0][:160]}"
    return ""


def lint_reason(path: Path) -> str:
    """The linter's findings for a file, most frequent first: what CairoSVG cannot draw
    as Inkscape does, what is removed, what refuses it."""
    # Named with a valid template id, so the file's own name is not itself a finding.
    name = re.sub(r"[^a-z0-9_-]", "-", path.stem.lower()).strip("-_")[:60] or "template"
    report = lint(path.read_bytes(), name=f"{name}.svg", fontconfig_file=FONTCONFIG)
    counts = Counter(_short(f.what) for f in report.findings if f.severity in ("error", "warning"))
    if not counts:
        return ""
    shown = [f"{what} ×{n}" if n > 1 else what for what, n in counts.most_common(4)]
    more = len(counts) - len(shown)
    return "; ".join(shown) + (f"; +{more} more" if more > 0 else "")


def _short(what: str) -> str:
    what = re.sub(r" is not installed; .* will be used$", " not installed", what)
    return what if len(what) <= 70 else what[:67] + "…"


def run_inkscape_corpus(
    workers: int, timeout: float, export_timeout: float, all_sheets: bool = False
) -> tuple[list[Row], list[Skipped], float]:
    started = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pd-fidelity-") as tmp:
        workdir = Path(tmp)
        entries, skipped = collect(workdir)
        references = {e.name: workdir / f"inkscape-{i}.png" for i, e in enumerate(entries)}
        print(f"inkscape corpus: {len(entries)} files, exporting with Inkscape…", flush=True)
        with ThreadPoolExecutor(max_workers=workers) as threads:
            failures = dict(
                zip(
                    [e.name for e in entries],
                    threads.map(
                        lambda e: inkscape_export(e, references[e.name], export_timeout),
                        entries,
                    ),
                    strict=True,
                )
            )
        tasks: dict[tuple[str, str], tuple[Any, ...]] = {}
        for entry in entries:
            if failures[entry.name]:
                continue
            reference = str(references[entry.name])
            keep = keep_sheet(entry, all_sheets)
            for renderer in ("pixeldrive", "cairosvg"):
                source = str(entry.path if renderer == "pixeldrive" else entry.drawn)
                saved = str(workdir / f"{renderer}-{entry.path.stem}.png") if keep else None
                tasks[(entry.name, renderer)] = (
                    renderer,
                    source,
                    reference,
                    tmp,
                    not entry.bundled,
                    saved,
                )
        print(f"rendering {len(tasks)} renders in the pool…", flush=True)
        results = run_pool(tasks, workers, timeout)
        rows = []
        for entry in entries:
            if failures[entry.name]:
                missing = Measured(None, f"no reference: {failures[entry.name]}")
                rows.append(Row(entry.name, None, missing, missing, failures[entry.name]))
                continue
            with Image.open(references[entry.name]) as ref:
                size = ref.size
            row = Row(
                entry.name,
                size,
                results[(entry.name, "pixeldrive")],
                results[(entry.name, "cairosvg")],
            )
            if not row.pixeldrive.within:
                row.reason = row.pixeldrive.error or lint_reason(entry.path) or "(no finding)"
            rows.append(row)
            if keep_sheet(entry, all_sheets):
                side_by_side(entry, references[entry.name], workdir)
    return rows, skipped, time.perf_counter() - started


def keep_sheet(entry: Entry, all_sheets: bool) -> bool:
    return entry.bundled or all_sheets


def side_by_side(entry: Entry, reference: Path, workdir: Path) -> None:
    """bench/out/fidelity-<stem>.png: Inkscape | PixelDrive | plain CairoSVG | differing
    pixels (red: PixelDrive vs Inkscape)."""
    inkscape = flatten(Image.open(reference))
    panels = [("Inkscape", inkscape)]
    for label, renderer in (("PixelDrive", "pixeldrive"), ("plain CairoSVG", "cairosvg")):
        path = workdir / f"{renderer}-{entry.path.stem}.png"
        image = Image.open(path).convert("RGB") if path.is_file() else None
        panels.append((label, image or Image.new("RGB", inkscape.size, (128, 128, 128))))
    mask = difference_mask(panels[1][1], inkscape)
    diff = Image.composite(
        Image.new("RGB", inkscape.size, (220, 0, 0)), inkscape.point(lambda v: 128 + v // 2), mask
    )
    panels.append(("> 64/255 (PixelDrive)", diff))
    width, height = inkscape.size
    sheet = Image.new("RGB", (width * len(panels) + 10 * (len(panels) - 1), height + 24), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, image) in enumerate(panels):
        x = i * (width + 10)
        sheet.paste(image, (x, 24))
        draw.text((x + 4, 6), label, fill="black")
    sheet.save(OUT / f"fidelity-{entry.path.stem}.png")


# ---- the resvg suite -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResvgRun:
    fonts: str  # "project" or "suite"
    results: dict[str, tuple[Measured, Measured]]  # by path relative to cases/
    no_reference: list[str]
    seconds: float


# The suite's own font setup (resvg's tests README): its fonts folder only, the generic
# families mapped as resvg's test runner maps them.
SUITE_FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>{fonts}</dir>
  <cachedir>{cache}</cachedir>
  <alias binding="same"><family>serif</family><prefer><family>Noto Serif</family></prefer></alias>
  <alias binding="same"><family>sans-serif</family><prefer><family>Noto Sans</family></prefer>
  </alias>
  <alias binding="same"><family>monospace</family><prefer><family>Noto Mono</family></prefer>
  </alias>
  <alias binding="same"><family>cursive</family><prefer><family>Yellowtail</family></prefer>
  </alias>
  <alias binding="same"><family>fantasy</family><prefer><family>Sedgwick Ave Display</family>
  </prefer></alias>
  <match target="pattern"><edit name="family" mode="append_last"><string>Noto Sans</string>
  </edit></match>
  <config><rescan><int>0</int></rescan></config>
</fontconfig>
"""


def run_resvg(workers: int, timeout: float, fonts: str) -> ResvgRun:
    """The suite with the project's fonts (conf/fonts.conf, as the server runs) or with the
    suite's own fonts (a fontconfig file written to a temporary folder)."""
    cases = RESVG / "cases"
    started = time.perf_counter()
    files = sorted(cases.rglob("*.svg"))
    tasks: dict[tuple[str, str], tuple[Any, ...]] = {}
    no_reference = []
    with tempfile.TemporaryDirectory(prefix="pd-fidelity-resvg-") as tmp:
        config = CONFIG
        if fonts == "suite":
            conf = Path(tmp) / "suite-fonts.conf"
            conf.write_text(
                SUITE_FONTS_CONF.format(fonts=RESVG / "fonts", cache=Path(tmp) / "fc-cache")
            )
            # The suite's fonts only: its Noto Sans is the fallback, as in resvg's runner.
            config = WorkerConfig(fontconfig_file=str(conf), fallback_fonts=("Noto Sans",))
        for path in files:
            name = str(path.relative_to(cases))
            reference = path.with_suffix(".png")
            if not reference.is_file():
                no_reference.append(name)
                continue
            for renderer in ("pixeldrive", "cairosvg"):
                tasks[(name, renderer)] = (renderer, str(path), str(reference), tmp, True, None)
        print(
            f"resvg suite ({fonts} fonts): {len(tasks) // 2} files, {len(tasks)} renders…",
            flush=True,
        )
        results = run_pool(tasks, workers, timeout, config)
    names = sorted({name for name, _ in tasks})
    paired = {n: (results[(n, "pixeldrive")], results[(n, "cairosvg")]) for n in names}
    return ResvgRun(fonts, paired, no_reference, time.perf_counter() - started)


# ---- the report ------------------------------------------------------------------------------


def percent(measured: Measured) -> str:
    if measured.share is None:
        return "error" if not measured.error.startswith("timeout") else "timeout"
    mark = "" if measured.within else " ✗"
    return f"{measured.share * 100:.2f}{mark}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def count(values: Iterable[Measured]) -> tuple[int, int]:
    items = list(values)
    return sum(m.within for m in items), len(items)


def share(pair: tuple[int, int]) -> str:
    within, total = pair
    return f"{within} / {total} ({within / total * 100:.1f} %)" if total else "–"


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"Python": platform.python_version()}
    for package in ("CairoSVG", "cairocffi", "Pillow", "pixeldrive"):
        try:
            out[package] = md.version(package)
        except md.PackageNotFoundError:
            out[package] = "not installed"
    try:
        import cairocffi

        out["cairo"] = cairocffi.cairo_version_string()
    except (ImportError, OSError):
        pass
    if shutil.which("inkscape"):
        done = subprocess.run(
            ["inkscape", "--version"],  # the installed one, by design
            capture_output=True,
            text=True,
            check=False,
        )
        out["Inkscape"] = done.stdout.strip() or done.stderr.strip()
    return out


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {platform.system()} {platform.release()}, {os.cpu_count()} CPUs" + (
        f" ({model})" if model else ""
    )


def report(
    inkscape: tuple[list[Row], list[Skipped], float] | None,
    resvg: list[ResvgRun],
    command: str,
    workers: int,
) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Fidelity: PixelDrive vs Inkscape and the resvg references",
        "",
        "Written by `bench/fidelity` (bench/fidelity.py); do not edit by hand.",
        "",
        f"- Date: {now}",
        f"- Machine: {machine()}",
        f"- Command: `{command}`",
        f"- Pool: {workers} worker processes (pebble, spawned, `worker.init_worker` with "
        "conf/fonts.conf)",
    ]
    lines += [f"- {name}: {version}" for name, version in versions().items()]
    lines += [
        "",
        "Measure: both images composited onto white at the reference's pixel size; a file is "
        f"**within tolerance** when under {TOLERANCE * 100:g} % of its pixels differ by more "
        f"than {THRESHOLD}/255 in some channel. Errors and timeouts count as misses. "
        "*PixelDrive* is the server's render path: the upload path (sanitise, compile, "
        "`worker.run` with the preview values) for every file but the bundled templates, "
        "which are compiled from their own bytes as the template store does. *Plain CairoSVG* "
        "is `cairosvg.svg2png(url=…, output_width=W, output_height=H)` in the same worker "
        "processes (same fontconfig file).",
        "",
        "## Summary",
        "",
    ]
    summary = []
    if inkscape is not None:
        rows = inkscape[0]
        summary.append(
            [
                "Inkscape corpus (vs `inkscape --export-type=png`)",
                share(count(r.pixeldrive for r in rows)),
                share(count(r.cairosvg for r in rows)),
            ]
        )
    for run in resvg:
        pairs = list(run.results.values())
        summary.append(
            [
                f"resvg suite (vs reference PNGs), {FONT_SETUPS[run.fonts]}",
                share(count(p[0] for p in pairs)),
                share(count(p[1] for p in pairs)),
            ]
        )
    lines += table(["Corpus", "PixelDrive within 2 %", "plain CairoSVG within 2 %"], summary)
    if inkscape is not None:
        lines += inkscape_section(*inkscape)
    for run in resvg:
        lines += resvg_section(run)
    return "\n".join(lines) + "\n"


def inkscape_section(rows: list[Row], skipped: list[Skipped], seconds: float) -> list[str]:
    both = sum(r.pixeldrive.within and r.cairosvg.within for r in rows)
    gained = [r.name for r in rows if r.pixeldrive.within and not r.cairosvg.within]
    lost = [r.name for r in rows if r.cairosvg.within and not r.pixeldrive.within]
    pd_errors = [r.name for r in rows if r.pixeldrive.share is None]
    cs_errors = [r.name for r in rows if r.cairosvg.share is None]
    lines = [
        "",
        "## Inkscape corpus",
        "",
        f"{len(rows)} files in {seconds:.0f} s: the bundled templates (filled with their preview "
        "values; Inkscape and plain CairoSVG draw the same filled SVG) and every drawable "
        "`.svg` under /usr/share/inkscape/examples and /usr/share/inkscape/templates, exported "
        "by Inkscape at its own size for the document (96 dpi; the longest side capped at "
        f"{MAX_SIDE} px) with `FONTCONFIG_FILE=conf/fonts.conf`, so all three see the same "
        "fonts (Inter, EB Garamond; any other family falls back to Inter).",
        "",
        f"Within tolerance with both: {both}. Only with PixelDrive: "
        f"{', '.join(gained) or 'none'}. Only with plain CairoSVG: {', '.join(lost) or 'none'}. "
        f"Errors: PixelDrive {len(pd_errors)} ({', '.join(pd_errors) or 'none'}), plain "
        f"CairoSVG {len(cs_errors)} ({', '.join(cs_errors) or 'none'}).",
        "",
        "Diff % is the share of pixels differing by more than 64/255 (✗: 2 % or more). The "
        "reason, for each PixelDrive miss, is the linter's findings for the file (`pixeldrive "
        "templates check`: warnings and errors, most frequent first) or the error. A font "
        "finding means every side drew the fallback (Inter). PixelDrive sets text with its "
        "own engine (HarfBuzz, as Inkscape does through Pango); plain CairoSVG sets it letter "
        "by letter with cairo's toy API. A file whose text has characters no configured font "
        "has is refused (422) by PixelDrive rather than drawn with boxes: an error here.",
        "",
    ]
    body = []
    for row in rows:
        size = f"{row.size[0]}×{row.size[1]}" if row.size else "–"
        reason = row.reason
        if row.cairosvg.share is None and row.cairosvg.error:
            reason += ("; " if reason else "") + f"plain CairoSVG: {row.cairosvg.error}"
        body.append([f"`{row.name}`", size, percent(row.pixeldrive), percent(row.cairosvg), reason])
    lines += table(["File", "Size", "PixelDrive diff %", "CairoSVG diff %", "Reason"], body)
    lines += [
        "",
        "Side-by-side images of the bundled templates (Inkscape | PixelDrive | plain CairoSVG | "
        "pixels over the threshold, PixelDrive vs Inkscape, in red) are in bench/out/ "
        "(gitignored): `fidelity-<template>.png`.",
        "",
        "Not compared:",
        "",
    ]
    grouped: dict[str, list[str]] = {}
    for item in skipped:
        grouped.setdefault(item.why, []).append(item.name)
    for why, names in grouped.items():
        listed = ", ".join(f"`{n}`" for n in names[:8]) + (
            f" and {len(names) - 8} more" if len(names) > 8 else ""
        )
        lines.append(f"- {why} ({len(names)}): {listed}")
    return lines


FONT_SETUPS = {"project": "project fonts", "suite": "the suite's fonts"}
FONT_NOTES = {
    "project": "The workers use conf/fonts.conf, as the server does (Inter, EB Garamond); "
    "the references were drawn with the suite's Noto fonts, so most text cases miss on both "
    "sides for the fonts alone.",
    "suite": "The workers use a fontconfig file of the suite's own fonts/ folder (Noto Sans, "
    "Noto Serif, Noto Mono, Yellowtail, Sedgwick Ave Display for the generic families), as "
    "resvg's own test runner does: the fairer conformance measure for text.",
}


def resvg_section(run: ResvgRun) -> list[str]:
    pairs = run.results
    pd_within, total = count(p[0] for p in pairs.values())
    cs_within, _ = count(p[1] for p in pairs.values())
    gained = sum(p[0].within and not p[1].within for p in pairs.values())
    lost = sum(p[1].within and not p[0].within for p in pairs.values())
    pd_errors = Counter(_kind(p[0].error) for p in pairs.values() if p[0].share is None)
    cs_errors = Counter(_kind(p[1].error) for p in pairs.values() if p[1].share is None)
    lines = [
        "",
        f"## resvg suite, {FONT_SETUPS[run.fonts]}",
        "",
        f"{total} cases from ../shared/corpus/resvg-tests/cases in {run.seconds:.0f} s, each "
        "rendered at its reference PNG's size (width 300) and compared with it. "
        + FONT_NOTES[run.fonts],
        "",
    ]
    lines += table(
        ["", "PixelDrive", "plain CairoSVG"],
        [
            ["within 2 %", share((pd_within, total)), share((cs_within, total))],
            [
                "errors, refusals, timeouts",
                str(sum(pd_errors.values())),
                str(sum(cs_errors.values())),
            ],
            ["within only with this one", str(gained), str(lost)],
        ],
    )
    if run.no_reference:
        lines += ["", f"Without a reference PNG, not compared: {len(run.no_reference)}."]
    lines += ["", "Errors by kind (PixelDrive):", ""]
    lines += [f"- {kind}: {n}" for kind, n in pd_errors.most_common()] or ["- none"]
    lines += ["", "Errors by kind (plain CairoSVG):", ""]
    lines += [f"- {kind}: {n}" for kind, n in cs_errors.most_common()] or ["- none"]

    categories: dict[str, list[tuple[Measured, Measured]]] = {}
    for name, pair in pairs.items():
        categories.setdefault(name.split("/", 1)[0], []).append(pair)
    lines += ["", "By category (the suite's top-level folders):", ""]
    lines += table(
        ["Category", "Files", "PixelDrive within 2 %", "plain CairoSVG within 2 %"],
        [
            [
                category,
                str(len(items)),
                share(count(p[0] for p in items)),
                share(count(p[1] for p in items)),
            ]
            for category, items in sorted(categories.items())
        ],
    )
    drawn = [(name, pair) for name, pair in pairs.items() if pair[0].share is not None]
    worst = sorted(drawn, key=lambda item: (-(item[1][0].share or 0.0), item[0]))[:20]
    lines += ["", "The 20 worst files PixelDrive draws (largest difference):", ""]
    lines += table(
        ["File", "PixelDrive diff %", "CairoSVG diff %", "plain CairoSVG error"],
        [[f"`{name}`", percent(pd), percent(cs), cs.error] for name, (pd, cs) in worst],
    )
    failed = [(name, pair) for name, pair in pairs.items() if pair[0].share is None]
    lines += [
        "",
        f"<details><summary>Every file PixelDrive refuses or fails on ({len(failed)})</summary>",
        "",
    ]
    lines += table(
        ["File", "PixelDrive", "plain CairoSVG"],
        [[f"`{name}`", pd.error, percent(cs)] for name, (pd, cs) in failed],
    )
    lines += ["", "</details>"]
    return lines


def _kind(error: str) -> str:
    """An error grouped by kind: its type and, for wrapped renderer errors, the cause type."""
    head = error.split(":", 1)[0]
    if "←" in error:
        head += " ← " + error.split("←", 1)[1].strip().split(":", 1)[0]
    elif error.startswith("TemplateInvalid: refused at upload"):
        head = "refused at upload (sanitiser)"
    return head


# ---- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("inkscape", "resvg"), help="run one corpus only")
    parser.add_argument("--workers", type=int, default=2, help="pool processes (default 2)")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="per resvg file and renderer, s (10)"
    )
    parser.add_argument(
        "--inkscape-timeout",
        type=float,
        default=120.0,
        help="per Inkscape-corpus file and renderer, and per Inkscape export, s (120)",
    )
    parser.add_argument(
        "--all-sheets",
        action="store_true",
        help="save side-by-side PNGs for every Inkscape-corpus file, not only the templates",
    )
    parser.add_argument(
        "--resvg-fonts",
        default="project,suite",
        type=lambda v: [f for f in v.split(",") if f],
        help="font setups for the resvg suite: project (conf/fonts.conf, as served), "
        "suite (the suite's own fonts); default both",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not write the report")
    args = parser.parse_args(argv)
    unknown = set(args.resvg_fonts) - set(FONT_SETUPS)
    if unknown:
        parser.error(f"--resvg-fonts: unknown setup(s) {', '.join(sorted(unknown))}")
    command = os.environ.get("BENCH_COMMAND") or "python bench/fidelity.py " + shlex.join(
        sys.argv[1:]
    )
    inkscape = None
    resvg: list[ResvgRun] = []
    if args.only in (None, "inkscape"):
        if shutil.which("inkscape") is None:
            print("inkscape is not installed: run bench/fidelity (it installs it)", file=sys.stderr)
            return 2
        inkscape = run_inkscape_corpus(
            args.workers, args.inkscape_timeout, args.inkscape_timeout, args.all_sheets
        )
    if args.only in (None, "resvg"):
        if not (RESVG / "cases").is_dir():
            print(f"the resvg suite is not at {RESVG}", file=sys.stderr)
            return 2
        resvg = [run_resvg(args.workers, args.timeout, fonts) for fonts in args.resvg_fonts]
    text = report(inkscape, resvg, command, args.workers)
    if args.no_write:
        print(text)
    else:
        REPORT.write_text(text)
        print(text.split("## Inkscape corpus")[0].split("## resvg suite")[0])
        print(f"written to {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

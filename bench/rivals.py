"""The renderers people would pick instead, drawing the same filled SVG bytes as PixelDrive.

- ``cairosvg.svg2png`` in this process (the naive code: CairoSVG is what PixelDrive draws
  with);
- resvg-js (Rust resvg through napi) in one persistent Node process, timed inside Node
  (``bench/resvg.cjs``): render + PNG encode, no process start, no pipe;
- ``rsvg-convert`` (librsvg), one process per image, as it is used from scripts: timed
  from the outside, so its process start is included, and measured apart on a trivial SVG.

The SVG each of them draws is the one PixelDrive draws: the template's preview as SVG,
from the server (filled with its defaults, the text set as glyph paths by the text
engine), written to a file. Imported by ``bench/core.py``, after ``FONTCONFIG_FILE`` is
set.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from common import ROOT

TEMPLATES_DIR = ROOT / "svg_templates"
FONTS_DIR = TEMPLATES_DIR / "fonts"
FONTS_CONF = ROOT / "conf" / "fonts.conf"
RESVG_SCRIPT = ROOT / "bench" / "resvg.cjs"
RESVG_MODULE = ROOT / "bench" / ".node" / "node_modules" / "@resvg" / "resvg-js"
TRIVIAL_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><rect/></svg>'
WARMUP = 4


@dataclass(frozen=True, slots=True)
class Samples:
    """Wall-clock samples in milliseconds."""

    ms: tuple[float, ...]

    @property
    def median(self) -> float:
        ordered = sorted(self.ms)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    def quantile(self, q: float) -> float:
        """Nearest rank."""
        ordered = sorted(self.ms)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def p90(self) -> float:
        return self.quantile(0.9)

    @property
    def p99(self) -> float:
        return self.quantile(0.99)


def time_calls(fn: Callable[[], object], runs: int, warmup: int = WARMUP) -> Samples:
    """Call `fn` `warmup` times untimed, then `runs` times timed."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return Samples(tuple(samples))


# ---- the SVG every renderer draws --------------------------------------------------------


async def preview_svgs(base: str, templates: Sequence[str], work: Path) -> dict[str, Path]:
    """Each template with its defaults as the server draws it, fetched as SVG
    (``GET /v1/templates/{id}/preview?format=svg``: filled, its text set by the text engine
    as glyph paths), written to `work`."""
    paths = {}
    async with aiohttp.ClientSession() as session:
        for name in templates:
            url = f"{base}/v1/templates/{name}/preview?format=svg"
            async with session.get(url) as resp:
                data = await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"GET {url} → {resp.status}: {data[:200]!r}")
            paths[name] = work / f"{name}.filled.svg"
            paths[name].write_bytes(data)
    return paths


# ---- the renderers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rival:
    """One renderer on one template: time per PNG and the PNG's bytes."""

    samples: Samples
    bytes: int


def svg2png(svg: Path, runs: int) -> Rival:
    """``cairosvg.svg2png`` in this process (cairo's own PNG writer)."""
    import cairosvg

    data = svg.read_bytes()
    png = cairosvg.svg2png(bytestring=data)
    return Rival(time_calls(lambda: cairosvg.svg2png(bytestring=data), runs), len(png))


def resvg_available() -> bool:
    return shutil.which("node") is not None and RESVG_MODULE.is_dir()


def resvg(svgs: dict[str, Path], runs: int) -> dict[str, Rival]:
    """resvg-js on every SVG, timed inside one Node process; empty when not installed."""
    if not resvg_available():
        return {}
    fonts = sorted(str(p) for p in FONTS_DIR.iterdir() if p.suffix in (".otf", ".ttf"))
    job = {"fonts": fonts, "svgs": {k: str(v) for k, v in svgs.items()}}
    job |= {"runs": runs, "warmup": WARMUP}
    out = subprocess.run(
        ["node", str(RESVG_SCRIPT)],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    answer = json.loads(out)
    return {k: Rival(Samples(tuple(v["ms"])), int(v["bytes"])) for k, v in answer.items()}


def rsvg_available() -> bool:
    return shutil.which("rsvg-convert") is not None


def rsvg(svg: Path, runs: int) -> Rival:
    """``rsvg-convert -f png`` as a new process per image, its process start included."""
    out = svg.with_suffix(".rsvg.png")
    cmd = ["rsvg-convert", "-f", "png", "-o", str(out), str(svg)]
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
    samples = time_calls(lambda: subprocess.run(cmd, env=env, check=True), runs)
    return Rival(samples, out.stat().st_size)


def rsvg_startup(work: Path, runs: int) -> Samples:
    """``rsvg-convert`` on a 1×1 SVG: the process start, library load and fontconfig
    set-up that every invocation pays before drawing."""
    trivial = work / "trivial.svg"
    trivial.write_bytes(TRIVIAL_SVG)
    return rsvg(trivial, runs).samples


@dataclass(frozen=True, slots=True)
class Rivals:
    """Per template: svg2png, resvg-js and rsvg-convert (absent when not installed), and
    rsvg-convert's start-up cost."""

    svg2png: dict[str, Rival]
    resvg: dict[str, Rival]
    rsvg: dict[str, Rival]
    rsvg_startup: Samples | None


def measure_rivals(svgs: dict[str, Path], work: Path, runs: int) -> Rivals:
    """Every rival on every SVG in `svgs` (template → file)."""
    cairo = {name: svg2png(path, runs) for name, path in svgs.items()}
    node = resvg(svgs, runs)
    if not rsvg_available():
        return Rivals(cairo, node, {}, None)
    lib = {name: rsvg(path, runs) for name, path in svgs.items()}
    return Rivals(cairo, node, lib, rsvg_startup(work, runs))

"""What every script and emoji cost: titles in Korean, Thai and emoji against a Latin one
of the same length, the render worker's memory as it opens every script's fonts, and the
size the fonts add.

1. og-card drawn and encoded as PNG by an in-process worker (`worker.run`, as a render
   process does), its title set to a sentence of 24 characters in each script. Warm: the
   worker has drawn that script before (its fonts open, its glyph outlines cached); the
   titles still differ per run, so each draw is a new layout. Cold: the first title in
   that script in a fresh worker process (fonts opened, outlines converted), measured in
   a subprocess per script and run; the figure is that render's own time.
2. A render worker's memory: one worker started by the render pool as the server starts
   it (`RenderPool`, 1 worker, driven from this process), read from its /proc status and
   smaps_rollup after start, after a Latin title, after one title in each of the 30
   scripts and the emoji (every bundled font opened), and after 1,000 mixed renders.
3. The bundled fonts' bytes in the checkout (svg_templates/fonts) by group, and what git
   stores for them.

Usage: python bench/scripts.py [--runs N] [--write]   (writes the ``scripts`` section of
bench/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, command_line, machine_line, python_version, section, table, write_readme

os.environ.setdefault("FONTCONFIG_FILE", str(ROOT / "conf" / "fonts.conf"))

BEGIN, END = "<!-- scripts:begin -->", "<!-- scripts:end -->"
# 24 characters (grapheme clusters) each; the last word varies per run.
TITLES = {
    "Latin": "Launch notes for spring ",
    "Korean": "새로운 기능을 소개합니다 오늘의 ",
    "Thai": "ภาษาไทยง่ายนิดเดียวนะครับ ",
    "Emoji": "Launch 🚀 ready 🎉 team 👩🏽‍💻 ",
}
# One short title per script for the memory walk (every bundled font opened).
ALL_SCRIPTS = (
    "Բարեւ გამარჯობა ܫܠܡܐ ދިވެހި ߒߞߏ ⵜⴰⵎⴰⵣⵉⵖⵜ ሰላም क्षत्रिय আমি ਪੰਜਾਬੀ ગુજરાતી ଓଡ଼ିଆ "
    "தமிழ் తెలుగు ಕನ್ನಡ മലയാളം සිංහල ภาษา ພາສາ བོད་ မြန်မာ ភាសា ᠮᠣᠩᠭᠣᠯ 한국어 "
    "日本語 中文 ꆈꌠ ᏣᎳᎩ ᐃᓄᒃᑎᑐᑦ שלום مرحبا ∮ ⏚ 🚀"
)
IDLE_SECONDS = 6.0  # after the last render: past the worker's idle_release_seconds (5)

CHILD = r"""
import io, json, os, sys, time
from pathlib import Path
from pixeldrive.core.config import load_settings
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob
from pixeldrive.templates.model import compile_template
from pixeldrive.wiring import worker_config

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0

settings = load_settings()
source = settings.templates_dir / "og-card.svg"
template = compile_template("og-card", source.read_bytes(), max_image_bytes=10**7)
def render(title):
    fields = template.validate({**template.preview_values(), "title": title})
    job = RenderJob(template.version, str(source), fields, template.width, template.height, "png")
    start = time.perf_counter()
    worker.run(job)
    return (time.perf_counter() - start) * 1000

worker.init_worker(worker_config(settings))
out = {"start": rss()}
render("Warm up the template")  # the template parsed and its backdrop drawn
out["ms"] = render(sys.argv[1])
print(json.dumps(out))
"""


MEMORY_FIELDS = ("VmRSS", "RssAnon", "RssFile", "Pss", "Pss_Anon", "Pss_File")
MEMORY_FIELDS += ("Private_Clean", "Private_Dirty")


def memory_of(pid: int) -> dict[str, int]:
    """Bytes by kind: /proc/pid/status (VmRSS, RssAnon, RssFile) and smaps_rollup (Pss,
    Private)."""
    found: dict[str, int] = {}
    for name in ("status", "smaps_rollup"):
        for line in (Path("/proc") / str(pid) / name).read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in MEMORY_FIELDS and rest.split():
                found[key] = int(rest.split()[0]) * 1024
    return found


def worker_memory(mixed: int) -> dict[str, dict[str, int]]:
    """A render worker's memory at each step, the worker started as the server starts it."""
    return asyncio.run(_worker_memory(mixed))


async def _worker_memory(mixed: int) -> dict[str, dict[str, int]]:
    sys.path.insert(0, str(ROOT))
    from pixeldrive.core.config import load_settings
    from pixeldrive.render.job import RenderJob
    from pixeldrive.render.pool import PoolLimits, RenderPool
    from pixeldrive.templates.model import compile_template
    from pixeldrive.wiring import worker_config

    settings = load_settings()
    templates = []
    for path in sorted(settings.templates_dir.glob("*.svg")):
        t = compile_template(path.stem, path.read_bytes(), max_image_bytes=10**7)
        text = [f for f in t.fields if f.kind == "text"]
        longest = max(text, key=lambda f: f.max_length or 1000)
        templates.append((t, path, longest.name, min(20, longest.max_length or 20)))
    og_card = next(entry for entry in templates if entry[1].stem == "og-card")
    pool = RenderPool(PoolLimits(1, 1, 60.0, 0), worker_config(settings))
    await pool.start()
    try:
        (pid,) = pool.pids()

        async def render(entry: Any, title: str, scale: float = 1.0, fmt: str = "png") -> None:
            t, path, name, length = entry
            fields = t.validate({**t.preview_values(), name: title[:length]})
            w, h = max(1, round(t.width * scale)), max(1, round(t.height * scale))
            await pool.render(RenderJob(t.version, str(path), fields, w, h, fmt))

        steps = {"start": memory_of(pid)}
        await render(og_card, "Warm up the template")
        await render(og_card, "A Latin title")
        steps["latin"] = memory_of(pid)
        words = ALL_SCRIPTS.split()
        for word in words:
            await render(og_card, word)
        steps["all"] = memory_of(pid)
        # Then what a busy worker meets: every bundled template, every raster format,
        # titles of every script, at three sizes.
        for i in range(mixed):
            fmt = ("png", "jpeg", "webp", "avif")[(i // len(templates)) % 4]
            scale = (1.0, 0.5, 0.25)[(i // 16) % 3]
            entry = templates[i % len(templates)]
            await render(entry, f"{words[i % len(words)]} {i}", scale, fmt)
        steps["mixed"] = memory_of(pid)
        await asyncio.sleep(IDLE_SECONDS)
        steps["idle"] = memory_of(pid)
        if pool.pids() != [pid]:
            raise RuntimeError("the worker was replaced during the run")
    finally:
        await pool.close()
    return steps


def child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=300,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def warm_ms(runs: int) -> dict[str, float]:
    """Median ms per script, renders interleaved across scripts, after one warm-up each."""
    sys.path.insert(0, str(ROOT))
    from pixeldrive.core.config import load_settings
    from pixeldrive.render import worker
    from pixeldrive.render.job import RenderJob
    from pixeldrive.templates.model import compile_template
    from pixeldrive.wiring import worker_config

    settings = load_settings()
    source = settings.templates_dir / "og-card.svg"
    template = compile_template("og-card", source.read_bytes(), max_image_bytes=10**7)
    worker.init_worker(worker_config(settings))

    def render(title: str) -> float:
        fields = template.validate({**template.preview_values(), "title": title})
        job = RenderJob(
            template.version, str(source), fields, template.width, template.height, "png"
        )
        start = time.perf_counter()
        worker.run(job)
        return (time.perf_counter() - start) * 1000

    for name, title in TITLES.items():
        render(title + name)
    times: dict[str, list[float]] = {name: [] for name in TITLES}
    for run in range(runs):
        for name, title in TITLES.items():
            times[name].append(render(f"{title}{run}"))
    return {name: statistics.median(values) for name, values in times.items()}


def cold_ms(runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in TITLES}
    for _ in range(runs):
        for name, title in TITLES.items():
            times[name].append(float(child(title)["ms"]))
    return {name: statistics.median(values) for name, values in times.items()}


def font_sizes() -> dict[str, int]:
    fonts = ROOT / "svg_templates" / "fonts"
    groups = {"the template fonts (Inter, EB Garamond, DejaVu, Noto Arabic/Hebrew/Devanagari)": 0}
    groups |= {"Noto script fonts (30 scripts, symbols, maths)": 0, "Noto Sans CJK": 0}
    groups |= {"Noto Color Emoji (COLRv1)": 0}
    for path in fonts.rglob("*"):
        if not path.is_file() or path.suffix.lower() not in (".ttf", ".otf", ".ttc"):
            continue
        size = path.stat().st_size
        if "CJK" in path.name:
            groups["Noto Sans CJK"] += size
        elif "Emoji" in path.name:
            groups["Noto Color Emoji (COLRv1)"] += size
        elif path.parent.name == "noto":
            groups["Noto script fonts (30 scripts, symbols, maths)"] += size
        else:
            groups[next(iter(groups))] += size
    return groups


def packed_bytes(folder: str) -> int:
    """What git stores for `folder` (compressed objects), via a throwaway pack."""
    with tempfile.TemporaryDirectory() as tmp:
        objects = subprocess.run(
            ["git", "-C", str(ROOT), "rev-list", "--objects", "HEAD", "--", folder],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        subprocess.run(
            ["git", "-C", str(ROOT), "pack-objects", "-q", f"{tmp}/p"],
            input=objects,
            text=True,
            check=True,
            capture_output=True,
        )
        return sum(p.stat().st_size for p in Path(tmp).glob("p-*.pack"))


def report(
    warm: dict[str, float], cold: dict[str, float], memory: dict[str, Any], mixed: int
) -> str:
    mib = 1024 * 1024
    rows = [
        [name, f"{warm[name]:.1f} ms", f"{warm[name] / warm['Latin']:.2f}×", f"{cold[name]:.0f} ms"]
        for name in TITLES
    ]
    cost = table(
        ["og-card title (24 characters)", "warm", "vs Latin", "cold (first in a worker)"], rows
    )
    steps = (
        ("start", "after start (fonts scanned, none opened, a first draw)"),
        ("latin", "after a Latin og-card title"),
        ("all", "after a title in every script and the emoji (every font opened)"),
        (
            "mixed",
            f"then right after {mixed:,} mixed renders (every template, PNG, JPEG, "
            "WebP, AVIF, three sizes, titles of every script)",
        ),
        ("idle", f"the same, {IDLE_SECONDS:g} s later (idle)"),
    )
    rows = []
    for key, label in steps:
        m = memory[key]
        private = m["Private_Clean"] + m["Private_Dirty"]
        values = (m["VmRSS"], m["RssAnon"], m["RssFile"], m["Pss"], private)
        rows.append([label, *(f"{v / mib:.1f}" for v in values)])
    mem = table(["render worker, MiB", "RSS", "anonymous", "file-backed", "PSS", "private"], rows)
    sizes = font_sizes()
    size_rows = [[group, f"{size / mib:.1f}"] for group, size in sizes.items()]
    size_rows.append(["all bundled fonts, in the checkout", f"{sum(sizes.values()) / mib:.1f}"])
    size_rows.append(
        [
            "the same, as git stores them (packed)",
            f"{packed_bytes('svg_templates/fonts') / mib:.1f}",
        ]
    )
    return "\n\n".join([cost, mem, table(["fonts", "MiB"], size_rows)])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--mixed", type=int, default=1000, help="mixed renders for the RSS")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    warm = warm_ms(args.runs)
    cold = cold_ms(args.cold_runs)
    memory = worker_memory(args.mixed)
    facts = f"{machine_line()}\n- {python_version()}, runs {args.runs}, cold runs {args.cold_runs}"
    text = section(
        BEGIN,
        END,
        report(warm, cold, memory, args.mixed),
        facts,
        command_line("scripts.py", argv),
        started,
    )
    print(text)
    if args.write:
        write_readme(text, BEGIN, END)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Filter effects' cost per render: og-card with a filter on its title field, against the
same render without it. Runs the render worker in this process, as a pool worker runs it
(backdrop kept, the title drawn per render), each render with a new title.

    .venv/bin/python bench/effects.py [--renders N] [--write]

--write puts the table into bench/effects.md.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["FONTCONFIG_FILE"] = str(ROOT / "conf" / "fonts.conf")

from pixeldrive.render import worker  # noqa: E402
from pixeldrive.render.job import RenderJob, WorkerConfig  # noqa: E402
from pixeldrive.templates.model import compile_template  # noqa: E402

SOURCE = ROOT / "svg_templates" / "og-card.svg"
TITLE_STYLE = 'fill:#f8fafc"\n       x="80"\n       y="322"\n       id="title"'
DROP_SHADOW = (
    '<filter style="color-interpolation-filters:sRGB" id="pd-fx" x="-0.1" y="-0.3" '
    'width="1.2" height="1.6"><feFlood flood-opacity="0.498039" flood-color="rgb(0,0,0)" '
    'result="flood"/><feComposite in="flood" in2="SourceGraphic" operator="in" '
    'result="composite1"/><feGaussianBlur in="composite1" stdDeviation="3" result="blur"/>'
    '<feOffset dx="6" dy="6" result="offset"/><feComposite in="SourceGraphic" in2="offset" '
    'operator="over"/></filter>'
)


def blur(deviation: float) -> str:
    return (
        '<filter style="color-interpolation-filters:sRGB" id="pd-fx" x="-0.5" y="-0.5" '
        f'width="2" height="2"><feGaussianBlur stdDeviation="{deviation}"/></filter>'
    )


VARIANTS = {
    "og-card (no filter)": None,
    "title with Inkscape's Drop Shadow": DROP_SHADOW,
    "title blurred, 2 px": blur(2),
    "title blurred, 40 px": blur(40),
}


def variant(filter_xml: str | None, directory: Path, name: str) -> Path:
    text = SOURCE.read_text(encoding="utf-8")
    if filter_xml is not None:
        head, _, tail = text.partition("<defs")
        defs_open, _, rest = tail.partition(">")
        text = f"{head}<defs{defs_open}>{filter_xml}{rest}"
        text = text.replace(
            TITLE_STYLE, TITLE_STYLE.replace("fill:#f8fafc", "fill:#f8fafc;filter:url(#pd-fx)"), 1
        )
        assert "filter:url(#pd-fx)" in text
    path = directory / f"{name}.svg"
    path.write_text(text, encoding="utf-8")
    return path


def measure(paths: dict[str, Path], renders: int, rounds: int) -> dict[str, list[float]]:
    """CPU milliseconds per render, per variant, interleaved in rounds."""
    counter = itertools.count()
    templates = {
        n: compile_template(p.stem, p.read_bytes(), max_image_bytes=5 * 2**20)
        for n, p in paths.items()
    }
    out: dict[str, list[float]] = {n: [] for n in paths}
    for _ in range(rounds):
        for name, path in paths.items():
            template = templates[name]
            start = time.process_time()
            for _ in range(renders):
                fields = template.validate({"title": f"Effects bench {next(counter)}"})
                worker.run(RenderJob(template.version, str(path), fields, 1200, 630, "png"))
            out[name].append((time.process_time() - start) * 1000 / renders)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    worker.init_worker(
        WorkerConfig(fontconfig_file=str(ROOT / "conf" / "fonts.conf"), backdrop_bytes=64 * 2**20)
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = {n: variant(f, Path(tmp), f"fx{i}") for i, (n, f) in enumerate(VARIANTS.items())}
        for path in paths.values():  # warm: parse, set static text, keep the backdrop
            template = compile_template(path.stem, path.read_bytes(), max_image_bytes=5 * 2**20)
            worker.run(
                RenderJob(
                    template.version,
                    str(path),
                    template.validate({"title": "warm"}),
                    1200,
                    630,
                    "png",
                )
            )
        results = measure(paths, args.renders, args.rounds)
    base = min(results["og-card (no filter)"])
    lines = [
        "| og-card PNG, 1200×630, new title each render | CPU ms per render (best of rounds) | vs no filter | all rounds |",  # noqa: E501
        "|---|---|---|---|",
    ]
    for name, values in results.items():
        best = min(values)
        rounds = ", ".join(f"{v:.1f}" for v in values)
        lines.append(f"| {name} | {best:.1f} | {best / base:.2f}× | {rounds} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        (ROOT / "bench" / "effects.md").write_text(
            "# Filter effects: cost per render\n\nWritten by `bench/effects.py --write`; do not edit by hand.\n\n"  # noqa: E501
            f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
            f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs\n"
            f"- {args.renders} renders per round, {args.rounds} rounds interleaved, one worker in-process "  # noqa: E501
            "(backdrop kept as the pool keeps it; the title, its filter and the PNG encoding per render)\n"  # noqa: E501
            f"- median of the no-filter rounds: {statistics.median(results['og-card (no filter)']):.1f} ms\n\n"  # noqa: E501
            f"{table}\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()

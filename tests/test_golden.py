"""Golden images of the bundled templates: decoded pixels within a stated tolerance.

Tolerance: at most 0.5 % of pixels may differ by more than 24/255 in any channel
(antialiasing and encoder noise across cairo/pixman builds), and the mean absolute
difference must stay under 1/255. Regenerate after an intended change with
`PIXELDRIVE_REGOLD=1 pytest tests/test_golden.py` and look at every new PNG.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob, WorkerConfig
from pixeldrive.templates.model import compile_template

GOLDEN = Path(__file__).parent / "golden"
MAX_SHARE = 0.005
CHANNEL_STEP = 24
MAX_MEAN = 1.0


def _photo(size: tuple[int, int], colours: tuple[str, str]) -> str:
    image = Image.linear_gradient("L").resize(size)
    tinted = Image.merge(
        "RGB",
        [
            image.point(lambda v, a=a, b=b: a + (b - a) * v // 255)
            for a, b in zip(
                Image.new("RGB", (1, 1), colours[0]).getpixel((0, 0)),  # type: ignore[arg-type]
                Image.new("RGB", (1, 1), colours[1]).getpixel((0, 0)),  # type: ignore[arg-type]
                strict=True,
            )
        ],
    )
    out = io.BytesIO()
    tinted.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "og-card-defaults": ("og-card", {}),  # {} means: the preview values
    "og-card-filled": (
        "og-card",
        {
            "title": "Shipping faster with templates",
            "subtitle": "How we render a million cards a day",
            "author": "Grace Hopper",
            "accent": "#e11d48",
            "avatar": _photo((128, 128), ("#fde68a", "#b45309")),
        },
    ),
    "product-defaults": ("product", {}),
    "product-filled": (
        "product",
        {
            "name": "Trail Runner X",
            "price": "$89",
            "old_price": "$120",
            "badge": "-25%",
            "accent": "#0ea5e9",
            "photo": _photo((300, 200), ("#bae6fd", "#075985")),
        },
    ),
    "certificate-defaults": ("certificate", {}),
    "certificate-filled": (
        "certificate",
        {
            "learner": "Ada Lovelace",
            "course": "Analytical Engines 101",
            "date": "25 November 2026",
            "signature": "C. Babbage",
            "verify_url": "https://pixeldrive.dev/verify/ada-1843",
        },
    ),
    "quote-defaults": ("quote", {}),
    "quote-filled": (
        "quote",
        {
            "quote": "Make it work, make it right, make it fast.",
            "author": "Kent Beck",
            "handle": "kentbeck",
        },
    ),
}


@pytest.fixture(scope="module")
def draw() -> Any:
    worker.init_worker(WorkerConfig(fontconfig_file=str(PROJECT_ROOT / "conf" / "fonts.conf")))

    def run(template_id: str, fields: dict[str, Any]) -> Image.Image:
        source = PROJECT_ROOT / "svg_templates" / f"{template_id}.svg"
        template = compile_template(template_id, source.read_bytes(), max_image_bytes=2**22)
        values = template.validate(fields or template.preview_values())
        job = RenderJob(
            template.version, str(source), values, template.width, template.height, "png"
        )
        return Image.open(io.BytesIO(worker.run(job).data)).convert("RGBA")

    return run


def difference(expected: Image.Image, actual: Image.Image) -> tuple[float, float]:
    """(share of pixels off by more than CHANNEL_STEP in some channel, mean abs diff)."""
    diff = ImageChops.difference(expected, actual)
    worst = Image.eval(diff, lambda v: 255 if v > CHANNEL_STEP else 0).convert("L")
    worst = worst.point(lambda v: 255 if v else 0)
    histogram = worst.histogram()
    share = 1 - histogram[0] / (expected.width * expected.height)
    channels = diff.split()
    mean = sum(sum(i * n for i, n in enumerate(c.histogram())) for c in channels)
    return share, mean / (expected.width * expected.height * len(channels))


@pytest.mark.parametrize("case", sorted(CASES))
def test_template_matches_golden(case: str, draw: Any) -> None:
    template_id, fields = CASES[case]
    actual = draw(template_id, fields)
    path = GOLDEN / f"{case}.png"
    if os.environ.get("PIXELDRIVE_REGOLD") == "1":
        actual.save(path, optimize=True)
    assert path.exists(), f"{path} is missing: run with PIXELDRIVE_REGOLD=1 and review it"
    expected = Image.open(path).convert("RGBA")
    assert expected.size == actual.size
    share, mean = difference(expected, actual)
    assert share <= MAX_SHARE, f"{share:.2%} of pixels differ by more than {CHANNEL_STEP}"
    assert mean <= MAX_MEAN, f"mean difference {mean:.2f}/255"


def test_the_comparison_catches_a_change(draw: Any) -> None:
    expected = Image.open(GOLDEN / "og-card-defaults.png").convert("RGBA")
    changed = draw("og-card", {"title": "A different title entirely"})
    share, _mean = difference(expected, changed)
    assert share > MAX_SHARE

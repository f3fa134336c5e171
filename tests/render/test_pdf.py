"""PDF output: vector, the page size asked for, the same bytes every time, and it looks
like the PNG of the same spec (checked by rasterising it with poppler's pdftoppm)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob, WorkerConfig
from pixeldrive.templates.model import compile_template

SOURCE = PROJECT_ROOT / "svg_templates" / "certificate.svg"


@pytest.fixture(scope="module")
def job() -> Any:
    worker.init_worker(WorkerConfig(fontconfig_file=str(PROJECT_ROOT / "conf" / "fonts.conf")))
    template = compile_template("certificate", SOURCE.read_bytes(), max_image_bytes=2**22)
    values = template.model.model_validate(template.preview_values()).model_dump()

    def make(fmt: str) -> RenderJob:
        return RenderJob(template.version, str(SOURCE), values, 1123, 794, fmt)

    return make


def test_a_pdf_page_of_the_requested_size(job: Any) -> None:
    data = worker.run(job("pdf")).data
    assert data.startswith(b"%PDF-")
    box = re.search(rb"MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", data)
    assert box is not None
    assert (float(box.group(1)), float(box.group(2))) == (1123 * 0.75, 794 * 0.75)  # pt


def test_the_same_spec_gives_the_same_pdf_bytes(job: Any) -> None:
    assert worker.run(job("pdf")).data == worker.run(job("pdf")).data


def test_the_pdf_looks_like_the_png(job: Any, tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: apt-get install poppler-utils")
    pdf = tmp_path / "page.pdf"
    pdf.write_bytes(worker.run(job("pdf")).data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "96", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    from_pdf = Image.open(tmp_path / "page.png").convert("RGB").resize((1123, 794))
    from_png = Image.open(io.BytesIO(worker.run(job("png")).data)).convert("RGB")
    diff = ImageChops.difference(from_pdf, from_png).convert("L")
    off = sum(n for value, n in enumerate(diff.histogram()) if value > 48)
    assert off / (1123 * 794) < 0.02  # antialiasing differs between poppler and cairo

"""QR fields must scan: draw, rasterise, decode with zbarimg."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from pixeldrive.render.fetcher import make_fetcher
from pixeldrive.render.job import JobError
from pixeldrive.render.qr import qr_group
from pixeldrive.render.rasterize import rasterize
from pixeldrive.templates.fields import discover_fields
from pixeldrive.templates.parser import parse_svg
from tests.svgdoc import fill


def zbarimg() -> str:
    path = shutil.which("zbarimg")
    if path is None:
        pytest.fail(
            "zbarimg is not installed: the QR tests need it to prove codes scan. "
            "Install it with `apt-get install zbar-tools` (CI does this).",
            pytrace=False,
        )
    return path


def template(box: str, size: str = 'width="200" height="200"') -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size}>'
        '<rect width="100%" height="100%" fill="#3366cc"/>'
        f'<rect id="code" data-pd-field="link" data-pd-kind="qr" {box} style="fill:#ff0000"/>'
        "</svg>"
    ).encode()


def render_and_scan(svg: bytes, value: str, out: Path, width: int, height: int) -> str:
    root = parse_svg(svg)
    filled = fill(root, discover_fields(root), {"link": value})
    image = rasterize(filled, width, height, make_fetcher(2**20, 10**7))
    image.save(out, "PNG")
    result = subprocess.run(
        [zbarimg(), "--raw", "-q", str(out)], capture_output=True, check=False, timeout=30
    )
    assert result.returncode == 0, f"zbarimg found no code: {result.stderr.decode()!r}"
    decoded = result.stdout.decode("utf-8")
    assert decoded.endswith("\n")
    return decoded[:-1]


@pytest.mark.parametrize(
    "value",
    [
        "https://pixeldrive.dev/verify/0000",
        "HELLO WORLD 12345",
        "Grüße aus Köln ✓",
        "日本語のテキスト",
        "x" * 400,
    ],
)
def test_qr_in_a_200px_box_scans_to_exactly_the_value(value: str, tmp_path: Path) -> None:
    svg = template('x="0" y="0" width="200" height="200"')
    assert render_and_scan(svg, value, tmp_path / "qr.png", 400, 400) == value


def test_qr_in_an_offset_non_square_box_scans(tmp_path: Path) -> None:
    # Drawn centred in the box at its smaller side, with the page around it.
    svg = template('x="60" y="40" width="200" height="120"', 'width="320" height="200"')
    value = "https://example.com/a?b=c&d=e"
    assert render_and_scan(svg, value, tmp_path / "qr.png", 640, 400) == value


def test_qr_value_too_long_for_any_qr_version_is_a_job_error() -> None:
    rect = etree.fromstring(b'<rect xmlns="http://www.w3.org/2000/svg" width="200" height="200"/>')
    with pytest.raises(JobError, match="QR"):
        qr_group(rect, "x" * 5000)


def test_qr_value_too_long_through_fill_is_a_job_error() -> None:
    root = parse_svg(template('x="0" y="0" width="200" height="200"'))
    with pytest.raises(JobError):
        fill(root, discover_fields(root), {"link": "€" * 3000})


def test_qr_placeholder_without_a_size_is_a_job_error() -> None:
    rect = etree.fromstring(b'<rect xmlns="http://www.w3.org/2000/svg" id="q" x="3"/>')
    with pytest.raises(JobError, match="width/height"):
        qr_group(rect, "hello")

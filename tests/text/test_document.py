"""The engine over whole templates in a worker: static text set once, field text per
request, with other fields (a QR code replacing its element) around them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pixeldrive.core.config import Settings
from pixeldrive.render import worker
from pixeldrive.render.job import RenderJob
from pixeldrive.templates.model import compile_template
from pixeldrive.wiring import worker_config

SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300" viewBox="0 0 600 300">
<rect width="600" height="300" fill="#fff"/>
<rect id="qr" data-pd-field="link" data-pd-kind="qr" x="460" y="20" width="120" height="120"
      data-pd-default="https://example.com/a"/>
<text id="label" x="20" y="40" style="font-family:Inter;font-size:20px">Static label</text>
<rect id="frame" x="20" y="60" width="300" height="200" fill="none"/>
<text id="title" data-pd-field="title" data-pd-fit="wrap" data-pd-box="#frame"
      x="20" y="90" style="font-family:Inter;font-size:30px">Title</text>
</svg>"""


def job_for(settings: Settings, tmp_path: Path, **fields: str) -> RenderJob:
    source = tmp_path / "card.svg"
    source.write_text(SVG)
    template = compile_template("card", SVG.encode(), max_image_bytes=10**6)
    return RenderJob(template.version, str(source), dict(fields), 600, 300, "png")


def test_text_after_a_qr_code_is_fitted_in_its_own_frame(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    worker.init_worker(worker_config(settings))
    long = "A title long enough to need several lines in a frame of three hundred pixels"
    reports = worker.layout(job_for(settings, tmp_path, title=long, link="https://x.test/1"))
    assert reports["title"].lines >= 3
    assert reports["title"].truncated is False


def test_static_text_is_drawn_with_fields_around_it(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings()
    worker.init_worker(worker_config(settings))
    output = worker.run(job_for(settings, tmp_path, title="Short", link="https://x.test/2"))
    from io import BytesIO

    from PIL import Image, ImageChops

    image = Image.open(BytesIO(output.data)).convert("RGB")
    label = image.crop((20, 15, 200, 45))
    blank = Image.new("RGB", label.size, "white")
    assert ImageChops.difference(label, blank).getbbox() is not None, "the static label"
    qr = image.crop((460, 20, 580, 140))
    assert ImageChops.difference(qr, Image.new("RGB", qr.size, "white")).getbbox() is not None

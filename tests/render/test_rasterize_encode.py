"""Pixels from CairoSVG (rasterize), bytes from Pillow (encode), and a whole job (worker.run)."""

from __future__ import annotations

import base64
import io
import math
import random
from pathlib import Path

import pytest
from PIL import Image

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.render import worker
from pixeldrive.render.encode import encode
from pixeldrive.render.fetcher import make_fetcher
from pixeldrive.render.job import EncodeOptions, JobError, JobFailed, RenderJob, WorkerConfig
from pixeldrive.render.rasterize import rasterize
from pixeldrive.templates.version import template_version

FETCH = make_fetcher(2**20, 10**7)
FORMATS = ["png", "jpeg", "webp", "avif"]
PIL_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF"}


def svg(body: str, width: int = 10, height: int = 10) -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}">{body}</svg>'
    ).encode()


def flat(fill: str, opacity: float = 1.0, size: int = 10) -> bytes:
    """A document entirely covered by one rect."""
    return svg(
        f'<rect width="{size}" height="{size}" style="fill:{fill};fill-opacity:{opacity}"/>',
        size,
        size,
    )


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close_to(pixel: object, expected: tuple[int, ...], tolerance: int) -> bool:
    assert isinstance(pixel, tuple)
    return len(pixel) == len(expected) and all(
        abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True)
    )


def premultiplied(rgba: tuple[int, int, int, int]) -> tuple[int, int, int]:
    r, g, b, a = rgba
    return (round(r * a / 255), round(g * a / 255), round(b * a / 255))


@pytest.fixture(scope="module")
def translucent() -> Image.Image:
    return rasterize(flat("#ff0000", 0.5), 32, 24, FETCH)


@pytest.fixture(scope="module")
def opaque() -> Image.Image:
    body = (
        '<rect width="64" height="48" fill="#224488"/>'
        '<circle cx="32" cy="24" r="18" fill="#ffcc00"/>'
        '<path d="M0 48L64 0" stroke="#ffffff" stroke-width="3"/>'
    )
    return rasterize(svg(body, 64, 48), 64, 48, FETCH)


@pytest.fixture(scope="module")
def detailed() -> Image.Image:
    """Noise: lossy encoders cannot hide a quality change in it."""
    rng = random.Random(1234)
    return Image.frombytes("RGB", (96, 96), rng.randbytes(96 * 96 * 3)).convert("RGBA")


# --- rasterize ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 1), (10, 10), (37, 91), (400, 120)])
def test_rasterize_returns_the_requested_size_rgb_when_opaque(size: tuple[int, int]) -> None:
    image = rasterize(flat("#00ff00"), *size, FETCH)
    # Fully opaque gives RGB; another aspect letterboxes the square with transparent bands.
    assert image.mode == ("RGB" if size[0] == size[1] else "RGBA")
    assert image.size == size
    translucent = rasterize(flat("#00ff00", 0.5), *size, FETCH)
    assert translucent.mode == "RGBA"
    assert translucent.size == size


def test_rasterize_scales_to_fill_the_requested_size() -> None:
    image = rasterize(flat("#0000ff"), 50, 50, FETCH)
    assert image.getpixel((0, 0)) == image.getpixel((49, 49)) == (0, 0, 255)


def test_rasterize_un_premultiplies_alpha() -> None:
    image = rasterize(flat("#ff0000", 0.5), 10, 10, FETCH)
    colours = {c for _, c in image.getcolors(maxcolors=100) or []}
    assert len(colours) == 1
    (pixel,) = colours
    assert close_to(pixel, (255, 0, 0, 128), 1), pixel


@pytest.mark.parametrize(
    ("fill", "opacity", "expected"),
    [
        ("#3366cc", 0.25, (0x33, 0x66, 0xCC, 64)),
        ("#ffffff", 0.75, (255, 255, 255, 191)),
        ("#00ff00", 1.0, (0, 255, 0, 255)),
    ],
)
def test_rasterize_colour_channels_are_straight_not_premultiplied(
    fill: str, opacity: float, expected: tuple[int, int, int, int]
) -> None:
    pixel = rasterize(flat(fill, opacity), 4, 4, FETCH).convert("RGBA").getpixel((2, 2))
    # cairo stores premultiplied 8-bit channels: one step of those is 255/alpha straight steps.
    assert close_to(pixel, expected, math.ceil(255 / expected[3])), pixel
    # Premultiplied output would be scaled down by alpha: far outside that tolerance.
    assert expected[3] == 255 or not close_to(pixel[:3], premultiplied(expected), 4)


def test_rasterize_keeps_a_transparent_background() -> None:
    image = rasterize(svg('<rect x="5" width="5" height="10" fill="#000"/>'), 10, 10, FETCH)
    assert image.getpixel((1, 5)) == (0, 0, 0, 0)
    assert image.getpixel((8, 5)) == (0, 0, 0, 255)


# --- encode ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_encode_decodes_to_the_right_size_and_format(
    fmt: str, opaque: Image.Image, translucent: Image.Image
) -> None:
    for image in (opaque, translucent):
        out = decode(encode(image, fmt, None, EncodeOptions()))
        assert out.format == PIL_NAMES[fmt]
        assert out.size == image.size


def test_png_of_an_opaque_image_is_rgb(opaque: Image.Image) -> None:
    out = decode(encode(opaque, "png", None, EncodeOptions()))
    assert out.mode == "RGB"
    assert out.tobytes() == opaque.convert("RGB").tobytes(), "PNG is lossless"


def test_png_of_a_translucent_image_is_rgba(translucent: Image.Image) -> None:
    out = decode(encode(translucent, "png", None, EncodeOptions()))
    assert out.mode == "RGBA"
    assert out.tobytes() == translucent.tobytes()


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_lossy_formats_keep_alpha(fmt: str, translucent: Image.Image) -> None:
    out = decode(encode(translucent, fmt, None, EncodeOptions())).convert("RGBA")
    alpha = out.getpixel((16, 12))
    assert isinstance(alpha, tuple)
    assert abs(alpha[3] - 128) <= 4


def test_jpeg_flattens_translucent_pixels_onto_white(translucent: Image.Image) -> None:
    out = decode(encode(translucent, "jpeg", 95, EncodeOptions()))
    assert out.mode == "RGB"
    assert close_to(out.getpixel((16, 12)), (255, 128, 128), 6), out.getpixel((16, 12))


def test_jpeg_of_a_fully_transparent_image_is_white() -> None:
    clear = rasterize(svg(""), 16, 16, FETCH)
    out = decode(encode(clear, "jpeg", None, EncodeOptions()))
    assert close_to(out.getpixel((8, 8)), (255, 255, 255), 2)


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif"])
def test_quality_changes_the_size(fmt: str, detailed: Image.Image) -> None:
    low = encode(detailed, fmt, 20, EncodeOptions())
    high = encode(detailed, fmt, 95, EncodeOptions())
    assert len(low) < len(high)


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("jpeg", EncodeOptions(jpeg_quality=30)),
        ("webp", EncodeOptions(webp_quality=30)),
        ("avif", EncodeOptions(avif_quality=30)),
    ],
)
def test_no_quality_means_the_configured_default(
    fmt: str, options: EncodeOptions, detailed: Image.Image
) -> None:
    assert encode(detailed, fmt, None, options) == encode(detailed, fmt, 30, EncodeOptions())
    assert encode(detailed, fmt, None, options) != encode(detailed, fmt, None, EncodeOptions())


def test_avif_tune_reaches_libaom(detailed: Image.Image) -> None:
    psnr = encode(detailed, "avif", None, EncodeOptions(avif_tune="psnr"))
    iq = encode(detailed, "avif", None, EncodeOptions(avif_tune="iq"))
    assert psnr != iq
    assert decode(psnr).size == decode(iq).size == detailed.size


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_encoder_is_deterministic(
    fmt: str, opaque: Image.Image, translucent: Image.Image, detailed: Image.Image
) -> None:
    for image in (opaque, translucent, detailed):
        first = encode(image, fmt, None, EncodeOptions())
        assert encode(image.copy(), fmt, None, EncodeOptions()) == first


# --- worker.run, in process -----------------------------------------------------------------

TEMPLATE = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="150">'
    b'<rect id="bg" data-pd-field="bg" width="300" height="150" fill="#ffffff"/>'
    b'<text data-pd-field="title" x="10" y="40" style="font-size:24px;font-family:sans-serif">'
    b"Title</text></svg>"
)


@pytest.fixture
def in_process_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    fonts = str(PROJECT_ROOT / "conf" / "fonts.conf")
    # init_worker sets FONTCONFIG_FILE; monkeypatch restores this process's value afterwards.
    monkeypatch.setenv("FONTCONFIG_FILE", fonts)
    worker.init_worker(WorkerConfig(fontconfig_file=fonts))


def write_template(tmp_path: Path, data: bytes = TEMPLATE) -> tuple[str, str]:
    path = tmp_path / "t.svg"
    path.write_bytes(data)
    return template_version(data), str(path)


@pytest.mark.usefixtures("in_process_worker")
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("size", [(300, 150), (120, 60), (64, 64)])
def test_worker_run_returns_encoded_bytes_of_the_job_size(
    tmp_path: Path, fmt: str, size: tuple[int, int]
) -> None:
    version, source = write_template(tmp_path)
    job = RenderJob(version, source, {"title": "Hello", "bg": "#336699"}, *size, format=fmt)
    output = worker.run(job)
    image = decode(output.data)
    assert image.format == PIL_NAMES[fmt]
    assert image.size == (output.width, output.height) == size
    assert output.draw_ms >= 0
    assert output.encode_ms >= 0


@pytest.mark.usefixtures("in_process_worker")
def test_worker_run_is_deterministic_and_applies_values(tmp_path: Path) -> None:
    version, source = write_template(tmp_path)
    job = RenderJob(version, source, {"bg": "#ff0000"}, 30, 15, "png")
    first = worker.run(job).data
    assert worker.run(job).data == first
    assert decode(first).convert("RGB").getpixel((29, 14)) == (255, 0, 0)
    other = worker.run(RenderJob(version, source, {"bg": "#0000ff"}, 30, 15, "png")).data
    assert decode(other).convert("RGB").getpixel((29, 14)) == (0, 0, 255)


@pytest.mark.usefixtures("in_process_worker")
def test_worker_run_refuses_a_source_that_does_not_hold_its_version(tmp_path: Path) -> None:
    _version, source = write_template(tmp_path)
    job = RenderJob("0123456789abcdef", source, {}, 30, 15, "png")
    with pytest.raises(JobFailed, match="does not hold version"):
        worker.run(job)


@pytest.mark.usefixtures("in_process_worker")
def test_worker_run_missing_source_is_job_failed(tmp_path: Path) -> None:
    job = RenderJob("fedcba9876543210", str(tmp_path / "gone.svg"), {}, 30, 15, "png")
    with pytest.raises(JobFailed):
        worker.run(job)


@pytest.mark.usefixtures("in_process_worker")
def test_worker_run_bad_embedded_image_is_the_inputs_fault(tmp_path: Path) -> None:
    garbage = base64.b64encode(b"this is not a png at all").decode()
    data = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="20" height="20"><image width="20" height="20"'
        f' xlink:href="data:image/png;base64,{garbage}"/></svg>'
    ).encode()
    version, source = write_template(tmp_path, data)
    with pytest.raises(JobError):
        worker.run(RenderJob(version, source, {}, 20, 20, "png"))


# --- colours CairoSVG misreads, rewritten by the worker (templates.normalize) --------------


@pytest.mark.usefixtures("in_process_worker")
@pytest.mark.parametrize(
    ("paint", "expected"),
    [
        ('fill="hsl(120, 100%, 25%)"', (0, 128, 0)),
        ('fill="rgb(0 128 0)"', (0, 128, 0)),
        ('fill="#ff000080"', (255, 127, 127)),
        ('style="fill:rgba(255, 0, 0, 50%)"', (255, 127, 127)),
        ('fill="red" fill-opacity="50%"', (255, 127, 127)),
    ],
)
def test_the_worker_draws_colours_cairosvg_misreads(
    tmp_path: Path, paint: str, expected: tuple[int, int, int]
) -> None:
    data = svg(
        f'<rect width="10" height="10" fill="#ffffff"/><rect width="10" height="10" {paint}/>'
    )
    version, source = write_template(tmp_path, data)
    output = worker.run(RenderJob(version, source, {}, 10, 10, "png"))
    image = decode(output.data).convert("RGB")
    assert close_to(image.getpixel((5, 5)), expected, 1), image.getpixel((5, 5))

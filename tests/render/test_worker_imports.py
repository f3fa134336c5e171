"""A render worker loads the render path and nothing else: not the server's stack (aiohttp,
pydantic, cryptography), and numpy only once a document has a filter to draw."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.render.job import RenderJob, WorkerConfig
from pixeldrive.render.pool import PoolLimits, RenderPool
from pixeldrive.templates.model import compile_template
from pixeldrive.templates.version import template_version

CONFIG = WorkerConfig(fontconfig_file=str(PROJECT_ROOT / "conf" / "fonts.conf"))
# Packages with compiled parts, so that /proc/<pid>/maps shows whether they were imported.
SERVER_ONLY = ("aiohttp", "pydantic_core", "cryptography")
BLURRED = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40">'
    b'<filter id="soft"><feGaussianBlur stdDeviation="2"/></filter>'
    b'<rect width="60" height="20" x="10" y="10" fill="#36c" filter="url(#soft)"/></svg>'
)


def loaded_packages(pid: int) -> set[str]:
    """The site-packages directories with a file mapped into process `pid`."""
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        _, marker, rest = line.partition("-packages/")
        if marker:
            found.add(rest.split("/")[0].split(".")[0])
    return found


@pytest.fixture
async def pool() -> AsyncIterator[RenderPool]:
    started = RenderPool(PoolLimits(1, 1, 60.0, 0), CONFIG)
    await started.start()
    yield started
    await started.close()


async def test_a_worker_does_not_load_the_server(pool: RenderPool) -> None:
    (pid,) = pool.pids()
    for path in sorted((PROJECT_ROOT / "svg_templates").glob("*.svg")):
        template = compile_template(path.stem, path.read_bytes(), max_image_bytes=10**7)
        fields = template.validate(template.preview_values())
        for fmt in ("png", "jpeg", "webp", "avif", "pdf", "svg"):
            job = RenderJob(
                template.version, str(path), fields, template.width, template.height, fmt
            )
            await pool.render(job)
    loaded = loaded_packages(pid)
    assert {"lxml", "uharfbuzz", "PIL"} <= loaded  # the check sees what is there
    assert not loaded & {*SERVER_ONLY, "numpy"}


async def test_numpy_comes_with_the_first_filter(pool: RenderPool, tmp_path: Path) -> None:
    (pid,) = pool.pids()
    source = tmp_path / "blurred.svg"
    source.write_bytes(BLURRED)
    await pool.render(RenderJob(template_version(BLURRED), str(source), {}, 80, 40, "png"))
    loaded = loaded_packages(pid)
    assert "numpy" in loaded
    assert not loaded & set(SERVER_ONLY)

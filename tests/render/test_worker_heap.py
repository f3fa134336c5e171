"""A render worker gives its free heap back once idle (render/heap.py), and keeps it
while busy."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.render.job import RenderJob, WorkerConfig
from pixeldrive.render.pool import PoolLimits, RenderPool
from pixeldrive.templates.model import compile_template

FONTS = str(PROJECT_ROOT / "conf" / "fonts.conf")
MIB = 2**20


def anonymous_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon")


async def busy_then_idle(idle_release_seconds: float) -> tuple[int, int]:
    """A worker's anonymous memory right after a burst of large renders, and 1 s later."""
    pool = RenderPool(
        PoolLimits(1, 1, 60.0, 0),
        WorkerConfig(fontconfig_file=FONTS, idle_release_seconds=idle_release_seconds),
    )
    await pool.start()
    try:
        (pid,) = pool.pids()
        for name in ("quote", "product", "og-card", "certificate") * 2:
            path = PROJECT_ROOT / "svg_templates" / f"{name}.svg"
            template = compile_template(name, path.read_bytes(), max_image_bytes=10**7)
            fields = template.validate(template.preview_values())
            for fmt in ("png", "avif"):
                await pool.render(RenderJob(template.version, str(path), fields, 1600, 1600, fmt))
        busy = anonymous_bytes(pid)
        await asyncio.sleep(max(1.0, idle_release_seconds + 0.7))
        return busy, anonymous_bytes(pid)
    finally:
        await pool.close()


async def test_an_idle_worker_gives_its_free_heap_back() -> None:
    busy, idle = await busy_then_idle(0.3)
    assert idle < busy - 10 * MIB, (busy / MIB, idle / MIB)


async def test_without_the_release_the_heap_stays() -> None:
    busy, idle = await busy_then_idle(0)
    assert idle > busy - 2 * MIB, (busy / MIB, idle / MIB)

"""Render worker processes as the tests see them, from /proc."""

from __future__ import annotations

import os
from pathlib import Path


def worker_pids(*, live: bool = False) -> list[int]:
    """Render workers: spawned children of this process (multiprocessing's spawn_main).
    With `live`, a worker that has exited but not been waited for (a zombie) is left out."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if int(ppid) != os.getpid() or b"spawn_main" not in cmdline:
            continue
        if live and state == "Z":
            continue
        pids.append(int(entry.name))
    return pids

"""Processes as the tests see them: render workers from /proc, servers stopped."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# CPU a worker must have used since it was idle to count as drawing: two clock ticks, so
# that reading the job is not mistaken for drawing it.
DRAWING_CPU_SECONDS = 0.02


def worker_pids(*, live: bool = False, parent: int | None = None) -> list[int]:
    """Render workers: children of `parent` running the render process (pool.WORKER_CODE), by
    default this process. With `live`, a worker that has exited but not been waited for (a
    zombie) is left out."""
    parent = os.getpid() if parent is None else parent
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
        if int(ppid) != parent or b"pixeldrive.render.worker" not in cmdline:
            continue
        if live and state == "Z":
            continue
        pids.append(int(entry.name))
    return pids


def running(pid: int) -> bool:
    """Whether process `pid` is still there and not a zombie (an exited process whose
    parent died is reaped by init, here in its own good time)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process `pid` has used so far."""
    fields = (Path("/proc") / str(pid) / "stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drawing(pid: int, idle_cpu: float) -> bool:
    """Whether worker `pid`, idle when it had used `idle_cpu` seconds of CPU, has since
    taken a job and is drawing it (an idle worker waits on its socket and uses none)."""
    return cpu_seconds(pid) - idle_cpu >= DRAWING_CPU_SECONDS


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it is still running after 30 s; waited for either way."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

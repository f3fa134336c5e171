"""Helpers shared by the benchmark scripts: starting and stopping `pixeldrive serve`, free
ports, wrk, markdown tables and the README sections between markers.

Imported by ``bench/core.py`` and ``bench/load.py`` (run as scripts, so ``bench/`` is on
``sys.path``). Nothing here loads cairo, so importing it before ``FONTCONFIG_FILE`` is set
is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
HOST = "127.0.0.1"
STOP_GRACE_S = 5.0
READY_TIMEOUT_S = 60.0


# ---- subprocesses -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running(
    cmd: Sequence[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `cmd` in its own process group; on exit SIGTERM it, SIGKILL after 5 s, and kill
    whatever it left behind in its group (render workers)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group we created: leftovers only


async def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited ({proc.returncode}); see {log}:\n{tail(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{base}/readyz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base}/readyz not 200 after {READY_TIMEOUT_S:g} s:\n{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def pixeldrive_command(port: int) -> list[str]:
    script = Path(sys.executable).parent / "pixeldrive"
    exe = [str(script)] if script.exists() else [sys.executable, "-m", "pixeldrive.cli"]
    return [*exe, "serve", "--host", HOST, "--port", str(port)]


def pixeldrive_env(state_dir: Path, workers: int, **extra: str) -> dict[str, str]:
    """The environment for `pixeldrive serve`: ours without any PIXELDRIVE_* setting, then a
    fresh state dir, `workers` render processes, auth off (loopback) and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELDRIVE_")}
    env.update(
        PIXELDRIVE_STATE_DIR=str(state_dir),
        PIXELDRIVE_WORKERS=str(workers),
        PIXELDRIVE_AUTH="off",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)  # may turn auth on
    return env


@dataclass(frozen=True, slots=True)
class Server:
    """A running `pixeldrive serve`: its URL, its process and its log file."""

    base: str
    proc: subprocess.Popen[bytes]
    log: Path


def start_pixeldrive(stack: contextlib.ExitStack, workers: int, work: Path, **extra: str) -> Server:
    """`pixeldrive serve` with a fresh state dir, stopped when `stack` closes; ready (its
    /readyz answered 200) when this returns."""
    port = free_port()
    state = Path(tempfile.mkdtemp(prefix=f"state-w{workers}-", dir=work))  # fresh every time
    env = pixeldrive_env(state, workers, **extra)
    log = state.with_suffix(".log")
    proc = stack.enter_context(running(pixeldrive_command(port), env, log))
    base = f"http://{HOST}:{port}"
    asyncio.run(wait_ready(base, proc, log))
    return Server(base, proc, log)


# ---- processes and their memory ----------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcStat:
    ppid: int
    cpu: int  # clock ticks: utime + stime
    reaped: int  # clock ticks of its children that it has waited for: cutime + cstime


def scan_proc() -> dict[int, ProcStat]:
    """ppid and CPU ticks of every process, from /proc/*/stat."""
    found: dict[int, ProcStat] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone between listing and reading
            continue
        # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after
        # it; then field n of proc(5) is rest[n - 3].
        rest = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = ProcStat(
            int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])
        )
    return found


def process_tree(root: int, procs: dict[int, ProcStat]) -> list[int]:
    """`root` and all its descendants, found through their ppid."""
    children: dict[int, list[int]] = {}
    for pid, stat in procs.items():
        children.setdefault(stat.ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def rss_bytes(pid: int) -> int:
    """VmRSS of one process; 0 when it is gone (or a zombie, which has none)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> tuple[int, dict[int, int]]:
    """(VmRSS summed over `root` and its descendants, VmRSS per pid)."""
    sizes = {pid: rss_bytes(pid) for pid in process_tree(root, scan_proc())}
    return sum(sizes.values()), sizes


class PeakRss:
    """In a thread, every `every` seconds until closed: the VmRSS of a process tree. Keeps
    the peak sum and every pid seen (a worker replaced shows as a new pid)."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid = pid
        self.every = every
        self.peak = 0
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)

    def _run(self) -> None:
        while True:
            total, sizes = tree_rss(self.pid)
            self.peak = max(self.peak, total)
            self.pids.update(sizes)
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ---- wrk ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wrk:
    """One wrk run: requests/s, latency percentiles (ms, from --latency), the answers that
    were not 2xx/3xx, and socket errors (connect, read, write, timeout)."""

    rps: float
    requests: int
    latency_ms: dict[str, float]  # "50", "75", "90", "99"
    non2xx: int
    socket_errors: int

    @property
    def p50_ms(self) -> float:
        return self.latency_ms["50"]

    @property
    def p90_ms(self) -> float:
        return self.latency_ms["90"]

    @property
    def p99_ms(self) -> float:
        return self.latency_ms["99"]

    @property
    def errors(self) -> int:
        return self.non2xx + self.socket_errors


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, duration: int, threads: int, connections: int) -> Wrk:
    cmd = [*wrk_command(threads, connections, duration), url]
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    return parse_wrk(out)


def wrk_command(threads: int, connections: int, duration: int) -> list[str]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: run the bench/ wrapper script, which installs it")
    return [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]


def parse_wrk(out: str) -> Wrk:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    latency = {
        m.group(1): float(m.group(2)) * _UNIT_MS[m.group(3)]
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    }
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Wrk(
        float(rps.group(1)),
        int(total.group(1)),
        latency,
        int(non2xx.group(1)) if non2xx else 0,
        socket_errors,
    )


def wrk_version() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "not installed"
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"wrk (\S+)", out)
    return match.group(1) if match else "unknown"


# ---- report -------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value: float) -> str:
    return f"{value:.1f}"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def machine_line() -> str:
    """nproc, CPU model and load average, as one markdown list item."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"- nproc {os.cpu_count()}, CPU {cpu_model()}, load average at start {load}"


def python_version() -> str:
    return platform.python_version()


def command_line(script: str, argv: Sequence[str]) -> str:
    """The command as the wrapper script was called (it exports BENCH_COMMAND), else as
    `python bench/<script>`."""
    return os.environ.get("BENCH_COMMAND") or shlex.join(["python", f"bench/{script}", *argv])


def section(begin: str, end: str, body: str, facts: str, command: str, started: dt.datetime) -> str:
    date = started.strftime("%Y-%m-%d %H:%M UTC")
    return f"{begin}\nLast run: {date}\n\n{facts}\n\nCommand: `{command}`\n\n{body}\n{end}"


def publish(text: str, begin: str, end: str, *, write: bool) -> None:
    """Print a benchmark's section; with `write`, also put it in bench/README.md."""
    print(text)
    if write:
        write_readme(text, begin, end)
        print(f"wrote {README.relative_to(ROOT)}")


def write_readme(text: str, begin: str, end: str) -> None:
    """Replace what lies between `begin` and `end` in bench/README.md (markers included)
    with `text`; append `text` when the markers are missing. Written atomically."""
    current = README.read_text(encoding="utf-8") if README.exists() else ""
    start, stop_at = current.find(begin), current.find(end)
    if start == -1 or stop_at < start:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    else:
        updated = current[:start] + text + current[stop_at + len(end) :]
    tmp = README.with_suffix(".md.tmp")
    tmp.write_text(updated, encoding="utf-8")
    tmp.replace(README)


def source_state() -> str:
    """The commit measured, and whether the working tree differed from it (read only)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "-C",
                str(ROOT),
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "pixeldrive",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' with uncommitted changes in pixeldrive/' if dirty else ''}"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linear between closest ranks; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def fmt_ms(value: float) -> str:
    return "—" if value != value else ms(value)  # NaN: no samples


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

"""Content-addressed, checksummed, byte-bounded on-disk cache tier that survives restarts."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import errno
import itertools
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pixeldrive.cache.framing import DIGEST_SIZE, header, unframe
from pixeldrive.cache.tier import TierStats, is_valid_variant

MAGIC = b"PDC1"
HEADER_SIZE = len(MAGIC) + DIGEST_SIZE
TMP_PREFIX = ".tmp-"
EVICT_TO_FRACTION = 0.9
LOG_INTERVAL_S = 60.0

log = logging.getLogger("pixeldrive.cache.disk")


class _Outcome(enum.Enum):
    MISSING = enum.auto()
    CORRUPT = enum.auto()


# Blocking helpers below run only in worker threads (but `_on_disk`) and never touch
# DiskTier state.


def _read_entry(path: Path) -> bytes | _Outcome:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return _Outcome.MISSING
    payload = unframe(MAGIC, raw)
    if payload is None:
        path.unlink(missing_ok=True)
        return _Outcome.CORRUPT
    # mtime is the recency hint open() uses after a restart; losing it only costs LRU accuracy.
    with contextlib.suppress(OSError):
        os.utime(path)
    return payload


def _on_disk(path: Path) -> bool:
    """Whether a file may be at `path`, by one stat: the one filesystem call made on the
    event loop (DiskTier.get), since a thread hop costs fifty times more. Only "not
    there" is False: any other error is left to the read, which reports it."""
    try:
        path.stat()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    return True


def _write_entry(path: Path, data: bytes) -> int:
    """Atomically write ``data`` framed with magic and checksum; return the file size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(header(MAGIC, data))
            fh.write(data)
        # No fsync: a torn file after a crash fails its checksum and is re-rendered.
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    return HEADER_SIZE + len(data)


def _unlink_all(paths: list[Path]) -> list[OSError]:
    """Delete every path, continuing past failures, and return the failures."""
    failures: list[OSError] = []
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            failures.append(exc)
    return failures


def _scan_shard(shard: Path, found: list[tuple[str, int, float]]) -> None:
    for entry in shard.iterdir():
        name = entry.name
        try:
            if name.startswith(TMP_PREFIX):
                # Leftover of a write interrupted by a crash; never renamed, never valid.
                entry.unlink(missing_ok=True)
            elif is_valid_variant(name) and name[:2] == shard.name:
                st = entry.stat()
                found.append((name, st.st_size, st.st_mtime))
        except FileNotFoundError:
            continue


def _scan(root: Path) -> list[tuple[str, int, float]]:
    """Create ``root`` if needed, drop stale temp files, list (variant, size, mtime)."""
    root.mkdir(parents=True, exist_ok=True)
    found: list[tuple[str, int, float]] = []
    for shard in root.iterdir():
        if len(shard.name) == 2 and shard.is_dir():
            _scan_shard(shard, found)
    return found


@dataclass(frozen=True, slots=True)
class DiskWrite:
    """One entry written by another process that has the bytes first (a render worker):
    atomically, in the tier's format, at the path the tier will look for it. The tier's
    index is then told (`DiskTier.adopt`) on the event loop."""

    path: str
    max_bytes: int

    def write(self, data: bytes) -> int | None:
        """The file's size, or None when the entry is too big for the tier or the write
        failed; then the tier's own `put` stores (or declines) it and reports any error."""
        if HEADER_SIZE + len(data) > self.max_bytes:
            return None
        try:
            return _write_entry(Path(self.path), data)
        except OSError:
            return None


class DiskTier:
    """Cache tier storing each variant as ``root/<first 2 chars>/<variant>``.

    File format: ``b"PDC1"`` + sha256(payload) + payload, written atomically (temp file in
    the same directory, then ``os.replace``). Sizes (``stats().bytes``, ``max_bytes``)
    count whole files. A file larger than ``max_bytes`` is not stored; once a put pushes
    the total over ``max_bytes``, LRU files are evicted down to 90 % of it. Await
    ``open()`` at start-up to index existing files; files written by another process
    under the same root are adopted when first read. A render worker writes the file of
    the image it drew itself (``writer``), and the tier only indexes it (``adopt``).

    Ownership rule: every filesystem call runs in a worker thread (``asyncio.to_thread``),
    but one: ``get`` of a variant the index does not hold first checks with a stat on the
    event loop that no other process wrote it (a local directory answers that in
    microseconds, much less than a thread hop costs). The index, byte total and counters
    are touched only on the event-loop thread, before or after the awaited call, so no
    locks are needed. Use one instance per event loop.

    ``OSError`` never escapes get/put/delete/open: it is counted in ``errors``, logged
    (at most once per errno per minute) and treated as a miss or a skipped write.
    ``ValueError`` is raised for variants that fail ``VARIANT_RE``.
    """

    name: str = "disk"

    def __init__(self, root: Path, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self._root = Path(root)
        self._max_bytes = max_bytes
        self._index: dict[str, tuple[int, int]] = {}  # variant -> (file size, last access)
        self._total = 0
        self._clock = itertools.count()
        self._last_logged: dict[str, float] = {}
        self.corrupt = 0
        self.errors = 0
        self.evictions = 0

    def path_for(self, variant: str) -> Path:
        """Return the file path for ``variant``; ``ValueError`` if it is not a valid variant."""
        if not is_valid_variant(variant):
            raise ValueError(f"invalid cache variant: {variant!r}")
        return self._root / variant[:2] / variant

    async def open(self) -> None:
        """Index files already on disk (oldest mtime = least recent), drop stale temp files."""
        try:
            found = await asyncio.to_thread(_scan, self._root)
        except OSError as exc:
            self._report("open", self._root, exc)
            return
        for variant, size, _mtime in sorted(found, key=lambda item: item[2]):
            if variant not in self._index:  # a put that raced the scan is newer
                self._remember(variant, size)
        await self.trim(keep=None)

    async def get(self, variant: str) -> bytes | None:
        """See ``CacheTier.get``; corrupt files are deleted and counted in ``corrupt``."""
        path = self.path_for(variant)
        if variant not in self._index and not _on_disk(path):
            return None  # the usual miss: one stat, no thread
        try:
            result = await asyncio.to_thread(_read_entry, path)
        except OSError as exc:
            self._report("get", path, exc)
            return None
        if isinstance(result, bytes):
            self._remember(variant, HEADER_SIZE + len(result))
            await self.trim(keep=variant)
            return result
        self._forget(variant)
        if result is _Outcome.CORRUPT:
            self.corrupt += 1
            self._warn("corrupt", "deleted corrupt disk cache file %s", path)
        return None

    async def put(self, variant: str, data: bytes) -> None:
        """See ``CacheTier.put``; a failed write leaves any previous file intact."""
        path = self.path_for(variant)
        if HEADER_SIZE + len(data) > self._max_bytes:
            await self.delete(variant)  # never keep serving an older value we declined to replace
            return
        try:
            size = await asyncio.to_thread(_write_entry, path, data)
        except OSError as exc:
            self._report("put", path, exc)
            return
        self._remember(variant, size)
        await self.trim(keep=variant)

    def writer(self, variant: str) -> DiskWrite | None:
        """See ``Adopting.writer``: the file for ``variant``, within this tier's bound;
        None when the tier keeps nothing (``max_bytes`` 0)."""
        if not self._max_bytes:
            return None
        return DiskWrite(str(self.path_for(variant)), self._max_bytes)

    def adopt(self, variant: str, size: int) -> bool:
        """See ``Adopting.adopt``: index a file ``writer(variant)`` wrote."""
        self._remember(variant, size)
        return self._total > self._max_bytes

    async def delete(self, variant: str) -> None:
        """See ``CacheTier.delete``."""
        path = self.path_for(variant)
        try:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        except OSError as exc:
            self._report("delete", path, exc)
            return
        self._forget(variant)

    def stats(self) -> TierStats:
        """Indexed entries and their total file size in bytes."""
        return TierStats(entries=len(self._index), bytes=self._total)

    def _remember(self, variant: str, size: int) -> None:
        self._forget(variant)
        self._index[variant] = (size, next(self._clock))
        self._total += size

    def _forget(self, variant: str) -> None:
        entry = self._index.pop(variant, None)
        if entry is not None:
            self._total -= entry[0]

    async def trim(self, keep: str | None) -> None:
        """Evict LRU files down to 90 % of ``max_bytes`` once over it, sparing ``keep``
        (``Adopting.trim``)."""
        if self._total <= self._max_bytes:
            return
        target = self._max_bytes * EVICT_TO_FRACTION
        victims: list[Path] = []
        # Victims leave the index before the await so concurrent evictions never pick them twice.
        for variant, _ in sorted(self._index.items(), key=lambda item: item[1][1]):
            if self._total <= target:
                break
            if variant != keep:
                self._forget(variant)
                victims.append(self.path_for(variant))
        self.evictions += len(victims)
        for exc in await asyncio.to_thread(_unlink_all, victims):
            self._report("evict", Path(exc.filename or "?"), exc)

    def _report(self, op: str, path: Path, exc: OSError) -> None:
        self.errors += 1
        kind = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        self._warn(kind, "disk cache %s failed for %s: %s [%s]", op, path, exc, kind)

    def _warn(self, kind: str, msg: str, *args: object) -> None:
        """Log ``msg`` unless the same kind was logged within the last minute."""
        now = time.monotonic()
        last = self._last_logged.get(kind)
        if last is not None and now - last < LOG_INTERVAL_S:
            return
        self._last_logged[kind] = now
        log.warning(msg, *args)

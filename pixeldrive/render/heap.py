"""The C heap of a render process: give its free pages back to the system.

A render allocates megabytes of pixels, surfaces and encoder buffers and frees them; glibc
keeps the freed memory for the next one (after the first frees it serves blocks up to tens
of MiB from its heap instead of fresh mappings), so a busy worker's RSS held some 55 MiB
of free heap. `malloc_trim(0)` returns those pages. A worker calls it once it has been
idle for `WorkerConfig.idle_release_seconds` (5 s), not after every render: the pages
given back are faulted in again by the next render, which cost 10–20 % of render time
when trimmed after every render. So a busy worker keeps its heap, and only the first
render after a pause pays (a few ms).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)  # glibc only
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _malloc_trim()


def release() -> bool:
    """Give the heap's free pages back; whether anything was released (False where the C
    library has no malloc_trim)."""
    return bool(_TRIM(0)) if _TRIM is not None else False

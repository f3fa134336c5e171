"""Files only their owner may read: the state directory (0700) and the files in it that
hold secrets (0600: the SQLite database and its -wal and -shm, everything in `secrets/`).

They are created with those modes, never chmod'ed after a window in which another user
could open them: a file is made by `os.open(…, 0o600)` and a directory by
`mkdir(mode=0o700)` (the umask can only take bits away). Ones left looser by an older
version, or by hand, are tightened when a server or a command opens the state.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SECRETS_DIR = "secrets"
# SQLite gives its -wal and -shm files the database file's own mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """`path` as a 0700 directory: created so (missing parents with the default mode), or
    tightened to it. Returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=DIR_MODE)
    except FileExistsError:
        tighten(path, DIR_MODE)
    return path


def tighten(path: Path, mode: int) -> None:
    """Take away every permission bit of `path` that `mode` does not have (0644 → 0600);
    nothing when it is already as tight, or missing."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        path.chmod(current & mode)


def private_file(path: Path) -> Path:
    """`path` as an existing 0600 file: created empty so, or tightened. Its directory is
    made private too. Returns `path`."""
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.close(fd)
    tighten(path, FILE_MODE)
    return path


def write_private(path: Path, data: bytes, *, replace: bool) -> None:
    """Write `data` to a 0600 temp file beside `path` (in a 0700 directory), then rename
    it over `path` (replace=True) or hard-link it into place, failing with
    FileExistsError (replace=False): a reader never sees a half-written file."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            tmp.replace(path)
        else:
            path.hardlink_to(tmp)
    finally:
        tmp.unlink(missing_ok=True)


def secure_state_dir(state_dir: Path, database: Path) -> None:
    """Make the state directory private, and tighten what holds secrets in it: the
    SQLite database with its companions, and the `secrets/` directory and its files."""
    private_dir(state_dir)
    secure_sqlite_files(database)
    secrets_dir = state_dir / SECRETS_DIR
    if secrets_dir.is_dir():
        tighten(secrets_dir, DIR_MODE)
        for path in secrets_dir.iterdir():
            if path.is_file():
                tighten(path, FILE_MODE)


def secure_sqlite_files(database: Path) -> None:
    """Tighten the database file and the companions SQLite keeps beside it."""
    for path in (database, *(database.with_name(database.name + s) for s in SQLITE_COMPANIONS)):
        tighten(path, FILE_MODE)

"""Which state directory (or database) a command uses, said on stderr; a command that only
reads keys or fonts refuses a state that is not there rather than make an empty one
(run from another directory, the default `./var` is another, empty state)."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from pixeldrive.cli.mistakes import CommandError
from pixeldrive.core.config import Settings, state_dir_origin

POINT_IT = (
    "point --state-dir, PIXELDRIVE_STATE_DIR or state_dir (conf/pixeldrive.toml) at the "
    "server's state directory"
)


def where(settings: Settings, *, flag: bool) -> str:
    """The state directory, absolute, and the setting that chose it."""
    origin = "--state-dir" if flag else state_dir_origin()
    relative = "" if settings.state_dir.is_absolute() else ", relative to this directory"
    return f"{settings.state_dir.absolute()} ({origin}{relative})"


def announce(settings: Settings, *, flag: bool) -> None:
    """One line on stderr: where this command's keys and fonts are."""
    if settings.database_url:
        parts = urlsplit(settings.database_url)
        database = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
        place = f"PostgreSQL at {database} (PIXELDRIVE_DATABASE_URL)"  # never the password
    else:
        place = f"state directory {where(settings, flag=flag)}"
    print(f"pixeldrive: using {place}", file=sys.stderr, flush=True)


def require_state(settings: Settings, *, flag: bool) -> None:
    """CommandError (exit 2) unless the state this command reads exists; nothing is
    created. In cluster mode the keys are in PostgreSQL: there is nothing to check here."""
    if settings.database_url or settings.database_path.is_file():
        return
    missing = "no directory" if not settings.state_dir.exists() else "no database in it"
    raise CommandError(
        f"no PixelDrive state at {where(settings, flag=flag)}: {missing}, and none is "
        f"made; run this where the server runs, or {POINT_IT}"
    )

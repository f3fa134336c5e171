"""What went wrong on the command line, said in one line (the problem, then the fix), and
the exit status: 2 when the command line or the configuration is wrong, 1 when it was right
but the work could not be done. Exceptions are translated here once, by type."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path

from pydantic import ValidationError

from pixeldrive.core.errors import (
    PixelDriveError,
    SecretsKeyError,
    UnknownTemplate,
    problem_line,
)

USAGE = 2  # the command line or the configuration is wrong: fix it and run again
FAILED = 1  # the command was right; the work could not be done
INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class CommandError(Exception):
    """A mistake or a failure said in one line: what is wrong, then how to fix it."""

    def __init__(self, message: str, *, status: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def explain(exc: BaseException) -> CommandError | None:
    """The one line for an exception a user's mistake or the machine can cause; None for
    anything else (a bug, whose traceback is wanted)."""
    if isinstance(exc, CommandError):
        return exc
    if isinstance(exc, UnknownTemplate):
        return unknown_template(exc.template_id, exc.known)
    if isinstance(exc, SecretsKeyError):  # a setting to fix (or a key file to restore)
        return CommandError(exc.detail)
    if isinstance(exc, PixelDriveError):
        return CommandError(
            problem_line(exc.problem()), status=USAGE if exc.status < 500 else FAILED
        )
    if isinstance(exc, ValidationError):
        return _invalid(exc)
    if isinstance(exc, tomllib.TOMLDecodeError):
        return CommandError(
            f"the configuration file is not valid TOML ({exc}); fix conf/pixeldrive.toml "
            "or the file PIXELDRIVE_CONFIG names"
        )
    if isinstance(exc, OSError) and exc.filename is not None:
        return _file_problem(exc, str(exc.filename))
    if isinstance(exc, ValueError):
        return CommandError(str(exc))
    if isinstance(exc, OSError):
        return CommandError(str(exc), status=FAILED)
    if isinstance(exc, KeyboardInterrupt):
        return CommandError("interrupted", status=INTERRUPTED)
    return None


def _file_problem(exc: OSError, name: str) -> CommandError:
    """A file named on the command line that could not be used (where no command said
    more about what it wanted)."""
    if isinstance(exc, FileNotFoundError):
        where = "" if Path(name).is_absolute() else f" in {Path.cwd()}"
        return CommandError(f"no file {name!r}{where}; check the path")
    if isinstance(exc, IsADirectoryError):
        return CommandError(f"{name!r} is a directory; name a file")
    return CommandError(f"{name}: {exc.strerror}", status=FAILED)


def unknown_template(template_id: str, known: tuple[str, ...]) -> CommandError:
    if not known:
        return CommandError(
            f"no template {template_id!r}, and no template at all: PIXELDRIVE_TEMPLATES_DIR "
            "(templates_dir) names the directory of SVG templates"
        )
    close = difflib.get_close_matches(template_id, known, n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    return CommandError(
        f"no template {template_id!r}{guess}; the templates are: {', '.join(known)}"
    )


def _invalid(exc: ValidationError) -> CommandError:
    """A pydantic error on one line: each value named by its dotted place."""
    problems = "; ".join(
        (".".join(str(part) for part in error["loc"]) + ": " if error["loc"] else "")
        + str(error["msg"]).removeprefix("Value error, ")
        for error in exc.errors(include_url=False)
    )
    if exc.title == "Settings":
        return CommandError(
            f"bad setting: {problems} (fix conf/pixeldrive.toml, the file PIXELDRIVE_CONFIG "
            "names, or the PIXELDRIVE_* environment variable)"
        )
    return CommandError(problems)


def read_input(path: Path, what: str, fix: str) -> bytes:
    """The bytes of a file a command was told to read. `what` names where the path came
    from (`avatar=@me.jpg`), `fix` says what to give instead."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        where = "" if path.is_absolute() else f" in {Path.cwd()}"
        raise CommandError(f"{what}: no file {str(path)!r}{where}; {fix}") from None
    except IsADirectoryError:
        raise CommandError(f"{what}: {str(path)!r} is a directory; {fix}") from None
    except PermissionError:
        raise CommandError(
            f"{what}: no permission to read {str(path)!r}; make it readable, or {fix}"
        ) from None


def as_text(data: bytes, what: str, fix: str) -> str:
    """`data` as UTF-8 text (a byte-order mark dropped), or the mistake said."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(f"{what}: not UTF-8 text; {fix}") from None


def output_path(path: Path, option: str) -> None:
    """Refuse, before any work, an output whose directory is not there."""
    parent = path.parent
    if not parent.exists():
        raise CommandError(f"{option} {path}: no directory {str(parent)!r}; create it first")
    if not parent.is_dir():
        raise CommandError(f"{option} {path}: {str(parent)!r} is not a directory")
    if path.is_dir():
        raise CommandError(f"{option} {path}: a directory; name a file, e.g. {path / 'card.png'}")

"""A user's mistakes on the command line: each is one line naming the problem and the fix,
exit status 2 for a mistake in the command line or the settings and 1 for work that could not
be done, and never a traceback. Each mistake as a new user makes it, then variants."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pixeldrive.cli import main
from pixeldrive.core.config import PROJECT_ROOT

TEMPLATES = "certificate, og-card, product, quote"


def check_said(code: int, out: str, err: str) -> tuple[int, str, str]:
    assert "Traceback" not in err + out, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return code, lines[0], out


def said(*args: str, cwd: Path, **env: str) -> tuple[int, str, str]:
    """Run `pixeldrive ARGS` as a user does, in `cwd`: its exit status, its one line on
    stderr, and stdout. Fails unless stderr is one line and nothing is a traceback."""
    done = subprocess.run(
        [sys.executable, "-m", "pixeldrive.cli", *args],
        cwd=cwd,
        env={**os.environ, "PIXELDRIVE_STATE_DIR": str(cwd / "state"), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return check_said(done.returncode, done.stdout, done.stderr)


Said = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Said:
    """`said`, in this process (no interpreter to start): for the variants. An exception
    that escaped `main` would fail the test, as a traceback would show to a user."""

    def run(*args: str, cwd: Path, **env: str) -> tuple[int, str, str]:
        monkeypatch.chdir(cwd)
        monkeypatch.setenv("PIXELDRIVE_STATE_DIR", str(cwd / "state"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own exit
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return check_said(code, out, err)

    return run


# --- render: a missing @file --------------------------------------------------------------


def test_render_with_a_missing_image_file(tmp_path: Path) -> None:
    # The README's own command, before it shipped its image: `avatar=@me.jpg`.
    code, line, out = said(
        "render", "og-card", "title=Hi", "avatar=@me.jpg", "-o", "card.webp", cwd=tmp_path
    )
    assert code == 2
    assert line == (
        f"pixeldrive: avatar=@me.jpg: no file 'me.jpg' in {tmp_path}; give the path of an "
        "image (.png .jpg .webp .gif) or of a UTF-8 text file"
    )
    assert out == ""
    assert not (tmp_path / "card.webp").exists()


@pytest.mark.parametrize(
    ("make", "item", "wording"),
    [
        (None, "title=@notes.txt", "title=@notes.txt: no file 'notes.txt' in "),
        ("dir", "avatar=@photos", "avatar=@photos: 'photos' is a directory; give the path"),
        ("latin1", "title=@notes.txt", "title=@notes.txt: not UTF-8 text; give the path"),
        (None, "title", "expected FIELD=VALUE, got 'title'; quote values with spaces"),
        (None, "=Hi", "expected FIELD=VALUE, got '=Hi'"),
    ],
)
def test_render_field_mistakes(
    cli: Said, tmp_path: Path, make: str | None, item: str, wording: str
) -> None:
    if make == "dir":
        (tmp_path / "photos").mkdir()
    if make == "latin1":
        (tmp_path / "notes.txt").write_bytes("Café".encode("latin-1"))
    code, line, _ = cli("render", "og-card", item, "-o", "card.png", cwd=tmp_path)
    assert code == 2
    assert wording in line
    assert not (tmp_path / "card.png").exists()


@pytest.mark.parametrize(
    ("output", "wording"),
    [
        ("cards/card.png", "-o cards/card.png: no directory 'cards'; create it first"),
        ("here", "-o here: a directory; name a file, e.g. here/card.png"),
        ("card.gif", "cannot tell the format from 'card.gif'; use .png .jpg .webp .avif"),
    ],
)
def test_render_output_mistakes(cli: Said, tmp_path: Path, output: str, wording: str) -> None:
    (tmp_path / "here").mkdir()
    code, line, _ = cli("render", "og-card", "title=Hi", "-o", output, cwd=tmp_path)
    assert code == 2
    assert line == f"pixeldrive: {wording}"


# --- batch: a missing CSV -----------------------------------------------------------------


def test_batch_with_a_missing_csv(tmp_path: Path) -> None:
    code, line, out = said(
        "batch", "og-card", "rows.csv", "--out", "cards/", "--format", "webp", cwd=tmp_path
    )
    assert code == 2
    assert line == (
        f"pixeldrive: batch: no file 'rows.csv' in {tmp_path}; give a CSV file (UTF-8) "
        "whose first row names the template's fields"
    )
    assert out == ""
    assert not (tmp_path / "cards").exists()


@pytest.mark.parametrize(
    ("content", "args", "wording"),
    [
        (None, (), "batch: 'rows.csv' is a directory; give a CSV file"),
        (b"", (), "rows.csv is empty; give a CSV file (UTF-8) whose first row names"),
        (b"title\nCaf\xe9\n", (), "rows.csv: not UTF-8 text; give a CSV file"),
        (
            b"titel,_file\nHello,a\n",
            (),
            "'titel': not a field of og-card (its fields: accent, avatar, subtitle, title, "
            "author); rename the column, or start its name with _ to keep it out",
        ),
        (b"title\nHello\n", ("--name", "_file"), "--name _file: no such column in rows.csv"),
    ],
)
def test_batch_csv_mistakes(
    cli: Said, tmp_path: Path, content: bytes | None, args: tuple[str, ...], wording: str
) -> None:
    rows = tmp_path / "rows.csv"
    if content is None:
        rows.mkdir()
    else:
        rows.write_bytes(content)
    code, line, _ = cli("batch", "og-card", "rows.csv", "--out", "cards", *args, cwd=tmp_path)
    assert code == 2
    assert wording in line, line
    assert not (tmp_path / "cards").exists()


# --- templates check: a missing file ------------------------------------------------------


def test_templates_check_with_a_missing_file(tmp_path: Path) -> None:
    good = PROJECT_ROOT / "svg_templates" / "quote.svg"
    code, line, out = said("templates", "check", str(good), "my-card.svg", cwd=tmp_path)
    assert code == 2
    assert line == (
        f"pixeldrive: templates check: no file 'my-card.svg' in {tmp_path}; name SVG files, "
        f"or none to check every template in {PROJECT_ROOT / 'svg_templates'}"
    )
    assert out == ""  # said before any report, not after half of them


@pytest.mark.parametrize(
    ("name", "wording"),
    [
        ("og-card", "no file 'og-card' in {cwd}; og-card is a template id: its file is {svg}"),
        ("drafts", "'drafts' is a directory; name SVG files, or none to check every template"),
    ],
)
def test_templates_check_variants(cli: Said, tmp_path: Path, name: str, wording: str) -> None:
    (tmp_path / "drafts").mkdir()
    code, line, _ = cli("templates", "check", name, cwd=tmp_path)
    assert code == 2
    svg = PROJECT_ROOT / "svg_templates" / "og-card.svg"
    assert wording.format(cwd=tmp_path, svg=svg) in line


# --- serve: a port already in use ---------------------------------------------------------


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on (on 127.0.0.1)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def test_serve_on_a_port_in_use(tmp_path: Path, taken_port: int) -> None:
    code, line, out = said("serve", "--port", str(taken_port), cwd=tmp_path)
    assert code == 1
    assert line == (
        f"pixeldrive: cannot listen on 127.0.0.1:{taken_port}: the port is in use (another "
        "pixeldrive serve?); choose another with --port N, PIXELDRIVE_PORT or server.port in "
        "the configuration"
    )
    assert out == ""  # said before a first admin key is made and printed
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {"PIXELDRIVE_PORT": "{port}"}),
        (("--host", "localhost", "--port", "{port}"), {}),
        (("--port", "{port}"), {"PIXELDRIVE_SERVER__AUTH": "off"}),
    ],
)
def test_serve_on_a_port_in_use_variants(
    cli: Said, tmp_path: Path, taken_port: int, args: tuple[str, ...], env: dict[str, str]
) -> None:
    port = str(taken_port)
    code, line, out = cli(
        "serve",
        *(a.format(port=port) for a in args),
        cwd=tmp_path,
        **{k: v.format(port=port) for k, v in env.items()},
    )
    assert code == 1
    assert f":{taken_port}: the port is in use" in line
    assert "--port N, PIXELDRIVE_PORT or server.port" in line
    assert out == ""


@pytest.mark.parametrize(
    ("args", "code", "wording"),
    [
        (
            ("--host", "192.0.2.1", "--port", "8080"),  # TEST-NET-1: never this machine's
            2,
            "192.0.2.1 is not an address of this machine; give one of its own with --host",
        ),
        (("--port", "99999"), 2, "argument --port: invalid port value: '99999'"),
    ],
)
def test_serve_on_an_address_it_cannot_have(
    cli: Said, tmp_path: Path, args: tuple[str, ...], code: int, wording: str
) -> None:
    status, line, out = cli("serve", *args, cwd=tmp_path)
    assert status == code
    assert wording in line
    assert out == ""


# --- an unknown template ------------------------------------------------------------------


def test_render_an_unknown_template(tmp_path: Path) -> None:
    code, line, _ = said("render", "og_card", "title=Hi", "-o", "card.png", cwd=tmp_path)
    assert code == 2
    assert line == (
        "pixeldrive: no template 'og_card' (did you mean 'og-card'?); "
        f"the templates are: {TEMPLATES}"
    )


def test_unknown_template_variants(cli: Said, tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("title\nHello\n")
    code, line, out = cli("batch", "invoice", "rows.csv", "--out", "cards", cwd=tmp_path)
    assert (code, line) == (2, f"pixeldrive: no template 'invoice'; the templates are: {TEMPLATES}")
    assert "img" not in out  # no progress bar for a batch that never started
    (tmp_path / "none").mkdir()
    code, line, _ = cli(
        "render", "og-card", "-o", "x.png", cwd=tmp_path, PIXELDRIVE_TEMPLATES_DIR="none"
    )
    assert code == 2
    assert "no template 'og-card', and no template at all: PIXELDRIVE_TEMPLATES_DIR" in line


# --- the command line and the settings themselves -----------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        ((), "pixeldrive: the following arguments are required: COMMAND; see 'pixeldrive --help'"),
        (
            ("render", "og-card", "title=Hi"),
            "pixeldrive render: the following arguments are required: -o/--output; "
            "see 'pixeldrive render --help'",
        ),
        (
            ("render", "og-card", "--width", "wide", "-o", "x.png"),
            "pixeldrive render: argument --width: invalid int value: 'wide'; "
            "see 'pixeldrive render --help'",
        ),
    ],
)
def test_command_line_mistakes_are_one_line(
    cli: Said, tmp_path: Path, args: tuple[str, ...], line: str
) -> None:
    assert cli(*args, cwd=tmp_path)[:2] == (2, line)


@pytest.mark.parametrize(
    ("env", "toml", "wording"),
    [
        (
            {"PIXELDRIVE_WORKERS": "many"},
            None,
            "bad setting: render.workers: Input should be a valid integer",
        ),
        ({}, "[render\n", "the configuration file is not valid TOML (Expected ']'"),
        (
            {},
            "[render]\ntimeout = -1\n",
            "bad setting: render.timeout: Input should be greater than 0",
        ),
    ],
)
def test_settings_mistakes_are_one_line(
    cli: Said, tmp_path: Path, env: dict[str, str], toml: str | None, wording: str
) -> None:
    if toml is not None:
        (tmp_path / "bad.toml").write_text(toml)
        env = {**env, "PIXELDRIVE_CONFIG": str(tmp_path / "bad.toml")}
    code, line, _ = cli("render", "og-card", "title=Hi", "-o", "x.png", cwd=tmp_path, **env)
    assert code == 2
    assert wording in line, line


def test_help_describes_the_tool_for_its_users(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "wiring" not in text  # the module docstring is not the tool's description
    for words in ("Inkscape", "libcairo2", "pixeldrive render og-card", "Exit status"):
        assert words in text


# --- a trailing list after the options ------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("render", "og-card", "-o", "card.png", "title=After", "subtitle=the options"),
        ("render", "og-card", "title=After", "-o", "card.png", "subtitle=the options"),
        ("render", "-o", "card.png", "og-card", "title=After", "subtitle=the options"),
    ],
)
def test_render_fields_may_follow_the_options(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PIXELDRIVE_STATE_DIR", str(tmp_path / "state"))
    assert main(list(args)) == 0
    assert "card.png: 1200×630" in capsys.readouterr().out
    reference = tmp_path / "reference.png"
    both = ["render", "og-card", "title=After", "subtitle=the options", "-o", str(reference)]
    assert main(both) == 0
    assert (tmp_path / "card.png").read_bytes() == reference.read_bytes()


@pytest.mark.parametrize(
    ("args", "unrecognised"),
    [
        (("render", "og-card", "-o", "card.png", "title=x", "--bogus"), "title=x --bogus"),
        (("keys", "list", "extra"), "extra"),
        (("serve", "8080"), "8080"),
    ],
)
def test_what_no_command_takes_is_still_refused(
    cli: Said, tmp_path: Path, args: tuple[str, ...], unrecognised: str
) -> None:
    code, line, _ = cli(*args, cwd=tmp_path)
    assert code == 2
    assert line == (f"pixeldrive: unrecognized arguments: {unrecognised}; see 'pixeldrive --help'")
    assert not (tmp_path / "card.png").exists()

"""Which state a command uses (issue 18, item 17): `pixeldrive sign` and `pixeldrive keys`
run from another directory used to make a new, empty `./var` there and answer from it.
Every keys, sign and fonts command now names its state directory on stderr, and the ones
that only read refuse a state that is not there: one line naming the settings that point
elsewhere, exit 2, and nothing created."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

READERS = (
    ("sign", "http://img.example.com/v1/t/og-card.png?title=Hi", "--kid", "abcdefabcdef"),
    ("keys", "list"),
    ("keys", "list", "--json"),
    ("keys", "revoke", "abcdefabcdef"),
    ("fonts", "list"),
    ("fonts", "remove", "acme"),
)


def pixeldrive(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`pixeldrive ARGS` run in `cwd` as a user runs it: no PIXELDRIVE_* variable but
    those given, the default configuration."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PIXELDRIVE_")}
    return subprocess.run(
        [sys.executable, "-m", "pixeldrive.cli", *args],
        cwd=cwd,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def refused(done: subprocess.CompletedProcess[str], state: Path) -> str:
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"pixeldrive: no PixelDrive state at {state}")
    for setting in ("--state-dir", "PIXELDRIVE_STATE_DIR", "state_dir"):
        assert setting in line
    return line


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A directory that is not where any server runs."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


@pytest.fixture
def server_state(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A state a server uses, with one key: its path and the key as created."""
    state = tmp_path / "server" / "var"
    done = pixeldrive(
        "keys", "create", "--name", "shop", "--json", cwd=tmp_path, PIXELDRIVE_STATE_DIR=str(state)
    )
    assert done.returncode == 0, done.stderr
    return state, json.loads(done.stdout)


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_reader_run_elsewhere_makes_no_state(elsewhere: Path, args: tuple[str, ...]) -> None:
    line = refused(pixeldrive(*args, cwd=elsewhere), elsewhere / "var")
    assert "relative to this directory" in line
    assert "pixeldrive.toml" in line  # the default configuration sets state_dir = "var"
    assert list(elsewhere.iterdir()) == []  # no ./var, nothing


def test_a_reader_pointed_at_a_missing_or_empty_directory_creates_nothing(
    tmp_path: Path, elsewhere: Path
) -> None:
    missing = tmp_path / "typo" / "state"
    line = refused(
        pixeldrive("keys", "list", cwd=elsewhere, PIXELDRIVE_STATE_DIR=str(missing)), missing
    )
    assert "(PIXELDRIVE_STATE_DIR)" in line
    assert not (tmp_path / "typo").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in READERS:
        done = pixeldrive("--state-dir", str(empty), *args, cwd=elsewhere)
        assert "no database in it" in refused(done, empty)
        assert "(--state-dir)" in done.stderr
    assert list(empty.iterdir()) == []
    assert list(elsewhere.iterdir()) == []


def test_sign_from_elsewhere_finds_the_servers_state_through_each_setting(
    server_state: tuple[Path, dict[str, str]], elsewhere: Path, tmp_path: Path
) -> None:
    state, created = server_state
    url = "http://img.example.com/v1/t/og-card.png?title=Hi"
    config = tmp_path / "pixeldrive.toml"
    config.write_text(f'state_dir = "{state}"\n')
    for how, args, env in (
        ("--state-dir", ("--state-dir", str(state)), {}),
        ("PIXELDRIVE_STATE_DIR", (), {"PIXELDRIVE_STATE_DIR": str(state)}),
        (f"state_dir in {config}", (), {"PIXELDRIVE_CONFIG": str(config)}),
    ):
        done = pixeldrive(*args, "sign", url, "--kid", created["id"], cwd=elsewhere, **env)
        assert done.returncode == 0, done.stderr
        assert f"kid={created['id']}" in done.stdout
        assert done.stderr == f"pixeldrive: using state directory {state} ({how})\n"
        assert created["signing_secret"] not in done.stdout + done.stderr
    assert list(elsewhere.iterdir()) == []


def test_commands_that_make_a_state_say_where_they_made_it(elsewhere: Path) -> None:
    done = pixeldrive("keys", "create", "--name", "a", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    state = elsewhere / "var"
    assert done.stderr.startswith(f"pixeldrive: using state directory {state} (state_dir in ")
    assert (state / "pixeldrive.sqlite3").is_file()
    listed = pixeldrive("keys", "list", cwd=elsewhere)  # now there is one, here
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.startswith(f"pixeldrive: using state directory {state}")


def test_sign_with_a_secret_given_needs_no_state(elsewhere: Path) -> None:
    done = pixeldrive(
        "sign", "/v1/t/og-card.png?title=Hi", "--kid", "k", "--secret", "s" * 43, cwd=elsewhere
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("/v1/t/og-card.png?")
    assert list(elsewhere.iterdir()) == []

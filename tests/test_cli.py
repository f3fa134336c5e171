"""The command line: `pixeldrive render` without a server, deterministic across processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pixeldrive.cli import main


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIXELDRIVE_STATE_DIR": str(cwd / "state")}
    return subprocess.run(
        [sys.executable, "-m", "pixeldrive.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_render_writes_a_webp(tmp_path: Path) -> None:
    result = run_cli("render", "og-card", "title=Hi", "-o", "card.webp", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with Image.open(tmp_path / "card.webp") as image:
        assert image.format == "WEBP"
        assert image.size == (1200, 630)


def test_same_bytes_from_two_processes(tmp_path: Path) -> None:
    outputs = []
    for attempt in ("a", "b"):
        names = [f"{attempt}.{ext}" for ext in ("png", "jpg", "webp", "avif")]
        for name in names:
            result = run_cli(
                "render", "quote", "quote=Same bytes.", "author=Ada", "-o", name, cwd=tmp_path
            )
            assert result.returncode == 0, result.stderr
        outputs.append([(tmp_path / n).read_bytes() for n in names])
    assert outputs[0] == outputs[1]


def test_sizes_and_fields_from_files(tmp_path: Path) -> None:
    (tmp_path / "title.txt").write_text("From a file", encoding="utf-8")
    out = tmp_path / "small.png"
    code = main(
        [
            "render",
            "og-card",
            "title=@" + str(tmp_path / "title.txt"),
            "--width",
            "300",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    with Image.open(out) as image:
        assert image.size == (300, 158)


def test_bad_field_is_reported_with_exit_2(tmp_path: Path, capsys: object) -> None:
    code = main(["render", "og-card", "nosuch=1", "-o", str(tmp_path / "x.png")])
    assert code == 2
    code = main(["render", "og-card", "title=T", "-o", str(tmp_path / "x.gif")])
    assert code == 2
    code = main(["render", "missing-template", "-o", str(tmp_path / "x.png")])
    assert code == 2


def test_a_file_that_cannot_be_read_is_reported_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.txt"
    code = main(["render", "og-card", f"title=@{missing}", "-o", str(tmp_path / "x.png")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"pixeldrive: title=@{missing}: no file '{missing}'; give the path" in err
    code = main(["batch", "quote", str(tmp_path / "missing.csv"), "--out", str(tmp_path)])
    assert code == 2
    assert "missing.csv" in capsys.readouterr().err

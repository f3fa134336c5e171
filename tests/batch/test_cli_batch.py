"""`pixeldrive batch TEMPLATE data.csv --out DIR`: locally, and through a running server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from pixeldrive.cli.commands import _csv_rows
from tests.conftest import TEMPLATES_DIR
from tests.http.test_shutdown import free_port, wait_ready

CSV = (
    "_file,quote,author\n"
    "first,Less but better.,Dieter Rams\n"
    "second,Simplicity is prerequisite for reliability.,\n"
    "third,Bad row,Someone\n"
)


def run_batch(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PIXELDRIVE_STATE_DIR": str(tmp_path / "state"),
        "PIXELDRIVE_WORKERS": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pixeldrive.cli", "batch", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.csv"
    # The third row sets a value over the field's limit, so it fails on its own.
    path.write_text(CSV.replace("Bad row", "x" * 5000), encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PIXELDRIVE_AUTH": "off",
        "PIXELDRIVE_PORT": str(port),
        "PIXELDRIVE_STATE_DIR": str(tmp_path / "server-state"),
        "PIXELDRIVE_TEMPLATES_DIR": str(TEMPLATES_DIR),
        "PIXELDRIVE_WORKERS": "1",
    }
    with (tmp_path / "server.log").open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "pixeldrive.cli", "serve"], env=env, stdout=sink, stderr=sink
        )
    try:
        wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_local_batch_writes_one_image_per_row_and_names_the_failed(
    tmp_path: Path, data: Path
) -> None:
    result = run_batch(
        tmp_path,
        "quote",
        str(data),
        "--out",
        "out",
        "--format",
        "webp",
        "--name",
        "_file",
        "--width",
        "216",
    )
    assert result.returncode == 1, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["first.webp", "second.webp"]
    with Image.open(tmp_path / "out" / "first.webp") as image:
        assert image.size == (216, 270)
    assert "2 images in out, 1 failed" in result.stdout
    assert "row 3:" in result.stderr
    assert "img/s" in result.stderr or "s/img" in result.stderr  # tqdm's rate


def test_server_batch_gives_the_same_bytes_as_local(
    tmp_path: Path, data: Path, server: str
) -> None:
    local = run_batch(tmp_path, "quote", str(data), "--out", "local", "--width", "216")
    remote = run_batch(
        tmp_path, "quote", str(data), "--out", "remote", "--width", "216", "--server", server
    )
    assert remote.returncode == 1, remote.stderr
    assert "row 3:" in remote.stderr
    names = sorted(p.name for p in (tmp_path / "remote").iterdir())
    assert names == ["1.png", "2.png"]
    for name in names:
        assert (tmp_path / "remote" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    assert local.returncode == 1


def test_a_row_short_of_the_name_column_is_named_as_an_empty_cell(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("quote,_file\nFull,one\nShort\n", encoding="utf-8")  # row 2 has no _file
    rows, names = _csv_rows(path, "_file")
    assert rows == [{"quote": "Full"}, {"quote": "Short"}]
    assert names == ["one", "_"]

"""`pixeldrive templates check`: fields, findings with element and line, exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixeldrive.cli import main
from pixeldrive.core.config import PROJECT_ROOT


def test_the_bundled_templates_are_servable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "check"]) == 0
    out = capsys.readouterr().out
    assert "og-card.svg: field title: text (attribute)" in out
    assert "quote.svg: 1080×1350 px" in out


def test_problems_are_named_with_element_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.svg"
    bad.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="100" height="50">\n'
        '<rect id="blurred" width="10" height="10" style="filter:url(#b)"/>\n'
        '<image id="linked" xlink:href="photo.jpg" width="5" height="5"/>\n'
        "</svg>\n"
    )
    good = PROJECT_ROOT / "svg_templates" / "quote.svg"
    assert main(["templates", "check", str(good), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "bad.svg:2: warning: <rect#blurred> filter" in out
    assert "bad.svg:3: error: <image#linked> linked image" in out
    assert "NOT servable" in out
    assert main(["templates", "check", "--json", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["servable"] is False

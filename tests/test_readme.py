"""The README's promises that code can check: its signing snippet and test vector, the
files and links it names, the bundled templates' limits, and its commands, run as a new
user runs them in a fresh clone and venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from pixeldrive.auth import url_signature
from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.templates.model import compile_template, describe_field
from tests.http.test_shutdown import free_port, wait_ready

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
VECTOR_FIELDS = [
    ("title", "Hello, world!"),
    ("subtitle", "ünïcode & more/1+1"),
    ("accent", "#ff0066"),
    ("kid", "k_test"),
    ("exp", "1893456000"),
]


def readme_snippet() -> dict[str, Any]:
    block = README.split("The algorithm, in\nany language:", 1)[1]
    code = re.search(r"```python\n(.*?)```", block, re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # our own README
    return namespace


def published(name: str) -> str:
    match = re.search(rf"^{name}:\s+(\S+)$", README, re.M)
    assert match is not None, name
    return match.group(1)


def test_the_readme_snippet_computes_the_published_vector() -> None:
    sig = readme_snippet()["sign"]("pd-test-secret", "/v1/t/og-card.png", VECTOR_FIELDS)
    assert sig == published("sig")


def test_the_library_agrees_with_the_published_vector() -> None:
    path = "/v1/t/og-card.png"
    assert url_signature.canonical(path, VECTOR_FIELDS) == published("canonical")
    assert url_signature.signature("pd-test-secret", path, VECTOR_FIELDS) == published("sig")


# --- what the README names exists -------------------------------------------------------

# Inline code that names a file or folder of the repository: a path with a slash, or a
# file name with one of these extensions. Not paths on a server, settings, media types.
FILE_LIKE = re.compile(r"[\w.-]+(/[\w.-]*)+|[\w-]+\.(md|py|toml|conf|csv|jpg|png|svg|sh|json)")
NOT_A_FILE = re.compile(r"^[/$.]|[{}<>…*=:+]|^(application|image|font|text)/")


def tracked() -> set[str]:
    """Every file and folder git tracks, as paths relative to the repository."""
    listed = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    folders = {str(parent) for name in listed for parent in Path(name).parents}
    return set(listed) | folders


def state_files() -> set[str]:
    """What the README names under `$STATE_DIR/`: files PixelDrive writes, which it may also
    name without the prefix (`secrets/tokens.json`, `tokens.json`, `secrets`) or in the
    default state directory (`var/secrets/tokens.json`)."""
    names = set()
    for path in re.findall(r"\$STATE_DIR/([^`\s]+)", README):
        parts = Path(path).parts
        names |= {
            "/".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, 1 + len(parts))
        }
    return names | {f"var/{name}" for name in names}  # var: the default state directory


def test_every_link_and_file_the_readme_names_is_in_the_repository() -> None:
    names = tracked() | state_files()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    missing = [link for link in links if link not in names]
    for code in set(re.findall(r"(?<!`)`([^`\s]+)`(?!`)", README)):
        if NOT_A_FILE.search(code) or not FILE_LIKE.fullmatch(code):
            continue
        code = code.rstrip("/")
        # A module named inside its package's paragraph (`fit.py`, `render/pool.py`).
        if not any(name == code or name.endswith("/" + code) for name in names):
            missing.append(code)
    assert missing == []
    assert "TEMPLATES.md" in links
    assert "SPEC" not in README  # the product contract is not part of the repository


def test_the_readme_says_what_a_new_user_needs() -> None:
    assert "libcairo2" in README.split("## Try it")[0]  # before the first command
    assert "`KEY_ID` (here `$PD_KEY_ID`), wherever this README writes it, is a key's id" in README
    assert "`GET /v1/templates/{id}` answers each field's kind" in README


def test_the_bundled_templates_table_states_each_fields_limits() -> None:
    """The README's table of bundled templates against the templates themselves."""
    rows = re.findall(r"^\| `([\w-]+)` \| (\d+)×(\d+) \| (.+) \|$", README, re.M)
    assert {row[0] for row in rows} == {"og-card", "product", "certificate", "quote"}
    for template_id, width, height, fields in rows:
        path = PROJECT_ROOT / "svg_templates" / f"{template_id}.svg"
        template = compile_template(template_id, path.read_bytes(), max_image_bytes=2**22)
        assert (template.width, template.height) == (int(width), int(height))
        stated = {
            name: about.split(", ") for name, about in re.findall(r"(\w+) \(([^)]*)\)", fields)
        }
        assert set(stated) == {f.name for f in template.fields}, template_id
        for spec in template.fields:
            first, *rest = stated[spec.name]
            public = describe_field(spec)  # what GET /v1/templates/{id} says
            limit = f" ≤ {public['max_length']}" if "max_length" in public else ""
            assert first == f"{spec.kind}{limit}", (template_id, spec.name)
            assert ("required" in rest) == spec.required, (template_id, spec.name)
            if spec.fit == "wrap":
                assert f"wraps to {spec.max_lines} lines" in rest, (template_id, spec.name)
            if spec.fit == "shrink":
                assert any(part.startswith("shrinks") for part in rest), spec.name


# --- the README's commands, in a fresh clone and a fresh venv ----------------------------


def sh_block(after: str) -> str:
    """The first ```sh block after the heading or text `after`."""
    block = re.search(r"```sh\n(.*?)```", README.split(after, 1)[1], re.S)
    assert block is not None, after
    return block.group(1)


@dataclass(frozen=True)
class Clone:
    root: Path
    env: dict[str, str]  # the environment a new user's shell has: no PIXELDRIVE_* set
    seconds: float  # what the copy and the README's set-up command took


@pytest.fixture(scope="session")
def fresh_clone(tmp_path_factory: pytest.TempPathFactory) -> Clone:
    """What a new user has after the README's set-up command: the files a clone of this
    repository holds (the tracked files as they are in this working tree, so that a
    change is tested before it is committed; nothing untracked, no state, no venv),
    and a venv made by that command itself (pip's wheel cache is reused, as on any
    machine that has installed these before). Made once per session: about 70 s on the
    2-core machine, nearly all of it pip installing the dev extra."""
    started = time.monotonic()
    root = tmp_path_factory.mktemp("newuser") / "pixeldrive"
    for name in (
        subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    ):
        source = PROJECT_ROOT / name
        if name and (source.is_file() or source.is_symlink()):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name, follow_symlinks=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIXELDRIVE_", "PD_"))}
    setup = sh_block("## Two commands").strip()
    assert setup.endswith(SERVE), setup  # set-up, then the server: run apart below
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", setup.removesuffix(SERVE).rstrip(" &")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return Clone(root, env, time.monotonic() - started)


SERVE = ".venv/bin/pixeldrive serve"


@pytest.mark.timeout(1200)
def test_try_it_runs_pasted_into_bash_in_a_fresh_clone(fresh_clone: Clone) -> None:
    """Every command of "Try it", as one bash script with `set -euo pipefail`, against the
    server started by the README's own command. The only change: the port, 8080 in the
    README, is a free one here."""
    root, port = fresh_clone.root, free_port()
    log = root / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            SERVE.split(),
            cwd=root,
            env={**fresh_clone.env, "PIXELDRIVE_PORT": str(port), "PIXELDRIVE_WORKERS": "1"},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", server)
        script = sh_block("## Try it").replace("localhost:8080", f"localhost:{port}")
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=root,
            env=fresh_clone.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
    served = log.read_text(errors="replace")
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n--- server:\n{served[-3000:]}"
    assert "Traceback" not in done.stderr + served
    expected = {
        "card.png": ("PNG", (1200, 630)),
        "card.webp": ("WEBP", (1200, 630)),
        "quote.png": ("PNG", (1080, 1350)),
        "p.png": ("PNG", (540, 540)),
        "signed.png": ("PNG", (1200, 630)),
        "shared.png": ("PNG", (1200, 630)),
        "hi.webp": ("WEBP", (1200, 630)),
        "cards/launch.webp": ("WEBP", (1200, 630)),
        "cards/hiring.webp": ("WEBP", (1200, 630)),
        "cards/recap.webp": ("WEBP", (1200, 630)),
    }
    for name, (kind, size) in expected.items():
        with Image.open(root / name) as image:
            assert (image.format, image.size) == (kind, size), name
    print(f"fresh clone and venv: {fresh_clone.seconds:.0f} s")  # shown with -s


def test_the_cli_help_runs_from_the_fresh_venv(fresh_clone: Clone) -> None:
    done = subprocess.run(
        [".venv/bin/pixeldrive", "--help"],
        cwd=fresh_clone.root,
        env=fresh_clone.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "pixeldrive render og-card" in done.stdout

"""The playground at / in a real browser (Debian's Chromium through Playwright) against a
real `pixeldrive serve` with authentication on: the gallery, the form, the live preview,
the signed URL, an upload's findings, and no console errors on the way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api  # the dev extra pins it; Chromium is Debian's

from pixeldrive.auth import key_admin
from pixeldrive.core.config import PROJECT_ROOT, load_settings
from tests.http.test_shutdown import free_port, wait_ready

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEMPLATES = ("og-card", "product", "certificate", "quote")
# An <image> linking a file next to the SVG: the server cannot follow it, so it is refused.
LINKED_PHOTO_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"
  viewBox="0 0 400 200">
  <rect width="400" height="200" fill="#123456"/>
  <image id="photo" href="photo.jpg" x="0" y="0" width="100" height="100"/>
  <text id="title" data-pd-field="title" x="20" y="150" font-size="30">Hello</text>
</svg>
"""
TIMEOUT_MS = 60_000


@pytest.fixture(autouse=True, scope="module")
def chromium_present() -> None:
    # Not a skip: CI installs it (scripts/test), and a missing browser must not pass.
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")


@dataclass
class Server:
    base: str
    key: str


@dataclass
class Console:
    """Errors the page logged or threw."""

    errors: list[str] = field(default_factory=list)
    # A refused upload answers 422: Chromium logs every 4xx fetch as a console error.
    expected: tuple[str, ...] = ()

    def on_message(self, message: Any) -> None:
        if message.type != "error":
            return
        text = f"{message.text} ({message.location.get('url', '')})"
        if any(allowed in text for allowed in self.expected):
            return
        self.errors.append(text)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("playground") / "state"
    templates = PROJECT_ROOT / "svg_templates"
    settings = load_settings(state_dir=state, templates_dir=templates)
    made = key_admin.create_key(settings, "playground")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELDRIVE_")} | {
        "PIXELDRIVE_AUTH": "on",
        "PIXELDRIVE_PORT": str(port),
        "PIXELDRIVE_STATE_DIR": str(state),
        "PIXELDRIVE_TEMPLATES_DIR": str(templates),
        "PIXELDRIVE_WORKERS": "2",
    }
    log = state.parent / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "pixeldrive.cli", "serve"],
            env=env,
            stdout=sink,
            stderr=sink,
            cwd=PROJECT_ROOT,
        )
    try:
        wait_ready(base, process)
        yield Server(base, made.key)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[tuple[Any, Console]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", lambda error: console.errors.append(f"pageerror: {error}"))
    page.goto(f"{server.base}/#key={server.key}")
    yield page, console
    context.close()


def open_og_card(page: Any) -> None:
    page.locator('.tile[data-template="og-card"]').click()
    page.locator('#fields-form [name="title"]').wait_for()


def preview_width(page: Any) -> int:
    width: int = page.eval_on_selector("#preview", "img => img.complete ? img.naturalWidth : 0")
    return width


def test_the_page_is_served_with_a_strict_policy(server: Server) -> None:
    with urllib.request.urlopen(f"{server.base}/", timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers.get_content_type() == "text/html"
        policy = answer.headers["Content-Security-Policy"]
        page = answer.read().decode()
    assert "script-src 'self'" in policy
    assert "img-src 'self' blob: data:" in policy
    assert "unsafe-inline" not in policy
    assert '<img id="preview"' in page
    for asset, kind in (("/playground.js", "text/javascript"), ("/playground.css", "text/css")):
        with urllib.request.urlopen(f"{server.base}{asset}", timeout=10) as answer:
            assert answer.headers.get_content_type() == kind


def test_gallery_form_preview_and_signed_url(page: tuple[Any, Console], server: Server) -> None:
    tab, console = page
    # The key came in the fragment, and left the address bar.
    tab.wait_for_function("() => !location.hash.includes('key=')")
    assert tab.evaluate("localStorage.getItem('pixeldrive.key')") == server.key
    tiles = tab.locator(".tile")
    tiles.first.wait_for()
    names = tab.locator(".tile-name").all_inner_texts()
    assert set(TEMPLATES) <= set(names), names
    tab.wait_for_function(
        "() => [...document.querySelectorAll('.thumb img')].every(i => i.naturalWidth > 0)"
    )

    open_og_card(tab)
    for name in ("title", "subtitle", "author", "avatar", "accent"):
        assert tab.locator(f'#fields-form [name="{name}"]').count() == 1, name
    # The families the template names, and where each comes from.
    assert "Inter bundled" in tab.locator("#template-fonts").inner_text()
    tab.wait_for_function("() => document.querySelector('#preview').naturalWidth > 0")
    first = tab.eval_on_selector("#preview", "img => img.src")

    tab.locator('#fields-form [name="title"]').fill("Typed in the playground")
    tab.wait_for_function(
        "first => { const i = document.querySelector('#preview');"
        " return i.src !== first && i.complete && i.naturalWidth > 0; }",
        arg=first,
    )
    assert preview_width(tab) == 1200
    assert tab.locator("#render-meta").inner_text().count("image/") == 1
    # The text engine's report, from the Server-Timing header of the drawn image.
    note = tab.locator('#fields-form .field[data-field="title"] .fit-note')
    assert note.inner_text() == "set at 46 px · 1 line"

    # A value that needs fitting says so, fallback fonts included.
    before = tab.eval_on_selector("#preview", "img => img.src")
    tab.locator('#fields-form [name="title"]').fill("WWWWWWW MMMMMMM " * 6 + "שלום")
    tab.wait_for_function(
        "b => { const i = document.querySelector('#preview');"
        " return i.src !== b && i.complete && i.naturalWidth > 0; }",
        arg=before,
    )
    tab.wait_for_function(
        "() => document.querySelector('.field[data-field=\"title\"] .fit-note')"
        ".textContent.includes('Noto Sans Hebrew')"
    )
    text = note.inner_text()
    assert "3 lines" in text, text
    assert "fallback: Noto Sans Hebrew" in text, text
    assert "set at 46 px" not in text, text  # shrunk to fit three lines
    first = tab.eval_on_selector("#preview", "img => img.src")
    tab.locator('#fields-form [name="title"]').fill("Typed in the playground")
    tab.wait_for_function(
        "first => { const i = document.querySelector('#preview');"
        " return i.src !== first && i.complete && i.naturalWidth > 0; }",
        arg=first,
    )

    # The signed URL follows the form and works without a header.
    tab.wait_for_function(
        "() => document.querySelector('#signed-url').textContent.includes('Typed+in')"
        " || document.querySelector('#signed-url').textContent.includes('Typed%20in')"
    )
    url = tab.locator("#signed-url").inner_text().strip()
    assert url.startswith(f"{server.base}/v1/t/og-card.png?"), url
    with urllib.request.urlopen(url, timeout=60) as answer:
        assert answer.status == 200
        assert answer.headers.get_content_type().startswith("image/")
        assert answer.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "$PD_KEY" in tab.locator("#curl-snippet").inner_text()
    assert server.key not in tab.locator("#curl-snippet").inner_text()
    assert "urllib.request" in tab.locator("#python-snippet").inner_text()
    assert console.errors == []

    shot = os.environ.get("PLAYGROUND_SCREENSHOT")  # the README's picture, on request
    if shot:
        before = tab.eval_on_selector("#preview", "img => img.src")
        tab.locator('#fields-form [name="title"]').fill("Ship beautiful images from one API call")
        tab.wait_for_function(
            "before => { const i = document.querySelector('#preview');"
            " return i.src !== before && i.complete && i.naturalWidth > 0; }",
            arg=before,
        )
        tab.wait_for_function("() => document.querySelector('#signed-url').textContent.length")
        tab.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
        tab.screenshot(path=shot)


def test_an_upload_with_a_problem_shows_the_finding(
    page: tuple[Any, Console], tmp_path: Path
) -> None:
    tab, console = page
    console.expected = ("status of 422",)
    tab.locator(".tile").first.wait_for()
    svg = tmp_path / "linked-photo.svg"
    svg.write_bytes(LINKED_PHOTO_SVG)
    tab.locator("#upload-file").set_input_files(str(svg))
    # The page fills the id from the file name in its change handler: wait for it.
    tab.wait_for_function("() => document.querySelector('#upload-id').value === 'linked-photo'")
    tab.locator("#upload-save").click()
    finding = tab.locator("#findings .finding").first
    finding.wait_for()
    text = tab.locator("#findings").inner_text()
    assert "photo.jpg" in text, text
    assert "Not saved" in tab.locator("#upload-status").inner_text()
    assert console.errors == []


def circle_svg(radius: int) -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" viewBox="0 0 400 200">'
        b'<rect width="400" height="200" fill="#123456"/>'
        b'<circle cx="300" cy="100" r="%d" fill="#e11d48"/>'
        b'<text id="label" data-pd-field="label" x="20" y="150" font-family="Inter" '
        b'font-size="30" fill="#ffffff">Hello</text></svg>' % radius
    )


def test_replacing_a_template_shows_the_pixel_difference(
    page: tuple[Any, Console], tmp_path: Path
) -> None:
    tab, console = page
    tab.locator(".tile").first.wait_for()
    for radius in (40, 60):
        svg = tmp_path / "circle.svg"
        svg.write_bytes(circle_svg(radius))
        tab.locator("#upload-file").set_input_files(str(svg))
        tab.locator("#upload-save").click()
        tab.wait_for_function(
            "() => /^(Uploaded|Replaced|Not saved)/"
            ".test(document.querySelector('#upload-status').textContent)"
        )
        status = tab.locator("#upload-status").inner_text()
        assert status.startswith("Uploaded" if radius == 40 else "Replaced"), status
        tab.locator('.tile[data-template="circle"]').wait_for()
    tab.locator("#compare").wait_for()
    caption = tab.locator("#compare-caption").inner_text()
    assert "pixels" in caption, caption
    # Only the ring between the two circles differs: π(60² − 40²) ≈ 6283 pixels.
    changed = int(caption.split(":")[1].split("pixels")[0].replace(",", "").strip())
    assert 5000 < changed < 8000, caption
    assert console.errors == []

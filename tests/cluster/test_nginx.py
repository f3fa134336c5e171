"""conf/nginx.conf with a real nginx in front of two real `pixeldrive serve` nodes sharing a
real PostgreSQL and Redis: the same signed URL negotiates AVIF for Chromium and PNG for a
PNG-only client, each variant is then served from nginx's cache (Vary: Accept), POSTs pass
through to the nodes, a headless Chromium loading the URL in an <img> receives AVIF, a
render's public_url is served and cached with no header, and a template uploaded, replaced
and deleted on one node is rendered so through nginx by both within the bound."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright import sync_api

from pixeldrive.auth import key_admin
from pixeldrive.auth.url_signature import sign_url
from pixeldrive.core.config import PROJECT_ROOT, load_settings
from tests.cluster.conftest import SECRETS_KEY
from tests.cluster.postgres import PostgresServer
from tests.cluster.redis_server import RedisServer, free_port
from tests.http.test_shutdown import wait_ready

pytest_plugins = ("tests.cluster.conftest_pg",)
EXAMPLE = PROJECT_ROOT / "conf" / "nginx.conf"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
CHROMIUM_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


@dataclass
class Front:
    base: str  # nginx
    nodes: list[str]
    key: str
    kid: str
    secret: str


def nginx_config(example: str, *, port: int, nodes: list[str], work: Path) -> str:
    """The example with this test's upstream nodes, port and paths; each substitution
    must apply exactly once, so a change to the example that breaks it fails here."""

    def once(pattern: str, replacement: str, text: str, flags: int = 0) -> str:
        result, count = re.subn(pattern, replacement, text, count=1, flags=flags)
        assert count == 1, f"conf/nginx.conf no longer has {pattern!r}"
        return result

    servers = "".join(f"        server {node} max_fails=3 fail_timeout=5s;\n" for node in nodes)
    text = re.sub(r"^\s*server 127\.0\.0\.1:\d+ [^\n]*;\n", "", example, flags=re.M)
    text = once(r"(least_conn;\n)", lambda m: m.group(1) + servers, text)  # type: ignore[arg-type]
    text = once(r"listen 8080;", f"listen 127.0.0.1:{port};", text)
    text = once(r"/var/cache/nginx/pixeldrive", str(work / "cache"), text)
    text = once(r"worker_processes auto;", "worker_processes 1;", text)
    temp = "".join(
        f"    {kind}_temp_path {work / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = once(r"(http \{\n)", lambda m: m.group(1) + temp + "    access_log off;\n", text)  # type: ignore[arg-type]
    user = "user root;\n" if os.geteuid() == 0 else ""  # its workers write the cache here
    return f"{user}pid {work / 'nginx.pid'};\n{text}"


def wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text() if log.exists() else "nginx exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nginx did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def front(postgres: PostgresServer) -> Iterator[Front]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():  # not a skip: scripts/test installs it
        pytest.fail("nginx is missing: apt-get install nginx")
    work = Path(tempfile.mkdtemp(prefix="pixeldrive-nginx-"))
    database_url = postgres.create_database()
    # Render specs are shared through Redis, as README's two nodes behind nginx have them:
    # an image URL minted through one node is then served by the other.
    redis = RedisServer(work / "redis")
    redis.start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        ports = [free_port(), free_port()]
        for index, port in enumerate(ports):
            node = start_node(work / f"node{index}", port, database_url, redis.url)
            processes.append(node)
        nodes = [f"http://127.0.0.1:{port}" for port in ports]
        for node, process in zip(nodes, processes, strict=True):
            wait_ready(node, process)
        settings = load_settings(
            state_dir=work / "node0", database_url=database_url, secrets={"key": SECRETS_KEY}
        )
        made = key_admin.create_key(settings, "nginx-test")
        port = free_port()
        conf = work / "nginx.conf"
        conf.write_text(
            nginx_config(
                EXAMPLE.read_text(),
                port=port,
                nodes=[f"127.0.0.1:{p}" for p in ports],
                work=work,
            )
        )
        log = work / "error.log"
        process = subprocess.Popen(
            [nginx, "-p", str(work), "-e", str(log), "-c", str(conf), "-g", "daemon off;"]
        )
        processes.append(process)
        wait_port(port, process, log)
        yield Front(
            f"http://127.0.0.1:{port}", nodes, made.key, made.record.id, made.signing_secret
        )
    finally:
        for process in reversed(processes):
            stop(process)
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


def start_node(
    state: Path, port: int, database_url: str, redis_url: str
) -> subprocess.Popen[bytes]:
    state.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXELDRIVE_")} | {
        "PIXELDRIVE_AUTH": "on",
        "PIXELDRIVE_PORT": str(port),
        "PIXELDRIVE_STATE_DIR": str(state),
        "PIXELDRIVE_TEMPLATES_DIR": str(PROJECT_ROOT / "svg_templates"),
        "PIXELDRIVE_WORKERS": "1",
        "PIXELDRIVE_DATABASE_URL": database_url,
        "PIXELDRIVE_REDIS_URL": redis_url,
        "PIXELDRIVE_SECRETS__KEY": SECRETS_KEY,
    }
    with (state / "server.log").open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "pixeldrive.cli", "serve"],
            env=env,
            stdout=sink,
            stderr=sink,
            cwd=PROJECT_ROOT,
        )


def signed(front: Front, title: str) -> str:
    path = sign_url(
        "/v1/t/og-card",  # no extension: the format is negotiated
        {"title": title, "_width": "300"},
        kid=front.kid,
        secret=front.secret,
        ttl=3600,
    )
    return front.base + path


def get(url: str, accept: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, dict(response.headers), response.read()


def until_avif(url: str) -> tuple[int, dict[str, str], bytes]:
    """The first answer that is not a stand-in: a cold AVIF is answered first as PNG
    (uncached) while a node encodes it; a request to the other node may stand in too."""
    for _ in range(50):
        answer = get(url, CHROMIUM_ACCEPT)
        if "X-Fast-First" not in answer[1]:
            return answer
        time.sleep(0.1)
    raise AssertionError("the AVIF never came")


def test_each_accept_gets_its_format_and_both_are_then_served_by_nginx(front: Front) -> None:
    url = signed(front, "Through nginx")
    status, headers, stand_in = get(url, CHROMIUM_ACCEPT)
    # The PNG first, which nginx does not keep: the next request goes to a node again.
    assert (status, headers["Content-Type"]) == (200, "image/png")
    assert headers["X-Fast-First"] == "avif-pending"
    assert headers["Cache-Control"] == "public, no-cache"
    assert headers["X-Cache-Status"] == "MISS"
    status, headers, avif = until_avif(url)
    assert status == 200
    assert headers["Content-Type"] == "image/avif"
    assert headers["X-Cache-Status"] == "MISS"
    assert "Accept" in headers["Vary"]
    assert headers["ETag"].endswith('.avif"')
    assert headers["Cache-Control"].startswith("public, max-age=")
    status, headers, png = get(url, "image/png")
    assert (status, headers["Content-Type"]) == (200, "image/png")
    assert headers["X-Cache-Status"] == "MISS"
    assert png == stand_in
    for accept, mime, body in (
        (CHROMIUM_ACCEPT, "image/avif", avif),
        ("image/png", "image/png", png),
    ):
        for _ in range(2):
            status, headers, again = get(url, accept)
            assert (status, headers["Content-Type"]) == (200, mime)
            assert headers["X-Cache-Status"] == "HIT", (accept, headers)
            assert again == body


def test_posts_and_requests_with_credentials_go_to_the_nodes(front: Front) -> None:
    body = b'{"template": "og-card", "fields": {"title": "Posted"}, "width": 300}'
    auth = {"Authorization": f"Bearer {front.key}"}
    request = urllib.request.Request(
        front.base + "/v1/renders",
        data=body,
        method="POST",
        headers=auth | {"Content-Type": "application/json"},
    )
    for _ in range(2):
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 201
            made: dict[str, Any] = json.loads(response.read())
            assert made["url"].startswith("/v1/images/")
            assert "X-Cache-Status" not in response.headers  # not the cached location
    # A credential in a header is the node's to check: nginx neither serves nor keeps it.
    url = signed(front, "With a header")
    for _ in range(2):
        with urllib.request.urlopen(urllib.request.Request(url, headers=auth), timeout=60) as r:
            assert r.status == 200
            assert r.headers["X-Cache-Status"] == "BYPASS"
    assert get(url, CHROMIUM_ACCEPT)[1]["X-Cache-Status"] == "MISS"


def test_chromium_loading_the_url_in_an_img_receives_avif(front: Front) -> None:
    if shutil.which(CHROMIUM) is None:  # not a skip: scripts/test installs it
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    url = signed(front, "In a browser")
    until_avif(url)  # past the PNG a cold AVIF is answered with first
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            with page.expect_response(lambda r: r.url == url, timeout=60_000) as answer:
                page.set_content(f'<img id="pic" src="{url}">')
            response = answer.value
            assert response.status == 200
            assert response.headers["content-type"] == "image/avif"
            assert "image/avif" in response.request.all_headers()["accept"]
            page.wait_for_function("document.getElementById('pic').complete", timeout=60_000)
            width = page.eval_on_selector("#pic", "img => img.naturalWidth")
            assert width == 300  # decoded by the browser, not only received
            # What this browser sent is now in nginx's cache, as the AVIF variant.
            _, headers, _ = get(url, response.request.all_headers()["accept"])
            assert (headers["Content-Type"], headers["X-Cache-Status"]) == ("image/avif", "HIT")
        finally:
            browser.close()


def test_a_renders_public_url_is_served_and_cached_with_no_header(front: Front) -> None:
    # The mistake: the `url` a render answers needs a header, so an <img> or og:image got a
    # 401 and nginx kept nothing. The `public_url` beside it is cached like a signed URL.
    body = b'{"template": "og-card", "fields": {"title": "Embedded"}, "width": 300}'
    request = urllib.request.Request(
        front.base + "/v1/renders",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {front.key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        made: dict[str, Any] = json.loads(response.read())
    for _ in range(2):
        with pytest.raises(urllib.request.HTTPError) as refused:
            urllib.request.urlopen(front.base + made["url"], timeout=60)
        with refused.value:  # holds the answer's connection
            assert refused.value.code == 401
            assert refused.value.headers["X-Cache-Status"] == "MISS"  # a 401 is never kept
    crawler = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
    statuses = []
    for accept in ("*/*", CHROMIUM_ACCEPT, "*/*"):
        fetch = urllib.request.Request(
            front.base + made["public_url"], headers={"Accept": accept, "User-Agent": crawler}
        )
        with urllib.request.urlopen(fetch, timeout=60) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "image/png"
            assert response.read().startswith(b"\x89PNG")
            statuses.append(response.headers["X-Cache-Status"])
    assert statuses == ["MISS", "HIT", "HIT"]  # one entry, whatever the Accept


TEMPLATE_ID = "nginx-quote"
QUOTE = (PROJECT_ROOT / "svg_templates" / "quote.svg").read_bytes()
REPLACEMENT = QUOTE.replace(b"Dieter Rams", b"Charles Eames")
BOUND = 2.0  # seconds for another node to see an upload (templates_refresh_seconds: 1)
RENDER = json.dumps({"template": TEMPLATE_ID, "fields": {"quote": "Through nginx."}}).encode()


def call(
    front: Front, base: str, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, bytes]:
    """One request with the test's key: its status and body, whatever the status."""
    request = urllib.request.Request(
        base + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {front.key}"} | headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.request.HTTPError as refused:
        with refused:
            return refused.code, refused.read()


def renders_answered(front: Front) -> list[int]:
    """Per node, the POST /v1/renders it has answered 201 so far (its /metrics)."""
    line = 'pixeldrive_http_responses_total{method="POST",route="/v1/renders",status="2xx"} '
    counts = []
    for node in front.nodes:
        with urllib.request.urlopen(node + "/metrics", timeout=10) as response:
            text = response.read().decode()
        found = [ln.removeprefix(line) for ln in text.splitlines() if ln.startswith(line)]
        counts.append(int(float(found[0])) if found else 0)
    return counts


def pixels(png: bytes) -> bytes:
    return Image.open(io.BytesIO(png)).convert("L").tobytes()


def image(front: Front, base: str, url: str) -> bytes:
    status, body = call(front, base, "GET", url, Accept="image/png")
    assert status == 200, body
    return pixels(body)


def test_a_template_uploaded_on_one_node_renders_through_nginx_on_both(front: Front) -> None:
    a, b = front.nodes
    svg = {"Content-Type": "image/svg+xml"}
    posting = {"Content-Type": "application/json"}
    before = renders_answered(front)
    status, body = call(front, a, "PUT", f"/v1/templates/{TEMPLATE_ID}", QUOTE, **svg)
    assert status == 201, body
    uploaded = time.monotonic()
    # Renders through nginx until each node has answered one (least_conn alternates
    # them); B may answer 404 until it has seen the upload, within the bound.
    statuses, made = [], []
    while True:
        status, body = call(front, front.base, "POST", "/v1/renders", RENDER, **posting)
        statuses.append(status)
        if status == 201:
            made.append(json.loads(body))
        answered = [n - m for n, m in zip(renders_answered(front), before, strict=True)]
        if all(answered):
            break
        assert time.monotonic() - uploaded < BOUND, (statuses, answered)
    seen = time.monotonic() - uploaded
    assert set(statuses) <= {201, 404}, statuses
    assert len({m["key"] for m in made}) == 1  # one image, whichever node drew it
    old_url = made[0]["url"]
    old = image(front, front.base, old_url)  # a header: nginx passes it to a node
    assert image(front, b, old_url) == old

    status, body = call(front, a, "PUT", f"/v1/templates/{TEMPLATE_ID}", REPLACEMENT, **svg)
    assert status == 200, body
    replaced = time.monotonic()
    while True:
        status, body = call(front, b, "POST", "/v1/renders", RENDER, **posting)
        assert status == 201, body
        if (new_url := json.loads(body)["url"]) != old_url:
            break
        assert time.monotonic() - replaced < BOUND, "B still renders the old version"
    assert image(front, b, new_url) != old
    # The old URL names the old version: its pixels, through nginx and on B.
    assert image(front, front.base, old_url) == old
    assert image(front, b, old_url) == old

    assert call(front, a, "DELETE", f"/v1/templates/{TEMPLATE_ID}")[0] == 204
    deleted = time.monotonic()
    while (status := call(front, b, "POST", "/v1/renders", RENDER, **posting)[0]) != 404:
        assert status == 201
        assert time.monotonic() - deleted < BOUND, "B still renders a deleted template"
    gone = time.monotonic() - deleted
    print(
        f"both nodes rendered {seen:.2f} s after the upload ({statuses.count(404)} 404s"
        f" on the way), B refused {gone:.2f} s after the delete"
    )

"""GET /: the playground (a template gallery, a form from the field schema, a live preview,
a signed URL to copy) and its two static assets, served under a strict CSP."""

from __future__ import annotations

import hashlib
from importlib import resources

from aiohttp import web

import pixeldrive
from pixeldrive.http.respond import not_modified

# The page may run and style only its own files, fetch only this origin, and show images
# from this origin, blob: (previews fetched with the key) and data: (picked image files).
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' blob: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class Asset:
    """A file of pixeldrive/web, read once at import: requests never touch the disk."""

    def __init__(self, name: str, content_type: str) -> None:
        self.body = resources.files(pixeldrive).joinpath(f"web/{name}").read_bytes()
        self.content_type = content_type
        self.etag = f'"{hashlib.sha256(self.body).hexdigest()[:32]}"'

    def response(self, request: web.Request) -> web.Response:
        headers = SECURITY | {"ETag": self.etag}
        if not_modified(request, self.etag):
            return web.Response(status=304, headers=headers)
        return web.Response(
            body=self.body, content_type=self.content_type, charset="utf-8", headers=headers
        )


PAGE = Asset("playground.html", "text/html")
SCRIPT = Asset("playground.js", "text/javascript")
STYLE = Asset("playground.css", "text/css")


async def playground_page(request: web.Request) -> web.Response:
    """The playground: pick a template, fill its form, watch the preview, copy a signed
    URL. A key may be handed in the fragment: `/#key=pd_…`."""
    return PAGE.response(request)


async def playground_script(request: web.Request) -> web.Response:
    """The playground's script."""
    return SCRIPT.response(request)


async def playground_style(request: web.Request) -> web.Response:
    """The playground's style sheet."""
    return STYLE.response(request)

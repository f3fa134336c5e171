"""The `pixeldrive` command: wiring only."""

from __future__ import annotations

import argparse
import base64
import logging
import mimetypes
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pixeldrive.config import Settings, load_settings
from pixeldrive.errors import PixelDriveError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.run(args)
    except PixelDriveError as exc:
        print(f"pixeldrive: {exc.detail}", file=sys.stderr)
        for problem in exc.errors:
            print(f"  {problem.field}: {problem.message}", file=sys.stderr)
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pixeldrive", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", help="address to bind (default from settings: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default from settings: 8080)")
    serve.set_defaults(run=_serve)

    render = sub.add_parser("render", help="render one image without a server")
    render.add_argument("template", help="template id (a file stem in the templates dir)")
    render.add_argument(
        "fields",
        nargs="*",
        metavar="FIELD=VALUE",
        help="field values; FIELD=@path embeds a file (images) or reads text from it",
    )
    render.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        help="output file; the extension picks the format",
    )
    render.add_argument("--width", type=int)
    render.add_argument("--height", type=int)
    render.add_argument("--scale", type=float)
    render.add_argument("--quality", type=int)
    render.set_defaults(run=_render)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    server: dict[str, Any] = {}
    if getattr(args, "host", None):
        server["host"] = args.host
    if getattr(args, "port", None) is not None:
        server["port"] = args.port
    if not server:
        return load_settings()
    base = load_settings()
    return load_settings(server=base.server.model_copy(update=server))


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from pixeldrive.http.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings(args)
    web.run_app(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        shutdown_timeout=settings.server.shutdown_timeout,
        access_log=logging.getLogger("aiohttp.access") if settings.server.access_log else None,
        print=lambda line: print(
            f"PixelDrive serving on http://{settings.server.host}:{settings.server.port}/",
            flush=True,
        ),
    )
    return 0


def _render(args: argparse.Namespace) -> int:
    from pixeldrive.local import render_file

    settings = _settings(args)
    values = dict(_field_value(item) for item in args.fields)
    size = render_file(
        settings,
        args.template,
        values,
        args.output,
        width=args.width,
        height=args.height,
        scale=args.scale,
        quality=args.quality,
    )
    print(f"{args.output}: {size[0]}×{size[1]}")
    return 0


def _field_value(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep:
        raise SystemExit(f"pixeldrive: expected FIELD=VALUE, got {item!r}")
    if value.startswith("@"):
        path = Path(value[1:])
        kind = mimetypes.guess_type(path.name)[0] or ""
        if kind.startswith("image/"):
            value = f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"
        else:
            value = path.read_text(encoding="utf-8")
    return name, value


if __name__ == "__main__":
    sys.exit(main())

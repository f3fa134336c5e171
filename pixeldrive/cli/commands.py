"""The `pixeldrive` command: wiring only."""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import mimetypes
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pixeldrive.auth import key_admin, url_signature
from pixeldrive.auth.api_keys import NewKey
from pixeldrive.auth.scopes import parse_scopes_option
from pixeldrive.cli.listen import check_listen
from pixeldrive.cli.mistakes import (
    USAGE,
    CommandError,
    as_text,
    explain,
    output_path,
    read_input,
)
from pixeldrive.cli.state_dir import announce, require_state
from pixeldrive.core.config import Settings, load_settings
from pixeldrive.core.errors import problem_line

ABOUT = """\
PixelDrive fills SVG templates (drawn in Inkscape, with marked fields) and draws them as
PNG, JPEG, WebP, AVIF or PDF: over HTTP with `serve`, or into files with `render` and
`batch`, no server needed. Drawing needs the cairo library (libcairo2 on Debian and Ubuntu,
cairo on Homebrew).
"""
EXAMPLES = """\
examples:
  pixeldrive serve                          the HTTP API on 127.0.0.1:8080
  pixeldrive render og-card title=Hello -o card.webp
  pixeldrive render og-card title=Hi 'accent=hsl(340,80%,50%)' avatar=@me.jpg -o card.png
  pixeldrive batch quote rows.csv --out cards/
  pixeldrive templates check                each template's fields, limits and problems
  pixeldrive cluster status                 the nodes sharing this node's Redis

Each command has its own --help. Settings come from conf/pixeldrive.toml and PIXELDRIVE_*
variables (the README lists them). Exit status: 0 done, 1 failed, 2 a mistake in the
command line or the settings.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with each mistake said in one line and the way to the help."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: {message}; see '{self.prog} --help'\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a user's mistake is one line on stderr and exit status 2, a failure
    one line and 1 (mistakes.py), never a traceback."""
    args = _parse(_parser(), argv)
    try:
        result: int = args.run(args)
    except (Exception, KeyboardInterrupt) as exc:
        said = explain(exc)
        if said is None:
            raise  # a bug: its traceback is what a report needs
        print(f"pixeldrive: {said.message}", file=sys.stderr)
        return said.status
    return result


# A command's trailing list, which may also come after its options:
# `pixeldrive render og-card -o card.png title=Hi` as well as `… title=Hi -o card.png`.
TRAILING: dict[str, Callable[[str], object]] = {"fields": str, "files": Path}


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """The arguments, with a trailing list's items taken wherever they stand (argparse
    takes a positional list only before the options that follow the first positional)."""
    args, extra = parser.parse_known_args(argv)
    if not extra:
        return args
    name = next((n for n in TRAILING if isinstance(getattr(args, n, None), list)), None)
    if name is None or any(item.startswith("-") for item in extra):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    getattr(args, name).extend(TRAILING[name](item) for item in extra)
    return args


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pixeldrive",
        description=ABOUT,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="the state directory: keys, usage, fonts, specs (default: PIXELDRIVE_STATE_DIR, "
        "else state_dir in the configuration: ./var)",
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", help="address to bind (default from settings: 127.0.0.1)")
    serve.add_argument("--port", type=port, help="port (default from settings: 8080)")
    serve.set_defaults(run=_serve)

    render = sub.add_parser(
        "render",
        help="render one image into a file, without a server",
        description="Render one image into a file. `pixeldrive templates check` lists each "
        "template's fields and their limits.",
    )
    render.add_argument("template", help="template id, e.g. og-card (an SVG file's stem)")
    render.add_argument(
        "fields",
        nargs="*",
        metavar="FIELD=VALUE",
        help="field values (quote brackets and spaces for the shell); FIELD=@path embeds "
        "an image file or reads text from a file",
    )
    render.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        help="output file; the extension picks the format",
    )
    _size_options(render)
    render.set_defaults(run=_render)

    _batch_parser(sub)
    _keys_parser(sub)
    _fonts_parser(sub)
    _cluster_parser(sub)

    templates = sub.add_parser(
        "templates", help="check templates: fields, limits, what cannot be drawn"
    )
    verbs = templates.add_subparsers(required=True, metavar="ACTION")
    check = verbs.add_parser(
        "check", help="fields found and every feature that cannot be drawn faithfully"
    )
    check.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="SVG files (default: every template in the templates directory)",
    )
    check.add_argument("--json", action="store_true", help="one JSON report per file")
    check.set_defaults(run=_templates_check)

    sign = sub.add_parser("sign", help="sign a /v1/t/ URL for <img> and og:image tags")
    sign.add_argument("url", help="e.g. 'https://img.example.com/v1/t/og-card.png?title=Hi'")
    sign.add_argument("--kid", required=True, help="the API key id whose signing secret signs")
    sign.add_argument("--ttl", type=int, default=86400 * 7, help="seconds valid (default 7 days)")
    sign.add_argument("--secret", help="the signing secret (default: read from the state)")
    sign.set_defaults(run=_sign)
    return parser


def _batch_parser(sub: Any) -> None:
    batch = sub.add_parser(
        "batch", help="one image per CSV row (header = field names), with a progress bar"
    )
    batch.add_argument("template", help="template id")
    batch.add_argument("csv", type=Path, help="CSV file; empty cells take the field's default")
    batch.add_argument("--out", required=True, type=Path, help="directory for the images")
    batch.add_argument("--format", default="png", choices=("png", "jpeg", "webp", "avif", "pdf"))
    batch.add_argument(
        "--name", help="column naming each file, e.g. _file (default: the row number)"
    )
    _size_options(batch)
    batch.add_argument("--server", help="submit to this server's /v1/batches instead")
    batch.add_argument("--key", help="API key for --server (default: $PD_KEY)")
    batch.add_argument("--chunk", type=int, default=1000, help="items per server batch")
    batch.set_defaults(run=_batch)


SIZE_OPTIONS = {
    "width": (int, "pixels wide (alone: the height follows the template's aspect ratio)"),
    "height": (int, "pixels high (alone: the width follows)"),
    "scale": (float, "a multiple of the template's own size, e.g. 2"),
    "quality": (int, "1-100, for JPEG, WebP and AVIF"),
}


def port(text: str) -> int:
    """A TCP port number, for argparse (its name is what a refusal says)."""
    number = int(text)
    if not 0 <= number <= 65535:
        raise ValueError(text)
    return number


def _size_options(parser: argparse.ArgumentParser) -> None:
    for name, (kind, about) in SIZE_OPTIONS.items():
        parser.add_argument(f"--{name}", type=kind, help=about)


def _size(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in SIZE_OPTIONS}


def _keys_parser(sub: Any) -> None:
    keys = sub.add_parser("keys", help="create, list and revoke API keys")
    verbs = keys.add_subparsers(required=True, metavar="ACTION")
    create = verbs.add_parser("create", help="a new key, shown once")
    create.add_argument("--name", help="the key's name (required, except with --admin)")
    create.add_argument(
        "--admin",
        action="store_true",
        help="an admin key: everything allowed, no quota (when the first one is lost); "
        "named admin unless --name says otherwise",
    )
    create.add_argument(
        "--scopes",
        help="e.g. 'render,usage:read,templates=og-*|quote,formats=png|webp,max_pixels=2000000'"
        " (default: everything)",
    )
    create.add_argument("--quota", type=int, help="distinct renders per calendar month")
    create.add_argument("--json", action="store_true", help='one JSON line {"id","key",…}')
    create.set_defaults(run=_keys_create)
    listing = verbs.add_parser("list", help="the keys (never their secrets)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_keys_list)
    revoke = verbs.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    revoke.set_defaults(run=_keys_revoke)


def _fonts_parser(sub: Any) -> None:
    fonts = sub.add_parser(
        "fonts",
        help="add, list and remove fonts people bring (every server on the state sees them)",
    )
    verbs = fonts.add_subparsers(required=True, metavar="ACTION")
    add = verbs.add_parser("add", help="check, sanitise and store a TTF, OTF, WOFF or WOFF2 file")
    add.add_argument("file", type=Path)
    add.add_argument(
        "--name", help="the font's name (default: from the file name, e.g. acmesans-bold)"
    )
    add.set_defaults(run=_fonts_add)
    listing = verbs.add_parser("list", help="every family, bundled and uploaded, and its faces")
    listing.add_argument("--json", action="store_true", help="the same JSON as GET /v1/fonts")
    listing.set_defaults(run=_fonts_list)
    remove = verbs.add_parser("remove", help="remove an uploaded font by name")
    remove.add_argument("name")
    remove.set_defaults(run=_fonts_remove)


def _cluster_parser(sub: Any) -> None:
    cluster = sub.add_parser(
        "cluster", help="the nodes sharing this node's Redis, read from Redis (no server needed)"
    )
    verbs = cluster.add_subparsers(required=True, metavar="ACTION")
    status = verbs.add_parser(
        "status",
        help="each node seen in the last minute (version, workers, renders in flight, "
        "templates), the batch queue, and the template versions each node serves",
    )
    status.add_argument("--json", action="store_true", help="the JSON of GET /v1/cluster")
    status.set_defaults(run=_cluster_status)


def _settings(args: argparse.Namespace) -> Settings:
    given: dict[str, Any] = {}
    if getattr(args, "state_dir", None) is not None:
        given["state_dir"] = args.state_dir
    server: dict[str, Any] = {}
    if getattr(args, "host", None):
        server["host"] = args.host
    if getattr(args, "port", None) is not None:
        server["port"] = args.port
    if server:
        base = load_settings(**given)
        given["server"] = base.server.model_copy(update=server).model_dump()
    return load_settings(**given)


def _state(args: argparse.Namespace, *, existing: bool = False) -> Settings:
    """The settings of a command on the keys-and-fonts state, which it names on stderr.
    With `existing` (a command that only reads or changes what is there) a state that is
    not there is a mistake, and nothing is created."""
    settings = _settings(args)
    flag = getattr(args, "state_dir", None) is not None
    if existing:
        require_state(settings, flag=flag)
    announce(settings, flag=flag)
    return settings


def _serve(args: argparse.Namespace) -> int:
    from pixeldrive.http.app import create_app
    from pixeldrive.http.serve import serve
    from pixeldrive.observe.logs import configure_logging

    settings = _settings(args)
    check_listen(settings.server.host, settings.server.port)  # before a first key is made
    announce(settings, flag=args.state_dir is not None)
    configure_logging(settings.server.log_level, json=settings.server.log_format == "json")
    if settings.server.auth == "on" and (made := key_admin.first_admin_key(settings)):
        _first_key(settings, made)
    serve(
        create_app(settings),
        settings.server,
        announce=lambda: print(
            f"PixelDrive serving on http://{settings.server.host}:{settings.server.port}/"
            f" (auth {settings.server.auth})",
            flush=True,
        ),
    )
    return 0


def _first_key(settings: Settings, made: NewKey) -> None:
    """Say where the first admin key is and its id, never the key: a server's output ends
    up in log files under any process manager."""
    path = key_admin.save_admin_key(settings, made).absolute()
    print(
        "\nA fresh state: created the first API key (admin, everything allowed), key id "
        f"{made.record.id}.\nThe key and its signing secret are in {path}\n"
        "(readable by you only; printed nowhere). Load them into a shell:\n\n"
        f"    . {path}\n"
        f'    curl -H "Authorization: Bearer $PD_KEY" '
        f"http://{settings.server.host}:{settings.server.port}/v1/templates\n\n"
        "Keep the key somewhere safe, then delete the file. Lost it? "
        "`pixeldrive keys create --admin` makes another.\n",
        flush=True,
    )


def _render(args: argparse.Namespace) -> int:
    from pixeldrive.cli.file_renders import render_file

    settings = _settings(args)
    output_path(args.output, "-o")
    values = dict(_field_value(item) for item in args.fields)
    size = render_file(settings, args.template, values, args.output, **_size(args))
    print(f"{args.output}: {size[0]}×{size[1]}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from pixeldrive.cli.file_renders import RowOutcome, render_rows

    rows, names = _csv_rows(args.csv, args.name)
    size = _size(args)
    failed: list[RowOutcome] = []
    # Shown from the first image on: a mistake found before drawing prints no empty bar.
    with tqdm(total=len(rows), unit="img", desc=args.template, delay=0.05) as bar:

        def done(outcome: RowOutcome) -> None:
            if outcome.error is not None:
                failed.append(outcome)
            if not args.server:
                bar.update(1)

        if args.server:
            for outcome in _batch_on_server(args, rows, names, size, bar):
                done(outcome)
        else:
            settings = _settings(args)
            render_rows(
                settings,
                args.template,
                rows,
                args.out,
                args.format,
                names=names,
                on_outcome=done,
                **size,
            )
    print(f"{len(rows) - len(failed)} images in {args.out}, {len(failed)} failed")
    for outcome in sorted(failed, key=lambda o: o.row):
        print(f"  row {outcome.row}: {outcome.error}", file=sys.stderr)
    return 1 if failed else 0


def _csv_rows(path: Path, name_column: str | None) -> tuple[list[dict[str, str]], list[str]]:
    """Rows as field → text (empty cells left out, so defaults apply) and file stems."""
    fix = "give a CSV file (UTF-8) whose first row names the template's fields"
    text = as_text(read_input(path, "batch", fix), str(path), fix)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        raise CommandError(f"{path} is empty; {fix}")
    raw = list(reader)
    if name_column and name_column not in reader.fieldnames:
        columns = ", ".join(reader.fieldnames)
        raise CommandError(f"--name {name_column}: no such column in {path} (it has: {columns})")
    digits = len(str(len(raw)))
    names = [
        _safe_stem(row[name_column] or "") if name_column else f"{n:0{digits}d}"
        for n, row in enumerate(raw, start=1)
    ]
    # Columns starting with "_" are not fields (a file name column, say: `--name _file`).
    rows = [{k: v for k, v in row.items() if k and not k.startswith("_") and v} for row in raw]
    return rows, names


def _safe_stem(value: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in value).strip("._")
    return stem or "_"


def _batch_on_server(
    args: argparse.Namespace,
    rows: list[dict[str, str]],
    names: list[str],
    size: dict[str, Any],
    bar: Any,
) -> Any:
    from pixeldrive.batch.client import BatchClient
    from pixeldrive.cli.file_renders import RowOutcome

    client = BatchClient(args.server, args.key or os.environ.get("PD_KEY"))
    options = {"format": args.format, **{k: v for k, v in size.items() if v}}
    batches = client.submit(args.template, rows, options, args.chunk)
    args.out.mkdir(parents=True, exist_ok=True)

    def progress(count: int) -> None:
        bar.update(count - bar.n)

    for row, result in client.follow(batches, progress):
        if "error" in result:
            yield RowOutcome(row, error=problem_line(result["error"]))
            continue
        path = args.out / f"{names[row - 1]}.{result['url'].rsplit('.', 1)[1]}"
        client.download(result["url"], path)
        yield RowOutcome(row, path=path)


def _field_value(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not name:
        raise CommandError(
            f"expected FIELD=VALUE, got {item!r}; quote values with spaces or brackets, "
            "e.g. 'accent=hsl(340,80%,50%)'"
        )
    if not value.startswith("@"):
        return name, value
    path = Path(value[1:])
    kind = mimetypes.guess_type(path.name)[0] or ""
    fix = "give the path of an image (.png .jpg .webp .gif) or of a UTF-8 text file"
    data = read_input(path, item, fix)
    if kind.startswith("image/"):
        return name, f"data:{kind};base64,{base64.b64encode(data).decode()}"
    return name, as_text(data, item, fix)


def _keys_create(args: argparse.Namespace) -> int:
    if args.admin and (args.scopes or args.quota is not None):
        raise CommandError("--admin allows everything: leave out --scopes and --quota")
    if not args.admin and not args.name:
        raise CommandError("keys create needs --name NAME (or --admin for an admin key)")
    name = args.name or "admin"
    scopes = parse_scopes_option(args.scopes) if args.scopes else None
    made = key_admin.create_key(_state(args), name, scopes, args.quota)
    if args.json:
        print(
            json.dumps(
                {
                    "id": made.record.id,
                    "key": made.key,
                    "signing_secret": made.signing_secret,
                    "name": name,
                }
            )
        )
    else:
        print(
            f"key id:         {made.record.id}\nAPI key:        {made.key}\n"
            f"signing secret: {made.signing_secret}\n(shown once: keep them safe)"
        )
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    rows = [
        {
            "id": r.id,
            "name": r.name,
            "scopes": json.loads(r.scopes),
            "quota": r.quota,
            "created": r.created,
            "revoked": r.revoked,
        }
        for r in key_admin.all_keys(_state(args, existing=True))
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        print(f"{row['id']}  {state:8} {row['name']}  quota={row['quota'] or '-'}")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    if key_admin.revoke(_state(args, existing=True), args.id):
        print(f"revoked {args.id}")
        return 0
    print(f"pixeldrive: no active key {args.id!r}", file=sys.stderr)
    return 1


def _font_name(path: Path) -> str:
    """A font name from a file name: `AcmeSans-Bold.woff2` → `acmesans-bold`."""
    name = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "-" for c in path.stem)
    return name.lower().lstrip("-_")[:64]


def _fonts_add(args: argparse.Namespace) -> int:
    from pixeldrive.service.fonts import add_font
    from pixeldrive.storage.database import connection

    settings = _settings(args)
    data = args.file.read_bytes()
    name = args.name or _font_name(args.file)
    with connection(settings.database_url, settings.database_path) as db:
        record, replaced = add_font(db, name, data, settings.fonts)
    weights = f"{record.weight}" + (
        f"–{record.weight_max}" if record.weight_max != record.weight else ""
    )
    print(
        f"{'replaced' if replaced else 'added'} {record.name}: {record.family} {record.style} "
        f"(weight {weights}, {record.glyphs} glyphs, sha256 {record.digest[:12]}…); "
        f"servers see it within {settings.fonts.refresh_seconds:g} s"
    )
    return 0


def _fonts_list(args: argparse.Namespace) -> int:
    from pixeldrive.http.fonts import font_list
    from pixeldrive.storage.database import connection
    from pixeldrive.storage.fonts import list_fonts
    from pixeldrive.text.font_files import bundled_faces
    from pixeldrive.text.fonts import library_for

    settings = _state(args, existing=True)
    with connection(settings.database_url, settings.database_path) as db:
        records = list_fonts(db)
    conf = settings.render.fontconfig_file
    listing = font_list(records, bundled_faces(conf), library_for(str(conf)).has_family)
    if args.json:
        print(listing.model_dump_json(exclude_none=True))
        return 0
    for family in listing.families:
        styles = ", ".join(
            f"{face.style} {face.weight}"
            + (f"–{face.weight_max}" if face.weight_max != face.weight else "")
            + (f" [{face.name}]" if face.name else "")
            + (f" ({face.licence.embedding})" if face.licence.embedding != "installable" else "")
            for face in family.faces
        )
        print(f"{family.family}  {family.source}: {styles}")
    return 0


def _fonts_remove(args: argparse.Namespace) -> int:
    from pixeldrive.storage.database import connection
    from pixeldrive.storage.fonts import delete_font

    settings = _state(args, existing=True)
    with connection(settings.database_url, settings.database_path) as db:
        removed = delete_font(db, args.name)
    if not removed:
        print(f"pixeldrive: no uploaded font {args.name!r}", file=sys.stderr)
        return 1
    print(f"removed {args.name} (its file is kept: images made with it keep their pixels)")
    return 0


def _cluster_status(args: argparse.Namespace) -> int:
    from pixeldrive.cli.cluster_status import cluster_status

    print(cluster_status(_settings(args), as_json=args.json))
    return 0


def _templates_check(args: argparse.Namespace) -> int:
    """Exit 1 when any file cannot be served."""
    from pixeldrive.lint.linter import lint

    settings = _settings(args)
    files = args.files or sorted(settings.templates_dir.glob("*.svg"))
    # Every file read first: a missing one is said before any report is printed.
    sources = [(p, read_input(p, "templates check", _svg_fix(settings, p))) for p in files]
    servable = True
    for path, data in sources:
        report = lint(
            data,
            name=path.name,
            fontconfig_file=settings.render.fontconfig_file,
            max_image_bytes=settings.render.max_data_uri_bytes,
            uploaded=_uploaded_fonts(settings, data),
        )
        servable &= report.servable
        if args.json:
            print(report.to_json())
            continue
        for field in report.fields:
            options = " ".join(f"{k}={v}" for k, v in field.options.items())
            print(f"{path.name}: field {field.name}: {field.kind} ({field.marking}) {options}")
        print(report.format_text())
    return 0 if servable else 1


def _svg_fix(settings: Settings, path: Path) -> str:
    """What to name instead of a file that is not there (a template id, say)."""
    bundled = settings.templates_dir / f"{path.name}.svg"
    if path.suffix == "" and bundled.is_file():
        return f"{path.name} is a template id: its file is {bundled}"
    return f"name SVG files, or none to check every template in {settings.templates_dir}"


def _uploaded_fonts(settings: Settings, svg: bytes) -> tuple[str, ...]:
    """The files of the fonts uploaded to this state (or database) for the families the
    template names, as the server lints with them; none on a state that has no database."""
    if not settings.database_url and not settings.database_path.exists():
        return ()
    from pixeldrive.core.errors import TemplateInvalid
    from pixeldrive.service.fonts import uploaded_files
    from pixeldrive.storage.database import connection
    from pixeldrive.templates.parser import parse_svg
    from pixeldrive.templates.style import families_named

    try:
        families = families_named(parse_svg(svg))
    except TemplateInvalid:
        return ()  # the linter says why
    with connection(settings.database_url, settings.database_path) as db:
        return uploaded_files(db, settings.state_dir / "fonts", families)


def _sign(args: argparse.Namespace) -> int:
    secret = args.secret
    if secret is None:
        record = key_admin.key(_state(args, existing=True), args.kid)
        if record is None or not record.active:
            print(f"pixeldrive: no active key {args.kid!r} in this state", file=sys.stderr)
            return 1
        secret = record.signing_secret
    parts = urlsplit(args.url)
    fields = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in url_signature.RESERVED
    ]
    signed = url_signature.sign_url(parts.path, fields, kid=args.kid, secret=secret, ttl=args.ttl)
    path, _, query = signed.partition("?")
    print(urlunsplit((parts.scheme, parts.netloc, path, query, "")))
    return 0

"""Fonts people bring: accepted (checked, sanitised, stored in the database every node
reads), known by family for the render keys, and copied to this node's disk for its
render workers.

- `FontCatalog` is what the render pipeline asks: the digests of the uploaded faces of
  the families a template names (part of the render spec, so of its key), and the local
  paths of those files (fetched from the database the first time a node needs one).
  It is re-read from the database every `fonts.refresh_seconds` (another node or the CLI
  may have changed it) and at once after a change made here.
- `FontUploads` is PUT, GET and DELETE /v1/fonts; `add_font` the CLI's synchronous PUT.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pixeldrive.cache.flight import SingleFlight
from pixeldrive.core.config import FontSettings
from pixeldrive.core.errors import DatabaseUnavailable, NotFound, RenderFailed
from pixeldrive.core.files import write_atomically
from pixeldrive.core.periodic import every
from pixeldrive.storage.database import Database
from pixeldrive.storage.fonts import FontRecord, delete_font, font_file, list_fonts, save_font
from pixeldrive.storage.sql import Connection
from pixeldrive.templates.model import ID_RE
from pixeldrive.text.font_files import CheckedFont, FontFacts, FontRefused, check_font
from pixeldrive.text.fonts import FontLibrary, library_for

log = logging.getLogger("pixeldrive.fonts")
Source = Literal["uploaded", "bundled", "missing"]
EXTENSIONS = ("ttf", "otf")


def check_name(name: str) -> None:
    """FontRefused unless `name` is an id (as a template's: lower case, digits, - and _);
    fullmatch, so a trailing newline, a NUL or a look-alike letter is refused too."""
    if not ID_RE.fullmatch(name):
        raise FontRefused(
            f"font name {name!r} must be 1–64 of a-z, 0-9, '-' and '_', starting with a "
            "letter or digit"
        )


def font_record(name: str, checked: CheckedFont, uploaded_at: float) -> FontRecord:
    facts: FontFacts = checked.facts
    return FontRecord(
        name=name,
        digest=checked.digest,
        family=facts.family,
        names=json.dumps(list(facts.names)),
        style=facts.style,
        weight=facts.weight,
        weight_max=facts.weight_max,
        italic=facts.italic,
        glyphs=facts.glyphs,
        size=len(checked.data),
        kind=checked.kind,
        fs_type=facts.fs_type,
        copyright=facts.copyright,
        licence=facts.licence,
        licence_url=facts.licence_url,
        uploaded_at=uploaded_at,
    )


def add_font(
    db: Connection, name: str, data: bytes, limits: FontSettings
) -> tuple[FontRecord, bool]:
    """Check, sanitise and store one font on a synchronous connection (the CLI): the
    record and whether it replaced what `name` held. Nothing is stored when refused."""
    check_name(name)
    checked = _check(data, limits)
    record = font_record(name, checked, time.time())
    return record, save_font(db, record, checked.facts.ext, checked.data)


def _check(data: bytes, limits: FontSettings) -> CheckedFont:
    return check_font(
        data,
        max_bytes=limits.max_bytes,
        max_sfnt_bytes=limits.max_sfnt_bytes,
        timeout=limits.sanitiser_timeout,
    )


class FontCatalog:
    """The uploaded fonts this node knows, by family name (any name a face answers to,
    compared case-insensitively), and their files on this node's disk."""

    def __init__(self, db: Database, directory: Path, fontconfig_file: Path) -> None:
        self.db = db
        self.directory = directory
        self.fontconfig_file = fontconfig_file
        self.records: tuple[FontRecord, ...] = ()
        self._by_family: dict[str, tuple[FontRecord, ...]] = {}
        self._bundled: FontLibrary | None = None
        self._local: dict[str, str] = {}  # digest → a local file checked against it
        self._fetching: SingleFlight[str] = SingleFlight()

    async def open(self) -> None:
        """The bundled families (for `source`), and the fonts in the database."""
        self._bundled = await asyncio.to_thread(library_for, str(self.fontconfig_file))
        await self.refresh()

    async def refresh(self) -> None:
        """Read the fonts again; DatabaseUnavailable passes (the caller decides)."""
        self._set(await self.db.run(list_fonts))

    async def refresh_if_reachable(self) -> None:
        """Read the fonts again; when the database is down, keep what is known."""
        with contextlib.suppress(DatabaseUnavailable):
            await self.refresh()

    def _set(self, records: list[FontRecord]) -> None:
        by_family: dict[str, list[FontRecord]] = {}
        for record in records:
            for family in record.families:
                by_family.setdefault(family.casefold(), []).append(record)
        self.records = tuple(records)
        self._by_family = {k: tuple(v) for k, v in by_family.items()}

    async def watch(self, interval: float) -> None:
        """Refresh forever, every `interval` seconds; a failure is logged, never fatal
        (the database's own outage is logged there: the last fonts known stay in use)."""
        await every(
            interval, self.refresh, what="font refresh", log=log, expected=(DatabaseUnavailable,)
        )

    def digests(self, families: Iterable[str]) -> tuple[str, ...]:
        """The sha256 of every uploaded face of `families`, sorted: what a render spec
        records, so a changed font makes a new key. No I/O."""
        found = {
            record.digest
            for family in families
            for record in self._by_family.get(family.strip().casefold(), ())
        }
        return tuple(sorted(found))

    def source(self, family: str) -> Source:
        """Where text in `family` is set from: an uploaded font, a bundled one (generic
        names included), or neither (the fallback font draws it)."""
        if family.strip().casefold() in self._by_family:
            return "uploaded"
        if self._bundled is not None and self._bundled.has_family(family):
            return "bundled"
        return "missing"

    def bundled_family(self, family: str) -> bool:
        return self._bundled is not None and self._bundled.has_family(family)

    async def paths(self, digests: Iterable[str]) -> tuple[str, ...]:
        """The local files of `digests`, in order: checked against their digest once
        per process, and fetched from the database when missing or wrong."""
        out = []
        for digest in digests:
            path = self._local.get(digest)
            if path is None:
                path, _shared = await self._fetching.do(
                    digest, functools.partial(self._ensure, digest)
                )
            out.append(path)
        return tuple(out)

    async def _ensure(self, digest: str) -> str:
        path = await asyncio.to_thread(verified_file, self.directory, digest)
        if path is None:
            stored = await self.db.run(font_file, digest)
            if stored is None:
                raise RenderFailed(f"the font file {digest[:12]}… is not in the database")
            ext, data = stored
            if hashlib.sha256(data).hexdigest() != digest:
                raise RenderFailed(f"the stored font file {digest[:12]}… is corrupt")
            path = await asyncio.to_thread(write_file, self.directory, digest, ext, data)
        self._local[digest] = path
        return path

    async def keep(self, checked: CheckedFont) -> None:
        """A font just accepted here: its local copy, written now."""
        path = await asyncio.to_thread(
            write_file, self.directory, checked.digest, checked.facts.ext, checked.data
        )
        self._local[checked.digest] = path


def verified_file(directory: Path, digest: str) -> str | None:
    """A local copy of `digest` in `directory` whose bytes still hash to it; a corrupt
    one is removed (to be fetched again)."""
    for ext in EXTENSIONS:
        path = directory / f"{digest}.{ext}"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        if hashlib.sha256(data).hexdigest() == digest:
            return str(path)
        log.warning("local font file %s is corrupt: fetched again", path.name)
        path.unlink(missing_ok=True)
    return None


def write_file(directory: Path, digest: str, ext: str, data: bytes) -> str:
    """Write a font file atomically (readers see all of it or none); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{digest}.{ext if ext in EXTENSIONS else 'ttf'}"
    write_atomically(target, data)
    return str(target)


def uploaded_files(db: Connection, directory: Path, families: Iterable[str]) -> tuple[str, ...]:
    """The local files of the uploaded faces of `families`, written from the database
    when missing: what the CLI's `templates check` lints with (synchronous)."""
    wanted = {family.strip().casefold() for family in families}
    digests = sorted(
        {r.digest for r in list_fonts(db) if wanted & {n.casefold() for n in r.families}}
    )
    paths = []
    for digest in digests:
        path = verified_file(directory, digest)
        stored = font_file(db, digest) if path is None else None
        if stored is not None:
            path = write_file(directory, digest, *stored)
        if path is not None:
            paths.append(path)
    return tuple(paths)


@dataclass(frozen=True, slots=True)
class UploadedFont:
    record: FontRecord
    replaced: bool


class FontUploads:
    """PUT, GET and DELETE of fonts, on the catalog and its database."""

    def __init__(self, catalog: FontCatalog, limits: FontSettings) -> None:
        self.catalog = catalog
        self.limits = limits

    async def put(self, name: str, data: bytes) -> UploadedFont:
        """Accept (store, and see at once here) or refuse (FontRefused 422, TooLarge
        413, Conflict 409) one font; nothing is stored when refused."""
        check_name(name)
        checked = await asyncio.to_thread(_check, data, self.limits)
        record = font_record(name, checked, time.time())
        replaced = await self.catalog.db.run(save_font, record, checked.facts.ext, checked.data)
        await self.catalog.keep(checked)
        await self.catalog.refresh()
        return UploadedFont(record, replaced)

    async def delete(self, name: str) -> None:
        """Remove a font's name; its file stays (render specs may name it)."""
        valid = ID_RE.fullmatch(name) is not None
        if not valid or not await self.catalog.db.run(delete_font, name):
            raise NotFound(f"no uploaded font {name!r} (bundled fonts are files)")
        await self.catalog.refresh()

    async def uploaded(self) -> tuple[FontRecord, ...]:
        """Every uploaded font, read from the database now."""
        await self.catalog.refresh()
        return self.catalog.records

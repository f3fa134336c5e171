"""Uploaded templates, kept in the database every node reads, mirrored to this node's disk.

The database (`storage/templates.py`) says which version each uploaded id serves and
holds every version's bytes; the template store's `uploads/` and `templates/` directories
are this node's copy of them, which its render workers read.

- `sync` mirrors the database into `uploads/` (a new, replaced or removed upload made
  through another node or before a restart) and refreshes the store; `watch` runs it
  every `templates_refresh_seconds`.
- `source` is where the render pipeline finds a version's bytes: on this node's disk, or
  fetched from the database first (once, whoever asks at the same time), so a URL minted
  on another node for a version this one never served still draws.
- `save` and `delete` are what an upload through this node changes: the database first
  (one transaction), then this node's copy, seen here at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path

from pixeldrive.cache.flight import SingleFlight
from pixeldrive.core.errors import DatabaseUnavailable, RenderFailed
from pixeldrive.core.periodic import every
from pixeldrive.storage.database import Database
from pixeldrive.storage.templates import (
    delete_template,
    import_templates,
    list_templates,
    save_template,
    template_source,
)
from pixeldrive.templates.model import ID_RE
from pixeldrive.templates.store import TemplateStore
from pixeldrive.templates.version import template_version

log = logging.getLogger("pixeldrive.templates")
# In `uploads/`: written once this node's uploads are in the database. Before it, the
# directory holds what an older release kept only here, and those files are stored first.
IMPORTED = ".in-database"


class SharedTemplates:
    """This node's view of the uploaded templates in `db`, over the template store."""

    def __init__(self, db: Database, store: TemplateStore) -> None:
        self.db = db
        self.store = store
        self._mirrored: dict[str, str] | None = None  # id → version, as last mirrored
        self._present: set[str] = set()  # versions whose bytes are known to be on disk
        self._fetching: SingleFlight[Path] = SingleFlight()
        # A sync and an upload through this node take turns: a sync that read the table
        # just before an upload committed must not put the old version back on disk.
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        """Store the uploads an older release kept only on this disk, then mirror."""
        await self._import_local()
        await self.sync()

    async def sync(self) -> None:
        """Mirror the uploaded templates in the database to this node's disk; nothing is
        written, and the store not scanned, while the table is unchanged.
        DatabaseUnavailable passes (the caller decides)."""
        async with self._lock:
            wanted = {t.id: t.version for t in await self.db.run(list_templates)}
            if wanted == self._mirrored:
                return
            local = await asyncio.to_thread(self.store.uploads)
            for template_id, version in wanted.items():
                if local.get(template_id) != version:
                    try:
                        path = await self.source(version)
                    except RenderFailed as exc:  # one bad row must not stop the others
                        log.warning("uploaded template %s not mirrored: %s", template_id, exc)
                        continue
                    data = await asyncio.to_thread(path.read_bytes)
                    await asyncio.to_thread(self.store.save_upload, template_id, data)
                    log.info("uploaded template %s is now version %s", template_id, version)
            for template_id in local.keys() - wanted.keys():
                await asyncio.to_thread(self.store.delete_upload, template_id)
                log.info("uploaded template %s removed", template_id)
            await self.store.refresh()
            self._mirrored = wanted

    async def watch(self, interval: float) -> None:
        """Mirror forever, every `interval` seconds; a failure is logged, never fatal
        (the database's own outage is logged there: the uploads this node has stay served)."""
        await every(
            interval,
            self.sync,
            what="uploaded templates refresh",
            log=log,
            expected=(DatabaseUnavailable,),
        )

    async def source(self, version: str) -> Path:
        """The local file of a template version, fetched from the database when this
        node does not have it whole; RenderFailed when no one has it."""
        if version in self._present:
            return self.store.source_path(version)
        path, _shared = await self._fetching.do(version, functools.partial(self._ensure, version))
        return path

    async def _ensure(self, version: str) -> Path:
        path = await asyncio.to_thread(self.store.kept_version, version)
        if path is None:
            data = await self.db.run(template_source, version)
            if data is None:
                raise RenderFailed(f"the template version {version} is not in the database")
            if template_version(data) != version:
                raise RenderFailed(f"the stored template version {version} is corrupt")
            path = await asyncio.to_thread(self.store.keep_version, data, replace=True)
            log.info("template version %s fetched from the database", version)
        self._present.add(version)
        return path

    async def save(self, template_id: str, data: bytes) -> bool:
        """An upload accepted here (linted, sanitised, drawn): stored in the database in
        one transaction, then on this disk and served here at once. True when it
        replaced an upload."""
        version = template_version(data)
        async with self._lock:
            replaced = await self.db.run(save_template, template_id, version, data)
            await asyncio.to_thread(self.store.keep_version, data)
            self._present.add(version)
            await asyncio.to_thread(self.store.save_upload, template_id, data)
            if self._mirrored is not None:
                self._mirrored = self._mirrored | {template_id: version}
            await self.store.refresh()
        return replaced

    async def delete(self, template_id: str) -> bool:
        """Remove an uploaded id everywhere (its versions' bytes stay); False when none."""
        async with self._lock:
            deleted = await self.db.run(delete_template, template_id)
            await asyncio.to_thread(self.store.delete_upload, template_id)
            if self._mirrored is not None:
                self._mirrored = {k: v for k, v in self._mirrored.items() if k != template_id}
            await self.store.refresh()
        return deleted

    async def _import_local(self) -> None:
        uploads_dir = self.store.uploads_dir
        if uploads_dir is None:
            return
        found = await asyncio.to_thread(_local_uploads, uploads_dir)
        if found is None:
            return
        if found:
            stored = await self.db.run(import_templates, found)
            log.info("uploaded templates stored in the database: %s", ", ".join(stored) or "-")
        await asyncio.to_thread(_mark_imported, uploads_dir)


def _local_uploads(directory: Path) -> list[tuple[str, str, bytes]] | None:
    """(id, version, bytes) of the upload files in `directory`; None once they have been
    stored in the database."""
    if (directory / IMPORTED).exists():
        return None
    if not directory.is_dir():
        return []
    out = []
    for path in sorted(directory.glob("*.svg")):
        if ID_RE.fullmatch(path.stem):
            data = path.read_bytes()
            out.append((path.stem, template_version(data), data))
    return out


def _mark_imported(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / IMPORTED).touch()

"""The template store: the templates directory, compiled once per version, kept fresh."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from pixeldrive.core.errors import PixelDriveError, UnknownTemplate
from pixeldrive.core.files import write_atomically
from pixeldrive.core.periodic import every
from pixeldrive.templates.model import ID_RE, Template, compile_template
from pixeldrive.templates.version import template_version

log = logging.getLogger("pixeldrive.templates")


@dataclass(frozen=True, slots=True)
class _Entry:
    stamp: tuple[int, int]  # (mtime_ns, size): cheap change detection
    template: Template | None
    problem: str | None = None


class TemplateStore:
    """Serves compiled templates from `directory` and keeps every version's bytes in
    `versions_dir/<version>.svg`, so a URL minted for an older version still re-renders.

    `scan()` runs in a thread and returns a new table; only the event loop swaps it in, so
    readers never see a half-updated store.
    """

    def __init__(
        self,
        directory: Path,
        versions_dir: Path,
        *,
        max_image_bytes: int,
        uploads_dir: Path | None = None,
    ) -> None:
        self.directory = directory
        self.uploads_dir = uploads_dir
        self.versions_dir = versions_dir
        self._max_image_bytes = max_image_bytes
        self._entries: dict[str, _Entry] = {}

    def get(self, template_id: str) -> Template:
        """The current version of a template; UnknownTemplate when unknown or not servable."""
        entry = self._entries.get(template_id)
        if entry is None or entry.template is None:
            raise UnknownTemplate(template_id, tuple(t.id for t in self.all()))
        return entry.template

    def all(self) -> list[Template]:
        """Every servable template, sorted by id."""
        return [e.template for _, e in sorted(self._entries.items()) if e.template]

    def problems(self) -> dict[str, str]:
        """Template files that could not be compiled, with the reason (an earlier good
        version of such a file may still be served)."""
        return {k: e.problem for k, e in self._entries.items() if e.problem}

    def source_path(self, version: str) -> Path:
        """Where the bytes of a template version are kept for the render workers."""
        return self.versions_dir / f"{version}.svg"

    async def refresh(self) -> None:
        """Pick up added, edited and removed files (the I/O runs in a thread)."""
        self._entries = await asyncio.to_thread(self.scan, dict(self._entries))

    async def watch(self, interval: float) -> None:
        """Refresh forever, every `interval` seconds; errors are logged, never fatal."""
        await every(interval, self.refresh, what="template refresh", log=log)

    def scan(self, known: dict[str, _Entry]) -> dict[str, _Entry]:
        """The new table: unchanged files keep their compiled template."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        table: dict[str, _Entry] = {}
        for path in self._files():
            template_id = path.stem
            if not ID_RE.fullmatch(template_id):
                continue
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            old = known.get(template_id)
            table[template_id] = old if old and old.stamp == stamp else self._load(path, stamp, old)
        return table

    def _load(self, path: Path, stamp: tuple[int, int], old: _Entry | None) -> _Entry:
        data = path.read_bytes()
        self.keep_version(data)
        try:
            template = compile_template(path.stem, data, max_image_bytes=self._max_image_bytes)
        except PixelDriveError as exc:
            problems = "; ".join(f"{p.field}: {p.message}" for p in exc.errors)
            reason = f"{exc.detail}{': ' + problems if problems else ''}"
        except Exception as exc:  # one bad file must never stop the whole store
            log.exception("template %s failed to compile", path.name)
            reason = f"the template cannot be compiled ({type(exc).__name__})"
        else:
            log.info("template %s version %s loaded", template.id, template.version)
            return _Entry(stamp, template)
        # A half-saved or broken edit must not take a working template down: the last
        # good version keeps serving until the file compiles again.
        kept = old.template if old else None
        log.warning("template %s is not %s: %s", path.name, "updated" if kept else "served", reason)
        return _Entry(stamp, kept, reason)

    def _files(self) -> list[Path]:
        """Template files by id; an uploaded file replaces a bundled one of the same id."""
        files = {p.stem: p for p in sorted(self.directory.glob("*.svg"))}
        if self.uploads_dir is not None and self.uploads_dir.is_dir():
            files |= {p.stem: p for p in sorted(self.uploads_dir.glob("*.svg"))}
        return [files[k] for k in sorted(files)]

    def keep_version(self, data: bytes, *, replace: bool = False) -> Path:
        """Store a version's bytes (content-addressed, atomic); returns where they are.
        `replace` writes them even over an existing file (one found corrupt)."""
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        target = self.source_path(template_version(data))
        if replace or not target.exists():
            write_atomically(target, data)
        return target

    def kept_version(self, version: str) -> Path | None:
        """Where the bytes of `version` are kept on this node, if they are, whole (the
        file's bytes still hash to the version)."""
        path = self.source_path(version)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        if template_version(data) != version:
            log.warning("template version file %s is corrupt", path.name)
            return None
        return path

    def uploads(self) -> dict[str, str]:
        """The uploaded templates on this node's disk: id → version."""
        if self.uploads_dir is None or not self.uploads_dir.is_dir():
            return {}
        return {
            p.stem: template_version(p.read_bytes())
            for p in sorted(self.uploads_dir.glob("*.svg"))
            if ID_RE.fullmatch(p.stem)
        }

    def save_upload(self, template_id: str, data: bytes) -> bool:
        """Write an accepted upload (atomically: readers see the old file or the new one,
        never half of it). True when it replaced an earlier upload."""
        if self.uploads_dir is None:
            raise RuntimeError("this store takes no uploads")
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        target = self.uploads_dir / f"{template_id}.svg"
        existed = target.exists()
        write_atomically(target, data)
        return existed

    def delete_upload(self, template_id: str) -> bool:
        """Remove an uploaded template; False when there is no such upload."""
        if self.uploads_dir is None:
            return False
        try:
            (self.uploads_dir / f"{template_id}.svg").unlink()
        except FileNotFoundError:
            return False
        return True

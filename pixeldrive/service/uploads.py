"""Template uploads: lint and sanitise, draw once with the defaults, then store them in
the database every node reads (and on this node's disk) in one transaction.

The old version keeps serving until the new one is accepted; every way an upload can be
refused is a 422 listing the problems, each with its element and line.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from pixeldrive.core.errors import (
    FieldProblem,
    InvalidInput,
    NotFound,
    RenderFailed,
    RenderTimeout,
    TemplateInvalid,
)
from pixeldrive.core.render_spec import RenderSpec
from pixeldrive.lint.linter import LintReport, lint
from pixeldrive.render.job import RenderJob
from pixeldrive.service.fonts import FontCatalog
from pixeldrive.service.pipeline import Renderer
from pixeldrive.service.shared_templates import SharedTemplates
from pixeldrive.templates.model import ID_RE, Template, compile_template
from pixeldrive.templates.parser import parse_svg
from pixeldrive.templates.sanitize import Finding, sanitize_svg
from pixeldrive.templates.store import TemplateStore
from pixeldrive.templates.style import families_named

TRIAL_WIDTH = 600  # the trial render only has to prove the template draws


@dataclass(frozen=True, slots=True)
class Uploaded:
    template: Template
    findings: tuple[Finding, ...]  # warnings and notes; errors refuse the upload
    replaced: bool


def problems(findings: tuple[Finding, ...] | list[Finding]) -> tuple[FieldProblem, ...]:
    """Error findings as problem entries: where (element and line) and what, and why."""
    return tuple(
        FieldProblem(
            f"<{f.tag or 'svg'}{' id=' + repr(f.element_id) if f.element_id else ''}>"
            f" line {f.line}",
            f"{f.what}: {f.why}",
        )
        for f in findings
        if f.severity == "error"
    )


class TemplateUploads:
    """PUT and DELETE of templates, over the uploaded templates every node shares."""

    def __init__(
        self,
        shared: SharedTemplates,
        pool: Renderer,
        *,
        fontconfig_file: Path,
        max_image_bytes: int,
        max_side: int,
        fonts: FontCatalog | None = None,
    ) -> None:
        self.shared = shared
        self.store: TemplateStore = shared.store
        self.fonts = fonts
        self.pool = pool
        self._fontconfig = fontconfig_file
        self._max_image_bytes = max_image_bytes
        self._max_side = max_side

    async def put(self, template_id: str, data: bytes) -> Uploaded:
        """Accept or refuse (TemplateInvalid, 422) one upload; Overloaded (503) passes."""
        if not ID_RE.fullmatch(template_id):  # a path parameter: it may hold "/" or "\n"
            raise TemplateInvalid(f"template id {template_id!r} must match {ID_RE.pattern}")
        fonts = await self._uploaded_fonts(data)
        report, clean, template = await asyncio.to_thread(self._check, template_id, data, fonts)
        await self._trial(template, fonts)
        replaced = await self.shared.save(template_id, clean)
        notes = tuple(f for f in report.findings if f.severity != "error")
        return Uploaded(self.store.get(template_id), notes, replaced)

    async def _uploaded_fonts(self, data: bytes) -> tuple[str, ...]:
        """The local files of the uploaded fonts of the families the template names,
        read afresh (a font may have been uploaded through another node a moment ago):
        the linter and the trial draw see what renders will."""
        if self.fonts is None:
            return ()
        await self.fonts.refresh_if_reachable()
        families = await asyncio.to_thread(_families, data)
        return await self.fonts.paths(self.fonts.digests(families))

    def _check(
        self, template_id: str, data: bytes, fonts: tuple[str, ...]
    ) -> tuple[LintReport, bytes, Template]:
        report = lint(
            data,
            name=f"{template_id}.svg",
            fontconfig_file=self._fontconfig,
            max_image_bytes=self._max_image_bytes,
            uploaded=fonts,
        )
        if not report.servable:
            refused = problems(report.findings)
            raise TemplateInvalid(
                f"the template cannot be served: {len(refused)} problem(s)", errors=refused
            )
        clean, _findings = sanitize_svg(data)
        template = compile_template(template_id, clean, max_image_bytes=self._max_image_bytes)
        if max(template.width, template.height) > self._max_side:
            raise TemplateInvalid(
                f"the page is {template.width}×{template.height} px; the largest side this "
                f"server draws is {self._max_side} px"
            )
        self.store.keep_version(clean)
        return report, clean, template

    async def _trial(self, template: Template, fonts: tuple[str, ...]) -> None:
        """Draw once with the defaults, small, in the pool: whatever CairoSVG raises on
        this template is found now, as a 422, not later as a 500."""
        scale = min(1.0, TRIAL_WIDTH / template.width)
        try:
            values = template.model.model_validate(template.preview_values()).model_dump()
        except ValueError as exc:
            raise TemplateInvalid(f"the template's defaults do not validate: {exc}") from exc
        trial = RenderSpec(
            template.id,
            template.version,
            values,
            width=max(1, round(template.width * scale)),
            height=max(1, round(template.height * scale)),
        )
        job = RenderJob.of(trial, self.store.source_path(template.version), "png", fonts=fonts)
        try:
            await self.pool.render(job)
        except (InvalidInput, RenderFailed, RenderTimeout) as exc:
            raise TemplateInvalid(f"the template cannot be drawn: {exc.detail}") from exc

    async def delete(self, template_id: str) -> None:
        valid = ID_RE.fullmatch(template_id) is not None  # see put
        if not valid or not await self.shared.delete(template_id):
            raise NotFound(f"no uploaded template {template_id!r} (bundled ones are files)")


def _families(data: bytes) -> tuple[str, ...]:
    """The font families an SVG names; none when it does not parse (the linter says why)."""
    try:
        return families_named(parse_svg(data))
    except TemplateInvalid:
        return ()

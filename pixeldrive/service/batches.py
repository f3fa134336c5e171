"""Batches as the API sees them: checked and queued at once, followed by the key that
submitted them. The queue's workers render the items through the pipeline."""

from __future__ import annotations

from typing import Any

from pixeldrive.auth.principal import Principal
from pixeldrive.auth.scopes import ScopeError
from pixeldrive.batch.queue import Batch, BatchQueue, Progress
from pixeldrive.core.errors import FieldProblem, InvalidInput, NotFound
from pixeldrive.service.render_request import RenderOptions
from pixeldrive.templates.store import TemplateStore


class BatchSubmitter:
    """Submits batches to `queue` and reads their progress back."""

    def __init__(self, queue: BatchQueue, templates: TemplateStore, max_items: int) -> None:
        self.queue = queue
        self._templates = templates
        self._max_items = max_items

    async def submit(
        self, principal: Principal, options: RenderOptions, items: list[dict[str, Any]], fmt: str
    ) -> Batch:
        """Check (scopes 403, template 404, size 422) and queue; nothing is rendered yet."""
        principal.require("batch", template=options.template, format=fmt)
        self._templates.get(options.template)
        if len(items) > self._max_items:
            raise InvalidInput(
                f"a batch holds at most {self._max_items} items; this one has {len(items)}",
                errors=(FieldProblem("items", f"at most {self._max_items} items"),),
            )
        batch = Batch(
            Batch.new_id(), options.template, fmt, options.sizing(), principal, len(items)
        )
        await self.queue.submit(batch, items)
        return batch

    async def progress(self, principal: Principal, batch_id: str) -> Progress:
        """A batch's progress; NotFound unless `principal`'s key submitted it and its
        scopes cover the batch's template and format (a token narrowed to `og-*` does not
        see its key's batches of other templates). Not found rather than forbidden: a
        batch the caller may not see is not confirmed to exist."""
        progress = await self.queue.progress(batch_id)
        if progress is None or not _sees(principal, progress.batch):
            raise NotFound(f"no batch {batch_id!r}")
        return progress


def _sees(principal: Principal, batch: Batch) -> bool:
    if batch.principal.key_id != principal.key_id:
        return False
    try:
        principal.scopes.check("batch", template=batch.template, format=batch.format)
    except ScopeError:
        return False
    return True

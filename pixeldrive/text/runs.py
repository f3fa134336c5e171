"""Glyph runs by reference: what a document's `<pd:glyphs ref="...">` elements point at.

A table belongs to whoever draws the document: the static text of a template version is
set once into one table, which lives as long as the worker keeps that version; each
render sets its field text into a table of its own whose lookups fall back to the static
one, and which goes when the render returns (or fails). Nothing is kept anywhere else, so
two renders cannot see each other's runs and a failure leaves nothing behind.
"""

from __future__ import annotations

from pixeldrive.text.layout import Run


class GlyphRuns:
    """Runs handed out references, unique along one chain of tables (a render's own and
    its template version's static table): each level has a prefix of its own."""

    __slots__ = ("_depth", "_parent", "_runs")

    def __init__(self, parent: GlyphRuns | None = None) -> None:
        self._parent = parent
        self._depth: int = 0 if parent is None else parent._depth + 1
        self._runs: dict[str, Run] = {}

    @property
    def parent(self) -> GlyphRuns | None:
        return self._parent

    def add(self, run: Run) -> str:
        """Keep `run`; the returned reference goes on its glyph element."""
        ref = f"{self._depth}.{len(self._runs)}"
        self._runs[ref] = run
        return ref

    def get(self, ref: str) -> Run | None:
        """The run of `ref` here, else in the tables this one falls back to."""
        run = self._runs.get(ref)
        if run is None and self._parent is not None:
            return self._parent.get(ref)
        return run

    @property
    def kept(self) -> int:
        """How many runs this table itself keeps (not counting the one it falls back to)."""
        return len(self._runs)

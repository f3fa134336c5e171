"""The text engine over a whole template: static text set once per version, field text
set per request, and what happened reported per field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import unicodedata2 as ucd
from lxml import etree

from pixeldrive.templates.fields import FieldSpec
from pixeldrive.templates.parser import local_name
from pixeldrive.text.fit import Fit
from pixeldrive.text.report import TextReport
from pixeldrive.text.svgtext import TextSetter

TOP_LEVEL = frozenset({"text", "flowRoot"})


class MissingGlyphs(Exception):
    """Characters no installed font draws (`problems`: per field, as (path, message))."""

    def __init__(
        self, chars: Iterable[str], where: str, problems: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.chars = tuple(sorted(set(chars)))
        self.problems = problems
        super().__init__(f"{where}: {_undrawable(self.chars)}; {REPLACE_HINT}")


REPLACE_HINT = 'a server set to render.missing_glyphs = "replace" draws U+FFFD instead'


def _undrawable(chars: Iterable[str]) -> str:
    """`chars` named, each with why no font draws it: unassigned or private use, or not
    in any installed font."""
    listed = []
    for char in sorted(set(chars)):
        kind = {"Cn": " (unassigned)", "Co": " (private use)"}.get(ucd.category(char), "")
        listed.append(f"U+{ord(char):04X} {char!r}{kind}")
    return "no installed font draws " + ", ".join(listed)


@dataclass(frozen=True, slots=True)
class TextPlan:
    """Per template version: which texts are set per request (indexes in document order
    of the prepared root), their fitting options and the fields they hold."""

    dynamic: list[int] = field(default_factory=list)
    fits: dict[int, Fit] = field(default_factory=dict)
    names: dict[int, tuple[str, ...]] = field(default_factory=dict)


def texts(root: etree._Element) -> list[etree._Element]:
    """Top-level text elements (not nested in another text): the engine sets them all,
    text on a path and per-character positions included."""
    out = []
    for element in root.iter(etree.Element):
        if local_name(element) not in TOP_LEVEL:
            continue
        if any(local_name(a) in TOP_LEVEL for a in element.iterancestors()):
            continue
        out.append(element)
    return out


def prepare(
    root: etree._Element, fields: tuple[FieldSpec, ...], setter: TextSetter
) -> tuple[tuple[FieldSpec, ...], TextPlan]:
    """Set every text that holds no field, in place, its runs kept in the setter's table
    (the version's static runs); return the fields with their element indexes renumbered
    for the new tree and the plan for the texts set per request."""
    before = list(root.iter(etree.Element))
    all_texts = texts(root)
    owners = _owners(all_texts, fields, before)
    by_id = _ids(root)
    for text in all_texts:
        if id(text) not in owners:
            report = setter.set_text(text, by_id.get)
            if report.missing:
                raise MissingGlyphs(report.missing, f"text {text.get('id') or ''}".strip())
    renumber = {id(e): i for i, e in enumerate(root.iter(etree.Element))}

    def moved(indexes: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(renumber[id(before[i])] for i in indexes)

    renumbered = tuple(
        replace(spec, targets=moved(spec.targets), placeholders=moved(spec.placeholders))
        for spec in fields
    )
    plan = TextPlan()
    for text in all_texts:
        specs = [s for s in owners.get(id(text), ()) if s.kind == "text"]
        if id(text) not in owners:
            continue
        index = renumber[id(text)]
        plan.dynamic.append(index)
        plan.names[index] = tuple(dict.fromkeys(s.name for s in specs))
        chosen = next((s for s in specs if s.fit or s.box or s.max_lines), None)
        direction = next((s.direction for s in specs if s.direction), "auto")
        if chosen is not None:
            plan.fits[index] = Fit(
                chosen.fit or "none", chosen.max_lines, chosen.min_size, chosen.box, direction
            )
        else:
            plan.fits[index] = Fit(direction=direction)
    return renumbered, plan


def _owners(
    all_texts: list[etree._Element], fields: tuple[FieldSpec, ...], elements: list[etree._Element]
) -> dict[int, list[FieldSpec]]:
    """The fields inside each text (by the text's id()); texts without any are static."""
    text_of: dict[int, etree._Element] = {}
    for text in all_texts:
        for element in text.iter(etree.Element):
            text_of[id(element)] = text
    owners: dict[int, list[FieldSpec]] = {}
    for spec in fields:
        for index in (*spec.targets, *spec.placeholders):
            holder = text_of.get(id(elements[index]))
            if holder is not None:
                owners.setdefault(id(holder), []).append(spec)
    return owners


def set_fields(
    tree: etree._Element, targets: list[etree._Element], plan: TextPlan, setter: TextSetter
) -> dict[str, TextReport]:
    """Set the texts that hold fields in a filled copy (`targets`: its elements at
    `plan.dynamic`, picked before filling), their runs kept in the setter's table (the
    render's own, falling back to the static runs); report per text field."""
    if not plan.dynamic:
        return {}
    by_id = _ids(tree)
    reports: dict[str, TextReport] = {}
    missing: set[str] = set()
    problems: list[tuple[str, str]] = []
    for index, text in zip(plan.dynamic, targets, strict=True):
        report = setter.set_text(text, by_id.get, plan.fits.get(index))
        missing.update(report.missing)
        for name in plan.names.get(index, ()):
            reports[name] = report
            if report.missing:
                problems.append((f"fields.{name}", _undrawable(report.missing)))
    if missing:
        raise MissingGlyphs(missing, "text fields", tuple(problems))
    return reports


def _ids(root: etree._Element) -> dict[str, etree._Element]:
    return {e.get("id", ""): e for e in root.iter(etree.Element) if e.get("id")}

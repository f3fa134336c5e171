"""Field discovery: which parts of a template vary, of what kind, with which options."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

from lxml import etree

from pixeldrive.core.errors import FieldProblem, TemplateInvalid
from pixeldrive.templates import options as opts
from pixeldrive.templates.parser import INKSCAPE_NS, SODIPODI_NS, local_name

Kind = Literal["text", "image", "color", "show", "number", "qr"]
KINDS: tuple[str, ...] = get_args(Kind)
Marking = Literal["attribute", "label", "placeholder"]
Value = str | float | bool | None

NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,63}")
PLACEHOLDER_RE = re.compile(r"\{\{\s*([a-z][a-z0-9_]{0,63})\s*\}\}")
TEXT_TAGS = frozenset({"text", "tspan", "flowRoot", "flowPara", "flowSpan", "textPath"})
SHAPE_TAGS = frozenset({"rect", "circle", "ellipse", "path", "polygon", "polyline", "line", "stop"})
LABEL = f"{{{INKSCAPE_NS}}}label"
ROLE = f"{{{SODIPODI_NS}}}role"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field: its name, kind, constraints, and where it sits: `targets` are marked
    elements, `placeholders` elements whose text holds `{{name}}` (both as indices in
    document order of `root.iter(etree.Element)`, stable across deep copies)."""

    name: str
    kind: Kind
    marking: Marking
    default: Value = None
    required: bool = False
    max_length: int | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    attr: str | None = None
    fit: str | None = None
    max_lines: int | None = None
    min_size: float | None = None
    box: str | None = None
    direction: str | None = None  # data-pd-dir: auto (the default for a text field), ltr, rtl
    paint: str = "fill"
    targets: tuple[int, ...] = ()
    placeholders: tuple[int, ...] = ()
    lines: tuple[int, ...] = ()
    element_ids: tuple[str, ...] = ()
    locations: tuple[str, ...] = field(default=(), compare=False)  # '<text id="t1"> line 4'
    problems: tuple[FieldProblem, ...] = field(default=(), compare=False)


# A number field the designer left unbounded may still reach this many of the page's
# longest side either way: far enough for any position or size a design can show, and
# nowhere near the 1e308 that held a worker for its whole timeout as a circle's radius.
PAGE_SPANS = 10


def page_bound(spec: FieldSpec, width: float, height: float) -> FieldSpec:
    """A number field with finite bounds: each one the designer did not write is
    ±PAGE_SPANS × the page's longest side (never crossing the one they did write)."""
    if spec.kind != "number":
        return spec
    span = PAGE_SPANS * float(max(width, height))
    low = spec.minimum if spec.minimum is not None else min(-span, spec.maximum or 0.0)
    high = spec.maximum if spec.maximum is not None else max(span, low)
    return replace(spec, minimum=low, maximum=high)


def discover_fields(root: etree._Element) -> tuple[FieldSpec, ...]:
    """Every field of the template, in document order of first appearance.

    Raises TemplateInvalid listing every problem (bad option, unknown kind, one name on
    elements of different kinds) with element ids and line numbers.
    """
    elements = list(root.iter(etree.Element))
    found: list[FieldSpec] = []
    claimed: set[int] = set()
    for index, element in enumerate(elements):
        marked = _marked_name(element)
        if marked is not None and id(element) not in claimed:
            spec = _element_field(element, index, *marked)
            found.append(spec)
            # A text field owns its tspans; a shown/hidden group only toggles, so the
            # fields inside it (a badge's text, say) are fields of their own.
            claimed.add(id(element))
            if spec.kind != "show":
                claimed.update(id(e) for e in element.iter(etree.Element))
    for index, element in enumerate(elements):
        # An element's own text belongs to it; its tail belongs to its parent's content.
        parent = element.getparent()
        own = id(element) not in claimed and local_name(element) in TEXT_TAGS
        tail = parent is not None and id(parent) not in claimed and local_name(parent) in TEXT_TAGS
        if own or tail:
            found.extend(_placeholder_fields(element, index, own=own, tail=tail))
    found.sort(key=lambda spec: (spec.targets or spec.placeholders)[0])
    return _merge(found)


def _marked_name(element: etree._Element) -> tuple[str, Marking] | None:
    if (name := element.get("data-pd-field")) is not None:
        return name, "attribute"
    label = element.get(LABEL)
    if label and label.startswith("$"):
        return label[1:], "label"
    return None


def _line(element: etree._Element) -> int:
    line = element.sourceline
    return line if isinstance(line, int) else 0


def _where(element: etree._Element) -> str:
    ident = element.get("id")
    where = f"<{local_name(element)}"
    where += f' id="{ident}">' if ident else ">"
    return f"{where} line {_line(element)}"


def _element_field(element: etree._Element, index: int, name: str, marking: Marking) -> FieldSpec:
    problems: list[FieldProblem] = []
    where = _where(element)
    if not NAME_RE.fullmatch(name):
        problems.append(FieldProblem(where, f"field name {name!r} must match {NAME_RE.pattern}"))
    kind = element.get("data-pd-kind") or _kind_of(element)
    if kind not in KINDS:
        problems.append(FieldProblem(where, f"unknown field kind {kind!r}"))
        kind = "text"
    parsed = opts.read(element, kind, problems, where)
    spec = FieldSpec(
        name=name,
        kind=kind,  # type: ignore[arg-type]  # checked against KINDS above
        marking=marking,
        default=opts.authored_default(element, kind, parsed.get("default")),
        targets=(index,),
        lines=(_line(element),),
        element_ids=(element.get("id", ""),),
        locations=(where,),
        problems=tuple(problems),
    )
    return replace(spec, **{k: v for k, v in parsed.items() if k != "default"})


def _kind_of(element: etree._Element) -> str:
    tag = local_name(element)
    if tag in TEXT_TAGS:
        return "text"
    if tag == "image":
        return "image"
    if tag in SHAPE_TAGS:
        return "color"
    return "show"


def _placeholder_fields(
    element: etree._Element, index: int, *, own: bool, tail: bool
) -> list[FieldSpec]:
    """Fields of the `{{name}}` placeholders in an element's own text and tail. Options
    sit on the enclosing <text>: `data-pd-OPTION-NAME` for one placeholder, or plain
    `data-pd-OPTION` for every placeholder in that text."""
    names: list[str] = []
    for chunk, scan in ((element.text, own), (element.tail, tail)):
        if scan:
            names.extend(PLACEHOLDER_RE.findall(chunk or ""))
    parent = element.getparent()
    holder = _text_ancestor(element if own or parent is None else parent)
    specs = []
    for name in dict.fromkeys(names):
        view = _OptionView(holder, name)
        problems: list[FieldProblem] = []
        parsed = opts.read(view, "text", problems, _where(holder))  # type: ignore[arg-type]
        default = parsed.pop("default", None)
        spec = FieldSpec(
            name=name,
            kind="text",
            marking="placeholder",
            default=default,
            required=bool(parsed.pop("required", False)),
            placeholders=(index,),
            lines=(_line(element),),
            element_ids=(element.get("id", ""),),
            locations=(_where(element),),
            problems=tuple(problems),
        )
        parsed.pop("required", None)
        specs.append(replace(spec, **parsed))
    return specs


class _OptionView:
    """Reads `data-pd-X-NAME`, falling back to `data-pd-X`, from a placeholder's <text>."""

    def __init__(self, holder: etree._Element, name: str) -> None:
        self._holder = holder
        self._name = name

    def get(self, attribute: str, default: str | None = None) -> str | None:
        own = self._holder.get(f"{attribute}-{self._name}")
        return own if own is not None else self._holder.get(attribute, default)


def _text_ancestor(element: etree._Element) -> etree._Element:
    node: etree._Element | None = element
    while node is not None:
        if local_name(node) in ("text", "flowRoot"):
            return node
        node = node.getparent()
    return element


def _merge(found: list[FieldSpec]) -> tuple[FieldSpec, ...]:
    merged: dict[str, FieldSpec] = {}
    problems: list[FieldProblem] = []
    for spec in found:
        problems.extend(spec.problems)
        first = merged.get(spec.name)
        if first is None:
            merged[spec.name] = spec
        elif first.kind != spec.kind:
            problems.append(
                FieldProblem(
                    spec.locations[0],
                    f"field {spec.name!r} is a {spec.kind} here but a {first.kind} on line "
                    f"{first.lines[0]}; one name may only mark elements of one kind",
                )
            )
        else:
            merged[spec.name] = _combine(first, spec)
    if problems:
        raise TemplateInvalid(
            f"the template has {len(problems)} field problem(s)", errors=tuple(problems)
        )
    return tuple(_finish(spec) for spec in merged.values())


def _combine(first: FieldSpec, other: FieldSpec) -> FieldSpec:
    """Two markings of one name: positions add up, the first default wins, a requirement
    or limit declared on either holds for both (the strictest)."""
    limits = [v for v in (first.max_length, other.max_length) if v is not None]
    return replace(
        first,
        targets=first.targets + other.targets,
        placeholders=first.placeholders + other.placeholders,
        lines=first.lines + other.lines,
        element_ids=first.element_ids + other.element_ids,
        locations=first.locations + other.locations,
        required=first.required or other.required,
        default=first.default if first.default is not None else other.default,
        max_length=min(limits) if limits else None,
    )


def _finish(spec: FieldSpec) -> FieldSpec:
    # A placeholder or a QR code has nothing drawn to fall back on: without a declared
    # default, a value is required.
    needs_value = spec.kind == "qr" or (spec.placeholders and not spec.targets)
    if spec.default is None and needs_value and not spec.required:
        return replace(spec, required=True)
    return spec

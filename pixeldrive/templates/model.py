"""A compiled template: its id, version, size, fields and payload model."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree
from pydantic import ValidationError

from pixeldrive.core.errors import FieldProblem, InvalidInput, TemplateInvalid
from pixeldrive.templates.fields import FieldSpec, discover_fields, page_bound
from pixeldrive.templates.parser import parse_svg
from pixeldrive.templates.schema import (
    DEFAULT_MAX_TEXT,
    MAX_QR,
    FieldsModel,
    build_model,
    normalise_defaults,
)
from pixeldrive.templates.sizes import document_size
from pixeldrive.templates.style import families_named
from pixeldrive.templates.version import template_version

ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class Template:
    """Everything the server knows about one template version. `root` is the parsed tree:
    treat it as read-only (renders fill a deep copy)."""

    id: str
    version: str
    width: int
    height: int
    fields: tuple[FieldSpec, ...]
    model: type[FieldsModel]
    root: etree._Element
    families: tuple[str, ...] = ()  # the font families it names

    def validate(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Every field's value after validation, defaults filled; InvalidInput names each
        problem as `fields.<name>`."""
        try:
            return self.model.model_validate(fields).model_dump()
        except ValidationError as exc:
            raise InvalidInput(
                f"the fields do not fit template {self.id!r}",
                errors=tuple(self._problem(e) for e in exc.errors()),
            ) from exc

    def _problem(self, error: Any) -> FieldProblem:
        path = "fields." + ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            known = ", ".join(f.name for f in self.fields) or "none"
            return FieldProblem(path, f"unknown field; this template has: {known}")
        if error["type"] == "missing":
            return FieldProblem(path, "required field is missing")
        return FieldProblem(path, str(error["msg"]).removeprefix("Value error, "))

    def preview_values(self) -> dict[str, Any]:
        """Values for a preview: every default; a required field without one shows its
        placeholder (`{{name}}`) so the designer sees what is still to be filled."""
        values: dict[str, Any] = {}
        for spec in self.fields:
            if spec.default is not None:
                values[spec.name] = spec.default
            elif spec.kind in ("text", "qr"):
                values[spec.name] = f"{{{{{spec.name}}}}}"
        return values

    def describe(self) -> dict[str, Any]:
        """The public description served by GET /v1/templates/{id}."""
        return {
            "id": self.id,
            "version": self.version,
            "width": self.width,
            "height": self.height,
            "fields": [describe_field(f) for f in self.fields],
        }


def describe_field(spec: FieldSpec) -> dict[str, Any]:
    """A field's public schema: name, kind, default and whichever constraints are set."""
    out: dict[str, Any] = {"name": spec.name, "kind": spec.kind, "required": spec.required}
    if spec.kind != "image" and spec.default is not None:
        out["default"] = spec.default
    limits = {"text": DEFAULT_MAX_TEXT, "qr": MAX_QR}
    constraints = {
        # Text limits count characters as people do (grapheme clusters: a ZWJ family or a
        # flag is one).
        "max_length": spec.max_length or limits.get(spec.kind),
        "pattern": spec.pattern,
        "min": spec.minimum,
        "max": spec.maximum,
        "fit": spec.fit,
        "max_lines": spec.max_lines,
        "min_size": spec.min_size,
        "attr": spec.attr,
        "dir": spec.direction,
    }
    out.update({k: v for k, v in constraints.items() if v is not None})
    return out


def compile_template(template_id: str, data: bytes, *, max_image_bytes: int) -> Template:
    """Parse, measure and discover fields; raises TemplateInvalid naming what is wrong."""
    if not ID_RE.fullmatch(template_id):
        raise TemplateInvalid(f"template id {template_id!r} must match {ID_RE.pattern}")
    root = parse_svg(data)
    width, height = document_size(root)
    bounded = tuple(page_bound(spec, width, height) for spec in discover_fields(root))
    fields = normalise_defaults(bounded, max_image_bytes)
    return Template(
        id=template_id,
        version=template_version(data),
        width=width,
        height=height,
        fields=fields,
        model=build_model(template_id, fields, max_image_bytes),
        root=root,
        families=families_named(root),
    )

"""One pydantic model per template, built from its fields: the validation of a payload."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    create_model,
)

from pixeldrive.core.errors import FieldProblem, TemplateInvalid
from pixeldrive.templates.fields import FieldSpec
from pixeldrive.templates.values import at_most, clean_color, clean_text, decode_data_uri

DEFAULT_MAX_TEXT = 2000
MAX_QR = 2000


class FieldsModel(BaseModel):
    """Base of every template's payload model: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _check_image(value: str | None, max_bytes: int) -> str | None:
    if value is not None:
        decode_data_uri(value, max_bytes)
    return value


def _annotation(spec: FieldSpec, max_image_bytes: int) -> Any:
    if spec.kind == "text":
        limit = spec.max_length or DEFAULT_MAX_TEXT
        return Annotated[
            str,
            Field(pattern=spec.pattern),
            AfterValidator(clean_text),
            AfterValidator(partial(at_most, limit)),
        ]
    if spec.kind == "qr":
        return Annotated[str, Field(min_length=1, max_length=spec.max_length or MAX_QR)]
    if spec.kind == "color":
        return Annotated[str, Field(max_length=64), AfterValidator(clean_color)]
    if spec.kind == "show":
        return StrictBool
    if spec.kind == "number":
        return Annotated[
            float,
            BeforeValidator(_plain_number),
            Field(ge=spec.minimum, le=spec.maximum, allow_inf_nan=False),
        ]
    return Annotated[str | None, AfterValidator(partial(_check_image, max_bytes=max_image_bytes))]


def _plain_number(value: Any) -> Any:
    # JSON true would otherwise be the number 1; NaN and infinities are named as such.
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def normalise_defaults(
    fields: tuple[FieldSpec, ...], max_image_bytes: int
) -> tuple[FieldSpec, ...]:
    """Each default run through its field's own validation, so a default omitted and the
    same value sent explicitly are equal after validation (one cache key). A default its
    field would refuse makes the template invalid, naming the field."""
    out: list[FieldSpec] = []
    problems: list[FieldProblem] = []
    for spec in fields:
        if spec.default is None:
            out.append(spec)
            continue
        try:
            value = TypeAdapter(_annotation(spec, max_image_bytes)).validate_python(spec.default)
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
            where = spec.locations[0] if spec.locations else spec.name
            problems.append(FieldProblem(where, f"default of {spec.name!r} is invalid: {reason}"))
            continue
        out.append(replace(spec, default=value))
    if problems:
        raise TemplateInvalid("the template declares invalid defaults", errors=tuple(problems))
    return tuple(out)


def _describe(spec: FieldSpec) -> str:
    return f"{spec.kind} field ({spec.marking})"


def build_model(
    template_id: str, fields: tuple[FieldSpec, ...], max_image_bytes: int
) -> type[FieldsModel]:
    """The payload model: required fields have no default, others default to the authored
    value, so an omitted field and its default given explicitly validate to the same dump."""
    definitions: dict[str, Any] = {}
    for spec in fields:
        default: Any = ... if spec.required else spec.default
        info = Field(default=default, description=_describe(spec))
        definitions[spec.name] = (_annotation(spec, max_image_bytes), info)
    name = "Fields_" + template_id.replace("-", "_")
    return create_model(name, __base__=FieldsModel, **definitions)

"""What a credential may do: templates (globs), formats, operations and a pixel limit.

Pure pydantic models, no I/O. `Scopes.check` guards a request; `Scopes.narrow` derives the
scopes of a token minted by a credential, which may only ever be narrower than its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PositiveInt, ValidationError

from pixeldrive.core.formats import FORMATS as ALL_FORMATS
from pixeldrive.core.formats import format_name

OPERATIONS = ("render", "batch", "templates:write", "usage:read", "tokens")
FORMATS = tuple(ALL_FORMATS)

# Template ids are `^[a-z0-9][a-z0-9_-]{0,63}$`; a glob may also use "*" (and only "*").
GLOB_RE = re.compile(r"[a-z0-9*][a-z0-9_*-]{0,63}")


class ScopeError(Exception):
    """A request outside the scopes; str(exc) says exactly which part and what is allowed.

    `part` is "operation", "template", "format" or "pixels".
    """

    def __init__(self, message: str, *, part: str) -> None:
        super().__init__(message)
        self.part = part


class WideningError(ScopeError):
    """A narrower scope was asked for that is wider than its parent; says which part.

    `part` is "templates", "formats", "operations" or "max_pixels".
    """


def _joined(values: Iterable[str]) -> str:
    return ", ".join(values)


def _check_globs(globs: tuple[str, ...]) -> tuple[str, ...]:
    if not globs:
        raise ValueError("at least one template glob is needed")
    for glob in globs:
        if not GLOB_RE.fullmatch(glob):
            raise ValueError(
                f"template glob {glob!r} must match ^{GLOB_RE.pattern}$: lowercase letters, "
                "digits, '_', '-' and '*' (the only wildcard; '?' and '[' are refused)"
            )
    return tuple(dict.fromkeys(globs))


def _subset_of(
    kind: str, known: tuple[str, ...], alias: Callable[[str], str] = str
) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """A validator: values must be known; the result is deduplicated, in `known` order."""

    def check(values: tuple[str, ...]) -> tuple[str, ...]:
        if not values:
            raise ValueError(f"at least one {kind} is needed")
        values = tuple(alias(v) for v in values)
        for value in values:
            if value not in known:
                raise ValueError(f"unknown {kind} {value!r} (known: {_joined(known)})")
        return tuple(k for k in known if k in values)

    return check


TemplateGlobs = Annotated[tuple[str, ...], AfterValidator(_check_globs)]
Formats = Annotated[tuple[str, ...], AfterValidator(_subset_of("format", FORMATS, format_name))]
Operations = Annotated[tuple[str, ...], AfterValidator(_subset_of("operation", OPERATIONS))]


class Scopes(BaseModel):
    """The complete scopes of a credential; the defaults allow everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    templates: TemplateGlobs = ("*",)
    formats: Formats = FORMATS
    operations: Operations = OPERATIONS
    max_pixels: PositiveInt | None = None  # None: the server limit applies

    @classmethod
    def everything(cls) -> Scopes:
        return cls()

    def allows_template(self, template: str) -> bool:
        return any(fnmatchcase(template, glob) for glob in self.templates)

    def check(
        self,
        operation: str,
        *,
        template: str | None = None,
        format: str | None = None,
        pixels: int | None = None,
    ) -> None:
        """Raise ScopeError naming the first part that fails, checked in this order:
        operation, template, format, pixels. Parts given as None are not checked.

        An operation name outside OPERATIONS is a programming error: ValueError.
        """
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r} (known: {_joined(OPERATIONS)})")
        if operation not in self.operations:
            raise ScopeError(
                f"operation {operation!r} is not allowed (allowed: {_joined(self.operations)})",
                part="operation",
            )
        if template is not None and not self.allows_template(template):
            raise ScopeError(
                f"template {template!r} is outside this credential's templates: "
                f"{_joined(self.templates)}",
                part="template",
            )
        if format is not None and format_name(format) not in self.formats:
            raise ScopeError(
                f"format {format!r} is not allowed (allowed: {_joined(self.formats)})",
                part="format",
            )
        if pixels is not None and self.max_pixels is not None and pixels > self.max_pixels:
            raise ScopeError(
                f"{pixels} pixels are over this credential's limit of {self.max_pixels}",
                part="pixels",
            )

    def narrow(self, requested: RequestedScopes) -> Scopes:
        """The requested scopes, each missing part inherited from self; WideningError naming
        the first part (templates, formats, operations, max_pixels) that is not within self.
        """
        return Scopes(
            templates=self._narrow_templates(requested.templates),
            formats=_narrow_subset("formats", requested.formats, self.formats),
            operations=_narrow_subset("operations", requested.operations, self.operations),
            max_pixels=self._narrow_pixels(requested.max_pixels),
        )

    def _narrow_templates(self, requested: tuple[str, ...] | None) -> tuple[str, ...]:
        # Containment of "*"-only globs: child g is within parent p if g, read as a plain
        # string, matches the pattern p. Sound because a match maps every literal character
        # of p onto the same literal of g and every "*" of p onto a run of g (possibly
        # containing g's own "*"s). Any id matched by g is g with each of its "*" replaced by
        # some run; applying the same replacement inside the runs p's "*"s absorbed gives a
        # match of that id by p. (Not complete: a child covered only by a union of parents,
        # e.g. "a*" under "a" plus one "a<c>*" per character c, is refused: the safe side.)
        # '?' and '[' are refused at validation because this reading breaks with them: a
        # parent "a?" would "match" the child "a*" (one character), yet "a*" also matches
        # "abc"; a parent "[*b]" would absorb a child "*"; and a child "[ab]" is not a
        # four-character literal. With "*" only, the rule is simple and provably safe.
        if requested is None:
            return self.templates
        for glob in requested:
            if not any(fnmatchcase(glob, parent) for parent in self.templates):
                raise WideningError(
                    f"templates: {glob!r} is not within this credential's templates: "
                    f"{_joined(self.templates)}",
                    part="templates",
                )
        return requested

    def _narrow_pixels(self, requested: int | None) -> int | None:
        if requested is None:
            return self.max_pixels
        if self.max_pixels is not None and requested > self.max_pixels:
            raise WideningError(
                f"max_pixels: {requested} is over this credential's limit of {self.max_pixels}",
                part="max_pixels",
            )
        return requested


def _narrow_subset(
    part: str, requested: tuple[str, ...] | None, allowed: tuple[str, ...]
) -> tuple[str, ...]:
    if requested is None:
        return allowed
    for value in requested:
        if value not in allowed:
            raise WideningError(
                f"{part}: {value!r} is not among this credential's {part}: {_joined(allowed)}",
                part=part,
            )
    return requested


class RequestedScopes(BaseModel):
    """The `scopes` of a POST /v1/tokens body: each part optional, None inherits the parent's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    templates: TemplateGlobs | None = None
    formats: Formats | None = None
    operations: Operations | None = None
    max_pixels: PositiveInt | None = None


_OPTION_PARTS = ("templates", "formats", "max_pixels")


def parse_scopes_option(text: str) -> Scopes:
    """Parse the CLI's `--scopes` value, e.g. `render,usage:read,templates=og-*|quote,
    formats=png|webp,max_pixels=2000000`.

    Grammar (whitespace around items and values is ignored)::

        scopes    := item ("," item)*
        item      := operation | "templates=" values | "formats=" values
                   | "max_pixels=" digits
        values    := value ("|" value)*
        operation := render | batch | templates:write | usage:read | tokens

    Bare words are operations. A part not given allows everything: without any bare word
    every operation is allowed, without `templates=` every template, and so on. Each of
    `templates=`, `formats=` and `max_pixels=` may appear once. Anything unknown, empty or
    repeated raises ValueError with a message saying what and where.
    """
    operations: list[str] = []
    parts: dict[str, Any] = {}
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise ValueError(f"--scopes {text!r} has an empty item")
        name, eq, value = (s.strip() for s in item.partition("="))
        if not eq:
            if item not in OPERATIONS:
                raise ValueError(
                    f"unknown operation {item!r} in --scopes (operations: {_joined(OPERATIONS)};"
                    f" parts: {'=, '.join(_OPTION_PARTS)}=)"
                )
            operations.append(item)
        elif name not in _OPTION_PARTS:
            raise ValueError(
                f"unknown scope part {name!r} in --scopes (parts: {_joined(_OPTION_PARTS)})"
            )
        elif name in parts:
            raise ValueError(f"{name}= is given twice in --scopes")
        else:
            parts[name] = _option_value(name, value)
    if operations:
        parts["operations"] = tuple(operations)
    try:
        return Scopes.model_validate(parts)
    except ValidationError as exc:
        raise ValueError(f"invalid --scopes: {_describe(exc)}") from None


def _option_value(name: str, value: str) -> object:
    if name == "max_pixels":
        if not value.isdecimal():
            raise ValueError(f"max_pixels must be a positive whole number, not {value!r}")
        return int(value)
    values = tuple(v.strip() for v in value.split("|"))
    if "" in values:
        raise ValueError(f"{name}= in --scopes has an empty value: {value!r}")
    return values


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(loc) for loc in err['loc'][:1])}: "
        f"{err['msg'].removeprefix('Value error, ')}"
        for err in exc.errors()
    )

"""Field values written as text (a query string, a command line) → the JSON types each
field takes, so one validation serves the JSON API, signed URLs and the CLI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pixeldrive.templates.model import Template
from pixeldrive.templates.values import FLAGS


def coerce(template: Template, values: Mapping[str, str]) -> dict[str, Any]:
    """Booleans for show fields and numbers for number fields; anything that does not
    convert is passed through as text, so validation names the field."""
    kinds = {f.name: f.kind for f in template.fields}
    out: dict[str, Any] = {}
    for name, raw in values.items():
        kind = kinds.get(name)
        if kind == "show":
            out[name] = FLAGS.get(raw.strip().lower(), raw)
        elif kind == "number":
            try:
                out[name] = float(raw)
            except ValueError:
                out[name] = raw
        else:
            out[name] = raw
    return out

"""The canonical form of a render and the deterministic key derived from it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

KEY_LENGTH = 32  # hex digits of sha256: 128 bits


@dataclass(frozen=True, slots=True)
class RenderSpec:
    """Everything that decides the pixels of a render, after validation and defaults.

    `fields` holds every field of the template (defaults filled), so an omitted default
    and the same value given explicitly produce one spec. The output format is not part
    of the spec: one key names the image, its extension names the encoding.

    `fonts` are the sha256 digests, sorted, of the uploaded font files of the families the
    template names: a changed font is a new key, and a spec drawn again later uses exactly
    these files. Empty (no uploaded font), it is left out of the canonical form, so keys
    made before fonts could be uploaded stay what they were.
    """

    template: str
    version: str
    fields: dict[str, Any]
    width: int
    height: int
    quality: int | None = None
    fonts: tuple[str, ...] = ()

    def canonical(self) -> bytes:
        """Sorted keys, no whitespace, UTF-8: equal specs give equal bytes."""
        # Not dataclasses.asdict: it deep-copies the values, which are already plain JSON
        # types (validated field values); this runs once per request.
        fields = {name: getattr(self, name) for name in self.__slots__}
        if not self.fonts:
            del fields["fonts"]
        return json.dumps(
            fields,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        ).encode()

    @classmethod
    def from_canonical(cls, data: bytes | str) -> RenderSpec:
        raw: dict[str, Any] = json.loads(data)
        raw["fonts"] = tuple(raw.get("fonts", ()))
        return cls(**raw)


def render_key(spec: RenderSpec, fingerprint: str) -> str:
    """The key of a spec under a renderer fingerprint (library versions, fonts, encoder
    settings): anything that changes pixels or bytes changes the key."""
    digest = hashlib.sha256(fingerprint.encode() + b"\0" + spec.canonical())
    return digest.hexdigest()[:KEY_LENGTH]

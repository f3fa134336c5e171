"""Who is asking: the key a request is billed to, and what it may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pixeldrive.auth.scopes import ScopeError, Scopes
from pixeldrive.core.errors import Forbidden

Via = Literal["key", "token", "signed-url", "anonymous"]
EVERYTHING = Scopes.everything()
MAX_REMEMBERED = 256  # allowed (operation, template, format) triples kept per principal


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: `key_id` is billed; `scopes` are the key's, or a token's narrower ones."""

    key_id: str
    scopes: Scopes
    via: Via
    quota: int | None = None
    expires_at: int | None = None
    # What require() has allowed already: a principal is cached across a credential's
    # requests, and its scopes cannot change, so each check is made once.
    _allowed: set[tuple[str, str | None, str | None]] = field(
        default_factory=set, init=False, compare=False, repr=False
    )

    @property
    def is_admin(self) -> bool:
        """A key (not a token or a signed URL) whose scopes allow everything."""
        return self.via in ("key", "anonymous") and self.scopes == EVERYTHING

    def as_record(self) -> dict[str, Any]:
        """The principal as JSON-ready data (a queued batch keeps who is billed):
        `Principal.from_record` reads it back."""
        return {
            "key_id": self.key_id,
            "scopes": self.scopes.model_dump(mode="json"),
            "via": self.via,
            "quota": self.quota,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Principal:
        return cls(**data | {"scopes": Scopes.model_validate(data["scopes"])})

    def require(
        self,
        operation: str,
        *,
        template: str | None = None,
        format: str | None = None,
        pixels: int | None = None,
    ) -> None:
        """Forbidden (403), naming the part of the request that the scopes do not cover."""
        asked = (operation, template, format)
        if pixels is None and asked in self._allowed:
            return
        try:
            self.scopes.check(operation, template=template, format=format, pixels=pixels)
        except ScopeError as exc:
            raise Forbidden(str(exc), slug="scope") from exc
        if pixels is None and len(self._allowed) < MAX_REMEMBERED:
            self._allowed.add(asked)


# Auth off (loopback only): every request acts as this local, unmetered-quota principal.
LOCAL = Principal(key_id="local", scopes=Scopes.everything(), via="anonymous")

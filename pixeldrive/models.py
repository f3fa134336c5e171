"""The API's request and response bodies: pure pydantic models, no transport."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pixeldrive.auth.scopes import RequestedScopes, Scopes
from pixeldrive.templates.model import ID_RE


class RenderRequest(BaseModel):
    """Body of POST /v1/renders."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(max_length=64, pattern=ID_RE.pattern)
    fields: dict[str, Any] = Field(default_factory=dict)
    format: Literal["png", "jpeg", "jpg", "webp", "avif"] | None = None
    width: int | None = Field(None, ge=1)
    height: int | None = Field(None, ge=1)
    scale: float | None = Field(None, gt=0, le=16, allow_inf_nan=False)
    quality: int | None = Field(None, ge=1, le=100)

    @field_validator("format")
    @classmethod
    def _jpg_is_jpeg(cls, value: str | None) -> str | None:
        return "jpeg" if value == "jpg" else value


class RenderCreated(BaseModel):
    """Answer of POST /v1/renders (201)."""

    url: str
    key: str
    format: str
    width: int
    height: int
    bytes: int
    cached: bool


class TokenRequest(BaseModel):
    """Body of POST /v1/tokens: scopes to narrow to (missing parts inherit), lifetime."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scopes: RequestedScopes = Field(default_factory=RequestedScopes)
    ttl: int = Field(3600, ge=1, description="seconds; bounded by auth.token_max_ttl")


class TokenCreated(BaseModel):
    token: str
    expires_at: int
    scopes: Scopes

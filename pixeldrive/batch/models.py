"""Bodies and answers of POST /v1/batches and GET /v1/batches/{id}."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pixeldrive.templates.model import ID_RE


class BatchRequest(BaseModel):
    """Body of POST /v1/batches: one template, one field set per item; the render options
    apply to every item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template: str = Field(max_length=64, pattern=ID_RE.pattern)
    items: list[dict[str, Any]] = Field(min_length=1)
    format: Literal["png", "jpeg", "jpg", "webp", "avif", "pdf", "svg"] | None = None
    width: int | None = Field(None, ge=1)
    height: int | None = Field(None, ge=1)
    scale: float | None = Field(None, gt=0, le=16, allow_inf_nan=False)
    quality: int | None = Field(None, ge=1, le=100)

    @field_validator("format")
    @classmethod
    def _jpg_is_jpeg(cls, value: str | None) -> str | None:
        return "jpeg" if value == "jpg" else value


class BatchCreated(BaseModel):
    """Answer of POST /v1/batches (202): where to follow it."""

    id: str
    url: str
    status: Literal["queued", "running", "done"]
    total: int


class ItemProblem(BaseModel):
    """Why one item failed: the problem document a single render would have answered."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


class ItemResult(BaseModel):
    """One finished item: its image (`url`, `key`, `bytes`, `cached`) or an `error`."""

    url: str | None = None
    key: str | None = None
    bytes: int | None = None
    cached: bool | None = None
    error: ItemProblem | None = None


class BatchStatus(BaseModel):
    """Answer of GET /v1/batches/{id}: progress, and one result per item in item order
    (`null` for an item not finished yet)."""

    id: str
    status: Literal["queued", "running", "done"]
    template: str
    format: str
    total: int
    done: int
    failed: int
    results: list[ItemResult | None]

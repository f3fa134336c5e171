"""What every entry point asks the pipeline for: a template, its fields, render options."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from pixeldrive.core.formats import RequestedFormat
from pixeldrive.templates.model import ID_RE

PublicUrlSeconds = Annotated[int, Field(strict=True, ge=1, le=31_536_000)]
PublicTtl = PublicUrlSeconds | Literal["none"] | None
"""How long a render's public_url works: seconds, "none" (no end), or None (the default)."""


class RenderOptions(BaseModel):
    """A template and how to draw it: the part every render request shares (a POST, a
    batch, a URL to sign)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # pydantic matches with Rust's regex, whose `$` is the end of the text (no final "\n").
    template: str = Field(max_length=64, pattern=f"^{ID_RE.pattern}$")
    format: RequestedFormat | None = None
    width: int | None = Field(None, ge=1)
    height: int | None = Field(None, ge=1)
    scale: float | None = Field(None, gt=0, le=16, allow_inf_nan=False)
    quality: int | None = Field(None, ge=1, le=100)

    def sizing(self) -> dict[str, Any]:
        """The size and quality options that were given (to pass on to each item)."""
        return self.model_dump(include={"width", "height", "scale", "quality"}, exclude_none=True)


class RenderRequest(RenderOptions):
    """Body of POST /v1/renders, and what a signed URL, a batch item, a preview and the
    command line turn into."""

    fields: dict[str, Any] = Field(default_factory=dict)
    dry_run: bool = Field(
        False, description="Validate and lay out the text without drawing, caching or billing."
    )
    ttl: PublicTtl = Field(
        None,
        description="Seconds the answer's public_url works, or 'none' for no end (until the "
        "key is revoked; a token's URLs end with the token); default access.public_url_ttl.",
    )

    @field_validator("ttl", mode="wrap")
    @classmethod
    def _one_ttl_message(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        # One message naming both forms, rather than one per member of the union.
        try:
            return handler(value)
        except ValidationError:
            raise ValueError("must be whole seconds from 1 to 31536000, or 'none'") from None

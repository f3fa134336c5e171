"""The API's request and response bodies (but RenderRequest, which every entry point
shares): pure pydantic models, no transport."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pixeldrive.auth.scopes import RequestedScopes, Scopes
from pixeldrive.core.formats import RequestedFormat
from pixeldrive.service.render_request import RenderOptions


class TextLayout(BaseModel):
    """What the text engine did with one text field."""

    size: float = Field(description="final font size in px")
    lines: int
    truncated: bool
    fallbacks: list[str] = Field(description="fallback fonts used for characters it lacked")


class RenderCreated(BaseModel):
    """Answer of POST /v1/renders (201)."""

    url: str = Field(description="the image's path under /v1/images/ (needs your credential)")
    public_url: str = Field(
        description="the same image for <img> and og:image, no header needed: signed with "
        "your key's kid until `public_url_expires_at`; with authentication off, `url`"
    )
    public_url_expires_at: int | None = Field(
        None, description="Unix seconds when public_url stops working; absent: it does not"
    )
    key: str
    format: str
    width: int
    height: int
    bytes: int
    cached: bool
    text: dict[str, TextLayout] | None = Field(
        None, description="per text field, when this request drew the image"
    )


class RenderChecked(BaseModel):
    """Answer of a dry run (POST /v1/renders with dry_run): nothing drawn or billed."""

    url: str
    key: str
    format: str
    width: int
    height: int
    text: dict[str, TextLayout]


class SignRequest(RenderOptions):
    """Body of POST /v1/sign: what the signed GET /v1/t/ URL renders, and for how long.
    `format` is the URL's extension; without it the format follows Accept."""

    fields: dict[str, str | bool | int | float] = Field(default_factory=dict)
    ttl: int = Field(3600, ge=1, le=31_536_000, description="seconds until the URL expires")


class SignedUrl(BaseModel):
    """Answer of POST /v1/sign (201)."""

    url: str = Field(description="a path under /v1/t/, signed with the key's signing secret")
    expires_at: int = Field(description="Unix seconds")


class TokenRequest(BaseModel):
    """Body of POST /v1/tokens: scopes to narrow to (missing parts inherit), lifetime."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scopes: RequestedScopes = Field(default_factory=RequestedScopes)
    ttl: int = Field(3600, ge=1, description="seconds; bounded by access.token_max_ttl")


class TokenCreated(BaseModel):
    token: str
    expires_at: int
    scopes: Scopes


class Problem(BaseModel):
    """An RFC 9457 problem document: every error answer."""

    type: str = Field(description="a URI reference naming the kind of problem")
    title: str
    status: int
    detail: str
    request_id: str = Field(description="also sent as X-Request-Id; names the log lines")
    errors: list[FieldError] | None = None


class FieldError(BaseModel):
    field: str = Field(description="a dotted path such as fields.title")
    message: str


class TemplateSummary(BaseModel):
    id: str
    version: str
    width: int
    height: int
    fields: list[str]


class TemplateList(BaseModel):
    """Answer of GET /v1/templates: the templates the credential may render."""

    templates: list[TemplateSummary]


class FieldDescription(BaseModel):
    model_config = ConfigDict(extra="allow")  # constraints appear only when set

    name: str
    kind: Literal["text", "image", "color", "show", "number", "qr"]
    required: bool
    default: str | float | bool | None = None
    max_length: int | None = Field(
        None, description="text and qr: the most characters, counted as grapheme clusters"
    )
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    fit: str | None = None
    max_lines: int | None = None
    min_size: float | None = None
    attr: str | None = Field(None, description="for number fields: the attribute written")
    dir: Literal["auto", "ltr", "rtl"] | None = Field(
        None, description="text: a base direction the template pins (else auto, from the value)"
    )


class TemplateFont(BaseModel):
    """A font family the template names, and where its text is set from: an uploaded
    font, a bundled one, or neither (then the fallback font draws it)."""

    family: str
    source: Literal["uploaded", "bundled", "missing"]


class TemplateDescription(BaseModel):
    """Answer of GET /v1/templates/{id}."""

    id: str
    version: str
    width: int
    height: int
    fields: list[FieldDescription]
    fonts: list[TemplateFont] = Field(default_factory=list)


class FontLicence(BaseModel):
    """A face's licence fields: OS/2 fsType decoded, and the name table's copyright (0),
    licence description (13) and licence URL (14)."""

    fs_type: int = Field(description="OS/2 fsType as stored in the font")
    embedding: Literal["installable", "restricted", "preview-print", "editable"]
    no_subsetting: bool
    bitmap_only: bool
    copyright: str
    description: str
    url: str


class FontFace(BaseModel):
    """One face of a family. An uploaded face has its `name`, `digest` (sha256 of the
    sanitised file), `bytes` and `uploaded_at`; a bundled one its `file`."""

    style: str
    weight: int
    weight_max: int = Field(description="a variable font's heaviest weight; else `weight`")
    italic: bool
    name: str | None = None
    digest: str | None = None
    bytes: int | None = None
    uploaded_as: str | None = Field(None, description="ttf, otf, woff or woff2")
    uploaded_at: float | None = Field(None, description="Unix seconds")
    file: str | None = None
    licence: FontLicence


class FontFamily(BaseModel):
    family: str
    source: Literal["bundled", "uploaded"]
    replaces_bundled: bool = Field(
        False, description="an uploaded family that a bundled family of the same name gives way to"
    )
    faces: list[FontFace]


class FontList(BaseModel):
    """Answer of GET /v1/fonts: every family, bundled and uploaded, with its faces."""

    families: list[FontFamily]


class FontUploaded(BaseModel):
    """Answer of PUT /v1/fonts/{name}: the face as stored."""

    name: str
    family: str
    face: FontFace
    replaced: bool


class UsageRow(BaseModel):
    renders: int
    cache_hits: int
    bytes: int


class UsageByDay(UsageRow):
    day: str


class UsageByTemplate(UsageRow):
    template: str


class Usage(BaseModel):
    """Answer of GET /v1/usage: the caller's key, per day and per template."""

    key: str
    days: list[UsageByDay]
    templates: list[UsageByTemplate]
    totals: UsageRow


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, bool]


class PreviewQuery(BaseModel):
    """Query of GET /v1/templates/{id}/preview."""

    model_config = ConfigDict(extra="forbid")
    width: int | None = Field(None, ge=1)
    height: int | None = Field(None, ge=1)
    format: RequestedFormat | None = None


class TemplateFinding(BaseModel):
    severity: Literal["error", "warning", "info"]
    element_id: str
    line: int
    what: str
    why: str


class TemplateUploaded(BaseModel):
    """Answer of PUT /v1/templates/{id}: the template as now served, and what the linter
    noted (warnings: drawn differently from Inkscape or removed; info: harmless)."""

    template: TemplateDescription
    findings: list[TemplateFinding]
    replaced: bool


class BatchRequest(RenderOptions):
    """Body of POST /v1/batches: one template, one field set per item; the render options
    apply to every item."""

    items: list[dict[str, Any]] = Field(min_length=1)


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


class NodeStatus(BaseModel):
    """One node as it last reported (every 5 s; listed while heard from in the last
    minute)."""

    node: str
    version: str
    started_at: float
    seen_at: float
    workers: int
    in_flight: int
    capacity: int
    templates: dict[str, str]
    versions_held: int


class QueueStatus(BaseModel):
    kind: Literal["redis", "sqlite"]
    open_items: int
    held_items: int


class ClusterStatusBody(BaseModel):
    """Answer of GET /v1/cluster: the nodes seen in the last minute and the batch queue
    (null while it cannot be read)."""

    mode: Literal["cluster", "embedded"]
    node: str
    nodes: list[NodeStatus]
    queue: QueueStatus | None

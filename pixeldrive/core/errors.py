"""The exception hierarchy: every error PixelDrive raises on purpose, with its HTTP meaning."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with one input: `field` is a dotted path such as `fields.title`."""

    field: str
    message: str


class PixelDriveError(Exception):
    """Base of all deliberate errors.

    Subclasses declare the HTTP `status`, a public `title`, a `slug` for the problem type
    URI, and whether the error is worth reporting as a server fault (`report`). The message
    is the problem's `detail`: it must never contain secrets.
    """

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    slug: str = "internal"  # per class; an instance may name a finer problem type
    report: ClassVar[bool] = False

    def __init__(
        self,
        detail: str,
        *,
        errors: tuple[FieldProblem, ...] = (),
        headers: dict[str, str] | None = None,
        slug: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        if slug is not None:
            self.slug = slug  # a finer problem type than the class's, e.g. "expired-token"

    def problem(self) -> dict[str, Any]:
        """This error as an RFC 9457 problem document (an HTTP answer adds its request id;
        a batch records it as an item's result)."""
        return problem_body(self.status, self.title, self.detail, self.slug, self.errors)


def problem_body(
    status: int, title: str, detail: str, slug: str, errors: tuple[FieldProblem, ...] = ()
) -> dict[str, Any]:
    """The one shape of a problem document: `type` is a relative URI naming its kind."""
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": p.field, "message": p.message} for p in errors]
    return body


def problem_line(problem: Mapping[str, Any]) -> str:
    """A problem document on one line, for a terminal: its detail, then each field's."""
    errors = "; ".join(f"{e['field']}: {e['message']}" for e in problem.get("errors") or ())
    return f"{problem['detail']} ({errors})" if errors else str(problem["detail"])


class BadRequest(PixelDriveError):
    status = 400
    title = "Bad request"
    slug = "bad-request"


class InvalidInput(PixelDriveError):
    """The request parsed but its values are not acceptable (422)."""

    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class BodyIncomplete(BadRequest):
    """The client closed the connection before its request body was complete. Nobody is
    left to read the answer, and nothing is wrong with the server: it is not reported."""

    slug = "body-incomplete"


class TooLarge(PixelDriveError):
    status = 413
    title = "Payload too large"
    slug = "too-large"


class Unauthorized(PixelDriveError):
    """No credentials, or credentials that do not identify an active key (401)."""

    status = 401
    title = "Unauthorized"
    slug = "unauthorized"

    def __init__(self, detail: str, *, slug: str | None = None) -> None:
        super().__init__(detail, slug=slug, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(PixelDriveError):
    """Valid credentials that do not allow this request (403)."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


class QuotaExceeded(PixelDriveError):
    status = 429
    title = "Quota exceeded"
    slug = "quota-exceeded"


class NotFound(PixelDriveError):
    status = 404
    title = "Not found"
    slug = "not-found"


class UnknownTemplate(NotFound):
    """No servable template by that id. `known` holds the ids that are, for a person at a
    terminal; an HTTP answer says only the detail (a caller may not see every template)."""

    def __init__(self, template_id: str, known: tuple[str, ...]) -> None:
        super().__init__(f"no template {template_id!r}")
        self.template_id = template_id
        self.known = known


class Conflict(PixelDriveError):
    """The request is fine but the server's state does not allow it (409)."""

    status = 409
    title = "Conflict"
    slug = "conflict"


class NotAcceptable(PixelDriveError):
    status = 406
    title = "Not acceptable"
    slug = "not-acceptable"


class TemplateInvalid(PixelDriveError):
    """A template file cannot be served (bad XML, conflicting fields, unsupported size)."""

    status = 422
    title = "Template invalid"
    slug = "template-invalid"


class RenderFailed(PixelDriveError):
    """The renderer raised on valid input or its worker died."""

    status = 500
    title = "Render failed"
    slug = "render-failed"
    report = True


class RenderTimeout(PixelDriveError):
    status = 504
    title = "Render timed out"
    slug = "render-timeout"
    report = True


class Overloaded(PixelDriveError):
    status = 503
    title = "Overloaded"
    slug = "overloaded"


class SecretsKeyError(PixelDriveError):
    """The key that encrypts the signing secrets at rest is missing, malformed, or not the
    one they were encrypted with. A start-up error: nothing runs without it, and no new
    secrets are made in its place."""

    title = "Secrets key problem"
    slug = "secrets-key"


class DatabaseUnavailable(PixelDriveError):
    """The keys-and-ledger database cannot be reached, and nothing local can stand in for
    it in this request (503, Retry-After)."""

    status = 503
    title = "Database unavailable"
    slug = "database-unavailable"
    report = True

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "2"})

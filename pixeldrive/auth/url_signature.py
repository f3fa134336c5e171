"""Signed URLs for on-the-fly renders: HMAC-SHA256 over the canonical path and query.

Standalone (Python standard library only): copy this file into your app to sign URLs.

    url = sign_url("/v1/t/og-card.png", {"title": "Hi"}, kid="k_1", secret=SECRET, ttl=3600)
    # "/v1/t/og-card.png?exp=…&kid=k_1&title=Hi&sig=…"; put it in an <img src> or og:image

    kid = verify(request.rel_url.raw_path, list(request.query.items()), secrets.get)

The canonical string is the raw URL path, "?", then every decoded query pair except `sig`,
sorted by name then value (Unicode code points of the decoded strings, which is the same order
as their UTF-8 bytes), each written quote(name)=quote(value), joined by "&". The signature is
base64url without padding of HMAC-SHA256(secret as UTF-8, canonical string as UTF-8).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar

__all__ = [
    "NEVER",
    "Expired",
    "Malformed",
    "SignatureError",
    "Tampered",
    "UnknownKey",
    "Unsigned",
    "as_text",
    "canonical",
    "quote",
    "sign_url",
    "signature",
    "verify",
]

KID, EXP, SIG = "kid", "exp", "sig"
RESERVED = (KID, EXP, SIG)
# The `exp` of a URL that does not expire (9999-12-31T23:59:59Z): a URL always carries an
# exp, so every verifier runs the same checks, and one that never expires is the same URL
# each time it is made.
NEVER = 253_402_300_799

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_SIG_CHARS = frozenset(_ALPHABET)
# 43 characters carry 258 bits for a 256-bit digest: the last character's 2 spare bits must be
# zero, so each digest has exactly one accepted spelling (no four look-alike URLs per signature).
_SIG_LENGTH = 43
_SIG_LAST_CHARS = frozenset(_ALPHABET[::4])
# Unix seconds need 10-11 digits; the bound keeps int() away from huge inputs.
_MAX_EXP_DIGITS = 18

FieldValue = str | int | float | bool


class SignatureError(Exception):
    """A signed URL was refused; `reason` is a short machine-readable slug, str(e) the detail."""

    reason: ClassVar[str] = "invalid-signature"
    message: ClassVar[str] = "the URL signature is invalid"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.message)


class Unsigned(SignatureError):
    """No `sig`, `kid` or `exp` (or only an empty one)."""

    reason = "unsigned"
    message = "this URL is not signed: it needs kid, exp and sig"


class Expired(SignatureError):
    """The signature is genuine but `exp` is not in the future."""

    reason = "expired"
    message = "the signed URL has expired"


class Tampered(SignatureError):
    """The signature does not match the path and query: something was changed or added."""

    reason = "tampered"
    message = "the signature does not match: the URL was altered"


class UnknownKey(SignatureError):
    """The verifier has no secret for `kid` (never issued, or revoked)."""

    reason = "unknown-key"
    message = "the URL is signed with an unknown or revoked key"


class Malformed(SignatureError):
    """A repeated kid/exp/sig, an exp that is not base-10 digits, a sig that is not base64url."""

    reason = "malformed"
    message = "the URL's kid, exp or sig is malformed"


def quote(value: str) -> str:
    """RFC 3986: A-Z a-z 0-9 - . _ ~ kept, every other character as upper-case %XX of UTF-8."""
    return urllib.parse.quote(value, safe="", encoding="utf-8", errors="strict")


def canonical(path: str, params: Iterable[tuple[str, str]]) -> str:
    """`path` as given (the raw path), "?", then the pairs but `sig`, sorted and encoded."""
    kept = sorted((name, value) for name, value in params if name != SIG)
    return path + "?" + "&".join(f"{quote(name)}={quote(value)}" for name, value in kept)


def signature(secret: str | bytes, path: str, params: Iterable[tuple[str, str]]) -> str:
    """base64url (no padding) of HMAC-SHA256(secret, canonical(path, params))."""
    return _b64url(_mac(secret, canonical(path, params)))


def sign_url(
    path: str,
    fields: Mapping[str, FieldValue] | Iterable[tuple[str, str]],
    *,
    kid: str,
    secret: str | bytes,
    expires_at: int | None = None,
    ttl: int | None = None,
    now: Callable[[], float] = time.time,
) -> str:
    """The signed URL: `path?` + canonical query (with kid and exp) + `&sig=…`.

    Give exactly one of `expires_at` (Unix seconds) and `ttl` (seconds from `now()`). Booleans
    are written "true"/"false", numbers with str(). Raises ValueError for a path with a query
    or fragment, an empty kid, or a field named kid, exp or sig.
    """
    if "?" in path or "#" in path:
        raise ValueError("path must not contain '?' or '#'")
    if not kid:
        raise ValueError("kid must not be empty")
    pairs = [*_field_pairs(fields), (KID, kid), (EXP, str(_expiry(expires_at, ttl, now)))]
    message = canonical(path, pairs)
    return f"{message}&{SIG}={_b64url(_mac(secret, message))}"


def verify(
    path: str,
    params: Sequence[tuple[str, str]],
    secret_for: Callable[[str], str | bytes | None],
    *,
    now: Callable[[], float] = time.time,
) -> str:
    """Return the kid of a valid signed URL, else raise the matching SignatureError.

    `path` is the raw request path (no query); `params` the decoded query pairs in order,
    duplicates kept. `secret_for(kid)` returns the secret, or None (or empty) for an unknown
    kid. Checks, in order: Unsigned, Malformed, UnknownKey, Tampered, Expired. The signature is
    checked before the expiry, so an edited exp is reported as tampered.
    """
    reserved = _reserved(params)
    expires_at = _parse_exp(reserved[EXP])
    given = _parse_sig(reserved[SIG])
    secret = secret_for(reserved[KID])
    if not secret:
        raise UnknownKey
    if not hmac.compare_digest(_mac(secret, canonical(path, params)), given):
        raise Tampered
    if expires_at <= now():
        raise Expired(f"the signed URL expired at {expires_at}")
    return reserved[KID]


def _mac(secret: str | bytes, message: str) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _b64url(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _field_pairs(
    fields: Mapping[str, FieldValue] | Iterable[tuple[str, str]],
) -> list[tuple[str, str]]:
    items: Iterable[tuple[str, FieldValue]] = (
        fields.items() if isinstance(fields, Mapping) else fields
    )
    pairs = [(name, as_text(value)) for name, value in items]
    clash = sorted({name for name, _ in pairs} & set(RESERVED))
    if clash:
        raise ValueError(f"field names reserved for the signature: {', '.join(clash)}")
    return pairs


def as_text(value: FieldValue) -> str:
    """A field value as a signed URL writes it: booleans true/false, numbers with str()."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _expiry(expires_at: int | None, ttl: int | None, now: Callable[[], float]) -> int:
    if (expires_at is None) == (ttl is None):
        raise ValueError("give exactly one of expires_at and ttl")
    if ttl is not None:
        if _seconds("ttl", ttl) <= 0:
            raise ValueError("ttl must be positive")
        return int(now()) + ttl
    return _seconds("expires_at", expires_at)


def _seconds(name: str, value: int | None) -> int:
    # A float here (e.g. time.time() + 3600) would be written "1893456000.0": refuse it now
    # rather than hand out a URL that can never verify.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be whole seconds (int)")
    return value


def _reserved(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, list[str]] = {name: [] for name in RESERVED}
    for name, value in params:
        if name in found:
            found[name].append(value)
    missing = [name for name, values in found.items() if not any(values)]
    if missing:
        raise Unsigned(f"the URL has no {', '.join(missing)}")
    repeated = [name for name, values in found.items() if len(values) > 1]
    if repeated:
        raise Malformed(f"repeated in the URL: {', '.join(repeated)}")
    return {name: values[0] for name, values in found.items()}


def _parse_exp(text: str) -> int:
    # isascii() first: str.isdigit() also accepts "²" and other non-ASCII digits.
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_EXP_DIGITS:
        raise Malformed("exp must be Unix seconds written as base-10 digits")
    return int(text)


def _parse_sig(text: str) -> bytes:
    well_formed = (
        len(text) == _SIG_LENGTH and _SIG_CHARS.issuperset(text) and text[-1] in _SIG_LAST_CHARS
    )
    if not well_formed:
        raise Malformed("sig must be 43 characters of base64url without padding")
    return base64.urlsafe_b64decode(text + "=")

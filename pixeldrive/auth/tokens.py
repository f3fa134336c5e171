"""Short-lived access tokens: HS256 JWTs carrying narrowed scopes, signed by rotating keys.

`POST /v1/tokens` mints them with `TokenIssuer.mint`; every request presenting one is checked
by `TokenIssuer.verify`. Only HS256 is accepted, whatever a token's header claims.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt
from jwt.types import Options
from pydantic import ValidationError

from pixeldrive.auth.principal import Principal
from pixeldrive.auth.scopes import RequestedScopes, Scopes, WideningError
from pixeldrive.core.errors import FieldProblem, Forbidden, InvalidInput
from pixeldrive.storage.private_files import write_private

ALGORITHM = "HS256"
ACCESS_TYPE = "access"  # the "pd" claim: tells our access tokens from any future kind
MIN_SECRET_BYTES = 32  # RFC 7518 §3.2: at least the hash size
KID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_JWT_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti"]

TokenReason = Literal["malformed", "expired", "bad-signature", "unknown-kid", "wrong-type"]


class TokenError(Exception):
    """A token was refused; `reason` says why in one word, str(exc) in a sentence."""

    def __init__(self, reason: TokenReason, message: str) -> None:
        super().__init__(message)
        self.reason: TokenReason = reason


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says: the API key it descends from and what it may do."""

    key_id: str
    scopes: Scopes
    expires_at: int
    issued_at: int
    token_id: str


class SigningKeys:
    """Server secrets for tokens, by kid, newest first; the newest signs, all verify (rotation).

    Rotate with `keys.rotated().save(path)`: tokens signed by the old kids keep verifying.
    Drop an old kid from the file only once the longest token ttl (`TokenIssuer.max_ttl`)
    has passed since the rotation; tokens it signed then fail with "unknown-kid".
    """

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"current signing kid {current!r} is not among the keys")
        for kid, secret in keys.items():
            if not KID_RE.fullmatch(kid):
                raise ValueError(f"signing kid {kid!r} must match ^{KID_RE.pattern}$")
            if len(secret) < MIN_SECRET_BYTES:
                raise ValueError(f"signing key {kid!r} is under {MIN_SECRET_BYTES} bytes")
        self.current = current
        self._keys = {current: bytes(keys[current])} | {
            kid: bytes(secret) for kid, secret in keys.items() if kid != current
        }

    def __repr__(self) -> str:  # never the secrets
        return f"SigningKeys(kids={list(self._keys)!r}, current={self.current!r})"

    @property
    def kids(self) -> tuple[str, ...]:
        """Every kid, newest (the current one) first."""
        return tuple(self._keys)

    def secret(self, kid: str) -> bytes | None:
        return self._keys.get(kid)

    @classmethod
    def generate(cls) -> SigningKeys:
        kid = _new_kid(())
        return cls({kid: secrets.token_bytes(MIN_SECRET_BYTES)}, kid)

    def signing_with(self, kid: str, secret: bytes) -> SigningKeys:
        """A copy that signs with `kid` (added, or already there); the others still verify."""
        return SigningKeys({kid: secret, **self._keys}, kid)

    def rotated(self) -> SigningKeys:
        """A copy with a new current kid and secret; every old kid is kept for verifying."""
        kid = _new_kid(self._keys)
        return SigningKeys({kid: secrets.token_bytes(MIN_SECRET_BYTES), **self._keys}, kid)

    @classmethod
    def load(cls, path: Path) -> SigningKeys:
        """Read `{"current": kid, "keys": {kid: base64url secret}}`; ValueError if invalid."""
        try:
            data = json.loads(path.read_bytes())
            current, raw = data["current"], data["keys"]
            if not isinstance(current, str) or not isinstance(raw, dict):
                raise TypeError("'current' must be a string and 'keys' an object")
            return cls({kid: _b64decode(secret) for kid, secret in raw.items()}, current)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"signing keys file {path} is invalid: {exc}") from None

    @classmethod
    def load_or_create(cls, path: Path) -> SigningKeys:
        """The keys in `path`, created (mode 0o600, parent dirs too) if the file is missing.

        Synchronous: call it at start-up, off the event loop. Creation never overwrites: if
        another process created the file first, its keys are loaded and used instead.
        """
        try:
            return cls.load(path)
        except FileNotFoundError:
            pass
        keys = cls.generate()
        try:
            write_private(path, keys._to_json(), replace=False)
        except FileExistsError:
            return cls.load(path)
        return keys

    def save(self, path: Path) -> None:
        """Write atomically (temp file, fsync, rename over `path`) with mode 0o600."""
        write_private(path, self._to_json(), replace=True)

    def _to_json(self) -> bytes:
        keys = {kid: _b64encode(secret) for kid, secret in self._keys.items()}
        return json.dumps({"current": self.current, "keys": keys}, indent=2).encode() + b"\n"


def _new_kid(taken: Mapping[str, bytes] | tuple[str, ...]) -> str:
    while (kid := secrets.token_hex(4)) in taken:
        pass  # pragma: no cover - 1 in 4 billion
    return kid


def _b64encode(secret: bytes) -> str:
    return base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")


def _b64decode(text: object) -> bytes:
    if not isinstance(text, str):
        raise TypeError("every secret must be a base64url string")
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


class TokenIssuer:
    """Mints and verifies access tokens with `keys`; `now` is injectable for tests."""

    def __init__(
        self,
        keys: SigningKeys,
        *,
        max_ttl: int = 86400 * 30,
        now: Callable[[], float] = time.time,
    ) -> None:
        if max_ttl < 1:
            raise ValueError(f"max_ttl must be at least 1 second, not {max_ttl}")
        self.keys = keys
        self.max_ttl = max_ttl
        self._now = now

    def mint(
        self, key_id: str, scopes: Scopes, ttl: int, *, parent_expires_at: int | None = None
    ) -> tuple[str, int]:
        """A token for `key_id` with `scopes` (already narrowed by the caller) and its `exp`.

        `exp` is now + ttl, but never after `parent_expires_at`: a token minted with a token
        never outlives its parent. ValueError unless 1 <= ttl <= max_ttl.
        """
        if isinstance(ttl, bool) or not 1 <= ttl <= self.max_ttl:
            raise ValueError(f"ttl must be 1..{self.max_ttl} seconds, not {ttl!r}")
        issued_at = int(self._now())
        expires_at = issued_at + ttl
        if parent_expires_at is not None:
            expires_at = min(expires_at, parent_expires_at)
        claims = {
            "sub": key_id,
            "scp": scopes.model_dump(mode="json"),
            "exp": expires_at,
            "iat": issued_at,
            "jti": secrets.token_hex(16),
            "pd": ACCESS_TYPE,
        }
        kid = self.keys.current
        secret = self.keys.secret(kid)
        assert secret is not None
        headers = {"kid": kid, "typ": "JWT"}
        return jwt.encode(claims, secret, algorithm=ALGORITHM, headers=headers), expires_at

    def verify(self, token: str) -> TokenClaims:
        """The token's claims, or TokenError with reason "malformed", "unknown-kid",
        "bad-signature", "wrong-type" or "expired" (checked in roughly that order).
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("malformed", f"token is malformed: {exc}") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg != ALGORITHM:
            raise TokenError("malformed", f"token algorithm {str(alg)[:16]!r} is not {ALGORITHM}")
        if not isinstance(kid, str):
            raise TokenError("malformed", "token header has no kid")
        secret = self.keys.secret(kid)
        if secret is None:
            raise TokenError("unknown-kid", f"token signing key {kid[:64]!r} is unknown")
        return self._claims(_decode(token, secret))

    def _claims(self, payload: dict[str, Any]) -> TokenClaims:
        if payload.get("pd") != ACCESS_TYPE:
            raise TokenError("wrong-type", "token is not an access token")
        sub, jti, exp, iat = (payload[claim] for claim in ("sub", "jti", "exp", "iat"))
        if not (isinstance(sub, str) and isinstance(jti, str) and _is_int(exp) and _is_int(iat)):
            raise TokenError("malformed", "token claims sub, jti, exp or iat have wrong types")
        try:
            scopes = Scopes.model_validate(payload.get("scp"))
        except ValidationError:
            raise TokenError("malformed", "token scopes (scp) are not valid") from None
        if exp <= self._now():
            raise TokenError("expired", f"token expired at {exp} (Unix seconds)")
        return TokenClaims(key_id=sub, scopes=scopes, expires_at=exp, issued_at=iat, token_id=jti)


def _decode(token: str, secret: bytes) -> dict[str, Any]:
    """The verified payload; PyJWT's own time checks are off (they use the real clock)."""
    options: Options = {
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
        "require": _REQUIRED_CLAIMS,
        "enforce_minimum_key_length": True,
    }
    try:
        payload: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options=options, leeway=0
        )
    except jwt.InvalidSignatureError:
        raise TokenError("bad-signature", "token signature does not match") from None
    except jwt.PyJWTError as exc:
        raise TokenError("malformed", f"token is malformed: {exc}") from None
    return payload


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def looks_like_jwt(credential: str) -> bool:
    """Three base64url segments joined by dots (the last may be empty, as in an unsigned
    token, so that one is routed to `verify` and refused there). API keys look like
    `pd_<id>_<secret>` and never contain dots.
    """
    return _JWT_RE.fullmatch(credential) is not None


def mint_for(
    issuer: TokenIssuer, principal: Principal, requested: RequestedScopes, ttl: int
) -> tuple[str, int, Scopes]:
    """A token for `principal` whose scopes narrow its own: (token, exp, scopes).
    Forbidden (scope-widening) names the part asked wider; InvalidInput a bad ttl."""
    try:
        scopes = principal.scopes.narrow(requested)
    except WideningError as exc:
        raise Forbidden(
            f"a token can only narrow its creator's scopes: {exc}", slug="scope-widening"
        ) from exc
    try:
        token, expires_at = issuer.mint(
            principal.key_id, scopes, ttl, parent_expires_at=principal.expires_at
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), errors=(FieldProblem("ttl", str(exc)),)) from exc
    return token, expires_at, scopes

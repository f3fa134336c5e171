"""From an `Authorization` header (or a signed URL's kid) to a Principal, or a 401."""

from __future__ import annotations

import hashlib
import time

from pixeldrive.auth import url_signature
from pixeldrive.auth.api_keys import scopes_of, secret_matches, split_key
from pixeldrive.auth.principal import Principal
from pixeldrive.auth.tokens import TokenError, TokenIssuer, looks_like_jwt
from pixeldrive.core.errors import DatabaseUnavailable, Forbidden, PixelDriveError, Unauthorized
from pixeldrive.storage.database import Database
from pixeldrive.storage.key_records import KeyRecord, find_key
from pixeldrive.storage.sealed_secrets import SecretBox

TOKEN_PROBLEMS = {
    "expired": ("the token has expired", "expired-token"),
    "unknown-kid": ("the token was signed with a key this server does not know", "invalid-token"),
    "bad-signature": ("the token's signature does not match: it was altered", "invalid-token"),
    "wrong-type": ("this is not an access token", "invalid-token"),
    "malformed": ("the token is malformed", "invalid-token"),
}

# How each refusal of a signed URL is answered; the detail is the error's own message.
SIGNATURE_PROBLEMS: dict[type[url_signature.SignatureError], tuple[type[PixelDriveError], str]] = {
    url_signature.Unsigned: (Unauthorized, "signature-missing"),
    url_signature.Malformed: (Forbidden, "signature-malformed"),
    url_signature.UnknownKey: (Forbidden, "signature-unknown-key"),
    url_signature.Tampered: (Forbidden, "signature-tampered"),
    url_signature.Expired: (Forbidden, "signature-expired"),
}


MAX_CACHED = 10_000  # key records, and principals, kept at most (then all forgotten)


class Authenticator:
    """Checks API keys and tokens. Key records are cached for `cache_seconds`: that is
    how long a revocation made elsewhere (the CLI, another node) may take to bite.

    A credential that passed is remembered, by its SHA-256, as the Principal it gave, until
    its key's record is due to be read again (and a token's expiry): a repeat request
    (every image of a page, every hit) costs a hash and a dict lookup, not a regex, a
    hash comparison, a JWT verification and a pydantic parse of the scopes. A credential
    that failed is not remembered; a lookup by digest reveals nothing about the secret.

    While the database is unreachable, a key this node has seen keeps its last record
    (renders go on; a revocation made meanwhile bites once the database is back); a key
    it has not seen is DatabaseUnavailable (503)."""

    def __init__(
        self, db: Database, box: SecretBox, issuer: TokenIssuer, *, cache_seconds: float = 2.0
    ) -> None:
        self._db = db
        self._box = box  # opens the signing secrets of the records read
        self.issuer = issuer
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}
        self._passed: dict[bytes, tuple[float, Principal]] = {}  # digest → (until, principal)

    async def record(self, key_id: str) -> KeyRecord | None:
        """The stored key (revoked ones included), through the short cache."""
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        try:
            record = await self._db.run(find_key, self._box, key_id)
        except DatabaseUnavailable:
            if cached is None:
                raise
            record = cached[1]  # stale, and asked again after the TTL
        if len(self._cache) > MAX_CACHED:
            self._cache.clear()
        self._cache[key_id] = (now, record)
        return record

    async def active(self, key_id: str) -> KeyRecord | None:
        record = await self.record(key_id)
        return record if record is not None and record.active else None

    async def principal(self, header: str | None) -> Principal:
        """The caller named by `Authorization: Bearer …`; Unauthorized says what is wrong."""
        if not header:
            return await self._verify(header)
        digest = hashlib.sha256(header.encode()).digest()
        passed = self._passed.get(digest)
        if passed is not None and time.monotonic() < passed[0]:
            return passed[1]
        principal = await self._verify(header)
        self._remember(digest, principal)
        return principal

    def _remember(self, digest: bytes, principal: Principal, expires_at: int | None = None) -> None:
        """Keep a principal until its key's record is due to be read again, and no later
        than its credential's expiry; not at all when the record was not fresh."""
        cached = self._cache.get(principal.key_id)
        if cached is None:
            return
        until = cached[0] + self._ttl
        expires_at = expires_at if expires_at is not None else principal.expires_at
        if expires_at is not None:
            until = min(until, time.monotonic() + expires_at - time.time())
        if until <= time.monotonic():
            return
        if len(self._passed) > MAX_CACHED:
            self._passed.clear()
        self._passed[digest] = (until, principal)

    async def _verify(self, header: str | None) -> Principal:
        if not header:
            raise Unauthorized(
                "this endpoint needs an Authorization: Bearer header with an API key or token",
                slug="missing-credentials",
            )
        scheme, _, credential = header.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthorized(
                "use the Bearer scheme: Authorization: Bearer <key or token>",
                slug="missing-credentials",
            )
        if looks_like_jwt(credential):
            return await self._token(credential)
        return await self._key(credential)

    async def _key(self, presented: str) -> Principal:
        parts = split_key(presented)
        record = await self.record(parts[0]) if parts else None
        if parts is None or record is None or not secret_matches(record, parts[1]):
            raise Unauthorized("the API key is not valid", slug="invalid-key")
        if not record.active:
            raise Unauthorized("the API key has been revoked", slug="revoked-key")
        return Principal(record.id, scopes_of(record), "key", quota=record.quota)

    async def _token(self, token: str) -> Principal:
        try:
            claims = self.issuer.verify(token)
        except TokenError as exc:
            detail, slug = TOKEN_PROBLEMS[exc.reason]
            raise Unauthorized(detail, slug=slug) from exc
        record = await self.active(claims.key_id)
        if record is None:
            raise Unauthorized(
                "the key that minted this token has been revoked", slug="revoked-key"
            )
        return Principal(
            record.id, claims.scopes, "token", quota=record.quota, expires_at=claims.expires_at
        )

    async def signed_url(self, path: str, query: list[tuple[str, str]]) -> Principal:
        """The key that signed a URL (`kid`, `exp`, `sig` in its query), with its own scopes;
        Unauthorized or Forbidden naming why the signature is refused. A URL that passed is
        remembered like a key (until its key's record is read again, or it expires)."""
        digest = hashlib.sha256(repr((path, query)).encode()).digest()
        passed = self._passed.get(digest)
        if passed is not None and time.monotonic() < passed[0]:
            return passed[1]
        principal, expires_at = await self._verify_url(path, query)
        self._remember(digest, principal, expires_at)
        return principal

    async def _verify_url(self, path: str, query: list[tuple[str, str]]) -> tuple[Principal, int]:
        kid = next((value for name, value in query if name == url_signature.KID), "")
        record = await self.active(kid) if kid else None

        def secret_for(key_id: str) -> str | None:
            return record.signing_secret if record is not None and key_id == record.id else None

        try:
            url_signature.verify(path, query, secret_for)
            expires_at = int(dict(query)[url_signature.EXP])
        except url_signature.SignatureError as exc:
            error, slug = SIGNATURE_PROBLEMS[type(exc)]
            detail = (
                f"{exc.message}: {exc}" if isinstance(exc, url_signature.Malformed) else exc.message
            )
            raise error(detail, slug=slug) from exc
        assert record is not None  # verify() found its secret
        principal = Principal(record.id, scopes_of(record), "signed-url", quota=record.quota)
        return principal, expires_at

"""Access tokens: mint/verify, every refusal reason, rotation and the key file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from pathlib import Path
from typing import Any

import jwt
import pytest

from pixeldrive.auth.scopes import Scopes
from pixeldrive.auth.tokens import (
    SigningKeys,
    TokenClaims,
    TokenError,
    TokenIssuer,
    looks_like_jwt,
)

T0 = 1_700_000_000
SECRET = bytes(range(32))
OTHER_SECRET = bytes(range(32, 64))
SCOPES = Scopes(templates=("og-*",), formats=("png", "webp"), operations=("render",))


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys() -> SigningKeys:
    return SigningKeys({"k1": SECRET}, "k1")


@pytest.fixture
def issuer(keys: SigningKeys, clock: Clock) -> TokenIssuer:
    return TokenIssuer(keys, max_ttl=3600, now=clock)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "sub": "key1",
        "scp": SCOPES.model_dump(mode="json"),
        "exp": T0 + 60,
        "iat": T0,
        "jti": "ab" * 16,
        "pd": "access",
    }
    return {k: v for k, v in (base | overrides).items() if v is not None}


def forge(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None = None) -> str:
    """A token built by hand; signed with HMAC-SHA<n> per header alg when `secret` is given."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if secret is None:
        return signing_input + "."
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    mac = hmac.new(secret, signing_input.encode(), digest[header["alg"]]).digest()
    return f"{signing_input}.{b64(mac)}"


def refused(issuer: TokenIssuer, token: str) -> TokenError:
    with pytest.raises(TokenError) as info:
        issuer.verify(token)
    return info.value


# --------------------------------------------------------------------------- mint / verify


def test_round_trip(issuer: TokenIssuer) -> None:
    token, expires_at = issuer.mint("key1", SCOPES, 600)
    assert expires_at == T0 + 600
    verified = issuer.verify(token)
    assert verified == TokenClaims(
        key_id="key1",
        scopes=SCOPES,
        expires_at=T0 + 600,
        issued_at=T0,
        token_id=verified.token_id,
    )
    assert len(verified.token_id) == 32
    int(verified.token_id, 16)


def test_token_layout(issuer: TokenIssuer) -> None:
    token, _ = issuer.mint("key1", SCOPES, 600)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    payload = jwt.decode(token, options={"verify_signature": False})
    assert set(payload) == {"sub", "scp", "exp", "iat", "jti", "pd"}
    assert payload["pd"] == "access"
    assert payload["scp"] == SCOPES.model_dump(mode="json")


def test_every_token_has_its_own_id(issuer: TokenIssuer) -> None:
    first, second = (issuer.verify(issuer.mint("key1", SCOPES, 60)[0]) for _ in range(2))
    assert first.token_id != second.token_id


def test_expiry_follows_the_injected_clock(issuer: TokenIssuer, clock: Clock) -> None:
    token, expires_at = issuer.mint("key1", SCOPES, 60)
    clock.t = expires_at - 0.5
    assert issuer.verify(token).expires_at == expires_at
    clock.t = expires_at
    exc = refused(issuer, token)
    assert exc.reason == "expired"
    assert str(exc) == f"token expired at {expires_at} (Unix seconds)"


def test_fractional_now_is_floored(keys: SigningKeys) -> None:
    issuer = TokenIssuer(keys, now=lambda: T0 + 0.9)
    token, expires_at = issuer.mint("key1", SCOPES, 10)
    assert expires_at == T0 + 10
    assert issuer.verify(token).issued_at == T0


def test_exp_is_bounded_by_the_parent(issuer: TokenIssuer) -> None:
    assert issuer.mint("key1", SCOPES, 600, parent_expires_at=T0 + 60)[1] == T0 + 60
    assert issuer.mint("key1", SCOPES, 600, parent_expires_at=T0 + 6000)[1] == T0 + 600
    token, expires_at = issuer.mint("key1", SCOPES, 600, parent_expires_at=T0 + 60)
    assert issuer.verify(token).expires_at == expires_at == T0 + 60


@pytest.mark.parametrize("ttl", [0, -1, 3601, True])
def test_ttl_out_of_range(issuer: TokenIssuer, ttl: int) -> None:
    with pytest.raises(ValueError, match=r"ttl must be 1\.\.3600 seconds"):
        issuer.mint("key1", SCOPES, ttl)


def test_ttl_bounds_are_inclusive(issuer: TokenIssuer) -> None:
    assert issuer.mint("key1", SCOPES, 1)[1] == T0 + 1
    assert issuer.mint("key1", SCOPES, 3600)[1] == T0 + 3600


def test_default_max_ttl_is_thirty_days(keys: SigningKeys) -> None:
    issuer = TokenIssuer(keys, now=Clock())
    assert issuer.mint("key1", SCOPES, 86400 * 30)[1] == T0 + 86400 * 30
    with pytest.raises(ValueError, match="ttl"):
        issuer.mint("key1", SCOPES, 86400 * 30 + 1)


# --------------------------------------------------------------------------- refusals


def test_tampered_payload_is_a_bad_signature(issuer: TokenIssuer) -> None:
    token, _ = issuer.mint("key1", SCOPES, 600)
    header, payload, signature = token.split(".")
    middle = len(payload) // 2
    flipped = "A" if payload[middle] != "A" else "B"
    tampered = f"{header}.{payload[:middle]}{flipped}{payload[middle + 1 :]}.{signature}"
    assert refused(issuer, tampered).reason == "bad-signature"


def test_widened_scopes_with_old_signature_is_a_bad_signature(issuer: TokenIssuer) -> None:
    token, _ = issuer.mint("key1", SCOPES, 600)
    header, _, signature = token.split(".")
    payload = b64(json.dumps(claims(scp=Scopes.everything().model_dump(mode="json"))).encode())
    assert refused(issuer, f"{header}.{payload}.{signature}").reason == "bad-signature"


def test_another_secret_with_the_same_kid_is_a_bad_signature(
    issuer: TokenIssuer, clock: Clock
) -> None:
    impostor = TokenIssuer(SigningKeys({"k1": OTHER_SECRET}, "k1"), now=clock)
    token, _ = impostor.mint("key1", SCOPES, 600)
    exc = refused(issuer, token)
    assert exc.reason == "bad-signature"
    assert str(exc) == "token signature does not match"


def test_unknown_kid(issuer: TokenIssuer, clock: Clock) -> None:
    stranger = TokenIssuer(SigningKeys({"k2": SECRET}, "k2"), now=clock)
    token, _ = stranger.mint("key1", SCOPES, 600)
    exc = refused(issuer, token)
    assert exc.reason == "unknown-kid"
    assert "'k2'" in str(exc)


def test_missing_kid_is_malformed(issuer: TokenIssuer) -> None:
    token = forge({"alg": "HS256", "typ": "JWT"}, claims(), SECRET)
    assert refused(issuer, token).reason == "malformed"


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
def test_unsigned_tokens_are_refused(issuer: TokenIssuer, alg: str) -> None:
    token = forge({"alg": alg, "typ": "JWT", "kid": "k1"}, claims())
    assert token.endswith(".")
    assert refused(issuer, token).reason in {"malformed", "bad-signature"}


def test_unsigned_token_without_alg_is_refused(issuer: TokenIssuer) -> None:
    token = forge({"typ": "JWT", "kid": "k1"}, claims())
    assert refused(issuer, token).reason in {"malformed", "bad-signature"}


@pytest.mark.parametrize("alg", ["HS512", "HS384"])
def test_other_hmac_algorithms_are_refused_even_with_the_right_secret(
    issuer: TokenIssuer, alg: str
) -> None:
    token = forge({"alg": alg, "typ": "JWT", "kid": "k1"}, claims(), SECRET)
    assert refused(issuer, token).reason in {"malformed", "bad-signature"}


def test_a_hand_forged_hs256_token_with_the_right_secret_verifies(issuer: TokenIssuer) -> None:
    # The control for the refusals above: forge() itself makes valid tokens.
    token = forge({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims(), SECRET)
    assert issuer.verify(token).key_id == "key1"


@pytest.mark.parametrize("pd", ["refresh", "", 1, None])
def test_wrong_type_marker(issuer: TokenIssuer, pd: object) -> None:
    token = forge({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims(pd=pd), SECRET)
    exc = refused(issuer, token)
    assert exc.reason == "wrong-type"
    assert str(exc) == "token is not an access token"


@pytest.mark.parametrize(
    "overrides",
    [
        {"jti": None},
        {"sub": None},
        {"exp": None},
        {"iat": None},
        {"exp": "soon"},
        {"exp": True},
        {"iat": 1.5},
        {"sub": 7},
        {"scp": None},
        {"scp": {"templates": ["og-?"]}},
        {"scp": {"formats": ["gif"]}},
        {"scp": {"operations": ["everything"]}},
        {"scp": "everything"},
    ],
)
def test_bad_claims_are_malformed(issuer: TokenIssuer, overrides: dict[str, Any]) -> None:
    token = forge({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims(**overrides), SECRET)
    assert refused(issuer, token).reason == "malformed"


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b.c", "a.b", "not a token", "pd_abc_def", "e30.e30.", "W10.e30.e30", "....."],
)
def test_garbage_is_malformed(issuer: TokenIssuer, garbage: str) -> None:
    assert refused(issuer, garbage).reason == "malformed"


# --------------------------------------------------------------------------- keys


def test_rotation_keeps_old_tokens_valid(keys: SigningKeys, clock: Clock) -> None:
    old_token, _ = TokenIssuer(keys, now=clock).mint("key1", SCOPES, 600)
    rotated = keys.rotated()
    assert rotated.current != "k1"
    assert rotated.kids == (rotated.current, "k1")
    assert keys.kids == ("k1",)  # the original is unchanged
    issuer = TokenIssuer(rotated, now=clock)
    assert issuer.verify(old_token).key_id == "key1"
    new_token, _ = issuer.mint("key1", SCOPES, 600)
    assert jwt.get_unverified_header(new_token)["kid"] == rotated.current
    assert rotated.secret(rotated.current) != SECRET
    assert refused(TokenIssuer(keys, now=clock), new_token).reason == "unknown-kid"


def test_current_kid_comes_first(keys: SigningKeys) -> None:
    both = SigningKeys({"old": SECRET, "new": OTHER_SECRET}, "new")
    assert both.kids == ("new", "old")


@pytest.mark.parametrize(
    ("keys", "current", "message"),
    [
        ({"k1": SECRET}, "k2", "not among the keys"),
        ({"k1": SECRET[:31]}, "k1", "under 32 bytes"),
        ({"k.1": SECRET}, "k.1", "must match"),
        ({}, "k1", "not among the keys"),
    ],
)
def test_signing_keys_validation(keys: dict[str, bytes], current: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SigningKeys(keys, current)


def test_repr_hides_secrets(keys: SigningKeys) -> None:
    assert repr(keys) == "SigningKeys(kids=['k1'], current='k1')"


def test_load_or_create_makes_a_private_file_and_reloads_it(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "state" / "deep" / "token-keys.json"
    created = SigningKeys.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["current"] == created.current
    assert list(data["keys"]) == [created.current]
    assert sorted(p.name for p in path.parent.iterdir()) == ["token-keys.json"]  # no temp files

    reloaded = SigningKeys.load_or_create(path)
    assert reloaded.kids == created.kids
    assert reloaded.secret(created.current) == created.secret(created.current)
    token, _ = TokenIssuer(created, now=clock).mint("key1", SCOPES, 60)
    assert TokenIssuer(reloaded, now=clock).verify(token).key_id == "key1"


def test_load_or_create_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "token-keys.json"
    SigningKeys({"mine": SECRET}, "mine").save(path)
    loaded = SigningKeys.load_or_create(path)
    assert loaded.kids == ("mine",)
    assert loaded.secret("mine") == SECRET


def test_save_rotated_keys(tmp_path: Path, keys: SigningKeys) -> None:
    path = tmp_path / "token-keys.json"
    keys.save(path)
    rotated = keys.rotated()
    rotated.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = SigningKeys.load(path)
    assert loaded.kids == rotated.kids
    assert loaded.current == rotated.current
    assert all(loaded.secret(kid) == rotated.secret(kid) for kid in rotated.kids)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token-keys.json"]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"keys": {}}',
        '{"current": "k1"}',
        '{"current": "k1", "keys": []}',
        '{"current": "k1", "keys": {"k1": "c2hvcnQ"}}',
        '{"current": "k1", "keys": {"k1": "!!!not base64!!!"}}',
        '{"current": "k1", "keys": {"k1": 5}}',
        '{"current": 1, "keys": {}}',
    ],
)
def test_invalid_key_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "token-keys.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"signing keys file .* is invalid"):
        SigningKeys.load_or_create(path)
    assert path.read_text() == content  # left alone for a human to look at


# --------------------------------------------------------------------------- looks_like_jwt


def test_looks_like_jwt(issuer: TokenIssuer) -> None:
    assert looks_like_jwt(issuer.mint("key1", SCOPES, 60)[0])
    assert looks_like_jwt("a.b.c")
    assert looks_like_jwt("eyJhbGciOiJub25lIn0.e30.")  # unsigned: routed to verify, refused


@pytest.mark.parametrize(
    "credential",
    ["pd_abc123_s3cr3t-_x", "", "a.b", "a.b.c.d", ".b.c", "a..c", "a b.c.d", "a.b.c\n", "a+b.c.d"],
)
def test_does_not_look_like_jwt(credential: str) -> None:
    assert not looks_like_jwt(credential)


def test_signing_with_a_shared_key_keeps_the_old_ones_verifying() -> None:
    own = SigningKeys.generate()
    before = TokenIssuer(own)
    old_token, _ = before.mint("k1", Scopes(), 600)
    shared = own.signing_with("cluster-1", b"s" * 32)
    assert shared.current == "cluster-1"
    assert set(shared.kids) == {"cluster-1", *own.kids}
    after = TokenIssuer(shared)
    new_token, _ = after.mint("k1", Scopes(), 600)
    assert after.verify(old_token).key_id == "k1"  # signed before: still good here
    # Another node with its own file and the same shared key accepts the new token.
    elsewhere = TokenIssuer(SigningKeys.generate().signing_with("cluster-1", b"s" * 32))
    assert elsewhere.verify(new_token).key_id == "k1"
    with pytest.raises(TokenError) as refused:
        elsewhere.verify(old_token)
    assert refused.value.reason == "unknown-kid"

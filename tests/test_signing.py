"""Signed URLs: the published test vector, an independent implementation, every refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

import pytest
import yarl
from hypothesis import given
from hypothesis import strategies as st

from pixeldrive.auth.url_signature import (
    Expired,
    Malformed,
    SignatureError,
    Tampered,
    UnknownKey,
    Unsigned,
    canonical,
    quote,
    sign_url,
    signature,
    verify,
)

Pairs = list[tuple[str, str]]

SECRET = "pd-test-secret"
PATH = "/v1/t/og-card.png"
FIELDS = {"title": "Hello, world!", "subtitle": "ünïcode & more/1+1", "accent": "#ff0066"}
KID = "k_test"
EXP = 1893456000
NOW = 1_800_000_000.0  # any time before EXP

# The published vector (README): computed once, cross-checked with the reference below and with
# `openssl dgst -sha256 -hmac pd-test-secret -binary | base64 | tr '+/' '-_' | tr -d '='`.
VECTOR_CANONICAL = (
    "/v1/t/og-card.png?accent=%23ff0066&exp=1893456000&kid=k_test"
    "&subtitle=%C3%BCn%C3%AFcode%20%26%20more%2F1%2B1&title=Hello%2C%20world%21"
)
VECTOR_SIG = "riRVf-lu2IVjdfl52Y_xpWyW5n0K2urlIm7koZHcJkY"
VECTOR_PAIRS: Pairs = [*FIELDS.items(), ("kid", KID), ("exp", str(EXP))]


# --- An independent implementation of SPEC §9, the one the README shows for other languages ---
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def ref_encode(text: str) -> str:
    return "".join(chr(b) if b in UNRESERVED else f"%{b:02X}" for b in text.encode("utf-8"))


def ref_sign(secret: str, path: str, pairs: Pairs) -> str:
    kept = [(n, v) for n, v in pairs if n != "sig"]
    kept.sort(key=lambda p: (p[0].encode("utf-8"), p[1].encode("utf-8")))  # = code point order
    message = path + "?" + "&".join(ref_encode(n) + "=" + ref_encode(v) for n, v in kept)
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- helpers ---
def keys(kid: str) -> str | None:
    return {KID: SECRET, "k_old": "old-secret"}.get(kid)


def clock(at: float) -> Callable[[], float]:
    return lambda: at


def split(url: str) -> tuple[str, Pairs]:
    """What a server sees: the raw path and the decoded query pairs, in order."""
    parts = urlsplit(url)
    return parts.path, parse_qsl(parts.query, keep_blank_values=True)


def signed(fields: dict[str, str] | None = None, expires_at: int = EXP) -> tuple[str, Pairs]:
    url = sign_url(PATH, fields or FIELDS, kid=KID, secret=SECRET, expires_at=expires_at)
    return split(url)


def check(path: str, pairs: Pairs, at: float = NOW) -> str:
    return verify(path, pairs, keys, now=clock(at))


def replace(pairs: Pairs, name: str, value: str) -> Pairs:
    return [(n, value if n == name else v) for n, v in pairs]


# --- the published vector ---
def test_vector_canonical() -> None:
    assert canonical(PATH, VECTOR_PAIRS) == VECTOR_CANONICAL


def test_vector_signature() -> None:
    assert signature(SECRET, PATH, VECTOR_PAIRS) == VECTOR_SIG
    assert signature(SECRET.encode(), PATH, VECTOR_PAIRS) == VECTOR_SIG
    assert ref_sign(SECRET, PATH, VECTOR_PAIRS) == VECTOR_SIG


def test_vector_url() -> None:
    url = sign_url(PATH, FIELDS, kid=KID, secret=SECRET, expires_at=EXP)
    assert url == f"{VECTOR_CANONICAL}&sig={VECTOR_SIG}"
    assert check(*split(url)) == KID


# --- the canonical form ---
@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("AZaz09-._~", "AZaz09-._~"),
        (" ", "%20"),
        ("/", "%2F"),
        ("+", "%2B"),
        ("*!'()", "%2A%21%27%28%29"),
        ("=&?#%", "%3D%26%3F%23%25"),
        ("é", "%C3%A9"),
        ("😀", "%F0%9F%98%80"),
        ("\x00\n", "%00%0A"),
        ("", ""),
    ],
)
def test_quote(raw: str, encoded: str) -> None:
    assert quote(raw) == encoded == ref_encode(raw)


def test_canonical_drops_sig_and_keeps_the_path_as_given() -> None:
    assert canonical("/v1/t/a%2Db", [("sig", "x"), ("b", "2"), ("a", "1")]) == "/v1/t/a%2Db?a=1&b=2"
    assert canonical(PATH, []) == PATH + "?"


def test_canonical_sorts_decoded_strings_by_code_point() -> None:
    # Encoded, "%C3%A9" would sort before "~"; decoded, "~" (U+007E) comes before "é" (U+00E9).
    assert canonical("/p", [("é", "2"), ("~", "1")]) == "/p?~=1&%C3%A9=2"
    # Code points, not UTF-16 units: U+FFFD before U+1F600 (JavaScript's default sort disagrees).
    assert canonical("/p", [("😀", "1"), ("\ufffd", "2")]) == "/p?%EF%BF%BD=2&%F0%9F%98%80=1"
    # By name first, then value; a name that is a prefix sorts first.
    assert canonical("/p", [("ab", "0"), ("a", "z"), ("a", "b")]) == "/p?a=b&a=z&ab=0"


# --- sign_url ---
def test_sign_url_ttl_counts_from_now() -> None:
    url = sign_url(PATH, {}, kid=KID, secret=SECRET, ttl=60, now=clock(1000.9))
    assert dict(split(url)[1])["exp"] == "1060"


def test_sign_url_writes_bools_and_numbers() -> None:
    fields = {"flag": True, "off": False, "n": 3, "x": 1.5}
    url = sign_url(PATH, fields, kid=KID, secret=SECRET, expires_at=EXP)
    assert url.startswith(f"{PATH}?exp={EXP}&flag=true&kid={KID}&n=3&off=false&x=1.5&sig=")


def test_sign_url_takes_pairs_with_repeated_fields() -> None:
    url = sign_url(PATH, [("tag", "b"), ("tag", "a")], kid=KID, secret=SECRET, expires_at=EXP)
    assert url.startswith(f"{PATH}?exp={EXP}&kid={KID}&tag=a&tag=b&sig=")
    assert check(*split(url)) == KID


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"expires_at": EXP, "ttl": 60}, ValueError),
        ({}, ValueError),
        ({"ttl": 0}, ValueError),
        ({"expires_at": float(EXP)}, TypeError),
        ({"expires_at": EXP, "fields": {"exp": "1"}}, ValueError),
        ({"expires_at": EXP, "fields": [("sig", "x")]}, ValueError),
        ({"expires_at": EXP, "path": "/v1/t/a.png?x=1"}, ValueError),
        ({"expires_at": EXP, "kid": ""}, ValueError),
    ],
)
def test_sign_url_refuses(kwargs: dict[str, object], error: type[Exception]) -> None:
    args: dict[str, object] = {"path": PATH, "fields": FIELDS, "kid": KID, "secret": SECRET}
    with pytest.raises(error):
        sign_url(**(args | kwargs))  # type: ignore[arg-type]


# --- the property: sign_url agrees with the reference and verify accepts its URLs ---
names = st.text().filter(lambda name: name not in ("kid", "exp", "sig"))


@given(
    fields=st.lists(st.tuples(names, st.text()), max_size=6),
    kid=st.text(min_size=1),
    secret=st.text(min_size=1),
    path=st.sampled_from([PATH, "/v1/t/quote", "/v1/t/a%20b.webp"]),
)
def test_sign_url_matches_the_reference_and_verifies(
    fields: Pairs, kid: str, secret: str, path: str
) -> None:
    url = sign_url(path, fields, kid=kid, secret=secret, expires_at=EXP)
    raw_path, pairs = split(url)
    assert raw_path == path
    assert dict(pairs)["sig"] == ref_sign(secret, path, [*fields, ("kid", kid), ("exp", str(EXP))])
    assert sorted(pairs) == sorted([*fields, ("kid", kid), ("exp", str(EXP)), pairs[-1]])
    assert verify(raw_path, pairs, {kid: secret}.get, now=clock(NOW)) == kid
    # And as aiohttp decodes it (yarl): the same pairs, so the same verdict.
    as_aiohttp = yarl.URL(url)
    assert list(as_aiohttp.query.items()) == pairs
    assert verify(as_aiohttp.raw_path, pairs, {kid: secret}.get, now=clock(NOW)) == kid


# --- verify ---
def test_valid_returns_the_kid() -> None:
    assert check(*signed()) == KID


def test_other_key_ids_verify_with_their_secret() -> None:
    url = sign_url(PATH, FIELDS, kid="k_old", secret="old-secret", expires_at=EXP)
    assert check(*split(url)) == "k_old"


def test_a_changed_field_is_tampered() -> None:
    path, pairs = signed()
    with pytest.raises(Tampered):
        check(path, replace(pairs, "title", "Hello, world?"))


def test_a_later_exp_is_tampered_not_accepted() -> None:
    path, pairs = signed(expires_at=EXP)
    with pytest.raises(Tampered):
        check(path, replace(pairs, "exp", str(EXP + 86400)), at=EXP + 10)


def test_an_added_field_is_tampered() -> None:
    path, pairs = signed()
    with pytest.raises(Tampered):
        check(path, [*pairs, ("width", "300")])


def test_a_removed_field_is_tampered() -> None:
    path, pairs = signed()
    with pytest.raises(Tampered):
        check(path, [p for p in pairs if p[0] != "accent"])


def test_another_path_is_tampered() -> None:
    _, pairs = signed()
    with pytest.raises(Tampered):
        check("/v1/t/og-card.webp", pairs)


def test_another_secret_is_tampered() -> None:
    path, pairs = signed()
    with pytest.raises(Tampered):
        verify(path, pairs, lambda kid: "not-the-secret", now=clock(NOW))


def test_expired_when_now_reaches_exp() -> None:
    path, pairs = signed()
    assert check(path, pairs, at=EXP - 0.5) == KID
    with pytest.raises(Expired, match=str(EXP)):
        check(path, pairs, at=EXP)
    with pytest.raises(Expired):
        check(path, pairs, at=EXP + 3600)


@pytest.mark.parametrize("lookup", [lambda kid: None, lambda kid: "", lambda kid: b""])
def test_unknown_kid(lookup: Callable[[str], str | bytes | None]) -> None:
    path, pairs = signed()
    with pytest.raises(UnknownKey):
        verify(path, pairs, lookup, now=clock(NOW))


@pytest.mark.parametrize("name", ["sig", "kid", "exp"])
def test_missing_or_empty_signature_parameter_is_unsigned(name: str) -> None:
    path, pairs = signed()
    with pytest.raises(Unsigned, match=name):
        check(path, [p for p in pairs if p[0] != name])
    with pytest.raises(Unsigned, match=name):
        check(path, replace(pairs, name, ""))


def test_a_bare_path_is_unsigned() -> None:
    with pytest.raises(Unsigned):
        check(PATH, [])


@pytest.mark.parametrize("name", ["sig", "kid", "exp"])
def test_a_repeated_signature_parameter_is_malformed(name: str) -> None:
    path, pairs = signed()
    with pytest.raises(Malformed, match=name):
        check(path, [*pairs, (name, dict(pairs)[name])])


@pytest.mark.parametrize(
    "exp", ["soon", "1893456000.0", "-1", "+1893456000", " 1893456000", "1_0", "１２", "9" * 19]
)
def test_an_exp_that_is_not_base10_digits_is_malformed(exp: str) -> None:
    path, pairs = signed()
    with pytest.raises(Malformed, match="exp"):
        check(path, replace(pairs, "exp", exp))


def test_sig_that_is_not_unpadded_base64url_is_malformed() -> None:
    """Decision: a sig that cannot be a base64url HMAC-SHA256 is Malformed, not Tampered."""
    path, pairs = signed()
    std = base64.b64encode(base64.urlsafe_b64decode(VECTOR_SIG + "=")).decode()
    bad = [
        VECTOR_SIG[:-1] + "+",  # standard-alphabet characters
        VECTOR_SIG[:-1] + "!",
        VECTOR_SIG + "=",  # padding
        VECTOR_SIG[:-1],  # too short
        VECTOR_SIG + "A",  # too long
        std,  # standard base64 with '+', '/' or '='
        VECTOR_SIG[:-1] + "Z",  # last character with its unused low bits set
    ]
    for sig in bad:
        with pytest.raises(Malformed, match="sig"):
            check(path, replace(pairs, "sig", sig))


def test_a_well_formed_wrong_sig_is_tampered() -> None:
    path, pairs = signed()
    with pytest.raises(Tampered):
        check(path, replace(pairs, "sig", "A" * 43))


def test_checks_run_in_the_documented_order() -> None:
    path, pairs = signed()
    # Unsigned before Malformed: exp is bad but sig is missing.
    with pytest.raises(Unsigned):
        check(path, [p for p in replace(pairs, "exp", "soon") if p[0] != "sig"])
    # Malformed before UnknownKey.
    with pytest.raises(Malformed):
        check(path, replace(replace(pairs, "kid", "nobody"), "exp", "soon"))
    # UnknownKey before Tampered.
    with pytest.raises(UnknownKey):
        check(path, replace(replace(pairs, "kid", "nobody"), "title", "changed"))
    # Tampered before Expired.
    with pytest.raises(Tampered):
        check(path, replace(pairs, "title", "changed"), at=EXP + 1)


def test_field_order_in_the_url_does_not_matter() -> None:
    path, pairs = signed()
    assert check(path, list(reversed(pairs))) == KID
    assert check(path, sorted(pairs, key=lambda p: p[1])) == KID


def test_space_as_percent_20_or_plus_verifies_but_a_literal_plus_does_not() -> None:
    url = sign_url(PATH, {"title": "a b"}, kid=KID, secret=SECRET, expires_at=EXP)
    assert "title=a%20b" in url
    assert check(*split(url)) == KID
    # A client or proxy that rewrites %20 as "+" still decodes to the same pairs.
    assert check(*split(url.replace("%20", "+"))) == KID
    # "+" in a value is sent as %2B; a raw "+" decodes to a space, which is another value.
    vector_url = f"{VECTOR_CANONICAL}&sig={VECTOR_SIG}"
    assert check(*split(vector_url)) == KID
    with pytest.raises(Tampered):
        check(*split(vector_url.replace("%2B", "+")))


def test_percent_encoding_spelling_does_not_matter() -> None:
    # Lower-case hex, or an unreserved character needlessly encoded, decodes to the same pairs.
    url = f"{VECTOR_CANONICAL}&sig={VECTOR_SIG}".replace("%C3%BC", "%c3%bc").replace(
        "k_test", "k%5Ftest"
    )
    assert check(*split(url)) == KID


def test_compare_digest_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording)  # what signing calls
    path, pairs = signed()
    assert check(path, pairs) == KID
    with pytest.raises(Tampered):
        check(path, replace(pairs, "title", "changed"))
    assert len(calls) == 2
    assert all(isinstance(a, bytes) and isinstance(b, bytes) and len(a) == 32 for a, b in calls)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (Unsigned, "unsigned"),
        (Expired, "expired"),
        (Tampered, "tampered"),
        (UnknownKey, "unknown-key"),
        (Malformed, "malformed"),
    ],
)
def test_errors_carry_a_reason_slug_and_a_message(error: type[SignatureError], reason: str) -> None:
    assert issubclass(error, SignatureError)
    assert error.reason == reason
    assert str(error()) == error.message
    assert str(error("detail")) == "detail"

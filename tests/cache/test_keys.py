"""The key of a render: the same payload gives the same URL, across restarts and
releases. The expected values were computed by the release before this code changed."""

from __future__ import annotations

import dataclasses

from pixeldrive.core.render_spec import RenderSpec, render_key

SPEC = RenderSpec(
    "og-card",
    "0123456789abcdef",
    {"title": "Grüße", "tags": ["a", "b"], "show": True, "n": None},
    1200,
    630,
    80,
)
CANONICAL = (
    '{"fields":{"n":null,"show":true,"tags":["a","b"],"title":"Grüße"},"height":630,'
    '"quality":80,"template":"og-card","version":"0123456789abcdef","width":1200}'
).encode()


def test_the_canonical_form_is_pinned() -> None:
    assert SPEC.canonical() == CANONICAL


def test_the_key_is_pinned() -> None:
    assert render_key(SPEC, "fp1") == "1c90623884472e30d55d3eb0f63fe585"


def test_field_order_and_the_fingerprint() -> None:
    reordered = RenderSpec(
        "og-card", SPEC.version, dict(reversed(SPEC.fields.items())), 1200, 630, 80
    )
    assert render_key(reordered, "fp1") == render_key(SPEC, "fp1")
    assert render_key(SPEC, "fp2") != render_key(SPEC, "fp1")


def test_from_canonical_round_trips() -> None:
    assert RenderSpec.from_canonical(SPEC.canonical()) == SPEC


def test_uploaded_fonts_change_the_key_and_are_absent_when_none() -> None:
    fonted = dataclasses.replace(SPEC, fonts=("a" * 64,))
    assert b'"fonts":["' + b"a" * 64 + b'"]' in fonted.canonical()
    assert b"fonts" not in SPEC.canonical()
    assert render_key(fonted, "fp1") != render_key(SPEC, "fp1")
    other = dataclasses.replace(SPEC, fonts=("b" * 64,))
    assert render_key(other, "fp1") != render_key(fonted, "fp1")
    assert RenderSpec.from_canonical(fonted.canonical()) == fonted

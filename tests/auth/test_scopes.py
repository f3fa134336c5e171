"""Scopes: validation, check() messages, narrow() containment and the --scopes grammar."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pixeldrive.auth.scopes import (
    FORMATS,
    OPERATIONS,
    RequestedScopes,
    ScopeError,
    Scopes,
    WideningError,
    parse_scopes_option,
)

# No example database: keep the test run from writing a .hypothesis/ directory.
PROPERTY = settings(database=None, deadline=None, max_examples=500)


def refusal(scopes: Scopes, operation: str, **request: Any) -> ScopeError:
    with pytest.raises(ScopeError) as info:
        scopes.check(operation, **request)
    return info.value


def widening(parent: Scopes, **requested: Any) -> WideningError:
    with pytest.raises(WideningError) as info:
        parent.narrow(RequestedScopes(**requested))
    return info.value


# --------------------------------------------------------------------------- validation


def test_defaults_allow_everything() -> None:
    scopes = Scopes.everything()
    assert scopes == Scopes()
    assert scopes.templates == ("*",)
    assert scopes.formats == FORMATS
    assert scopes.operations == OPERATIONS
    assert scopes.max_pixels is None


@pytest.mark.parametrize(
    "glob", ["og-?", "og-[ab]", "Og-*", "-og", "_og", "og card", "", "og/card", "a" * 65]
)
def test_bad_template_globs_are_refused(glob: str) -> None:
    with pytest.raises(ValidationError, match="template glob"):
        Scopes(templates=(glob,))
    with pytest.raises(ValidationError, match="template glob"):
        RequestedScopes(templates=(glob,))


def test_question_mark_and_bracket_are_named_in_the_message() -> None:
    with pytest.raises(ValidationError, match=r"'\?' and '\[' are refused"):
        Scopes(templates=("og-?",))


@pytest.mark.parametrize("glob", ["*", "og-*", "*-card", "a*b*c", "0", "a" * 64, "*" * 64])
def test_good_template_globs_are_kept(glob: str) -> None:
    assert Scopes(templates=(glob,)).templates == (glob,)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("formats", ("gif",), "unknown format 'gif'"),
        ("operations", ("delete",), "unknown operation 'delete'"),
        ("templates", (), "at least one template glob"),
        ("formats", (), "at least one format"),
        ("operations", (), "at least one operation"),
        ("max_pixels", 0, "greater than 0"),
    ],
)
def test_bad_parts_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Scopes.model_validate({field: value})
    with pytest.raises(ValidationError, match=message):
        RequestedScopes.model_validate({field: value})


def test_parts_are_deduplicated_and_canonically_ordered() -> None:
    scopes = Scopes(
        templates=("quote", "og-*", "quote"),
        formats=("webp", "jpg", "png", "webp"),
        operations=("usage:read", "render"),
    )
    assert scopes.templates == ("quote", "og-*")
    assert scopes.formats == ("png", "jpeg", "webp")
    assert scopes.operations == ("render", "usage:read")


def test_models_are_frozen_and_strict_about_fields() -> None:
    with pytest.raises(ValidationError):
        Scopes.model_validate({"templatez": ["*"]})
    with pytest.raises(ValidationError):
        RequestedScopes.model_validate({"ttl": 5})
    with pytest.raises(ValidationError):
        Scopes().max_pixels = 5  # type: ignore[misc]


def test_requested_scopes_from_a_tokens_body() -> None:
    body = '{"templates": ["og-*"], "formats": ["png"], "operations": ["render"]}'
    requested = RequestedScopes.model_validate_json(body)
    assert requested == RequestedScopes(
        templates=("og-*",), formats=("png",), operations=("render",)
    )
    assert requested.max_pixels is None


def test_json_round_trip() -> None:
    scopes = Scopes(templates=("og-*",), formats=("png",), max_pixels=10)
    assert Scopes.model_validate(scopes.model_dump(mode="json")) == scopes


# --------------------------------------------------------------------------- check()


def test_everything_allows_any_request() -> None:
    for operation in OPERATIONS:
        Scopes.everything().check(operation, template="certificate", format="avif", pixels=10**9)


def test_check_allows_what_is_in_scope() -> None:
    scopes = Scopes(
        templates=("og-*", "quote"), formats=("png", "webp"), operations=("render",), max_pixels=100
    )
    scopes.check("render", template="og-card", format="webp", pixels=100)
    scopes.check("render", template="quote", format="png")
    scopes.check("render")  # parts not given are not checked


def test_check_refuses_an_operation() -> None:
    exc = refusal(Scopes(operations=("render",)), "templates:write")
    assert str(exc) == "operation 'templates:write' is not allowed (allowed: render)"
    assert exc.part == "operation"


def test_check_refuses_a_template() -> None:
    exc = refusal(Scopes(templates=("og-*",)), "render", template="product")
    assert str(exc) == "template 'product' is outside this credential's templates: og-*"
    assert exc.part == "template"


def test_check_refuses_a_format() -> None:
    exc = refusal(Scopes(formats=("png", "webp")), "render", format="avif")
    assert str(exc) == "format 'avif' is not allowed (allowed: png, webp)"
    assert exc.part == "format"


def test_check_refuses_pixels_over_the_limit() -> None:
    exc = refusal(Scopes(max_pixels=1_000_000), "render", pixels=1_440_000)
    assert str(exc) == "1440000 pixels are over this credential's limit of 1000000"
    assert exc.part == "pixels"


def test_check_accepts_jpg_as_jpeg() -> None:
    Scopes(formats=("jpeg",)).check("render", format="jpg")


def test_check_names_the_first_failing_part() -> None:
    scopes = Scopes(templates=("og-*",), formats=("png",), operations=("render",), max_pixels=1)
    request: dict[str, Any] = {"template": "quote", "format": "avif", "pixels": 2}
    assert refusal(scopes, "batch", **request).part == "operation"
    assert refusal(scopes, "render", **request).part == "template"
    assert refusal(scopes, "render", **(request | {"template": "og-card"})).part == "format"
    last = request | {"template": "og-card", "format": "png"}
    assert refusal(scopes, "render", **last).part == "pixels"


def test_check_unknown_operation_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown operation 'rendr'"):
        Scopes.everything().check("rendr")


# --------------------------------------------------------------------------- narrow()

PARENT = Scopes(
    templates=("og-*", "quote"),
    formats=("png", "webp"),
    operations=("render", "batch"),
    max_pixels=1_000_000,
)


def test_narrower_parts_are_accepted() -> None:
    narrowed = PARENT.narrow(
        RequestedScopes(
            templates=("og-card",), formats=("webp",), operations=("render",), max_pixels=5
        )
    )
    assert narrowed == Scopes(
        templates=("og-card",), formats=("webp",), operations=("render",), max_pixels=5
    )


def test_equal_parts_are_accepted() -> None:
    requested = RequestedScopes(**PARENT.model_dump())
    assert PARENT.narrow(requested) == PARENT


def test_missing_parts_are_inherited() -> None:
    assert PARENT.narrow(RequestedScopes()) == PARENT
    narrowed = PARENT.narrow(RequestedScopes(formats=("png",)))
    assert narrowed == PARENT.model_copy(update={"formats": ("png",)})


def test_everything_narrows_to_anything() -> None:
    requested = RequestedScopes(templates=("x*",), formats=("pdf",), max_pixels=10**12)
    narrowed = Scopes.everything().narrow(requested)
    assert narrowed.templates == ("x*",)
    assert narrowed.formats == ("pdf",)
    assert narrowed.operations == OPERATIONS
    assert narrowed.max_pixels == 10**12


@pytest.mark.parametrize(
    ("requested", "part", "message"),
    [
        (
            {"templates": ("og-card", "product")},
            "templates",
            "templates: 'product' is not within this credential's templates: og-*, quote",
        ),
        (
            {"formats": ("png", "avif")},
            "formats",
            "formats: 'avif' is not among this credential's formats: png, webp",
        ),
        (
            {"operations": ("render", "tokens")},
            "operations",
            "operations: 'tokens' is not among this credential's operations: render, batch",
        ),
        (
            {"max_pixels": 1_000_001},
            "max_pixels",
            "max_pixels: 1000001 is over this credential's limit of 1000000",
        ),
    ],
)
def test_each_wider_part_is_refused_by_name(
    requested: dict[str, Any], part: str, message: str
) -> None:
    exc = widening(PARENT, **requested)
    assert exc.part == part
    assert str(exc) == message
    assert isinstance(exc, ScopeError)


def test_max_pixels_without_a_parent_limit() -> None:
    assert Scopes().narrow(RequestedScopes(max_pixels=7)).max_pixels == 7
    assert Scopes().narrow(RequestedScopes()).max_pixels is None


def test_narrowing_chains() -> None:
    child = PARENT.narrow(RequestedScopes(templates=("og-*",)))
    grandchild = child.narrow(RequestedScopes(templates=("og-card",)))
    assert grandchild.templates == ("og-card",)
    assert widening(grandchild, templates=("og-*",)).part == "templates"


@pytest.mark.parametrize(
    ("parent", "child", "within"),
    [
        ("*", "product", True),
        ("*", "*", True),
        ("*", "og-*", True),
        ("*", "*a*b*", True),
        ("og-*", "og-card", True),
        ("og-*", "og-*", True),
        ("og-*", "og-*-x", True),
        ("og-*", "og-", True),
        ("og-*", "*", False),
        ("og-*", "o*", False),
        ("og-*", "product", False),
        ("og-*", "og", False),
        ("a*", "a*b", True),
        ("a*", "ab", True),
        ("a*b", "a*", False),
        ("a*b", "a*b", True),
        ("a*b", "ab", True),
        ("a*b", "a*xb", True),
        ("a*b", "a*b*", False),
        ("*b", "a*", False),
        ("quote", "quote", True),
        ("quote", "quote*", False),
    ],
)
def test_glob_containment(parent: str, child: str, within: bool) -> None:
    scopes = Scopes(templates=(parent,))
    requested = RequestedScopes(templates=(child,))
    if within:
        assert scopes.narrow(requested).templates == (child,)
    else:
        assert widening(scopes, templates=(child,)).part == "templates"


def test_child_within_any_of_several_parents() -> None:
    scopes = Scopes(templates=("og-*", "quote"))
    assert scopes.narrow(RequestedScopes(templates=("quote", "og-x*"))).templates == (
        "quote",
        "og-x*",
    )


GLOBS = st.text(alphabet="ab*", min_size=1, max_size=6)
IDS = st.text(alphabet="ab", min_size=1, max_size=8)


@PROPERTY
@given(child=GLOBS, parents=st.lists(GLOBS, min_size=1, max_size=3), ids=st.lists(IDS))
def test_narrow_is_sound_for_random_ids(child: str, parents: list[str], ids: list[str]) -> None:
    """If narrow accepts child under parents, every id matching child matches a parent."""
    try:
        Scopes(templates=tuple(parents)).narrow(RequestedScopes(templates=(child,)))
    except WideningError:
        return
    for template_id in ids:
        if fnmatchcase(template_id, child):
            assert any(fnmatchcase(template_id, p) for p in parents)


@PROPERTY
@given(child=GLOBS, parents=st.lists(GLOBS, min_size=1, max_size=3), data=st.data())
def test_narrow_is_sound_for_ids_made_from_the_child(
    child: str, parents: list[str], data: st.DataObject
) -> None:
    """Same property, with ids built by filling the child's '*'s (so they always match it)."""
    try:
        Scopes(templates=tuple(parents)).narrow(RequestedScopes(templates=(child,)))
    except WideningError:
        return
    runs = iter(data.draw(st.lists(IDS | st.just(""), min_size=child.count("*"))))
    template_id = "".join(next(runs) if c == "*" else c for c in child)
    assert fnmatchcase(template_id, child)
    assert any(fnmatchcase(template_id, p) for p in parents)


# --------------------------------------------------------------------------- --scopes


def test_parse_full_option() -> None:
    text = "render,usage:read,templates=og-*|quote,formats=png|webp,max_pixels=2000000"
    assert parse_scopes_option(text) == Scopes(
        templates=("og-*", "quote"),
        formats=("png", "webp"),
        operations=("render", "usage:read"),
        max_pixels=2_000_000,
    )


def test_parse_missing_parts_allow_everything() -> None:
    assert parse_scopes_option("templates=og-*") == Scopes(templates=("og-*",))
    assert parse_scopes_option("render") == Scopes(operations=("render",))
    assert parse_scopes_option("tokens,templates:write").operations == (
        "templates:write",
        "tokens",
    )


def test_parse_ignores_whitespace() -> None:
    assert parse_scopes_option(" render , formats = png | webp ") == Scopes(
        operations=("render",), formats=("png", "webp")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty item"),
        ("render,,batch", "empty item"),
        ("render,", "empty item"),
        ("rendr", "unknown operation 'rendr'"),
        ("colour=red", "unknown scope part 'colour'"),
        ("formats=png,formats=webp", "formats= is given twice"),
        ("formats=gif", "unknown format 'gif'"),
        ("formats=", "empty value"),
        ("templates=a||b", "empty value"),
        ("templates=og-?", "template glob 'og-\\?'"),
        ("max_pixels=lots", "max_pixels must be a positive whole number"),
        ("max_pixels=-5", "max_pixels must be a positive whole number"),
        ("max_pixels=0", "max_pixels: Input should be greater than 0"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_scopes_option(text)
    assert not isinstance(info.value, ValidationError)  # a clean message, not pydantic's

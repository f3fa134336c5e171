"""Tests for pixeldrive.http.negotiate (Accept header parsing and content negotiation)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixeldrive.http.negotiate import (
    MAX_HEADER_LENGTH,
    MAX_RANGES,
    MediaRange,
    negotiate,
    negotiate_image,
    parse_accept,
    quality,
)

PNG, JPEG, WEBP, AVIF = "image/png", "image/jpeg", "image/webp", "image/avif"
OFFERS = [PNG, JPEG, WEBP, AVIF]
PREFERENCE = [AVIF, WEBP, PNG, JPEG]
PNG_FIRST = [PNG, JPEG, WEBP, AVIF]
ANY = MediaRange("*", "*", (), 1.0)

CHROMIUM = "image/jxl,image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
FIREFOX = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
SAFARI = (
    "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,"
    "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
)

# No example database: keep the test run from writing a .hypothesis/ directory.
PROPERTY = settings(database=None, deadline=None, max_examples=300)


# --------------------------------------------------------------------------- browsers


def test_chromium_img_header_prefers_avif() -> None:
    assert negotiate(CHROMIUM, OFFERS, PREFERENCE) == AVIF


def test_chromium_img_header_ties_broken_by_preference() -> None:
    # Every offer gets q=1 (explicitly or via image/*), so the preference decides.
    ranges = parse_accept(CHROMIUM)
    assert [quality(ranges, offer) for offer in OFFERS] == [1.0, 1.0, 1.0, 1.0]
    assert negotiate(CHROMIUM, OFFERS, PNG_FIRST) == PNG
    assert negotiate(CHROMIUM, OFFERS, [JPEG, PNG]) == JPEG


def test_chromium_img_header_without_preference_uses_offer_order() -> None:
    assert negotiate(CHROMIUM, OFFERS) == PNG
    assert negotiate(CHROMIUM, [WEBP, PNG]) == WEBP


def test_firefox_img_header() -> None:
    ranges = parse_accept(FIREFOX)
    assert quality(ranges, AVIF) == 1.0
    assert quality(ranges, PNG) == 1.0
    assert quality(ranges, JPEG) == 0.8
    assert quality(ranges, "text/html") == 0.5
    assert negotiate(FIREFOX, OFFERS, PREFERENCE) == AVIF
    assert negotiate(FIREFOX, OFFERS, PNG_FIRST) == PNG
    # JPEG (q=0.8) only wins when nothing better is offered.
    assert negotiate(FIREFOX, [JPEG, "image/gif"], PREFERENCE) == JPEG


def test_safari_img_header_tie_broken_by_preference() -> None:
    ranges = parse_accept(SAFARI)
    assert [quality(ranges, offer) for offer in OFFERS] == [1.0, 0.8, 1.0, 1.0]
    assert quality(ranges, "video/mp4") == 0.8
    assert negotiate(SAFARI, OFFERS, PREFERENCE) == AVIF
    assert negotiate(SAFARI, OFFERS, [WEBP, AVIF]) == WEBP
    assert negotiate(SAFARI, OFFERS, [JPEG, PNG]) == PNG  # JPEG is only q=0.8


# --------------------------------------------------------------------------- negotiate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, AVIF),
        ("", AVIF),
        ("   \t ", AVIF),
        ("*/*", AVIF),
        ("image/*", AVIF),
        ("image/png", PNG),
        ("IMAGE/PNG", PNG),
        ("Image/Png;Q=0.5", PNG),
        ("image/jpeg;q=0.9, image/png;q=0.5", JPEG),
        ("image/png;q=0.5, image/jpeg;q=0.9", JPEG),
        ("text/html", None),
        ("text/html,application/xhtml+xml,application/xml;q=0.9", None),
        ("image/*;q=0.5, image/png;q=0", AVIF),
        ("image/png;q=0, image/*;q=0.5", AVIF),
        ("image/png;q=0, image/*;q=0.5, image/avif;q=0.1", WEBP),
        ("*/*;q=0.1, image/webp;q=0.2", WEBP),
        ("image/png; q=0.7 , image/webp ;q=0.71", WEBP),
        ("\timage/png\t;\tq=0.7\t,\timage/webp\t;\tq=0.71\t", WEBP),
        ('image/png;foo="a,b;c";q=0.9, image/webp;q=0.8', PNG),
        ("image/jpeg;q=0.9, image/avif;q=0.8", JPEG),  # q beats preference
        ("image/png;q=0.001", PNG),
        ("image/png;q=0.000", None),
        ("image/png;q=0", None),
        ("*/*;q=0", None),
        ("image/*;q=0, */*", None),  # image/* is more specific than */* for every offer
        (";;;,,", AVIF),  # garbage only: treated as an absent header
        ("garbage", AVIF),
        ("image/png;q=1.5, image/webp;q=0.5", WEBP),
        ("image/png;q=abc, image/webp;q=0.5", WEBP),
        ("image/png;q=1.5", AVIF),  # the only entry is invalid, so it is like */*
        ("*/png", AVIF),
        ("*/png, image/webp;q=0.1", WEBP),
    ],
)
def test_negotiate(header: str | None, expected: str | None) -> None:
    assert negotiate(header, OFFERS, PREFERENCE) == expected


def test_negotiate_no_offers() -> None:
    assert negotiate("*/*", []) is None
    assert negotiate(None, [], PREFERENCE) is None


def test_negotiate_offers_missing_from_preference_rank_after_in_offer_order() -> None:
    offers = [JPEG, PNG, WEBP]
    assert negotiate("*/*", offers, [WEBP]) == WEBP
    assert negotiate("*/*", offers, []) == JPEG
    assert negotiate("*/*", offers, ["image/gif"]) == JPEG
    assert negotiate("*/*", offers, [AVIF, PNG]) == PNG


def test_negotiate_duplicate_preference_entries() -> None:
    # The earliest position counts, and unlisted offers still rank after every listed one.
    assert negotiate("*/*", [JPEG, PNG], [AVIF, AVIF, PNG]) == PNG
    assert negotiate("*/*", [JPEG, PNG], [PNG, JPEG, PNG]) == PNG


def test_negotiate_is_case_insensitive_and_returns_the_offer_as_given() -> None:
    assert negotiate("image/png", ["Image/PNG", JPEG]) == "Image/PNG"
    assert negotiate("*/*", [JPEG, "Image/PNG"], ["IMAGE/png"]) == "Image/PNG"


def test_negotiate_rejects_non_concrete_offers() -> None:
    with pytest.raises(ValueError, match="concrete"):
        negotiate("*/*", ["image/*"])


# --------------------------------------------------------------------------- quality


def test_quality_most_specific_range_wins_regardless_of_order() -> None:
    header = "*/*;q=0.1, image/*;q=0.5, image/png;q=0.9"
    for ranges in (parse_accept(header), list(reversed(parse_accept(header)))):
        assert quality(ranges, PNG) == 0.9
        assert quality(ranges, JPEG) == 0.5
        assert quality(ranges, "text/html") == 0.1


def test_quality_specific_zero_overrides_wildcard() -> None:
    ranges = parse_accept("image/*, image/png;q=0, */*")
    assert quality(ranges, PNG) == 0.0
    assert quality(ranges, JPEG) == 1.0


def test_quality_unmatched_is_zero() -> None:
    assert quality(parse_accept("text/*"), PNG) == 0.0
    assert quality([], PNG) == 0.0


def test_quality_parameters_do_not_prevent_a_match() -> None:
    assert quality(parse_accept("image/png;level=1;q=0.2"), PNG) == 0.2


def test_quality_parameterless_range_beats_one_with_parameters() -> None:
    assert quality(parse_accept("image/png;level=1;q=0.2, image/png;q=0.9"), PNG) == 0.9
    assert quality(parse_accept("image/png;q=0.9, image/png;level=1;q=0.2"), PNG) == 0.9
    assert quality(parse_accept("image/png;level=1;q=0.9, image/png;q=0.2"), PNG) == 0.2


def test_quality_duplicate_ranges_take_the_highest_q() -> None:
    assert quality(parse_accept("image/png;q=0.3, image/png;q=0.6"), PNG) == 0.6
    assert quality(parse_accept("image/png;q=0.6, image/png;q=0.3"), PNG) == 0.6


def test_quality_offer_is_case_insensitive() -> None:
    assert quality(parse_accept("image/png;q=0.4"), " IMAGE/Png ") == 0.4


@pytest.mark.parametrize("offer", ["image/*", "*/*", "*/png", "png", "", "image/png;q=1", "a/b/c"])
def test_quality_rejects_non_concrete_offers(offer: str) -> None:
    with pytest.raises(ValueError, match="concrete"):
        quality([ANY], offer)


# --------------------------------------------------------------------------- parse_accept


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, [ANY]),
        ("", [ANY]),
        (" \t ", [ANY]),
        (";;;,,", [ANY]),
        ("*/png", [ANY]),
        ("*/*", [ANY]),
        ("IMAGE/PNG", [MediaRange("image", "png", (), 1.0)]),
        (
            "image/webp,image/*;q=0.8,*/*;q=0.5",
            [
                MediaRange("image", "webp", (), 1.0),
                MediaRange("image", "*", (), 0.8),
                MediaRange("*", "*", (), 0.5),
            ],
        ),
        (
            'image/png;foo="a,b;c";q=0.9, image/webp;q=0.8',
            [
                MediaRange("image", "png", (("foo", "a,b;c"),), 0.9),
                MediaRange("image", "webp", (), 0.8),
            ],
        ),
        (
            r'image/png;foo="a\"b\\c,d";q=0.5',
            [MediaRange("image", "png", (("foo", 'a"b\\c,d'),), 0.5)],
        ),
        (
            'image/png;foo="";q=0.5',
            [MediaRange("image", "png", (("foo", ""),), 0.5)],
        ),
        (
            "image/svg+xml;B=2;Charset=UTF-8;a=1",
            [MediaRange("image", "svg+xml", (("a", "1"), ("b", "2"), ("charset", "UTF-8")), 1.0)],
        ),
        (
            "text/html;level=1;q=0.5;ext=1;bad",  # parameters after q are ignored
            [MediaRange("text", "html", (("level", "1"),), 0.5)],
        ),
        ("image/png;q=0.5;q=0.9", [MediaRange("image", "png", (), 0.5)]),
        ("image/png;;q=0.5;", [MediaRange("image", "png", (), 0.5)]),
        ("image/png ; q = 0.5", [MediaRange("image", "png", (), 0.5)]),
        ("image/png;Q=0.25", [MediaRange("image", "png", (), 0.25)]),
        (
            "  image/png  ,  ,  image/jpeg  ",
            [MediaRange("image", "png", (), 1.0), MediaRange("image", "jpeg", (), 1.0)],
        ),
    ],
)
def test_parse_accept(header: str | None, expected: list[MediaRange]) -> None:
    assert parse_accept(header) == expected


@pytest.mark.parametrize(
    ("q_text", "expected"),
    [
        ("1", 1.0),
        ("1.0", 1.0),
        ("1.000", 1.0),
        ("1.", 1.0),
        ("0", 0.0),
        ("0.8", 0.8),
        ("0.123", 0.123),
        (".5", 0.5),
        ('"0.5"', 0.5),
    ],
)
def test_parse_accept_lenient_q_values(q_text: str, expected: float) -> None:
    assert parse_accept(f"image/png;q={q_text}") == [MediaRange("image", "png", (), expected)]


@pytest.mark.parametrize(
    "q_text",
    ["1.5", "1.001", "2", "-0.5", "abc", "", "nan", "inf", "1e0", "0x1", "0.5.5", "\uff10.5", "."],
)
def test_parse_accept_skips_bad_q_values(q_text: str) -> None:
    assert parse_accept(f"image/png;q={q_text}, image/webp") == [
        MediaRange("image", "webp", (), 1.0)
    ]


@pytest.mark.parametrize(
    "entry",
    [
        "imagepng",
        "*/png",
        "/png",
        "image/",
        "image/png/x",
        "image /png",
        "image/ png",
        "image/p ng",
        "im(age/png",
        "image/p\u00f1g",
        "image/png;foo",
        "image/png;=1",
        "image/png;foo=",
        "image/png;foo=a b",
        'image/png;foo="a"b',
        "image/png;f o=1",
    ],
)
def test_parse_accept_skips_unparseable_entries(entry: str) -> None:
    assert parse_accept(f"{entry}, image/webp") == [MediaRange("image", "webp", (), 1.0)]


def test_parse_accept_unterminated_quote_swallows_the_rest() -> None:
    assert parse_accept('image/webp, image/png;foo="abc, image/jpeg') == [
        MediaRange("image", "webp", (), 1.0)
    ]
    assert parse_accept('image/png;foo="abc, image/jpeg') == [ANY]


def test_parse_accept_result_is_frozen() -> None:
    media_range = parse_accept("image/png")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        media_range.q = 0.5  # type: ignore[misc]


# --------------------------------------------------------------------------- limits


def test_at_most_max_ranges_entries_are_considered() -> None:
    assert MAX_RANGES == 64
    within = ",".join(["text/plain"] * (MAX_RANGES - 1) + [PNG])
    beyond = ",".join(["text/plain"] * MAX_RANGES + [PNG])
    assert negotiate(within, OFFERS) == PNG
    assert negotiate(beyond, OFFERS) is None
    assert len(parse_accept(beyond)) == MAX_RANGES


def test_blank_entries_do_not_count_towards_the_limit() -> None:
    assert negotiate(", " * 500 + PNG, OFFERS) == PNG


def test_invalid_entries_count_towards_the_limit() -> None:
    png = MediaRange("image", "png", (), 1.0)
    assert parse_accept(",".join(["junk"] * (MAX_RANGES - 1) + [PNG])) == [png]
    assert parse_accept(",".join(["junk"] * MAX_RANGES + [PNG])) == [ANY]


def test_header_of_exactly_max_length_is_read_whole() -> None:
    header = " " * (MAX_HEADER_LENGTH - len(PNG)) + PNG
    assert len(header) == MAX_HEADER_LENGTH
    assert negotiate(header, OFFERS) == PNG


def test_characters_beyond_max_length_are_ignored() -> None:
    header = "text/plain," + " " * MAX_HEADER_LENGTH + "," + PNG
    assert negotiate(header, OFFERS) is None


def test_entry_cut_by_the_length_limit_is_dropped() -> None:
    prefix = "text/plain," + " " * (MAX_HEADER_LENGTH - len("text/plain,") - len(PNG))
    header = prefix + PNG + "-extended"
    assert header[:MAX_HEADER_LENGTH].endswith(PNG)
    assert parse_accept(header) == [MediaRange("text", "plain", (), 1.0)]
    assert negotiate(header, OFFERS) is None


def test_huge_header_is_bounded() -> None:
    ranges = parse_accept("image/png;q=0.5," * 200_000)
    assert ranges == [MediaRange("image", "png", (), 0.5)] * MAX_RANGES


# --------------------------------------------------------------------------- properties

TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALL_OFFERS = [*OFFERS, "image/gif", "text/html", "video/mp4"]


def _check_invariants(ranges: list[MediaRange]) -> None:
    assert 1 <= len(ranges) <= MAX_RANGES
    for media_range in ranges:
        assert 0.0 <= media_range.q <= 1.0
        assert media_range.type == media_range.type.lower()
        assert media_range.subtype == media_range.subtype.lower()
        assert media_range.type != "*" or media_range.subtype == "*"
        assert list(media_range.params) == sorted(media_range.params)
        assert all(name == name.lower() and name != "q" for name, _ in media_range.params)


@PROPERTY
@given(header=st.text(), preference=st.lists(st.sampled_from(ALL_OFFERS)))
def test_arbitrary_text_never_raises(header: str, preference: list[str]) -> None:
    _check_invariants(parse_accept(header))
    assert negotiate(header, ALL_OFFERS, preference) in [*ALL_OFFERS, None]


@PROPERTY
@given(header=st.text(alphabet='image/png*;q=0.5,"\\ \t=xX1'))
def test_structured_noise_never_raises(header: str) -> None:
    _check_invariants(parse_accept(header))
    assert negotiate(header, ALL_OFFERS, PREFERENCE) in [*ALL_OFFERS, None]


def _random_case(draw: st.DrawFn, text: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in text)


@st.composite
def _param(draw: st.DrawFn) -> tuple[str, tuple[str, str]]:
    """A media-type parameter: (header text, expected (name, value))."""
    name = draw(st.sampled_from(["level", "charset", "foo", "profile", "a"]))
    if draw(st.booleans()):
        value = draw(st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=8))
        value_text = value
    else:
        value = draw(st.text(max_size=8))
        escaped = [f"\\{c}" if c in '"\\' or draw(st.booleans()) else c for c in value]
        value_text = '"' + "".join(escaped) + '"'
    return f"{_random_case(draw, name)}={value_text}", (name, value)


@st.composite
def _media_range(draw: st.DrawFn) -> tuple[str, MediaRange]:
    """A well-formed Accept entry: (header text, expected MediaRange)."""
    type_ = draw(st.sampled_from(["image", "text", "video", "*"]))
    subtypes = ["*"] if type_ == "*" else ["png", "jpeg", "webp", "avif", "gif", "html", "*"]
    subtype = draw(st.sampled_from(subtypes))
    params = draw(st.lists(_param(), max_size=3))
    ows = st.sampled_from(["", " ", "\t", " \t "])
    text = f"{_random_case(draw, type_)}/{_random_case(draw, subtype)}"
    for param_text, _ in params:
        text += f"{draw(ows)};{draw(ows)}{param_text}"
    q = 1.0
    if draw(st.booleans()):
        thousandths = draw(st.integers(0, 1000))
        q = thousandths / 1000
        q_text = f"{thousandths // 1000}.{thousandths % 1000:03d}"
        if draw(st.booleans()):
            q_text = q_text.rstrip("0").rstrip(".") or "0"
        text += f"{draw(ows)};{draw(ows)}q={q_text}"
    expected = MediaRange(type_, subtype, tuple(sorted(p for _, p in params)), q)
    return draw(ows) + text + draw(ows), expected


@st.composite
def _header(draw: st.DrawFn) -> tuple[str, list[MediaRange]]:
    """A well-formed Accept header: (header text, expected parse)."""
    entries = draw(st.lists(_media_range(), min_size=1, max_size=10))
    separator = draw(st.sampled_from([",", ", ", " , ", ",,", ", ,\t"]))
    return separator.join(text for text, _ in entries), [expected for _, expected in entries]


def _oracle_quality(ranges: list[MediaRange], offer: str) -> float:
    """Reference implementation of quality(), written independently of the module."""
    type_, subtype = offer.split("/")
    exact = [r for r in ranges if (r.type, r.subtype) == (type_, subtype)]
    partial = [r for r in ranges if (r.type, r.subtype) == (type_, "*")]
    anything = [r for r in ranges if (r.type, r.subtype) == ("*", "*")]
    for candidates in (exact, partial, anything):
        if candidates:
            fewest = min(len(r.params) for r in candidates)
            return max(r.q for r in candidates if len(r.params) == fewest)
    return 0.0


@PROPERTY
@given(header=_header(), preference=st.permutations(ALL_OFFERS))
def test_well_formed_headers_round_trip_and_negotiate_maximal_quality(
    header: tuple[str, list[MediaRange]], preference: list[str]
) -> None:
    text, expected = header
    ranges = parse_accept(text)
    assert ranges == expected
    qualities = {offer: _oracle_quality(expected, offer) for offer in ALL_OFFERS}
    assert qualities == {offer: quality(ranges, offer) for offer in ALL_OFFERS}
    best = max(qualities.values())
    result = negotiate(text, ALL_OFFERS, preference)
    if best == 0.0:
        assert result is None
    else:
        winners = [offer for offer in ALL_OFFERS if qualities[offer] == best]
        assert result == min(winners, key=preference.index)


@PROPERTY
@given(
    header=_header(),
    garbage=st.lists(st.sampled_from(["*/png", "junk", "a/b;c", "x/y;q=2"]), max_size=20),
)
def test_garbage_entries_are_skipped(
    header: tuple[str, list[MediaRange]], garbage: list[str]
) -> None:
    text, expected = header
    assert parse_accept(",".join([*garbage, text, *garbage])) == expected


# --------------------------------------------------------------------------- negotiate_image
# What an extension-less image URL answers: a format the client names competes by its q; a
# wildcard or no header stands for the universal fallback only (crawlers and tools that send
# */* cannot all decode AVIF or WebP).

UNIVERSAL = [PNG, JPEG, WEBP, AVIF]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, PNG),
        ("", PNG),
        ("*/*", PNG),
        ("image/*", PNG),
        ("garbage", PNG),  # as absent
        (CHROMIUM, AVIF),
        (FIREFOX, AVIF),
        (SAFARI, AVIF),
        ("image/avif,image/webp,*/*", AVIF),  # Firefox 92-127
        ("image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5", WEBP),
        ("image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5", PNG),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", PNG),
        ("image/webp", WEBP),
        ("image/webp;q=0.5, */*", PNG),  # the wildcard's PNG at 1 beats WebP at 0.5
        ("image/webp, */*;q=0.1", WEBP),
        ("image/avif;q=0, image/webp, */*", WEBP),
        ("image/avif;q=0.5, image/webp;q=0.9", WEBP),
        ("image/jpeg;q=0.9, image/png;q=0.5", JPEG),
        ("image/png;q=0, */*", JPEG),  # PNG refused: the wildcard stands for the next
        ("image/png;q=0, image/jpeg;q=0, image/*", WEBP),
        ("image/png;q=0, image/*;q=0", None),
        ("*/*;q=0", None),
        ("image/*;q=0, */*", None),
        ("text/html", None),
        ("image/avif;q=0", None),  # only a refusal: nothing else is asked for
    ],
)
def test_negotiate_image(header: str | None, expected: str | None) -> None:
    assert negotiate_image(header, OFFERS, universal=UNIVERSAL, preference=PREFERENCE) == expected


def test_negotiate_image_within_the_offers_a_credential_allows() -> None:
    png_webp = [WEBP, PNG]
    assert negotiate_image(CHROMIUM, png_webp, universal=UNIVERSAL, preference=PREFERENCE) == WEBP
    assert negotiate_image("*/*", png_webp, universal=UNIVERSAL, preference=PREFERENCE) == PNG
    avif_webp = [AVIF, WEBP]
    # The fallback is not offered: a wildcard stands for the most widely decoded one that is.
    assert negotiate_image("*/*", avif_webp, universal=UNIVERSAL) == WEBP
    assert negotiate_image(None, [AVIF], universal=UNIVERSAL) == AVIF
    assert negotiate_image("image/avif", [PNG], universal=UNIVERSAL) is None
    assert negotiate_image("*/*", [], universal=UNIVERSAL) is None


def test_negotiate_image_with_another_fallback() -> None:
    jpeg_first = [JPEG, PNG, WEBP, AVIF]
    assert negotiate_image("*/*", OFFERS, universal=jpeg_first) == JPEG
    assert negotiate_image(CHROMIUM, OFFERS, universal=jpeg_first, preference=PREFERENCE) == AVIF


def test_negotiate_image_others_compete_with_wildcards_and_win_ties() -> None:
    json = "application/json"

    def answer(header: str | None) -> str | None:
        order = [json, *PREFERENCE]
        return negotiate_image(header, OFFERS, universal=UNIVERSAL, preference=order, others=[json])

    assert answer(None) == json
    assert answer("*/*") == json
    assert answer("image/*") == PNG
    assert answer("image/webp") == WEBP
    assert answer("application/json;q=0.5, image/*") == PNG
    assert answer("text/html") is None


@PROPERTY
@given(header=st.text(max_size=200) | _header().map(lambda h: h[0]))
def test_negotiate_image_never_answers_a_wildcard_with_an_unnamed_modern_format(
    header: str,
) -> None:
    chosen = negotiate_image(header, OFFERS, universal=UNIVERSAL, preference=PREFERENCE)
    named = {(r.type, r.subtype) for r in parse_accept(header)}
    if chosen in (AVIF, WEBP):
        # Either named, or every more widely decoded format was named (refused or weighed).
        wider = UNIVERSAL[: UNIVERSAL.index(chosen)]
        assert tuple(chosen.split("/")) in named or all(tuple(w.split("/")) in named for w in wider)

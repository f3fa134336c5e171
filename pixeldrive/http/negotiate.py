"""HTTP ``Accept`` header parsing and content negotiation (RFC 9110 §12.5.1)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_HEADER_LENGTH",
    "MAX_RANGES",
    "MediaRange",
    "negotiate",
    "negotiate_image",
    "parse_accept",
    "quality",
]

MAX_HEADER_LENGTH = 4096
"""Only this many leading characters of an ``Accept`` header are ever looked at."""

MAX_RANGES = 64
"""Only this many non-blank comma-separated entries of an ``Accept`` header are parsed."""

_TCHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE = re.compile(_TCHARS)
_MEDIA_RE = re.compile(rf"({_TCHARS})/({_TCHARS})")
_QUOTED_RE = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.DOTALL)
_QVALUE_RE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")

_EXACT, _TYPE_WILDCARD, _FULL_WILDCARD = 2, 1, 0
_ANY_LEVEL = frozenset({_EXACT, _TYPE_WILDCARD, _FULL_WILDCARD})
_NAMED = frozenset({_EXACT})
_WILDCARDS = frozenset({_TYPE_WILDCARD, _FULL_WILDCARD})


@dataclass(frozen=True, slots=True)
class MediaRange:
    """One parsed entry of an ``Accept`` header."""

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float = 1.0


_ANY = MediaRange("*", "*", (), 1.0)


def _split_unquoted(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` wherever it is not inside a quoted-string."""
    parts: list[str] = []
    start = 0
    in_quotes = False
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif in_quotes:
            if char == "\\":
                escaped = True
            elif char == '"':
                in_quotes = False
        elif char == '"':
            in_quotes = True
        elif char == sep:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _parse_param(raw: str) -> tuple[str, str] | None:
    """Parse ``name=value`` (value a token or quoted-string); None when malformed."""
    name, sep, value = raw.partition("=")
    name, value = name.strip(), value.strip()
    if not sep or _TOKEN_RE.fullmatch(name) is None:
        return None
    if value.startswith('"'):
        quoted = _QUOTED_RE.fullmatch(value)
        if quoted is None:
            return None
        return name.lower(), _QUOTED_PAIR_RE.sub(r"\1", quoted.group(1))
    if _TOKEN_RE.fullmatch(value) is None:
        return None
    return name.lower(), value


def _parse_q(value: str) -> float | None:
    """Parse a weight leniently (``1``, ``0.8``, ``.5``, ``1.``); None unless within 0..1."""
    if _QVALUE_RE.fullmatch(value) is None:
        return None
    q = float(value)
    return q if 0.0 <= q <= 1.0 else None


def _parse_range(entry: str) -> MediaRange | None:
    """Parse one ``Accept`` entry; None when it does not parse."""
    media, *raw_params = _split_unquoted(entry, ";")
    match = _MEDIA_RE.fullmatch(media.strip())
    if match is None:
        return None
    type_, subtype = match.group(1).lower(), match.group(2).lower()
    if type_ == "*" and subtype != "*":
        return None
    params: list[tuple[str, str]] = []
    q = 1.0
    for raw in raw_params:
        if not raw.strip():
            continue
        param = _parse_param(raw)
        if param is None:
            return None
        if param[0] == "q":
            parsed_q = _parse_q(param[1])
            if parsed_q is None:
                return None
            q = parsed_q
            break  # anything after the weight is a legacy accept-ext: ignored
        params.append(param)
    return MediaRange(type_, subtype, tuple(sorted(params)), q)


def _entries(header: str) -> list[str]:
    """The bounded list of non-blank comma-separated entries of ``header``."""
    truncated = len(header) > MAX_HEADER_LENGTH
    entries = _split_unquoted(header[:MAX_HEADER_LENGTH], ",")
    if truncated:
        entries.pop()  # the last entry may have been cut in half
    return [entry for entry in entries if entry.strip()][:MAX_RANGES]


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an ``Accept`` header into media ranges, in header order.

    ``None`` or a blank header yields ``[*/*;q=1]``. Parsing is lenient and never
    raises: entries that do not parse (no slash, a bad token, ``*/png``, a malformed
    parameter, a q that is not a number or lies outside 0..1) are skipped. A non-blank
    header that yields no valid range at all is treated as absent, i.e. ``[*/*;q=1]``,
    since a client sending only garbage has expressed no usable preference (use
    ``*/*;q=0`` to refuse everything). Parameter names are lower-cased, quoted-string
    values are unescaped, and parameters after ``q`` (legacy accept-ext) are ignored.
    To bound CPU, only the first ``MAX_HEADER_LENGTH`` characters are read (dropping
    the possibly truncated last entry) and only the first ``MAX_RANGES`` non-blank
    entries are parsed.
    """
    if header is None or not header.strip():
        return [_ANY]
    ranges = [r for r in map(_parse_range, _entries(header)) if r is not None]
    return ranges or [_ANY]


def _parse_offer(offer: str) -> tuple[str, str]:
    """Split a concrete ``type/subtype`` offer, lower-cased; ValueError otherwise."""
    match = _MEDIA_RE.fullmatch(offer.strip())
    if match is None or "*" in (match.group(1), match.group(2)):
        raise ValueError(f"offer must be a concrete 'type/subtype', got {offer!r}")
    return match.group(1).lower(), match.group(2).lower()


def _specificity(media_range: MediaRange, type_: str, subtype: str) -> int | None:
    """How specifically ``media_range`` matches ``type_/subtype``; None if it does not."""
    if media_range.type == "*":
        return _FULL_WILDCARD
    if media_range.type != type_:
        return None
    if media_range.subtype == "*":
        return _TYPE_WILDCARD
    return _EXACT if media_range.subtype == subtype else None


def quality(ranges: Sequence[MediaRange], offer: str) -> float:
    """The q that ``ranges`` give to ``offer`` (a bare ``type/subtype``); 0.0 if unmatched.

    The most specific matching range decides: ``type/subtype`` beats ``type/*`` beats
    ``*/*``. Media-type parameters do not prevent a match (offers are parameter-less),
    but among equally specific ranges a parameter-less one wins, then the highest q.
    Raises ValueError when ``offer`` is not a concrete ``type/subtype``.
    """
    q = _matched_q(ranges, offer, _ANY_LEVEL)
    return 0.0 if q is None else q


def _matched_q(ranges: Sequence[MediaRange], offer: str, levels: frozenset[int]) -> float | None:
    """The q of the most specific range at one of `levels` that matches `offer` (ties:
    parameter-less, then highest q); None when no such range matches."""
    type_, subtype = _parse_offer(offer)
    best: tuple[int, int, float] | None = None
    for media_range in ranges:
        level = _specificity(media_range, type_, subtype)
        if level is None or level not in levels:
            continue
        key = (level, -len(media_range.params), media_range.q)
        if best is None or key > best:
            best = key
    return None if best is None else best[2]


def negotiate(
    header: str | None, offers: Sequence[str], preference: Sequence[str] | None = None
) -> str | None:
    """The best offer acceptable under the ``Accept`` ``header``, or None if none is.

    The winner has the highest q (which must be > 0). Ties go to the offer listed
    earliest in ``preference`` (offers missing from it rank after those in it), then to
    the earliest in ``offers``. Media types are compared case-insensitively; the offer
    is returned as given. Raises ValueError for an offer that is not ``type/subtype``.
    """
    ranges = parse_accept(header)
    return _best({offer: quality(ranges, offer) for offer in offers}, offers, preference)


def negotiate_image(
    header: str | None,
    images: Sequence[str],
    *,
    universal: Sequence[str],
    preference: Sequence[str] | None = None,
    others: Sequence[str] = (),
) -> str | None:
    """The best of `images` for a client that may decode only some of them, or None.

    An image type the header names exactly competes with its own q. A wildcard
    (``image/*``, ``*/*``) or a missing header does not stand for every image type: a
    crawler that sends ``*/*`` may not decode AVIF or WebP. It stands for one only, the
    first of `universal` that is among `images` and that the header does not name (a
    named type competes with its own q, and ``q=0`` refuses it). `others` (JSON, say)
    are matched as `negotiate` matches, wildcards included. Ties go as in `negotiate`,
    `others` first among equals unless `preference` says otherwise.
    """
    ranges = parse_accept(header)
    scores = {other: quality(ranges, other) for other in others}
    named = {image: _matched_q(ranges, image, _NAMED) for image in images}
    scores |= {image: q for image, q in named.items() if q is not None}
    stand_in = _stand_in(images, universal, named)
    if stand_in is not None:
        scores[stand_in] = _matched_q(ranges, stand_in, _WILDCARDS) or 0.0
    return _best(scores, [*others, *images], preference)


def _stand_in(
    images: Sequence[str], universal: Sequence[str], named: dict[str, float | None]
) -> str | None:
    """The image a wildcard stands for: the first of `universal` offered and not named."""
    offered = {image.strip().lower(): image for image in images}
    for wanted in universal:
        image = offered.get(wanted.strip().lower())
        if image is not None and named[image] is None:
            return image
    return None


def _best(
    scores: dict[str, float], offers: Sequence[str], preference: Sequence[str] | None
) -> str | None:
    """The offer with the highest score above 0; ties to the earliest in `preference`
    (case-insensitive; offers missing from it rank after), then in `offers`."""
    order = tuple(preference or ())
    ranks = {p.strip().lower(): i for i, p in reversed(list(enumerate(order)))}
    best: tuple[float, int, int] | None = None
    winner: str | None = None
    for index, offer in enumerate(offers):
        q = scores.get(offer, 0.0)
        if q <= 0.0:
            continue
        key = (-q, ranks.get(offer.strip().lower(), len(order)), index)
        if best is None or key < best:
            best, winner = key, offer
    return winner

"""The font resources: fonts people bring, uploaded, listed and removed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

from aiohttp import web

from pixeldrive.http.api_models import FontFace, FontFamily, FontLicence, FontList, FontUploaded
from pixeldrive.http.app_keys import SERVICES, SETTINGS
from pixeldrive.http.bodies import read_body
from pixeldrive.storage.fonts import FontRecord
from pixeldrive.text.font_files import Embedding, FontFacts, bundled_faces


async def put_font(request: web.Request) -> web.Response:
    """Upload or replace a font: a TTF, OTF, WOFF or WOFF2 file as the body, judged by its
    bytes (not its Content-Type). It is sanitised, and what the sanitiser wrote is kept;
    422 names why a font is refused (broken, hostile, no Unicode glyphs, or licence bits
    that forbid embedding), and then nothing is stored. Every node sees it within
    fonts.refresh_seconds; templates naming its family get new render keys."""
    settings = request.app[SETTINGS]
    data = await read_body(request, limit=settings.fonts.max_bytes)
    uploaded = await request.app[SERVICES].fonts.put(request.match_info["name"], data)
    record = uploaded.record
    answer = FontUploaded(
        name=record.name, family=record.family, face=_uploaded(record), replaced=uploaded.replaced
    )
    return web.json_response(
        answer.model_dump(exclude_none=True), status=200 if uploaded.replaced else 201
    )


async def list_fonts(request: web.Request) -> web.Response:
    """Every font family, bundled and uploaded: its faces (style, weights), where it comes
    from, and each face's licence fields. An uploaded family takes the place of a bundled
    one of the same name."""
    services, settings = request.app[SERVICES], request.app[SETTINGS]
    records = await services.fonts.uploaded()
    bundled = await asyncio.to_thread(bundled_faces, settings.render.fontconfig_file)
    listing = font_list(records, bundled, services.fonts.catalog.bundled_family)
    return web.json_response(listing.model_dump(exclude_none=True))


def font_list(
    records: Iterable[FontRecord],
    bundled: Iterable[tuple[Path, FontFacts]],
    is_bundled: Callable[[str], bool],
) -> FontList:
    """Uploaded and bundled faces as families, sorted by name; a bundled family that an
    uploaded one of the same name replaces is not listed (`pixeldrive fonts list` too)."""
    families: dict[str, FontFamily] = {}
    records = list(records)
    uploaded_names = {n.casefold() for r in records for n in r.families}
    for record in records:
        family = families.setdefault(
            record.family.casefold(),
            FontFamily(
                family=record.family,
                source="uploaded",
                replaces_bundled=is_bundled(record.family),
                faces=[],
            ),
        )
        family.faces.append(_uploaded(record))
    for path, facts in bundled:
        if facts.family.casefold() in uploaded_names:
            continue
        families.setdefault(
            facts.family.casefold(), FontFamily(family=facts.family, source="bundled", faces=[])
        ).faces.append(_bundled(path.name, facts))
    return FontList(families=[families[k] for k in sorted(families)])


async def delete_font(request: web.Request) -> web.Response:
    """Remove an uploaded font. Its file is kept: images already made with it keep their
    pixels when drawn again; new renders of templates naming it get new keys."""
    await request.app[SERVICES].fonts.delete(request.match_info["name"])
    return web.Response(status=204)


def _licence(fs_type: int, copyright: str, description: str, url: str) -> FontLicence:
    embedding = Embedding.of(fs_type)
    return FontLicence(
        fs_type=fs_type,
        embedding=embedding.usage,
        no_subsetting=embedding.no_subsetting,
        bitmap_only=embedding.bitmap_only,
        copyright=copyright,
        description=description,
        url=url,
    )


def _uploaded(record: FontRecord) -> FontFace:
    return FontFace(
        style=record.style,
        weight=record.weight,
        weight_max=record.weight_max,
        italic=record.italic,
        name=record.name,
        digest=record.digest,
        bytes=record.size,
        uploaded_as=record.kind,
        uploaded_at=record.uploaded_at,
        licence=_licence(record.fs_type, record.copyright, record.licence, record.licence_url),
    )


def _bundled(file: str, facts: FontFacts) -> FontFace:
    return FontFace(
        style=facts.style,
        weight=facts.weight,
        weight_max=facts.weight_max,
        italic=facts.italic,
        file=file,
        licence=_licence(facts.fs_type, facts.copyright, facts.licence, facts.licence_url),
    )

"""Tests for the template store (pixeldrive.templates.store) and the bundled templates."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from pixeldrive.core.config import PROJECT_ROOT
from pixeldrive.core.errors import NotFound
from pixeldrive.templates.model import compile_template
from pixeldrive.templates.store import TemplateStore
from pixeldrive.templates.version import template_version
from tests.svgdoc import NAMESPACES

BUNDLED = PROJECT_ROOT / "svg_templates"


def svg(body: str, *, size: str = 'width="120" height="60"') -> bytes:
    return f"<svg {NAMESPACES} {size}>\n{body}\n</svg>".encode()


ALPHA = svg('<text id="t" data-pd-field="title">Alpha</text>')
BETA = svg('<rect id="r" data-pd-field="accent" fill="#123456"/>', size='viewBox="0 0 300 200"')
BROKEN = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1">\n<g>\n<rect></g>\n</svg>'


def write(path: Path, data: bytes) -> None:
    """Write `data`, making sure the file's (mtime, size) stamp changes."""
    before = path.stat().st_mtime_ns if path.exists() else None
    path.write_bytes(data)
    if before is not None:
        later = max(path.stat().st_mtime_ns, before) + 1_000_000_000
        os.utime(path, ns=(later, later))


def refresh(store: TemplateStore) -> None:
    """Run one refresh on an event loop of its own; the tests' own file I/O stays off it."""
    asyncio.run(store.refresh())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    directory = tmp_path / "templates"
    directory.mkdir()
    return directory


@pytest.fixture
def store(source: Path, tmp_path: Path) -> TemplateStore:
    return TemplateStore(source, tmp_path / "state" / "versions", max_image_bytes=1000)


def ids(store: TemplateStore) -> list[str]:
    return [template.id for template in store.all()]


# --------------------------------------------------------------------------- loading


def test_refresh_loads_templates_named_by_stem(store: TemplateStore, source: Path) -> None:
    write(source / "beta.svg", BETA)
    write(source / "alpha.svg", ALPHA)
    write(source / "Bad Name.svg", ALPHA)
    write(source / "UPPER.svg", ALPHA)
    write(source / ".hidden.svg", ALPHA)
    write(source / "notes.txt", ALPHA)
    write(source / "alpha.svg.bak", ALPHA)
    (source / "sub").mkdir()
    write(source / "sub" / "nested.svg", ALPHA)

    assert ids(store) == []
    refresh(store)

    assert ids(store) == ["alpha", "beta"]
    assert store.problems() == {}
    alpha = store.get("alpha")
    assert (alpha.id, alpha.version, alpha.width, alpha.height) == (
        "alpha",
        template_version(ALPHA),
        120,
        60,
    )
    assert [(f.name, f.kind, f.default) for f in alpha.fields] == [("title", "text", "Alpha")]
    beta = store.get("beta")
    assert (beta.width, beta.height) == (300, 200)
    assert [(f.name, f.kind, f.default) for f in beta.fields] == [("accent", "color", "#123456")]


def test_refresh_keeps_every_versions_bytes(store: TemplateStore, source: Path) -> None:
    write(source / "alpha.svg", ALPHA)
    refresh(store)
    version = store.get("alpha").version
    assert store.source_path(version) == store.versions_dir / f"{version}.svg"
    assert store.source_path(version).read_bytes() == ALPHA
    assert sorted(p.name for p in store.versions_dir.iterdir()) == [f"{version}.svg"]


def test_get_unknown_is_not_found(store: TemplateStore, source: Path) -> None:
    with pytest.raises(NotFound):
        store.get("alpha")  # nothing loaded yet
    write(source / "alpha.svg", ALPHA)
    write(source / "Bad Name.svg", ALPHA)
    refresh(store)
    for unknown in ("missing", "Bad Name", "alpha.svg", ""):
        with pytest.raises(NotFound) as caught:
            store.get(unknown)
        assert caught.value.status == 404
        assert repr(unknown) in caught.value.detail


def test_broken_template_is_listed_and_not_served(store: TemplateStore, source: Path) -> None:
    write(source / "alpha.svg", ALPHA)
    write(source / "broken.svg", BROKEN)
    write(
        source / "conflict.svg",
        svg('<text id="a" data-pd-field="x">A</text>\n<rect id="b" data-pd-field="x"/>'),
    )
    write(source / "sizeless.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>')
    refresh(store)

    assert ids(store) == ["alpha"]
    problems = store.problems()
    assert sorted(problems) == ["broken", "conflict", "sizeless"]
    assert problems["broken"].startswith("not well-formed XML")
    assert "line 3" in problems["broken"]
    assert "line 2" in problems["conflict"]
    assert "line 3" in problems["conflict"]
    assert "width/height" in problems["sizeless"]
    for name in problems:
        with pytest.raises(NotFound):
            store.get(name)
    assert store.get("alpha").fields[0].name == "title"


def test_editing_a_file_makes_a_new_version(store: TemplateStore, source: Path) -> None:
    path = source / "card.svg"
    write(path, ALPHA)
    refresh(store)
    old = store.get("card")

    edited = svg(
        '<text id="t" data-pd-field="headline">New</text>\n<g id="g" data-pd-field="badge"/>'
    )
    write(path, edited)
    refresh(store)
    new = store.get("card")

    assert new.version == template_version(edited)
    assert new.version != old.version
    assert [(f.name, f.kind) for f in new.fields] == [("headline", "text"), ("badge", "show")]
    assert [f.name for f in old.fields] == ["title"]  # the old object is untouched
    assert store.source_path(old.version).read_bytes() == ALPHA
    assert store.source_path(new.version).read_bytes() == edited


def test_unchanged_file_is_not_recompiled(store: TemplateStore, source: Path) -> None:
    write(source / "alpha.svg", ALPHA)
    refresh(store)
    first = store.get("alpha")
    refresh(store)
    assert store.get("alpha") is first


def test_deleting_a_file_removes_the_template(store: TemplateStore, source: Path) -> None:
    write(source / "alpha.svg", ALPHA)
    write(source / "beta.svg", BETA)
    refresh(store)
    version = store.get("alpha").version

    (source / "alpha.svg").unlink()
    refresh(store)

    assert ids(store) == ["beta"]
    with pytest.raises(NotFound):
        store.get("alpha")
    assert store.source_path(version).read_bytes() == ALPHA  # old URLs can still render


def test_a_fixed_template_is_served_again(store: TemplateStore, source: Path) -> None:
    path = source / "card.svg"
    write(path, BROKEN)
    refresh(store)
    assert "card" in store.problems()

    write(path, ALPHA)
    refresh(store)
    assert store.problems() == {}
    assert store.get("card").version == template_version(ALPHA)


def test_a_broken_edit_keeps_the_last_good_version(store: TemplateStore, source: Path) -> None:
    path = source / "card.svg"
    write(path, ALPHA)
    refresh(store)
    good = store.get("card")

    write(path, BROKEN)
    refresh(store)
    assert "card" in store.problems()
    assert "not well-formed XML" in store.problems()["card"]
    assert store.get("card") is good
    assert ids(store) == ["card"]
    assert store.source_path(template_version(BROKEN)).read_bytes() == BROKEN

    write(path, BETA)
    refresh(store)
    assert store.problems() == {}
    assert store.get("card").version == template_version(BETA)


def test_one_unexpected_compile_error_does_not_stop_the_store(
    store: TemplateStore, source: Path
) -> None:
    write(source / "alpha.svg", ALPHA)
    write(source / "huge.svg", svg("<rect/>", size='width="1e400" height="10"'))
    refresh(store)
    assert ids(store) == ["alpha"]
    assert "huge" in store.problems()


# --------------------------------------------------------------------------- bundled templates

BUNDLED_SIZES = {
    "og-card": (1200, 630),
    "product": (1080, 1080),
    "certificate": (1123, 794),
    "quote": (1080, 1350),
}
BUNDLED_FIELDS = {  # SPEC §9
    "og-card": {"title", "subtitle", "author", "avatar", "accent"},
    "product": {"name", "price", "old_price", "badge", "photo", "accent"},
    "certificate": {"learner", "course", "date", "signature", "verify_url"},
    "quote": {"quote", "author", "handle"},
}


@pytest.mark.parametrize("template_id", sorted(BUNDLED_SIZES))
def test_bundled_template_compiles_with_its_size(template_id: str) -> None:
    path = BUNDLED / f"{template_id}.svg"
    if not path.exists():
        pytest.skip(f"{path.name} is not in svg_templates yet")
    template = compile_template(template_id, path.read_bytes(), max_image_bytes=5_000_000)
    assert (template.width, template.height) == BUNDLED_SIZES[template_id]
    assert {f.name for f in template.fields} >= BUNDLED_FIELDS[template_id]


def test_og_card_fields() -> None:
    template = compile_template(
        "og-card", (BUNDLED / "og-card.svg").read_bytes(), max_image_bytes=5_000_000
    )
    kinds = {f.name: f.kind for f in template.fields}
    assert kinds == {
        "title": "text",
        "subtitle": "text",
        "author": "text",
        "avatar": "image",
        "accent": "color",
    }


def test_certificate_verify_url_is_a_qr() -> None:
    path = BUNDLED / "certificate.svg"
    if not path.exists():
        pytest.skip("certificate.svg is not in svg_templates yet")
    template = compile_template("certificate", path.read_bytes(), max_image_bytes=5_000_000)
    assert {f.name: f.kind for f in template.fields}["verify_url"] == "qr"


def test_bundled_directory_loads_without_problems(tmp_path: Path) -> None:
    store = TemplateStore(BUNDLED, tmp_path / "versions", max_image_bytes=5_000_000)
    refresh(store)
    assert store.problems() == {}
    present = sorted(p.stem for p in BUNDLED.glob("*.svg"))
    assert ids(store) == present
    assert "og-card" in present
    for template in store.all():
        assert template.version == template_version(
            store.source_path(template.version).read_bytes()
        )

"""The template linter: what PixelDrive refuses, removes or cannot draw faithfully, by line."""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from pixeldrive.core.errors import PixelDriveError, TemplateInvalid
from pixeldrive.lint import effects
from pixeldrive.templates.fields import PAGE_SPANS, TEXT_TAGS, FieldSpec, discover_fields
from pixeldrive.templates.model import compile_template, describe_field
from pixeldrive.templates.normalize import normalize
from pixeldrive.templates.parser import local_name, parse_svg
from pixeldrive.templates.sanitize import Finding, Severity, finding, sanitize
from pixeldrive.templates.style import parse_style
from pixeldrive.templates.version import template_version
from pixeldrive.text.css import computed, inherited
from pixeldrive.text.fonts import library_for, scan_file
from pixeldrive.text.pathline import path_data
from pixeldrive.text.svgtext import XLINK_HREF

DEFAULT_MAX_IMAGE_BYTES = 5 * 2**20  # RenderSettings.max_data_uri_bytes
PROJECT_FONTCONFIG = Path(__file__).resolve().parents[2] / "conf" / "fonts.conf"
CAIROSVG = "CairoSVG 2.9.1"
DEFAULT_FALLBACK = "fontconfig's default font"
UNKNOWN = "PixelDrive No Such Family"  # what fc-match substitutes for any missing font
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
WHERE_RE = re.compile(r'<(?P<tag>[^\s>]+)(?: id="(?P<id>[^"]*)")?> line (?P<line>\d+)')
LINE_RE = re.compile(r"line (?P<line>\d+)")
CSS_DECLARATION_RE = re.compile(r"([a-zA-Z-]+)\s*:\s*([^;{}]+)")
URL_ID_RE = re.compile(r"""url\(\s*['"]?#([^'")\s]+)""")
HSL_RE = re.compile(r"\bhsla?\(", re.IGNORECASE)
HEX_ALPHA_RE = re.compile(r"#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{4})\b")
RGB_RE = re.compile(r"\b(rgba?)\(([^()]*)\)", re.IGNORECASE)
COLOR_PROPS = frozenset({"fill", "stroke", "stop-color", "flood-color", "lighting-color", "color"})
OPACITY_PROPS = frozenset(
    {"opacity", "fill-opacity", "stroke-opacity", "stop-opacity", "flood-opacity"}
)


@dataclass(frozen=True, slots=True)
class FieldSummary:
    """A field as the linter reports it: name, kind, how it was marked, its options."""

    name: str
    kind: str
    marking: str
    options: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LintReport:
    """Everything `templates check` says about one file. `findings` are sorted by line;
    the template is servable when none of them is an error. Size, version and fields are
    those of the uploaded bytes (size None when the file does not compile)."""

    name: str
    template_id: str
    version: str
    width: int | None
    height: int | None
    fields: tuple[FieldSummary, ...]
    findings: tuple[Finding, ...]

    @property
    def servable(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def counts(self) -> dict[str, int]:
        """How many findings of each severity."""
        out = dict.fromkeys(SEVERITY_ORDER, 0)
        for item in self.findings:
            out[item.severity] += 1
        return out

    def format_text(self) -> str:
        """One line per finding, `file:line: severity: <tag#id> what — why`, then a
        summary line."""
        lines = [_finding_line(self.name, f) for f in self.findings]
        counts = ", ".join(f"{n} {_plural(severity, n)}" for severity, n in self.counts().items())
        verdict = "servable" if self.servable else "NOT servable"
        size = f"{self.width}×{self.height} px, " if self.width and self.height else ""
        lines.append(f"{self.name}: {size}{len(self.fields)} field(s), {counts}: {verdict}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.template_id,
            "version": self.version,
            "width": self.width,
            "height": self.height,
            "servable": self.servable,
            "fields": [
                {"name": f.name, "kind": f.kind, "marking": f.marking, "options": f.options}
                for f in self.fields
            ],
            "findings": [
                {
                    "severity": f.severity,
                    "element": f.tag,
                    "id": f.element_id,
                    "line": f.line,
                    "what": f.what,
                    "why": f.why,
                }
                for f in self.findings
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


def _plural(severity: str, count: int) -> str:
    return severity if severity == "info" or count == 1 else severity + "s"


def _finding_line(name: str, item: Finding) -> str:
    where = f"<{item.tag or 'svg'}{'#' + item.element_id if item.element_id else ''}> "
    if not item.tag and not item.element_id:
        where = ""
    return f"{name}:{item.line}: {item.severity}: {where}{item.what} — {item.why}"


def lint(
    data: bytes,
    *,
    name: str,
    fontconfig_file: Path | None = None,
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    uploaded: Sequence[str] = (),
) -> LintReport:
    """Check one template file (`name` is its file name; the id is its stem).

    Reports parse and field errors, what the sanitiser removes or refuses, and every
    feature CairoSVG cannot draw faithfully, each with its element id and line. Fonts are
    resolved through `fontconfig_file` (the project's by default) with `fc-list`: this
    blocks on a subprocess the first time, so call it from a thread in a server. The font
    files `uploaded` (fonts people uploaded, for the families the template names) count as
    installed, and their glyphs as drawn, as they are in a render.
    """
    template_id = Path(name).stem
    version = template_version(data)
    try:
        root = parse_svg(data)
    except TemplateInvalid as exc:
        return LintReport(name, template_id, version, None, None, (), _invalid(exc, None))
    findings: list[Finding] = []
    width = height = None
    fields: tuple[FieldSpec, ...] = ()
    try:
        template = compile_template(template_id, data, max_image_bytes=max_image_bytes)
    except TemplateInvalid as exc:
        findings.extend(_invalid(exc, root))
    else:
        width, height, fields = template.width, template.height, template.fields
        findings.extend(_unbounded_numbers(root, max(width, height)))
    cleaned = sanitize(root)[1]
    findings.extend(cleaned)
    if not any(f.tag == "svg" and f.severity == "error" for f in cleaned):
        # A document refused as a whole (too many elements, text) is not read further.
        # The renderer rewrites what CairoSVG misreads (normalize: info findings); the
        # features are checked on the tree it draws, so only what stays is reported.
        drawn = copy.deepcopy(root)
        findings.extend(normalize(drawn))
        conf = fontconfig_file or PROJECT_FONTCONFIG
        resolved = fonts(conf).with_files(uploaded)
        findings.extend(_Features(drawn, resolved).run())
        if resolved.problem is None:
            findings.extend(_missing_glyphs(drawn, conf, uploaded))
    findings.sort(key=lambda f: (f.line, SEVERITY_ORDER[f.severity]))
    summaries = tuple(_summary(spec) for spec in fields)
    return LintReport(name, template_id, version, width, height, summaries, tuple(findings))


def _unbounded_numbers(root: etree._Element, longest_side: float) -> Iterator[Finding]:
    elements = list(root.iter(etree.Element))
    for spec in discover_fields(root):  # as written: compiling fills in the page's bounds
        missing = [
            f"data-pd-{option}"
            for option, bound in (("min", spec.minimum), ("max", spec.maximum))
            if bound is None
        ]
        if spec.kind == "number" and missing:
            yield finding(
                elements[spec.targets[0]],
                "warning",
                f"number field {spec.name!r} has no {' or '.join(missing)}",
                f"values are bounded by the page instead (±{PAGE_SPANS * longest_side:g}, "
                f"{PAGE_SPANS} × its longest side); bound it to what the design can show",
            )


def _summary(spec: FieldSpec) -> FieldSummary:
    described = describe_field(spec)
    options = {k: v for k, v in described.items() if k not in ("name", "kind")}
    return FieldSummary(spec.name, spec.kind, spec.marking, options)


def _invalid(exc: TemplateInvalid, root: etree._Element | None) -> tuple[Finding, ...]:
    """TemplateInvalid as error findings, one per problem, located where it names."""
    if not exc.errors:
        if root is not None:
            return (finding(root, "error", exc.detail, "the template cannot be compiled"),)
        return (Finding("error", "", 0, exc.detail, "the file cannot be parsed"),)
    out = []
    for problem in exc.errors:
        if match := WHERE_RE.fullmatch(problem.field):
            ident, line = match["id"] or "", int(match["line"])
            why = "the template's fields cannot be compiled"
            out.append(Finding("error", ident, line, problem.message, why, match["tag"]))
        elif match := LINE_RE.fullmatch(problem.field):
            why = "the file cannot be parsed"
            out.append(Finding("error", "", int(match["line"]), exc.detail, why))
        else:
            out.append(Finding("error", "", 0, f"{problem.field}: {problem.message}", exc.detail))
    return tuple(out)


# ---------------------------------------------------------------------------- fonts


def _missing_glyphs(
    root: etree._Element, fontconfig_file: Path, uploaded: Sequence[str] = ()
) -> list[Finding]:
    """Characters of the template's own text that no configured or uploaded font has:
    the renderer refuses to draw boxes for them, so the template cannot be served."""
    try:
        library = library_for(str(fontconfig_file))
        if uploaded:
            library = library.with_files(uploaded)
    except PixelDriveError as exc:
        return [finding(root, "info", "glyphs not checked", exc.detail)]
    out: list[Finding] = []
    for text in root.iter(etree.Element):
        if local_name(text) not in ("text", "flowRoot") or any(
            local_name(a) in ("text", "flowRoot") for a in text.iterancestors()
        ):
            continue
        missing: dict[str, None] = {}
        styles = {text: computed(text, inherited(text))}
        for element in text.iter(etree.Element):
            parent = element.getparent()
            pieces = []
            if element is not text and parent is not None:
                styles[element] = computed(element, styles[parent])
                pieces.append((element.tail or "", styles[parent]))
            pieces.append((element.text or "", styles[element]))
            for content, piece_style in pieces:
                face = library.match(piece_style.families, piece_style.weight, piece_style.italic)
                missing.update(
                    (c, None) for c in content if not c.isspace() and not library.draws(face, c)
                )
        if missing:
            listed = ", ".join(f"U+{ord(c):04X} {c!r}" for c in list(missing)[:8])
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            out.append(
                finding(
                    text,
                    "error",
                    f"characters no configured font has: {listed}{more}",
                    "PixelDrive does not draw boxes: upload a font that has them "
                    "(PUT /v1/fonts/NAME) or add one to svg_templates/fonts, or set "
                    'render.missing_glyphs = "replace"',
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class Fonts:
    """The families a fontconfig file resolves: its installed fonts and its <alias>
    families, compared as fontconfig does (case and blanks ignored), and the family it
    substitutes for any other name (fontconfig does no fuzzy matching, so it is the same
    for every unknown name). `problem` says why fonts could not be listed (then every
    family counts as resolved)."""

    families: frozenset[str]
    fallback: str = DEFAULT_FALLBACK
    problem: str | None = None

    def resolves(self, family: str) -> bool:
        return self.problem is not None or _font_key(family) in self.families

    def with_files(self, paths: Sequence[str]) -> Fonts:
        """These families and those of the font files `paths` (uploaded fonts)."""
        if not paths:
            return self
        names = {
            _font_key(n) for path in paths for face in scan_file(Path(path)) for n in face.names
        }
        return Fonts(self.families | names, self.fallback, self.problem)


def _font_key(family: str) -> str:
    return "".join(family.split()).lower()


@functools.lru_cache(maxsize=8)
def fonts(fontconfig_file: Path) -> Fonts:
    """What `fontconfig_file` resolves, from `fc-list`, `fc-match` and its <alias>
    families; run once per file and process (the tools are not asked about the
    template's own names)."""
    listed = _fontconfig(fontconfig_file, "fc-list", "--format", "%{family}\n")
    if listed is None:
        return Fonts(frozenset(), problem="fc-list is missing or failed")
    families = {_font_key(f) for line in listed.splitlines() for f in line.split(",") if f}
    families.update(_font_key(a) for a in _aliases(fontconfig_file) if a)
    fallback = _fontconfig(fontconfig_file, "fc-match", "--format", "%{family[0]}", UNKNOWN)
    return Fonts(frozenset(families), (fallback or "").strip() or DEFAULT_FALLBACK)


def _fontconfig(fontconfig_file: Path, program: str, *args: str) -> str | None:
    """A fontconfig tool's output with FONTCONFIG_FILE set, or None when it fails."""
    path = shutil.which(program)
    if path is None:
        return None
    env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig_file)}
    try:
        done = subprocess.run(  # noqa: S603  # fixed programs and arguments
            [path, *args], env=env, capture_output=True, text=True, check=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def _aliases(fontconfig_file: Path) -> list[str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.parse(str(fontconfig_file), parser).getroot()
    except (OSError, etree.XMLSyntaxError):
        return []
    return [str(a.findtext("family") or "").strip() for a in root.iter("alias")]


# ------------------------------------------------------------------------- features


class _Features:
    """Every feature of the template that CairoSVG cannot draw as Inkscape does."""

    def __init__(self, root: etree._Element, fonts: Fonts) -> None:
        self.root = root
        self.fonts = fonts
        self.ids: dict[str, etree._Element] = {}
        for element in root.iter(etree.Element):
            ident = element.get("id")
            if ident is not None:
                self.ids.setdefault(str(ident), element)
        self.out: list[Finding] = []

    def add(self, element: etree._Element, severity: Severity, what: str, why: str) -> None:
        self.out.append(finding(element, severity, what, why))

    def run(self) -> list[Finding]:
        if self.fonts.problem:
            self.add(self.root, "info", "fonts not checked", self.fonts.problem)
        for element in self.root.iter(etree.Element):
            self._element(element)
            for prop, value in _properties(element):
                self._property(element, prop, value)
        return self.out

    def _element(self, element: etree._Element) -> None:
        tag = local_name(element)
        if tag == "flowRoot" and not any(
            local_name(e) == "rect" for e in element.iter(etree.Element)
        ):
            self.add(
                element,
                "warning",
                "flowed text (Inkscape 0.92 flowRoot) in a region that is not a rectangle",
                "PixelDrive lays flowed text out in a rectangle only; the text is placed as "
                "saved, unwrapped",
            )
        elif tag == "textPath":
            self._text_path(element)
        elif tag == "filter":
            self.out.extend(effects.filter_element(element))
        elif tag == "switch":
            self.add(element, "info", "<switch>", f"{CAIROSVG} draws the first child it supports")
        elif tag == "style":
            css = "".join(str(t) for t in element.itertext())
            for prop, value in CSS_DECLARATION_RE.findall(css):
                self._property(element, prop.lower(), value.strip())
        if element.get("systemLanguage") is not None:
            self.add(
                element,
                "info",
                f"systemLanguage={element.get('systemLanguage')!r}",
                f"{CAIROSVG} matches it against the render worker's locale, which differs "
                "between servers; keep an untagged alternative",
            )

    def _text_path(self, element: etree._Element) -> None:
        """Text on a path is set by PixelDrive along the path (text/svgtext.py); what of
        it is still not drawn as Inkscape draws it."""
        href = element.get(XLINK_HREF) or element.get("href") or ""
        target = self.ids.get(href.strip()[1:]) if href.strip().startswith("#") else None
        if not element.get("path") and (target is None or path_data(target) is None):
            self.add(
                element,
                "warning",
                f"text on a path that names no path or shape ({href or 'no href'})",
                "PixelDrive draws nothing for it",
            )
        if element.get("method", "").strip() == "stretch":
            self.add(
                element,
                "warning",
                'textPath method="stretch"',
                "PixelDrive places and turns each glyph along the path (method align); it "
                "does not bend the glyphs' outlines",
            )
        if any(
            e.get("x") is not None or e.get("y") is not None for e in element.iter(etree.Element)
        ):
            self.add(
                element,
                "warning",
                "x or y inside text on a path",
                "PixelDrive sets the text as one line from the startOffset and does not "
                "read absolute positions inside it (dx, dy and rotate are read)",
            )
        if any(computed(e, inherited(e)).decoration for e in element.iter(etree.Element)):
            self.add(
                element,
                "warning",
                "text-decoration on text on a path",
                "PixelDrive does not draw underlines, overlines or line-through along a path",
            )

    def _property(self, element: etree._Element, prop: str, value: str) -> None:
        check = PROPERTY_CHECKS.get(prop)
        if check is not None:
            check(self, element, prop, value)
        if prop in COLOR_PROPS:
            self._color(element, prop, value)
        elif prop in OPACITY_PROPS:
            self._opacity(element, prop, value)

    # Filters, masks (luminance and alpha), blend modes, isolation, paint-order and
    # markers are drawn by PixelDrive (render/effects/): lint/effects.py reports what of
    # them is still not drawn, or past the bounds of templates/effect_limits.py.
    def _filter(self, element: etree._Element, prop: str, value: str) -> None:
        self.out.extend(effects.filter_reference(element, value, self.ids))

    def _blend_mode(self, element: etree._Element, prop: str, value: str) -> None:
        self.out.extend(effects.blend_mode(element, value))

    def _text_frame(self, element: etree._Element, prop: str, value: str) -> None:
        """shape-inside frames are laid out when they are rectangles (inline-size always)."""
        if value.strip().lower() in ("none", "auto", "") or not _has_text(element):
            return
        match = URL_ID_RE.search(value)
        target = self.ids.get(match.group(1)) if match else None
        if target is None or local_name(target) != "rect":
            self.add(
                element,
                "warning",
                f"{prop}:{value} (SVG 2 flowed text) in a frame that is not a rectangle",
                "PixelDrive wraps text in rectangles only: Inkscape's fallback lines are "
                "drawn as they were saved",
            )

    def _font_size(self, element: etree._Element, prop: str, value: str) -> None:
        if value.strip().endswith("%") and _has_text(element):
            self.add(
                element,
                "warning",
                f"font-size:{value}",
                f"{CAIROSVG} takes a percentage of the viewport's diagonal, not of the parent's "
                "font size; use px",
            )

    def _font_family(self, element: etree._Element, prop: str, value: str) -> None:
        families = [f.strip().strip("'\"").strip() for f in value.split(",")]
        families = [f for f in families if f]
        if not families or not _has_text(element) or self.fonts.resolves(families[0]):
            return
        first = families[0]
        later = [f for f in families[1:] if self.fonts.resolves(f)]
        where = (
            " (fonts are uploaded, PUT /v1/fonts/NAME, or come from svg_templates/fonts"
            " through conf/fonts.conf)"
        )
        if later:
            self.add(
                element,
                "info",
                f"font {first!r} is not installed; {later[0]!r} (next in the list) is used",
                "PixelDrive, like Inkscape, takes the first installed family of the list" + where,
            )
            return
        self.add(
            element,
            "warning",
            f"font {first!r} is not installed; {self.fonts.fallback} will be used",
            "no family of the list is installed" + where,
        )

    def _color(self, element: etree._Element, prop: str, value: str) -> None:
        plain = URL_ID_RE.sub("", value)
        if (bad := _unreadable_rgb(plain)) is not None:
            self.add(
                element,
                "error",
                f"{prop}:{value}",
                f"{CAIROSVG} cannot read {bad} and fails to render; write rgb(r, g, b) or #rrggbb",
            )
        elif HSL_RE.search(plain):
            self.add(
                element, "warning", f"{prop}:{value}", f"{CAIROSVG} paints hsl() colours black"
            )
        elif HEX_ALPHA_RE.search(plain):
            self.add(
                element,
                "warning",
                f"{prop}:{value}",
                f"{CAIROSVG} drops the alpha of #rrggbbaa and #rgba; write #rrggbb plus "
                f"{prop.removesuffix('-color')}-opacity",
            )

    def _opacity(self, element: etree._Element, prop: str, value: str) -> None:
        # Keywords (inherit) are resolved by CairoSVG; a number with a unit is not.
        if not _is_number(value) and any(c.isdigit() for c in value):
            self.add(
                element,
                "error",
                f"{prop}:{value}",
                f"{CAIROSVG} reads opacities as plain numbers only and fails to render "
                "this one; write a number from 0 to 1",
            )

    def _target(self, value: str, tag: str) -> etree._Element | None:
        match = URL_ID_RE.search(value)
        target = self.ids.get(match.group(1)) if match else None
        return target if target is not None and local_name(target) == tag else None


PROPERTY_CHECKS = {
    "filter": _Features._filter,
    "mix-blend-mode": _Features._blend_mode,
    "shape-inside": _Features._text_frame,
    "font-size": _Features._font_size,
    "font-family": _Features._font_family,
}


def _properties(element: etree._Element) -> Iterator[tuple[str, str]]:
    """Presentation attributes, then style declarations (a <style> sheet is read apart)."""
    for name, value in element.attrib.items():
        qname = etree.QName(name)
        if qname.namespace is None and qname.localname != "style":
            yield qname.localname.lower(), str(value)
    yield from parse_style(element.get("style")).items()


def _unreadable_rgb(value: str) -> str | None:
    """An rgb()/rgba() CairoSVG raises on: rgb takes three comma-separated numbers (or
    percentages), rgba four; CSS 4 space-separated syntax is not read."""
    for match in RGB_RE.finditer(value):
        parts = [p.strip(" %") for p in match.group(2).split(",")]
        if len(parts) != (4 if match.group(1).lower() == "rgba" else 3):
            return match.group(0)
        if not all(_is_number(p) for p in parts):
            return match.group(0)
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _has_text(element: etree._Element) -> bool:
    """Whether a style on the element reaches text: it is or holds text content, or it
    is a stylesheet (which may style any text)."""
    if local_name(element) in TEXT_TAGS or local_name(element) == "style":
        return True
    return any(local_name(e) in TEXT_TAGS for e in element.iter(etree.Element))

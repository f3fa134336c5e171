"""The one hardened SVG parser: no entities, no DTD, no network, bounded depth."""

from __future__ import annotations

from lxml import etree

from pixeldrive.core.errors import FieldProblem, TemplateInvalid

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
INKSCAPE_NS = "http://www.inkscape.org/namespaces/inkscape"
SODIPODI_NS = "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
MAX_DEPTH = 256


class _NothingResolver(etree.Resolver):
    """Answers every external reference with nothing. Even with load_dtd=False, libxml2
    opens an external DTD subset or a parameter entity's file (`<!DOCTYPE svg SYSTEM
    "file:…">`), which reads local files and blocks forever on a FIFO."""

    def resolve(  # type: ignore[override]  # lxml-stubs omit the context argument
        self, system_url: str, public_id: str, context: object
    ) -> object:
        return self.resolve_string("", context, base_url=None)


def _parser() -> etree.XMLParser:
    # Entities are neither resolved nor loaded and DTDs never fetched: billion laughs and
    # XXE (CWE-611) stop here. huge_tree stays off so libxml2 keeps its own size limits.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        collect_ids=False,
    )
    parser.resolvers.add(_NothingResolver())
    return parser


def parse_svg(data: bytes) -> etree._Element:
    """Parse SVG bytes into the root element.

    Raises TemplateInvalid when the bytes are not well-formed XML, carry a DTD (any
    DOCTYPE, so no entity can be declared), are nested deeper than MAX_DEPTH, or the root
    is not an SVG element. A root `<svg>` without a namespace (an SVG 1.0 file written by
    hand, which Inkscape opens) has its elements without one taken into the SVG namespace.
    """
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        raise TemplateInvalid(
            f"not well-formed XML: {exc.msg}",
            errors=(FieldProblem(f"line {line}", exc.msg),),
        ) from exc
    tree = root.getroottree()
    docinfo = tree.docinfo
    if getattr(docinfo, "doctype", "") or docinfo.internalDTD is not None:
        raise TemplateInvalid("DOCTYPE declarations are not allowed in templates")
    if root.tag == "svg":
        root = _adopted(root)
    if root.tag != f"{{{SVG_NS}}}svg":
        name = etree.QName(root)
        raise TemplateInvalid(
            f"the root element is {name.localname!r} in namespace {name.namespace or 'none'};"
            f" it must be 'svg' in the SVG namespace (xmlns=\"{SVG_NS}\")"
        )
    _check_depth(root)
    return root


def _adopted(root: etree._Element) -> etree._Element:
    """The document with every element that has no namespace put in SVG's."""
    for element in root.iter(etree.Element):
        tag = element.tag
        if isinstance(tag, str) and not tag.startswith("{"):
            element.tag = f"{{{SVG_NS}}}{tag}"
    # A fresh parse, so the root declares the SVG namespace as its default.
    clean = etree.fromstring(etree.tostring(root), _parser())
    etree.cleanup_namespaces(clean, top_nsmap={None: SVG_NS})  # type: ignore[dict-item]
    return clean


def _check_depth(root: etree._Element) -> None:
    # Iterative, so a 10^5-deep document cannot exhaust the Python stack here.
    stack: list[tuple[etree._Element, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TemplateInvalid(f"elements are nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in node)


def local_name(element: etree._Element) -> str:
    """The tag without its namespace ('' for comments and other non-elements)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def text_of(element: etree._Element) -> str:
    """All text inside an element (its tail excluded)."""
    return str(etree.tostring(element, method="text", encoding="unicode", with_tail=False))


def drop_attribute(element: etree._Element, name: str) -> None:
    """Remove an attribute if present."""
    if name in element.attrib:
        del element.attrib[name]

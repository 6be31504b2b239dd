"""OpenVEX documents (``--vex FILE``): statements that a vulnerability does or
does not affect a product.

Reads OpenVEX 0.2.0 (and the older 0.0.x shape where ``vulnerability`` is a
string and products are plain strings). A statement names a vulnerability
(``name``, ``@id`` and ``aliases``) and products: the image (its reference,
``name@digest`` or a ``pkg:oci`` purl with its digest) optionally narrowed by
``subcomponents`` purls, or package purls directly.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import msgspec
from packageurl import PackageURL
from imagewatch.errors import ImagewatchError

STATUSES = frozenset({"not_affected", "affected", "fixed", "under_investigation"})
SUPPRESSING = frozenset({"not_affected", "fixed"})
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


class VexError(ImagewatchError, ValueError):
    """A VEX document cannot be read or is not OpenVEX."""


class VexProduct(msgspec.Struct, kw_only=True, frozen=True):
    """A product: an image or package identifier with optional subcomponent purls."""

    id: str
    subcomponents: tuple[str, ...] = ()


class VexStatement(msgspec.Struct, kw_only=True, frozen=True):
    """One statement: vulnerability ids, products, status and why."""

    vulnerability: str
    ids: frozenset[str]
    products: tuple[VexProduct, ...]
    status: str
    justification: str = ""
    impact_statement: str = ""
    action_statement: str = ""
    timestamp: datetime = _EPOCH


class VexDoc(msgspec.Struct, kw_only=True, frozen=True):
    """A parsed OpenVEX document; ``source`` is its ``@id`` or file name."""

    source: str
    statements: tuple[VexStatement, ...]
    author: str = ""


def _time(value: object, default: datetime) -> datetime:
    if not isinstance(value, str) or not value:
        return default
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return default
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _ids_of(product: object) -> list[str]:
    if isinstance(product, str):
        return [product]
    if not isinstance(product, dict):
        return []
    ids = [product.get("@id", "")]
    idents = product.get("identifiers") or {}
    ids += [idents.get("purl", "")] if isinstance(idents, dict) else []
    return [i for i in ids if isinstance(i, str) and i]


def _products(raw: object, where: str) -> tuple[VexProduct, ...]:
    if not isinstance(raw, list) or not raw:
        raise VexError(f"report: {where}: statement needs a non-empty 'products' list")
    out = []
    for prod in raw:
        subs = tuple(i for sub in (prod.get("subcomponents") or [] if isinstance(prod, dict) else [])
                     for i in _ids_of(sub))
        out += [VexProduct(id=i, subcomponents=subs) for i in _ids_of(prod)]
    return tuple(out)


def _statement(raw: object, n: int, source: str, doc_time: datetime) -> VexStatement:
    where = f"{source}: statement {n}"
    if not isinstance(raw, dict):
        raise VexError(f"report: {where}: not an object")
    vuln = raw.get("vulnerability")
    if isinstance(vuln, str):
        name, ids = vuln, {vuln}
    elif isinstance(vuln, dict) and (vuln.get("name") or vuln.get("@id")):
        name = vuln.get("name") or vuln["@id"]
        ids = {name, vuln.get("@id") or name, *(vuln.get("aliases") or [])}
    else:
        raise VexError(f"report: {where}: needs a vulnerability with a name")
    status = raw.get("status")
    if status not in STATUSES:
        raise VexError(f"report: {where}: status {status!r} is not one of {', '.join(sorted(STATUSES))}")
    return VexStatement(
        vulnerability=name, ids=frozenset(i.rsplit("/", 1)[-1] if i.startswith("http") else i
                                          for i in ids if isinstance(i, str) and i),
        products=_products(raw.get("products"), where), status=status,
        justification=raw.get("justification") or "", impact_statement=raw.get("impact_statement") or "",
        action_statement=raw.get("action_statement") or "",
        timestamp=_time(raw.get("timestamp"), doc_time),
    )


def parse_vex(data: bytes | str, source: str = "vex") -> VexDoc:
    """Parse one OpenVEX, CycloneDX VEX or CSAF VEX JSON document (``report.vexformats``); raises ``VexError`` naming the bad statement."""
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise VexError(f"report: {source}: not valid JSON: {e}") from None
    from imagewatch.report import vexformats

    if vexformats.is_cyclonedx(doc):
        return vexformats.parse_cyclonedx_vex(doc, source)
    if vexformats.is_csaf(doc):
        return vexformats.parse_csaf_vex(doc, source)
    if not isinstance(doc, dict) or "openvex" not in str(doc.get("@context", "")):
        raise VexError(f"report: {source}: not an OpenVEX document (nor CycloneDX or CSAF VEX)")
    doc_time = _time(doc.get("timestamp"), _EPOCH)
    statements = doc.get("statements")
    if not isinstance(statements, list):
        raise VexError(f"report: {source}: 'statements' must be a list")
    return VexDoc(source=doc.get("@id") or source, author=str(doc.get("author") or ""),
                  statements=tuple(_statement(s, n, source, doc_time) for n, s in enumerate(statements, 1)))


def load_vex(path: str | Path) -> VexDoc:
    """Read and parse the OpenVEX document at ``path``."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise VexError(f"report: cannot read VEX document {p}: {e.strerror}") from None
    return parse_vex(data, source=p.name)


def purl_matches(pattern: str, purl: str) -> bool:
    """True when ``purl`` is the package ``pattern`` names.

    The pattern's version is optional; qualifiers are ignored on both sides.
    """
    if not pattern.startswith("pkg:") or not purl.startswith("pkg:"):
        return False
    try:
        a, b = PackageURL.from_string(pattern), PackageURL.from_string(purl)
    except ValueError:
        return False
    return (a.type == b.type and (a.namespace or "").lower() == (b.namespace or "").lower()
            and a.name.lower() == b.name.lower() and (not a.version or a.version == b.version))


def image_matches(product: str, reference: str, digest: str) -> bool:
    """True when ``product`` names the image: its reference, ``name@digest`` or a purl with its digest."""
    if product == reference:
        return True
    return bool(digest) and digest in unquote(product)


def statement_applies(st: VexStatement, ids: set[str], purl: str, reference: str, digest: str) -> bool:
    """True when ``st`` speaks about one of ``ids`` in package ``purl`` of this image."""
    if not st.ids & ids:
        return False
    for prod in st.products:
        if image_matches(prod.id, reference, digest):
            if not prod.subcomponents or any(purl_matches(s, purl) for s in prod.subcomponents):
                return True
        elif purl_matches(prod.id, purl):
            return True
    return False

"""CycloneDX VEX and CSAF VEX, read into the same ``VexDoc`` as OpenVEX.

CycloneDX (``bomFormat: CycloneDX`` with ``vulnerabilities``): each
vulnerability's ``analysis.state`` is the status (``not_affected`` and
``false_positive`` → not_affected, ``resolved`` / ``resolved_with_pedigree`` →
fixed, ``exploitable`` → affected, ``in_triage`` → under_investigation) for the
components its ``affects[].ref`` name (purls, or bom-refs resolved through
``components``).

CSAF 2.0 (``document.category: csaf_vex``): each vulnerability's
``product_status`` lists product ids (``known_not_affected``, ``fixed``,
``known_affected``, ``under_investigation``); a product id is resolved to its
purl through ``product_tree`` (branches and full product names), and a
relationship product (component X of product Y) to Y with X as subcomponent.
"""

from __future__ import annotations

from typing import Any

from imagewatch.report.vex import _EPOCH, VexDoc, VexError, VexProduct, VexStatement, _time

_CDX_STATES = {"not_affected": "not_affected", "false_positive": "not_affected", "resolved": "fixed",
               "resolved_with_pedigree": "fixed", "exploitable": "affected", "in_triage": "under_investigation"}
_CSAF_STATUSES = {"known_not_affected": "not_affected", "fixed": "fixed", "first_fixed": "fixed",
                  "known_affected": "affected", "first_affected": "affected", "last_affected": "affected",
                  "under_investigation": "under_investigation"}


def is_cyclonedx(doc: Any) -> bool:
    """Whether ``doc`` is a CycloneDX document."""
    return isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX"


def is_csaf(doc: Any) -> bool:
    """Whether ``doc`` is a CSAF document."""
    return isinstance(doc, dict) and isinstance(doc.get("document"), dict) and "csaf_version" in doc["document"]


def _cdx_refs(doc: dict) -> dict[str, str]:
    refs: dict[str, str] = {}
    stack = list(doc.get("components") or [])
    meta = (doc.get("metadata") or {}).get("component")
    if isinstance(meta, dict):
        stack.append(meta)
    while stack:
        comp = stack.pop()
        if isinstance(comp, dict):
            if comp.get("bom-ref") and comp.get("purl"):
                refs[comp["bom-ref"]] = comp["purl"]
            stack += comp.get("components") or []
    return refs


def parse_cyclonedx_vex(doc: dict, source: str) -> VexDoc:
    """A CycloneDX VEX document as a ``VexDoc``; raises ``VexError`` naming the bad vulnerability."""
    refs = _cdx_refs(doc)
    doc_time = _time((doc.get("metadata") or {}).get("timestamp"), _EPOCH)
    statements = []
    for n, vuln in enumerate(doc.get("vulnerabilities") or [], 1):
        where = f"{source}: vulnerability {n}"
        if not isinstance(vuln, dict) or not vuln.get("id"):
            raise VexError(f"report: {where}: needs an 'id'")
        analysis = vuln.get("analysis") or {}
        state = analysis.get("state")
        if state not in _CDX_STATES:
            raise VexError(f"report: {where}: analysis.state {state!r} is not one of {', '.join(_CDX_STATES)}")
        products = []
        for affect in vuln.get("affects") or []:
            ref = str(affect.get("ref", "")) if isinstance(affect, dict) else ""
            purl = refs.get(ref) or (ref.split("#", 1)[1] if ref.startswith("urn:cdx:") and "#" in ref else ref)
            if purl:
                products.append(VexProduct(id=purl))
        if not products:
            raise VexError(f"report: {where}: 'affects' names no component")
        ids = {vuln["id"], *(r.get("id") for r in vuln.get("references") or [] if isinstance(r, dict))}
        statements.append(VexStatement(
            vulnerability=vuln["id"], ids=frozenset(i for i in ids if isinstance(i, str) and i),
            products=tuple(products), status=_CDX_STATES[state],
            justification=str(analysis.get("justification") or ""),
            impact_statement=str(analysis.get("detail") or ""),
            timestamp=_time(analysis.get("lastUpdated") or analysis.get("firstIssued"), doc_time)))
    return VexDoc(source=doc.get("serialNumber") or source, statements=tuple(statements))


def _csaf_products(tree: dict) -> dict[str, VexProduct]:
    purls: dict[str, str] = {}

    def visit(node: Any) -> None:
        if not isinstance(node, dict):
            return
        product = node.get("product")
        for named in ([product] if isinstance(product, dict) else []) + list(node.get("full_product_names") or []):
            helper = named.get("product_identification_helper") or {}
            if named.get("product_id") and helper.get("purl"):
                purls[named["product_id"]] = helper["purl"]
        for child in node.get("branches") or []:
            visit(child)

    visit(tree)
    products = {pid: VexProduct(id=purl) for pid, purl in purls.items()}
    for rel in tree.get("relationships") or []:
        full = rel.get("full_product_name") or {}
        part, whole = purls.get(rel.get("product_reference", "")), purls.get(rel.get("relates_to_product_reference", ""))
        if full.get("product_id") and part and whole:
            products[full["product_id"]] = VexProduct(id=whole, subcomponents=(part,))
    return products


def parse_csaf_vex(doc: dict, source: str) -> VexDoc:
    """A CSAF VEX document as a ``VexDoc``; raises ``VexError`` naming the bad vulnerability."""
    meta = doc["document"]
    if meta.get("category") != "csaf_vex":
        raise VexError(f"report: {source}: CSAF category {meta.get('category')!r}, expected csaf_vex")
    products = _csaf_products(doc.get("product_tree") or {})
    tracking = meta.get("tracking") or {}
    doc_time = _time(tracking.get("current_release_date"), _EPOCH)
    statements = []
    for n, vuln in enumerate(doc.get("vulnerabilities") or [], 1):
        where = f"{source}: vulnerability {n}"
        ids = {vuln.get("cve"), *(i.get("text") for i in vuln.get("ids") or [] if isinstance(i, dict))}
        ids = {i for i in ids if isinstance(i, str) and i}
        if not ids:
            raise VexError(f"report: {where}: needs a cve or ids")
        flags = {pid: f.get("label", "") for f in vuln.get("flags") or [] for pid in f.get("product_ids") or []}
        threats = {pid: t.get("details", "") for t in vuln.get("threats") or []
                   if t.get("category") == "impact" for pid in t.get("product_ids") or []}
        for kind, status in _CSAF_STATUSES.items():
            for pid in (vuln.get("product_status") or {}).get(kind) or []:
                product = products.get(pid)
                if product is None:
                    continue  # a product without a purl cannot name a package of ours
                statements.append(VexStatement(
                    vulnerability=sorted(ids)[0], ids=frozenset(ids), products=(product,), status=status,
                    justification=flags.get(pid, ""), impact_statement=threats.get(pid, ""),
                    timestamp=doc_time))
    return VexDoc(source=str(tracking.get("id") or source), statements=tuple(statements),
                  author=str((meta.get("publisher") or {}).get("name") or ""))

"""OpenVEX 0.2.0 output: one statement per vulnerability and package of the image.

The product is the image (its ``pkg:oci`` purl, else its reference) narrowed
to the package's purl as a subcomponent, the shape ``--vex`` reads back. A Go
finding whose vulnerable code the binary does not link (``reachability``
``not-linked``) is ``not_affected`` with justification
``vulnerable_code_not_in_execute_path``; every other finding is ``affected``
with the upgrade to make (or that no fix is published).
"""

from __future__ import annotations

import json
import uuid

from imagewatch.models import Finding, Package
from imagewatch.report.purls import image_purl, package_purl
from imagewatch.report.result import ScanResult

CONTEXT = "https://openvex.dev/ns/v0.2.0"
NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
NOT_LINKED_IMPACT = ("No function of the vulnerable Go packages is linked into {path} "
                     "(read from the binary's function table).")


def _purl(f: Finding) -> str:
    return f.purl or package_purl(Package(name=f.package, version=f.version, ecosystem=f.ecosystem))


def statement(f: Finding, product: str, timestamp: str) -> dict:
    """The OpenVEX statement for one finding in the image named ``product``."""
    vid = f.cve or f.advisory_id
    aliases = [i for i in dict.fromkeys([f.advisory_id, *f.ids]) if i != vid]
    out: dict = {
        "vulnerability": {"name": vid, **({"aliases": aliases} if aliases else {})},
        "timestamp": timestamp,
        "products": [{"@id": product, "subcomponents": [{"@id": _purl(f)}]}],
    }
    if not f.linked:
        out.update(status="not_affected", justification=NOT_IN_EXECUTE_PATH,
                   impact_statement=NOT_LINKED_IMPACT.format(path=f.path or "the binary"))
    else:
        out.update(status="affected", action_statement=(
            f"Upgrade {f.package} to {', '.join(f.fixed_versions)}" if f.fixed_versions
            else f"No fixed version of {f.package} is published"))
    return out


def vex_dict(result: ScanResult) -> dict:
    """The OpenVEX document as a JSON-ready dict."""
    product = image_purl(result.reference, result.digest, result.platform) or result.reference
    when = result.created_iso
    seen: set[tuple[str, str, str]] = set()
    statements = []
    for f in result.findings:
        key = (f.advisory_id, f.package, f.version)
        if key not in seen:
            seen.add(key)
            statements.append(statement(f, product, when))
    doc_id = uuid.uuid5(uuid.NAMESPACE_URL, f"imagewatch:openvex:{result.digest or result.reference}:{when}")
    return {"@context": CONTEXT, "@id": f"urn:uuid:{doc_id}", "author": "imagewatch",
            "timestamp": when, "version": 1, "tooling": f"imagewatch {result.tool_version}",
            "statements": statements}


class OpenVexFormat:
    """OpenVEX 0.2.0 JSON: affected / not_affected per finding."""

    name = "openvex"
    media_type = "application/json"

    def render(self, result: ScanResult, *, color: bool = False) -> bytes:
        """Indented OpenVEX JSON with a trailing newline."""
        return (json.dumps(vex_dict(result), indent=2, ensure_ascii=False) + "\n").encode()

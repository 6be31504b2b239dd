"""End-of-life dates of OS releases and runtimes from endoflife.date (https://endoflife.date).

Two shapes are read: the flattened summary (``{product: {"releases": [...]}}``,
dates as ISO strings, what ``../shared/data/eol/eol-summary.json`` holds and
what the API's ``/api/v1/products/<p>`` answers are turned into) and one
product's YAML front matter (``products/<product>.yaml`` of the
endoflife.date repository, ``releases`` of ``releaseCycle``, ``eol`` ...).
``eol`` is a date, or ``true``/``false`` when upstream gives no date.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import msgspec

URL = "https://endoflife.date/api/{product}.json"
_PRODUCT = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,63}$")


class EolRelease(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """One release cycle of a product: ``eol`` (ISO date, empty when only ``eol_flag`` is known)."""

    product: str
    cycle: str
    codename: str = ""
    release_date: str = ""
    eol: str = ""
    eol_flag: bool = False
    eoes: str = ""
    latest: str = ""


class EolCatalog(msgspec.Struct, kw_only=True):
    """The release cycles of the products of one file, replacing what was stored for those products."""

    products: dict[str, list[EolRelease]]


def _day(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        return value
    return ""


def _releases(product: str, items: Any) -> list[EolRelease]:
    out = []
    for r in items if isinstance(items, list) else ():
        if not isinstance(r, dict) or not str(r.get("releaseCycle", "")).strip():
            continue
        eol = r.get("eol")
        out.append(EolRelease(
            product=product, cycle=str(r["releaseCycle"]).strip()[:32], codename=str(r.get("codename") or "")[:64],
            release_date=_day(r.get("releaseDate")), eol=_day(eol), eol_flag=eol is True,
            eoes=_day(r.get("eoes")), latest=str(r.get("latest") or "")[:64]))
    return out


def is_eol_summary(doc: Any) -> bool:
    """Whether ``doc`` is the flattened summary: products mapping to ``releases`` with ``releaseCycle``."""
    if not isinstance(doc, dict) or not doc:
        return False
    for value in doc.values():
        rel = value.get("releases") if isinstance(value, dict) else None
        if not (isinstance(rel, list) and rel and isinstance(rel[0], dict) and "releaseCycle" in rel[0]):
            return False
    return True


def parse_summary(doc: dict[str, Any]) -> EolCatalog:
    """The catalog of a summary document; products with a malformed name are skipped."""
    return EolCatalog(products={p: _releases(p, v.get("releases")) for p, v in doc.items() if _PRODUCT.match(p)})


def is_eol_product(doc: Any) -> bool:
    """Whether ``doc`` is one product's endoflife.date front matter."""
    rel = doc.get("releases") if isinstance(doc, dict) else None
    return (isinstance(rel, list) and bool(rel) and isinstance(rel[0], dict) and "releaseCycle" in rel[0]
            and ("permalink" in doc or "title" in doc))


def parse_product(doc: dict[str, Any], name: str) -> EolCatalog:
    """The catalog of one product's front matter; the name comes from ``permalink``, else the file name."""
    product = str(doc.get("permalink") or name).strip("/").lower()
    if not _PRODUCT.match(product):
        return EolCatalog(products={})
    return EolCatalog(products={product: _releases(product, doc.get("releases"))})

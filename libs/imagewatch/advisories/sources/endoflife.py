"""endoflife.date as a sync source (``endoflife``): the products the EOL matcher looks up, one API answer each.

``https://endoflife.date/api/<product>.json`` answers a list of cycles
(``cycle``, ``codename``, ``releaseDate``, ``eol``, ``extendedSupport``,
``latest`` …). Each product is fetched conditionally with its own ETag; the
fingerprint is the JSON object of those per-product fingerprints. When none
changed the source is unchanged; otherwise every product is read (unchanged
ones fetched again, so the stored catalog stays whole) and the answers are
turned into the flattened summary that ``db import`` reads
(``signals.eol.parse_summary``). Any product failing fails the sync.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from imagewatch.advisories.sources.base import SourceError, Unchanged, discard
from imagewatch.advisories.sources.http import download, temp_path
from imagewatch.advisories.sources.signal import FileFeedSource
from imagewatch.matcher.eol import PRODUCTS
from imagewatch.signals.eol import URL, EolCatalog

# One product's answer is a few kB; anything far larger is not one.
MAX_PRODUCT_BYTES = 4 << 20
_FIELDS = {"cycle": "releaseCycle", "codename": "codename", "releaseDate": "releaseDate", "eol": "eol",
           "extendedSupport": "eoes", "latest": "latest"}


def to_summary(answers: dict[str, Any]) -> dict[str, Any]:
    """The flattened summary (``{product: {"releases": [...]}}``) of API answers by product.

    Cycles that are not objects with a ``cycle`` are dropped, and so are products left with none.
    """
    out: dict[str, Any] = {}
    for product, answer in answers.items():
        releases = [{new: item[old] for old, new in _FIELDS.items() if item.get(old) is not None}
                    for item in answer if isinstance(item, dict) and str(item.get("cycle", "")).strip()] \
            if isinstance(answer, list) else []
        if releases:
            out[product] = {"releases": releases}
    return out


class EndOfLifeSource(FileFeedSource):
    """endoflife.date API answers for ``products``; ``url`` has a ``{product}`` placeholder."""

    name = "endoflife"
    filename = "endoflife.json"
    kind = EolCatalog

    def __init__(self, url: str = URL, products: tuple[str, ...] = PRODUCTS) -> None:
        super().__init__(url)
        self.products = products

    async def _get(self, session: Any, product: str, fingerprint: str | None) -> tuple[Any, str]:
        url = self.url.replace("{product}", product)
        body, new = await download(session, self.name, url, fingerprint, max_bytes=MAX_PRODUCT_BYTES)
        try:
            return json.loads(body), new
        except ValueError as exc:
            raise SourceError(f"{self.name}: {url}: not JSON: {exc}") from None

    async def fetch(self, session: Any, fingerprint: str | None) -> tuple[bytes | Path, str]:
        """Fetch each product conditionally; Unchanged when none changed, else the summary file of all."""
        try:
            old = json.loads(fingerprint) if fingerprint else {}
        except ValueError:
            old = {}
        old = old if isinstance(old, dict) else {}
        answers: dict[str, Any] = {}
        prints: dict[str, str] = {}
        stale: list[str] = []
        for product in self.products:
            try:
                answers[product], prints[product] = await self._get(session, product, old.get(product) or None)
            except Unchanged:
                stale.append(product)
                prints[product] = str(old[product])
        if not answers:
            raise Unchanged(f"{self.name}: {len(stale)} products not modified")
        for product in stale:
            answers[product], prints[product] = await self._get(session, product, None)
        summary = to_summary(answers)
        if not summary:
            raise SourceError(f"{self.name}: no product answered with release cycles")
        dest = temp_path(self.filename)
        try:
            dest.write_text(json.dumps(summary))
        except BaseException:
            discard(dest)
            raise
        return dest, json.dumps(prints, sort_keys=True, separators=(",", ":"))

"""The advisory-store seam: what matching asks of wherever the advisories live.

Two implementations answer it alike: the PostgreSQL store
(``imagewatch.store.advisories.PgAdvisories``) the services and a configured
``imagewatch scan`` use, and the portable database file
(``imagewatch.store.dbfile.DbFile``) a serverless ``imagewatch scan`` reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from imagewatch.advisories.borrowed import Known
from imagewatch.advisories.model import Advisory


@runtime_checkable
class AdvisoryLookup(Protocol):
    """Live advisories by (ecosystem, package names), and known severities by vulnerability id."""

    async def advisories_for(self, ecosystem: str, names: Iterable[str]) -> dict[str, list[Advisory]]:
        """Live advisories naming each package of ``names`` in ``ecosystem`` or its release-less base.

        ``names`` are as the inventory has them (normalised for the lookup); the
        result is keyed by the names given, names without advisories absent.
        """
        ...

    async def known_severities(self, vuln_ids: Iterable[str]) -> dict[str, list[Known]]:
        """(advisory id, score, rating) of every live advisory naming each id; ids without any are absent."""
        ...

    async def cve_ratings(self, vuln_ids: Iterable[str]) -> dict[str, list[tuple[str, float | None, str]]]:
        """Ratings of each CVE id from its CVE record or NVD, as (provider, score, rating); absent when none."""
        ...

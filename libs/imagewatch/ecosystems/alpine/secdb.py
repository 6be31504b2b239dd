"""Alpine secdb (``https://secdb.alpinelinux.org/<branch>/<repo>.json``) as OSV advisories.

Each secdb file lists, per origin package of one branch, the versions that
fixed CVEs. Every CVE becomes one advisory (id = the CVE) with one affected
entry per (branch, package): ecosystem ``Alpine:v3.19``, an ECOSYSTEM range
introduced 0, fixed at the listed version. A fix listed as ``0`` means the
package was never affected, so it yields nothing. secdb carries no timestamps,
so ``modified`` stays empty; the store notices changes by content.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from imagewatch.advisories.model import Advisory, Affected, Event, PackageRef, Range
from imagewatch.advisories.sources.base import Unchanged, discard
from imagewatch.advisories.sources.http import download, temp_path

SECDB_URL = "https://secdb.alpinelinux.org"
DEFAULT_BRANCHES = ("v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "edge")
REPOS = ("main", "community")


def is_secdb(doc: Any) -> bool:
    """Whether a parsed JSON document looks like an Alpine secdb file."""
    return isinstance(doc, dict) and "packages" in doc and "distroversion" in doc


def convert(docs: Iterable[dict[str, Any]]) -> Iterator[Advisory]:
    """OSV-shaped advisories from parsed secdb documents, one per CVE across all of them."""
    by_id: dict[str, dict[tuple[str, str], list[str]]] = {}
    for doc in docs:
        ecosystem = f"Alpine:{doc['distroversion']}"
        for item in doc.get("packages") or []:
            pkg = item.get("pkg") or {}
            name = pkg.get("name")
            for fixed, cves in (pkg.get("secfixes") or {}).items():
                fixed = str(fixed).strip()
                if not name or fixed == "0":
                    continue
                for cve in cves or []:
                    token = str(cve).split()[0] if str(cve).strip() else ""
                    if token:
                        by_id.setdefault(token, {}).setdefault((ecosystem, name), []).append(fixed)
    for vuln_id in sorted(by_id):
        affected = [
            Affected(
                package=PackageRef(ecosystem=eco, name=name, purl=f"pkg:apk/alpine/{name}"),
                ranges=[Range(type="ECOSYSTEM", events=[Event(introduced="0"),
                                                        *(Event(fixed=f) for f in dict.fromkeys(fixes))])],
            )
            for (eco, name), fixes in sorted(by_id[vuln_id].items())
        ]
        yield Advisory(id=vuln_id, affected=affected,
                       database_specific={"source": "alpine-secdb"})


def read_docs(data: bytes | Path) -> list[dict[str, Any]]:
    """Parsed secdb documents from bytes, one file, or a directory of files (recursive)."""
    if isinstance(data, bytes):
        return [json.loads(data)]
    files = sorted(data.rglob("*.json")) if data.is_dir() else [data]
    docs = []
    for f in files:
        doc = json.loads(f.read_bytes())
        if is_secdb(doc):
            docs.append(doc)
    return docs


class AlpineSecdbSource:
    """All secdb files of the chosen branches, merged; fingerprint maps file -> ETag."""

    name = "alpine-secdb"

    def __init__(self, branches: Iterable[str] = DEFAULT_BRANCHES, base_url: str = SECDB_URL) -> None:
        self.files = [(b, r, f"{base_url}/{b}/{r}.json") for b in branches for r in REPOS]

    async def fetch(self, session: Any, fingerprint: str | None) -> tuple[bytes | Path, str]:
        """Download every file into a temporary directory unless none changed."""
        old = json.loads(fingerprint) if fingerprint else {}
        root = temp_path("secdb")
        root.mkdir()
        try:
            results = await asyncio.gather(*(
                self._one(session, root, b, r, url, old.get(url)) for b, r, url in self.files))
        except BaseException:
            discard(root)
            raise
        if not any(changed for changed, _fp in results):
            discard(root)
            raise Unchanged(f"{self.name}: no file changed")
        try:  # the merged parse needs every file, also the unchanged ones
            await asyncio.gather(*(
                download(session, self.name, url, None, root / b / f"{r}.json")
                for (b, r, url), (changed, _fp) in zip(self.files, results) if not changed))
        except BaseException:
            discard(root)
            raise
        new = {url: fp for (_b, _r, url), (_c, fp) in zip(self.files, results)}
        return root, json.dumps(new, sort_keys=True)

    async def _one(self, session: Any, root: Path, branch: str, repo: str, url: str,
                   fingerprint: str | None) -> tuple[bool, str]:
        dest = root / branch / f"{repo}.json"
        dest.parent.mkdir(exist_ok=True)
        try:
            _path, new = await download(session, self.name, url, fingerprint, dest)
            return True, new
        except Unchanged:
            return False, fingerprint or ""

    def parse(self, data: bytes | Path) -> Iterator[Advisory]:
        """Advisories from a fetched directory, one secdb file, or its bytes."""
        return convert(read_docs(data))

"""rpm analyser: installed rpms from sqlite, BerkeleyDB or NDB rpm databases.

The database format is chosen by its first bytes, not its file name. The
ecosystem is ``Red Hat`` here; composition renames it from the image's OSInfo
(Rocky Linux, AlmaLinux, openSUSE, SUSE ...). ``version`` is
``version-release``; ``epoch`` is kept apart, as in a purl's ``epoch=``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Literal

from imagewatch.models import Package
from imagewatch.ecosystems.rpm.rpmdb import bdb, ndb, sqlite
from imagewatch.ecosystems.rpm.rpmdb.header import RpmHeader, parse_header, source_name_version

DB_DIRS = ("var/lib/rpm/", "usr/lib/sysimage/rpm/", "usr/share/rpm/")
DB_FILES = ("rpmdb.sqlite", "Packages", "Packages.db")
Owned = dict[str, dict[str, list[str]]]


def iter_headers(path: Path) -> Iterator[RpmHeader]:
    """Every package header in the rpm database at ``path``, whatever its backend.

    Values that are not header blobs (BerkeleyDB's instance counter) are skipped;
    a malformed database raises ``RpmDbError``.
    """
    with path.open("rb") as f:
        magic = f.read(16)
    if magic.startswith(b"SQLite format 3\0"):
        blobs = sqlite.iter_blobs(path)
    elif magic[:4] == b"RpmP":
        blobs = ndb.iter_blobs(path)
    else:
        blobs = bdb.iter_blobs(path)
    for blob in blobs:
        if len(blob) < 16:
            continue
        yield parse_header(blob)


def package_from_header(h: RpmHeader, path: str) -> Package:
    """The Package for one header; the source package comes from the source rpm file name."""
    source_name, source_version = source_name_version(h.sourcerpm)
    return Package(
        name=h.name, version=f"{h.version}-{h.release}" if h.release else h.version,
        ecosystem="Red Hat", kind="os", path=path, arch=h.arch, epoch=h.epoch,
        source_name=source_name or h.name,
        source_version=source_version or (f"{h.version}-{h.release}" if h.release else h.version),
        licenses=[h.license] if h.license else [],
    )


class RpmAnalyser:
    """Installed rpm packages and the files each one owns."""

    name = "rpm"
    version = 1
    kind: Literal["os", "lang"] = "os"

    def wants(self, path: str, size: int) -> bool:
        """The package database in any of its known places and backends."""
        head, _, base = path.rpartition("/")
        return base in DB_FILES and f"{head}/" in DB_DIRS

    def analyse(self, files: Mapping[str, Path]) -> list[Package]:
        """Installed packages from the rpm databases among ``files``."""
        return self.analyse_with_owners(files)[0]

    def analyse_with_owners(self, files: Mapping[str, Path]) -> tuple[list[Package], Owned]:
        """Packages plus ownership: {db path: {package: [owned image paths]}}.

        A malformed database raises ``RpmDbError`` (the layer reader records it
        against this analyser); a missing one is simply no packages.
        """
        packages: list[Package] = []
        owned: Owned = {}
        for path in sorted(p for p in files if self.wants(p, 0)):
            headers = list(iter_headers(files[path]))
            db_owned: dict[str, list[str]] = {}
            for h in headers:
                if h.name == "gpg-pubkey":
                    continue
                packages.append(package_from_header(h, path))
                db_owned.setdefault(h.name, []).extend(f.lstrip("/") for f in h.files)
            owned[path] = db_owned
        return packages, owned

"""Real advisories and packages for the portable-database tests (from ``shared/data``).

The store gets the Debian 12 slice, the GitHub advisories and the PyPA records
of the same Python packages (PYSEC records carry no severity: they borrow the
GHSA one through an alias), the Alpine v3.19 secdb excerpt, and one withdrawn
PyPA record. The packages are the Debian minbase image's dpkg list, old
versions of those Python packages and Alpine's libssl3.
"""

from __future__ import annotations

from pathlib import Path

from imagewatch.models import OSInfo, Package

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TESTS = Path(__file__).resolve().parents[1]
PYTHON = {"django": "2.0", "flask": "0.12", "jinja2": "2.10", "urllib3": "1.24.1", "requests": "2.19.0",
          "werkzeug": "0.14", "pyyaml": "5.1", "pyjwt": "1.5.0", "idna": "2.5"}
WITHDRAWN = SHARED / "osv" / "PyPI" / "vulns" / "redis" / "PYSEC-2023-73.yaml"
DEBIAN = OSInfo(id="debian", version_id="12")
ALPINE = OSInfo(id="alpine", version_id="3.19.1")


def advisory_paths() -> list[Path]:
    """The files ``imagewatch db import`` is given."""
    pypa = [SHARED / "osv" / "PyPI" / "vulns" / name for name in PYTHON]
    return [SHARED / "debian" / "osv", SHARED / "ghsa", *[p for p in pypa if p.is_dir()], WITHDRAWN,
            TESTS / "advisories" / "data" / "secdb" / "v3.19" / "main.json"]


def debian_packages() -> list[Package]:
    """The dpkg packages of the Debian 12 minbase image the slice was cut for."""
    out = []
    for line in (SHARED / "debian" / "input" / "installed-packages.tsv").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, version, source, source_version, _arch = line.split("\t")[:5]
        out.append(Package(name=name, version=version, ecosystem="Debian", kind="os", source_name=source,
                           source_version=source_version, layer="sha256:" + "1" * 64,
                           path="var/lib/dpkg/status"))
    return out


def python_packages() -> list[Package]:
    """Old versions of the Python packages the GHSA and PyPA records name, and one with no record."""
    return [Package(name=n, version=v, ecosystem="PyPI", layer="sha256:" + "2" * 64,
                    path=f"usr/lib/python3/site-packages/{n}-{v}.dist-info/METADATA")
            for n, v in {**PYTHON, "redis": "4.5.3", "not-a-package": "1.0"}.items()]


def alpine_packages() -> list[Package]:
    """libssl3 one fix behind in Alpine v3.19."""
    return [Package(name="libssl3", version="3.1.4-r0", ecosystem="Alpine", kind="os", source_name="openssl",
                    source_version="3.1.4-r0", layer="sha256:" + "3" * 64, path="lib/apk/db/installed")]

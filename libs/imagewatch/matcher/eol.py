"""End of life: the image's OS release and the runtimes its inventory shows, against endoflife.date.

Runtimes are read from what the inventory found, never guessed from names alone:

* OS packages: ``python3.X`` / ``python3.X-minimal`` (Debian, Ubuntu), ``python3`` (Alpine, RPM),
  ``nodejs``, ``ruby3.X`` / ``ruby``, ``php8.X*`` / ``php8X`` / ``php``, ``dotnet-runtime-X.Y`` /
  ``aspnetcore-runtime-X.Y`` / ``dotnetX-runtime``, ``golang-1.X-go`` / ``go``, and the Java builds
  ``temurin-N-*`` (Eclipse Temurin), ``java-N-amazon-corretto*``, ``msopenjdk-N``, ``zuluN-*``
  (Azul Zulu), ``java-N-openjdk*`` on Red Hat family releases;
* language packages: a Python package's path ``…/pythonX.Y/site-packages/…`` (the interpreter it
  was installed for, e.g. the official ``python`` images build into ``/usr/local``), a gem's path
  ``…/ruby/gems/X.Y.0/…``, and the Go toolchain (``stdlib``) of each Go binary.

A release cycle is the longest dotted prefix of the version that the product lists (``3.11.9`` →
``3.11``, ``18.19.0`` → ``18``, ``8.0.4`` → ``8``). It is past its end of life when its ``eol``
date is before ``today`` (or upstream says only "ended"). For Debian the LTS date (``eoes``) is
used instead: Debian LTS ships its fixes through the ordinary security archive at no cost. For
every other product the regular end of life counts (Ubuntu ESM needs a subscription).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from imagewatch.models import EolFinding, OSInfo, Package
from imagewatch.signals.eol import EolRelease

OS_PRODUCTS = {"debian": ("debian", "Debian"), "alpine": ("alpine-linux", "Alpine Linux"),
               "ubuntu": ("ubuntu", "Ubuntu")}
LTS_COUNTS = frozenset({"debian"})
NAMES = {"python": "Python", "nodejs": "Node.js", "go": "Go", "ruby": "Ruby", "php": "PHP", "dotnet": ".NET",
         "eclipse-temurin": "Eclipse Temurin", "amazon-corretto": "Amazon Corretto",
         "microsoft-build-of-openjdk": "Microsoft Build of OpenJDK", "azul-zulu": "Azul Zulu",
         "red-hat-build-of-openjdk": "Red Hat build of OpenJDK"}
_RH = frozenset({"rhel", "centos", "rocky", "almalinux", "fedora", "ol", "amzn"})
# (pattern on the OS package name, product, where the version is: a group of the name, or "version")
_OS_RUNTIMES: tuple[tuple[re.Pattern[str], str, str | int], ...] = (
    (re.compile(r"^python(\d\.\d+)(-minimal)?$"), "python", 1),
    (re.compile(r"^python3$"), "python", "version"),
    (re.compile(r"^nodejs$"), "nodejs", "version"),
    (re.compile(r"^ruby(\d\.\d+)$"), "ruby", 1),
    (re.compile(r"^ruby$"), "ruby", "version"),
    (re.compile(r"^php(\d\.\d+)(-cli|-fpm|-common)?$"), "php", 1),
    (re.compile(r"^php(\d)(\d)$"), "php", "joined"),
    (re.compile(r"^php(-cli)?$"), "php", "version"),
    (re.compile(r"^(?:dotnet|aspnetcore)-runtime-(\d+\.\d+)$"), "dotnet", 1),
    (re.compile(r"^dotnet(\d+)-runtime$"), "dotnet", 1),
    (re.compile(r"^golang-(\d\.\d+)-go$"), "go", 1),
    (re.compile(r"^go$"), "go", "version"),
    (re.compile(r"^temurin-(\d+)-(?:jdk|jre)$"), "eclipse-temurin", 1),
    (re.compile(r"^java-(\d+)-amazon-corretto(?:-jdk|-devel|-headless)?$"), "amazon-corretto", 1),
    (re.compile(r"^msopenjdk-(\d+)$"), "microsoft-build-of-openjdk", 1),
    (re.compile(r"^zulu(\d+)-(?:jdk|jre|ca-jdk|ca-jre)(?:-headless)?$"), "azul-zulu", 1),
    (re.compile(r"^java-(\d+)-openjdk(?:-headless)?$"), "red-hat-build-of-openjdk", 1),
)
PRODUCTS: tuple[str, ...] = tuple(sorted({p for p, _ in OS_PRODUCTS.values()} | {p for _, p, _ in _OS_RUNTIMES}))
"""The endoflife.date products this matcher looks up (``endoflife`` sync fetches these)."""
_SITE = re.compile(r"(?:^|/)python(\d\.\d+)/(?:site|dist)-packages/")
_GEMS = re.compile(r"(?:^|/)ruby/gems/(\d+\.\d+)\.\d+/")
_UPSTREAM = re.compile(r"^(?:\d+:)?v?(\d+(?:\.\d+)*)")


def _upstream(version: str) -> str:
    found = _UPSTREAM.match(version.strip())
    return found.group(1) if found else ""


def runtimes(packages: Iterable[Package], os: OSInfo | None) -> dict[tuple[str, str], str]:
    """(product, version) of each runtime the packages show → the evidence (package name or path)."""
    out: dict[tuple[str, str], str] = {}
    rh = os is not None and os.id in _RH
    for p in packages:
        if p.kind == "os":
            for pattern, product, where in _OS_RUNTIMES:
                found = pattern.match(p.name)
                if not found or (product == "red-hat-build-of-openjdk" and not rh):
                    continue
                if where == "version":
                    version = _upstream(p.version)
                elif where == "joined":
                    version = f"{found.group(1)}.{found.group(2)}"
                else:
                    version = found.group(where)
                if version:
                    out.setdefault((product, version), p.name)
                break
        elif p.ecosystem == "PyPI" and (m := _SITE.search(p.path)):
            out.setdefault(("python", m.group(1)), p.path.split("/site-packages/")[0].split("/dist-packages/")[0])
        elif p.ecosystem == "RubyGems" and (m := _GEMS.search(p.path)):
            out.setdefault(("ruby", m.group(1)), p.path)
        elif p.ecosystem == "Go" and p.name == "stdlib" and p.version:
            out.setdefault(("go", _upstream(p.version)), p.path)
    return out


def cycle_of(version: str, releases: Iterable[EolRelease]) -> EolRelease | None:
    """The release whose cycle is the longest dotted prefix of ``version``."""
    by_cycle = {r.cycle: r for r in releases}
    parts = version.split(".")
    for n in range(len(parts), 0, -1):
        found = by_cycle.get(".".join(parts[:n]))
        if found is not None:
            return found
    return None


def _latest(releases: Iterable[EolRelease]) -> str:
    dated = [r for r in releases if r.release_date]
    return max(dated, key=lambda r: r.release_date).cycle if dated else ""


def _past(r: EolRelease, today: dt.date) -> tuple[bool, str]:
    """(past its end, the date that counts)."""
    end = r.eoes if r.product in LTS_COUNTS and r.eoes else r.eol
    if end:
        return dt.date.fromisoformat(end) < today, end
    return r.eol_flag, ""


def wanted_products(packages: Iterable[Package], os: OSInfo | None) -> set[str]:
    """The endoflife.date products to look up for an image."""
    found = {product for product, _ in runtimes(packages, os)}
    if os is not None and os.id in OS_PRODUCTS:
        found.add(OS_PRODUCTS[os.id][0])
    return found


def eol_findings(packages: list[Package], os: OSInfo | None, releases: Mapping[str, list[EolRelease]],
                 today: dt.date) -> list[EolFinding]:
    """The OS release and runtimes of an image that are past their end of life on ``today``."""
    out = []
    if os is not None and os.id in OS_PRODUCTS and os.version_id:
        product, title = OS_PRODUCTS[os.id]
        r = cycle_of(os.version_id, releases.get(product, ()))
        if r is not None and (ended := _past(r, today))[0]:
            out.append(EolFinding(component="os", product=product, cycle=r.cycle, name=f"{title} {r.cycle}",
                                  version=os.version_id, eol=ended[1],
                                  extended_until=r.eoes if r.product not in LTS_COUNTS else "",
                                  evidence="/etc/os-release", latest=_latest(releases.get(product, ()))))
    for (product, version), evidence in sorted(runtimes(packages, os).items()):
        r = cycle_of(version, releases.get(product, ()))
        if r is None or not (ended := _past(r, today))[0]:
            continue
        out.append(EolFinding(component="runtime", product=product, cycle=r.cycle,
                              name=f"{NAMES.get(product, product)} {r.cycle}", version=version, eol=ended[1],
                              extended_until=r.eoes if r.eoes and r.eoes > ended[1] else "",
                              evidence=evidence, latest=_latest(releases.get(product, ()))))
    return out


async def image_eol(conn, packages: list[Package], os: OSInfo | None, today: dt.date | None = None
                    ) -> list[EolFinding]:
    """``eol_findings`` against the releases stored in ``conn``."""
    from imagewatch.store.eol import eol_releases

    releases = await eol_releases(conn, wanted_products(packages, os))
    return eol_findings(packages, os, releases, today or dt.date.today())

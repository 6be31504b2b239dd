"""Package URLs from the catalog's purl rules: OS packages with their distro, and any package without one.

Built with ``packageurl-python`` so that escaping follows the purl spec.
"""

from __future__ import annotations

import msgspec
from packageurl import PackageURL

from imagewatch.ecosystems import catalog
from imagewatch.models import OSInfo, Package


def distro_qualifier(os: OSInfo | None) -> str:
    """``debian-12``, ``alpine-3.19.1``, ``rhel-9.3``; codename when there is no version."""
    if os is None:
        return ""
    release = os.version_id or os.version_codename
    return f"{os.id}-{release}" if release else os.id


def os_package(pkg: Package, os: OSInfo | None) -> Package:
    """``pkg`` (an analyser's OS package, ecosystem = its family) with the distro's ecosystem and a purl."""
    family = catalog.os_family(pkg.ecosystem)
    if family is None:
        return pkg
    ptype = family.purl_type
    d = catalog.distro(os.id) if os else None
    if d is not None and d.os_id in {x.os_id for x in family.distros}:
        ecosystem, namespace = d.ecosystem, d.purl_namespace
    elif os is not None:
        ecosystem, namespace = pkg.ecosystem, os.id
    else:
        ecosystem, namespace = pkg.ecosystem, family.distros[0].purl_namespace
    qualifiers = {"arch": pkg.arch} if pkg.arch else {}
    if ptype == "rpm" and pkg.epoch:
        qualifiers["epoch"] = str(pkg.epoch)
    if distro := distro_qualifier(os):
        qualifiers["distro"] = distro
    purl = PackageURL(type=ptype, namespace=namespace, name=pkg.name, version=pkg.version,
                      qualifiers=qualifiers).to_string()
    return msgspec.structs.replace(pkg, ecosystem=ecosystem, purl=purl)


def package_purl(p: Package, os: OSInfo | None = None) -> str:
    """``p.purl`` when set, else one built from its ecosystem, name and version."""
    if p.purl:
        return p.purl
    ptype, namespace, sep = catalog.purl_rule(p.ecosystem) or ("generic", "", "/")
    name = p.name
    if namespace is None:
        namespace, _, name = p.name.rpartition(sep)
    if ptype == "pypi":
        name = name.lower().replace("_", "-")
    qualifiers: dict[str, str] = {}
    if p.arch:
        qualifiers["arch"] = p.arch
    if os is not None and ptype in ("deb", "apk", "rpm"):
        qualifiers["distro"] = f"{os.id}-{os.version_id}" if os.version_id else os.id
    if p.epoch and ptype == "rpm":
        qualifiers["epoch"] = str(p.epoch)
    return PackageURL(type=ptype, namespace=namespace or None, name=name, version=p.version or None,
                      qualifiers=qualifiers or None).to_string()

"""Debian and Ubuntu: the dpkg status database, dpkg versions."""

from imagewatch.ecosystems.spec import Distro, Ecosystem, by_major, by_ubuntu_release

ECOSYSTEM = Ecosystem(
    name="debian",
    analysers=("imagewatch.ecosystems.debian.analyser:DpkgAnalyser",),
    family="Debian", purl_type="deb", scheme="dpkg",
    distros=(
        Distro("debian", "Debian", "debian", by_major),
        Distro("ubuntu", "Ubuntu", "ubuntu", by_ubuntu_release),
    ),
)

"""The rpm distributions: rpmdb (BerkeleyDB, NDB, SQLite), rpm versions.

OSV names the enterprise rebuilds by major release, SUSE and Photon OS by their whole version,
openEuler by branch and service pack (``openEuler:22.03-LTS-SP3``), openSUSE Leap as ``openSUSE:Leap 15.5``.
"""

from imagewatch.ecosystems.spec import Distro, Ecosystem, by_major, by_openeuler_release, by_version, fixed, prefixed

ECOSYSTEM = Ecosystem(
    name="rpm",
    analysers=("imagewatch.ecosystems.rpm.analyser:RpmAnalyser",),
    family="Red Hat", purl_type="rpm", scheme="rpm",
    distros=(
        Distro("rhel", "Red Hat", "redhat"),
        Distro("rocky", "Rocky Linux", "rocky"),
        Distro("almalinux", "AlmaLinux", "almalinux"),
        Distro("centos", "CentOS", "centos"),
        Distro("fedora", "Fedora", "fedora"),
        Distro("ol", "Oracle Linux", "oracle"),
        Distro("amzn", "Amazon Linux", "amazon"),
        Distro("opensuse-leap", "openSUSE", "opensuse", prefixed("Leap")),
        Distro("opensuse-tumbleweed", "openSUSE", "opensuse", fixed("Tumbleweed")),
        Distro("opensuse", "openSUSE", "opensuse", prefixed("Leap")),
        Distro("sles", "SUSE", "suse", by_version),
        Distro("sle-micro", "SUSE", "suse", by_version),
        Distro("sled", "SUSE", "suse", by_version),
        Distro("mageia", "Mageia", "mageia"),
        Distro("openeuler", "openEuler", "openeuler", by_openeuler_release),
        Distro("photon", "Photon OS", "photon", by_version),
        Distro("azurelinux", "Azure Linux", "azurelinux"),
        Distro("mariner", "Azure Linux", "mariner"),
    ),
)

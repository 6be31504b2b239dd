"""Alpine and the apk distributions: ``lib/apk/db/installed``, apk versions, Alpine secdb."""

from imagewatch.ecosystems.spec import Distro, Ecosystem, by_branch, unreleased

ECOSYSTEM = Ecosystem(
    name="alpine",
    analysers=("imagewatch.ecosystems.alpine.analyser:ApkAnalyser",),
    family="Alpine", purl_type="apk", scheme="apk",
    distros=(
        Distro("alpine", "Alpine", "alpine", by_branch),
        Distro("wolfi", "Wolfi", "wolfi", unreleased),
        Distro("chainguard", "Chainguard", "chainguard", unreleased),
    ),
    sources=("imagewatch.ecosystems.alpine.secdb:AlpineSecdbSource",),
)

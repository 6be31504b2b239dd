"""SBOM files shipped in images (CycloneDX, SPDX): packages in any ecosystem above."""

from imagewatch.ecosystems.spec import Ecosystem

ECOSYSTEM = Ecosystem(
    name="sbom",
    analysers=("imagewatch.ecosystems.sbom.analyser:SbomAnalyser",),
)

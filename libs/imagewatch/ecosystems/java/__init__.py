"""Java archives: jar/war/ear (nested), pom.properties, manifests, Maven versions."""

from imagewatch.ecosystems.spec import Ecosystem, Language

ECOSYSTEM = Ecosystem(
    name="java",
    analysers=("imagewatch.ecosystems.java.analyser:JavaAnalyser",),
    languages=(Language("Maven", "maven", "maven", None, ":", report_type="pom"),),
)

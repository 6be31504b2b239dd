"""PHP packages: Composer's installed.json, Composer versions."""

from imagewatch.ecosystems.spec import Ecosystem, Language

ECOSYSTEM = Ecosystem(
    name="php",
    analysers=("imagewatch.ecosystems.php.analyser:PhpAnalyser",),
    languages=(Language("Packagist", "composer", "composer", None, report_type="composer"),),
)

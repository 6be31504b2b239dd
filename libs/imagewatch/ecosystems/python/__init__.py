"""Python packages: dist-info, egg-info, PEP 440 versions."""

from imagewatch.ecosystems.spec import Ecosystem, Language

ECOSYSTEM = Ecosystem(
    name="python",
    analysers=("imagewatch.ecosystems.python.analyser:PythonAnalyser",),
    languages=(Language("PyPI", "pep440", "pypi", "", report_type="pip"),),
)

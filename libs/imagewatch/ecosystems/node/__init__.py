"""Node.js packages: package.json and the npm, yarn and pnpm lock files, semver."""

from imagewatch.ecosystems.spec import Ecosystem, Language

ECOSYSTEM = Ecosystem(
    name="node",
    analysers=("imagewatch.ecosystems.node.analyser:NodeAnalyser",),
    languages=(Language("npm", "semver", "npm", None, report_type="npm"),),
)

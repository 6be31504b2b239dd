""".NET packages: deps.json, NuGet versions."""

from imagewatch.ecosystems.spec import Ecosystem, Language

ECOSYSTEM = Ecosystem(
    name="dotnet",
    analysers=("imagewatch.ecosystems.dotnet.analyser:DotnetAnalyser",),
    languages=(Language("NuGet", "nuget", "nuget", "", report_type="dotnet-core"),),
)

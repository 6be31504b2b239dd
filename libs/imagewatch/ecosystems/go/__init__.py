"""Go binaries: build info (modules, toolchain) from ELF, PE and Mach-O, Go versions."""

from imagewatch.ecosystems.spec import Ecosystem, Language

ECOSYSTEM = Ecosystem(
    name="go",
    analysers=("imagewatch.ecosystems.go.analyser:GoBinaryAnalyser",),
    languages=(Language("Go", "go", "golang", None, report_type="gobinary"),),
)

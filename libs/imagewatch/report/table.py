"""The terminal table, laid out like Trivy's: one boxed table per target.

Each target gets a title, a ``Total:`` line counting its findings per severity
and a table sorted by package then severity. Secrets show only their preview.
ANSI colours are added only when asked (``color=True``), after the padding, so
column widths never count escape codes.
"""

from __future__ import annotations

import posixpath
import unicodedata
from collections import Counter

from imagewatch.ecosystems.catalog import base_ecosystem
from imagewatch.matcher.coverage import CoverageEntry
from imagewatch.models import Finding, SecretFinding
from imagewatch.report import severity as sev
from imagewatch.matcher.priority import Ranked
from imagewatch.report.result import ScanResult, finding_ref
from imagewatch.report.targets import Target, build_targets

TITLE_WIDTH = 60
_COLORS = {
    "critical": "\x1b[1;31m", "high": "\x1b[31m", "medium": "\x1b[33m",
    "low": "\x1b[34m", "info": "\x1b[36m", "unknown": "\x1b[2m",
}
_RESET = "\x1b[0m"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _clip(text: str, limit: int = TITLE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _grid(header: list[str], rows: list[list[str]], colors: list[str | None]) -> list[str]:
    """Box-drawn table; ``colors[i]`` wraps the severity cell of row ``i``."""
    widths = [max(_width(r[c]) for r in [header, *rows]) for c in range(len(header))]

    def line(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    def cells(row: list[str], color: str | None) -> str:
        out = []
        for i, (cell, w) in enumerate(zip(row, widths)):
            padded = cell + " " * (w - _width(cell))
            if color and header[i] == "Severity":
                padded = f"{color}{cell}{_RESET}" + " " * (w - _width(cell))
            out.append(f" {padded} ")
        return "│" + "│".join(out) + "│"

    out = [line("┌", "┬", "┐"), cells(header, None), line("├", "┼", "┤")]
    out += [cells(r, c) for r, c in zip(rows, colors)]
    out.append(line("└", "┴", "┘"))
    return out


def _total(severities: list[str]) -> str:
    c = sev.counts(severities)
    parts = ", ".join(f"{s.upper()}: {c[s]}" for s in reversed(sev.SEVERITIES))
    return f"Total: {len(severities)} ({parts})"


def _vuln_id(f: Finding) -> str:
    cve = f.cve
    return f.advisory_id if cve in (None, f.advisory_id) else f"{f.advisory_id} ({cve})"


def _library(f: Finding, ambiguous: bool) -> str:
    # The same package twice in one target (two venvs): say which file each row is about.
    if not (ambiguous and f.path):
        return f.package
    where = posixpath.dirname(f.path)
    if where.endswith((".dist-info", ".egg-info")) or posixpath.basename(where) == f.package:
        where = posixpath.dirname(where)
    return f"{f.package} ({where if len(where) <= 40 else '…' + where[-39:]})"


def _title(f: Finding) -> str:
    """The summary, prefixed ``[not linked]`` for Go code the binary does not link."""
    return _clip(f"[not linked] {f.summary}" if not f.linked else f.summary)


def _epss_text(r: Ranked | None) -> str:
    if r is None or r.signals.epss is None:
        return ""
    return f"{r.signals.epss:.2f} ({(r.signals.epss_percentile or 0) * 100:.0f}%)"


def _kev_text(r: Ranked | None) -> str:
    if r is None or not r.signals.kev:
        return ""
    return "yes (ransomware)" if r.signals.kev_ransomware else "yes"


def _vuln_rows(t: Target, ranking: dict | None = None, by_priority: bool = False,
               ) -> tuple[list[str], list[list[str]], list[str]]:
    """Rows by package then severity; by fix-first rank with ``by_priority``; KEV/EPSS columns with ``ranking``."""
    header = ["Package" if t.cls == "os-pkgs" else "Library", "Vulnerability", "Severity",
              "Installed", "Fixed", "Title"]
    ordered = sorted(t.findings, key=lambda f: (f.package, -sev.rank(f.severity), f.advisory_id, f.path))
    if by_priority and ranking:
        ordered.sort(key=lambda f: ranking[finding_ref(f)].priority.rank)
    seen = Counter((f.package, f.version, f.advisory_id) for f in ordered)
    rows = [[_library(f, seen[(f.package, f.version, f.advisory_id)] > 1), _vuln_id(f),
             f.severity.upper(), f.version,
             ", ".join(f.fixed_versions), _title(f)] for f in ordered]
    if ranking is not None:
        header[3:3] = ["KEV", "EPSS"]
        for row, f in zip(rows, ordered):
            r = ranking.get(finding_ref(f))
            row[3:3] = [_kev_text(r), _epss_text(r)]
    if by_priority and ranking:
        header.insert(0, "Priority")
        for row, f in zip(rows, ordered):
            p = ranking[finding_ref(f)].priority
            row.insert(0, f"{p.rank} · {p.tier_name}")
    return header, rows, [f.severity for f in ordered]


def _secret_rows(t: Target) -> tuple[list[str], list[list[str]], list[str]]:
    items: list[SecretFinding] = sorted(t.secrets, key=lambda s: (-sev.rank(s.severity), s.line, s.rule_id))
    if t.cls == "secret":
        header = ["Rule", "Severity", "Title", "Line", "Layer", "Match"]
        rows = [[s.rule_id, s.severity.upper(), _clip(s.title, 40), str(s.line or ""),
                 _layer_text(s), f"{s.preview}*****" if s.preview else ""] for s in items]
    else:
        header = ["ID", "Severity", "Title", "Resolution"]
        rows = [[s.rule_id, s.severity.upper(), _clip(s.title, 50), _clip(s.remediation, 50)]
                for s in items]
    return header, rows, [s.severity for s in items]


def _malware_rows(t: Target) -> tuple[list[str], list[list[str]], list[str]]:
    header = ["ID", "Severity", "Where", "Layer", "Title"]
    rows: list[tuple[str, list[str]]] = [
        (f.severity, [f.advisory_id, f.severity.upper(), f"{f.package}@{f.version} ({f.ecosystem})",
                      "", _clip(f.summary)]) for f in t.findings]
    rows += [(s.severity, [s.rule_id, s.severity.upper(), _clip(s.path, 50), _layer_text(s), _clip(s.title)])
             for s in t.secrets]
    rows.sort(key=lambda r: (-sev.rank(r[0]), r[1][0], r[1][2]))
    return header, [r for _, r in rows], [s for s, _ in rows]


def _layer_text(s: SecretFinding) -> str:
    if s.layer_index is None:
        return ""
    text = str(s.layer_index)
    return f"{text} (removed in {s.removed_in})" if s.removed_in is not None else text


def _uncovered(result: ScanResult, t: Target) -> CoverageEntry | None:
    if result.coverage is None or t.cls not in ("os-pkgs", "lang-pkgs"):
        return None
    for e in result.coverage.not_covered:
        if (e.kind == "os") == (t.cls == "os-pkgs") and (
                e.kind == "os" or any(base_ecosystem(p.ecosystem) == e.ecosystem for p in t.packages)):
            return e
    return None


def _section(t: Target, color: bool, uncovered: CoverageEntry | None = None, ranking: dict | None = None,
             by_priority: bool = False) -> list[str]:
    heading = {"secret": f"{t.name} (secrets)", "config": f"{t.name} (misconfigurations)"}.get(t.cls, t.name)
    if t.cls == "lang-pkgs" and t.type:
        heading = f"{t.name} ({t.type})"
    if t.cls == "malware":
        header, rows, severities = _malware_rows(t)
    elif t.cls in ("os-pkgs", "lang-pkgs"):
        header, rows, severities = _vuln_rows(t, ranking, by_priority)
    else:
        header, rows, severities = _secret_rows(t)
    out = ["", heading, "=" * _width(heading), _total(severities)]
    if uncovered is not None:  # nothing was checked: no "Total: 0" that reads as clean
        out[3] = (f"Not covered: no advisory data for {uncovered.ecosystem}; "
                  f"{uncovered.packages} packages not checked")
    if t.suppressed:
        out.append(f"Suppressed: {len(t.suppressed)} (see --format json)")
    if rows:
        out.append("")
        out += _grid(header, rows, [_COLORS.get(s) if color else None for s in severities])
    return out


def render_table(result: ScanResult, *, color: bool = False) -> str:
    """The report as text for a terminal."""
    lines = [f"{result.reference}" + (f"@{result.digest}" if result.digest else "")]
    if result.os is not None:
        lines.append(f"OS: {result.os.pretty_name or (result.os.id + ' ' + result.os.version_id)}")
    lines.append(f"Packages: {len(result.packages)}")
    by_priority = result.sort == "priority"
    ranking = result.ranking() if by_priority or result.has_signals else None
    for t in build_targets(result):
        lines += _section(t, color, _uncovered(result, t), ranking, by_priority)
    if result.eol:
        lines += ["", "End of life", "===========", f"Total: {len(result.eol)}", ""]
        lines += _grid(["Component", "Version", "End of life", "Found in", "Latest"],
                       [[e.name, e.version, e.eol or "ended", _clip(e.evidence, 50), e.latest] for e in result.eol],
                       [None] * len(result.eol))
    lines += _fix_section(result)
    if result.coverage is not None:
        lines += ["", *(f"Warning: {w}" for w in result.coverage.warnings)] if result.coverage.warnings else []
    return "\n".join(lines) + "\n"


def _fix_section(result: ScanResult) -> list[str]:
    """The remediation plan: the most effective action, one row per upgrade, the advice."""
    plan = result.remediation()
    if not (plan.actions or plan.advice):
        return []
    out = ["", "Fix", "===", f"Fixable: {plan.fixable} findings by {len(plan.actions)} upgrades"
           + (f"; no fix yet: {len(plan.unfixed)}" if plan.unfixed else "")]
    if plan.top:
        out.append(f"First: {plan.top}")
    if plan.actions:
        out.append("")
        rows = [[a.package, ", ".join(a.installed), a.target, str(a.fixes), str(a.critical), a.layer,
                 _clip(a.command, 80)] for a in plan.actions]
        out += _grid(["Package", "Installed", "Upgrade to", "Fixes", "Critical", "Layer", "Command"], rows,
                     [None] * len(rows))
    if plan.advice:
        out += ["", *(f"Advice: {a}" for a in plan.advice)]
    return out


class TableFormat:
    """Human-readable tables for a terminal (colours only when asked)."""

    name = "table"
    media_type = "text/plain; charset=utf-8"

    def render(self, result: ScanResult, *, color: bool = False) -> bytes:
        """UTF-8 text; severity cells coloured with ANSI codes when ``color``."""
        return render_table(result, color=color).encode()

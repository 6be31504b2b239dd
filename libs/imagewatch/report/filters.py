"""``--severity`` and ``--ignore-unfixed``, and the ``--exit-code`` decision.

Severity filters apply to vulnerabilities, secrets and misconfigurations alike;
``ignore_unfixed`` drops vulnerabilities without a fixed version (secrets and
misconfigurations are always "fixable"). Suppressed items are left untouched.
"""

from __future__ import annotations

from collections.abc import Collection

import msgspec

from imagewatch.models import Finding, SecretFinding
from imagewatch.report.result import ScanResult
from imagewatch.report.severity import parse_severities


def _severities(severities: Collection[str] | str | None) -> frozenset[str] | None:
    if severities is None:
        return None
    return parse_severities(severities)


def keep_finding(f: Finding, severities: frozenset[str] | None, ignore_unfixed: bool) -> bool:
    """True when ``f`` passes the severity and fixability filters."""
    # A malicious package has no fixed version: removing it is the fix, so --ignore-unfixed keeps it.
    fixed = f.fixable or f.kind == "malware"
    return (severities is None or f.severity in severities) and (fixed or not ignore_unfixed)


def keep_secret(s: SecretFinding, severities: frozenset[str] | None) -> bool:
    """True when ``s`` passes the severity filter."""
    return severities is None or s.severity in severities


def filter_result(result: ScanResult, severities: Collection[str] | str | None = None,
                  ignore_unfixed: bool = False) -> ScanResult:
    """A copy of ``result`` holding only the findings and secrets that pass the filters.

    ``severities`` is a set of names or a ``"HIGH,CRITICAL"`` string; None keeps all.
    Packages are kept whole (an SBOM is not filtered).
    """
    sevs = _severities(severities)
    return msgspec.structs.replace(
        result,
        findings=[f for f in result.findings if keep_finding(f, sevs, ignore_unfixed)],
        secrets=[s for s in result.secrets if keep_secret(s, sevs)],
    )


def should_fail(result: ScanResult, severities: Collection[str] | str | None = None,
                ignore_unfixed: bool = False, show_unreachable: bool = False) -> bool:
    """True when any finding, secret or misconfiguration passes the filters.

    ``imagewatch scan --exit-code N`` exits N when this is true, 0 otherwise.
    Suppressed items never count, nor do Go findings whose vulnerable code is
    not linked (``reachability`` ``not-linked``) unless ``show_unreachable``.
    """
    sevs = _severities(severities)
    return (any(keep_finding(f, sevs, ignore_unfixed) and (show_unreachable or f.linked)
                for f in result.findings)
            or any(keep_secret(s, sevs) for s in result.secrets))

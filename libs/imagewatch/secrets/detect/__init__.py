"""Secret detection and image misconfiguration checks.

``Scanner(key=...)`` scans file bytes against the rule table in ``rules.py`` and
returns redacted ``SecretFinding`` records (fingerprint and preview only);
``misconfig`` checks an image config and filesystem metadata. Nothing here
does I/O at import time; rules are compiled when a ``Scanner`` is built.
"""

from __future__ import annotations

from imagewatch.secrets.detect.redaction import fingerprint, preview
from imagewatch.secrets.detect.rule import Rule, RuleError
from imagewatch.secrets.detect.rules import default_rules
from imagewatch.secrets.detect.scanner import DEFAULT_MAX_SIZE, Scanner
from imagewatch.secrets.detect.stats import ScanStats

__all__ = [
    "DEFAULT_MAX_SIZE",
    "Rule",
    "RuleError",
    "ScanStats",
    "Scanner",
    "default_rules",
    "fingerprint",
    "preview",
]

"""The secret scanner: one prefilter pass per file, full rules only around hits.

Paths matched by the third-party globs (``THIRD_PARTY_PATHS`` in ``rules.py``)
are scanned by the rules whose ``third_party`` is ``low`` only, and what they
find there is reported at most at severity ``low``, with ``THIRD_PARTY_NOTE``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from imagewatch.models import SEVERITY_ORDER, SecretFinding, Severity
from imagewatch.secrets.detect.engines import build_prefilter
from imagewatch.secrets.detect.engines.base import WHOLE_FILE
from imagewatch.secrets.detect.entropy import shannon_entropy
from imagewatch.secrets.detect.paths import PathGlobs
from imagewatch.secrets.detect.placeholders import is_placeholder, is_template
from imagewatch.secrets.detect.redaction import fingerprint, preview
from imagewatch.secrets.detect.rule import CompiledRule, Rule, compile_rules
from imagewatch.secrets.detect.sniff import is_binary
from imagewatch.secrets.detect.stats import ScanStats
from imagewatch.secrets.detect.validators import get_validator

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
# How far around a keyword hit on a long line the rule regex looks.
SPAN = 2048
DEFAULT_REMEDIATION = (
    "Remove the secret from the image and from every layer that holds it (use build "
    "secrets or runtime injection instead), then revoke and rotate it."
)
THIRD_PARTY_SEVERITY: Severity = "low"
THIRD_PARTY_NOTE = (
    "Found under a third-party or documentation path (a package directory, docs, test fixtures), "
    "so reported at low severity; if it is a real credential it still leaks: "
)


@dataclass(slots=True)
class _Hit:
    start: int
    end: int
    rule: CompiledRule
    raw: bytes
    severity: Severity
    third_party: bool = False


class Scanner:
    """Finds secrets in file contents and returns redacted ``SecretFinding``s.

    ``key`` is the per-installation HMAC key for fingerprints. One scanner
    compiles its rules once; it is cheap to call and not thread-safe (the
    Hyperscan scratch space is per database), so use one per thread.
    ``third_party`` globs default to ``rules.THIRD_PARTY_PATHS``; ``()`` turns
    path awareness off.
    """

    def __init__(
        self,
        rules: Sequence[Rule] | None = None,
        *,
        key: bytes,
        max_size: int = DEFAULT_MAX_SIZE,
        engine: str | None = None,
        third_party: Sequence[str] | None = None,
    ) -> None:
        if not key:
            raise ValueError("secrets: Scanner needs a non-empty fingerprint key")
        if rules is None or third_party is None:
            from imagewatch.secrets.detect import rules as table
            rules = table.default_rules() if rules is None else rules
            third_party = table.THIRD_PARTY_PATHS if third_party is None else third_party
        self._key = key
        self.max_size = max_size
        self.rules = list(rules)
        self._compiled = compile_rules(self.rules)
        self._validators = {
            i: get_validator(c.rule.validator)
            for i, c in enumerate(self._compiled)
            if c.rule.validator
        }
        self._third_party = PathGlobs(third_party)
        self._skip_third_party = [c.rule.third_party == "skip" for c in self._compiled]
        self._prefilter = build_prefilter(self.rules, engine)
        self.engine = self._prefilter.name
        self.stats = ScanStats()

    def fingerprint(self, raw: bytes) -> str:
        """HMAC-SHA256 of ``raw`` under this scanner's key (for config values)."""
        return fingerprint(self._key, raw)

    def scan(self, path: str, data: bytes) -> list[SecretFinding]:
        """Scan one file's bytes; skip (and count) binary and oversized files."""
        if len(data) > self.max_size:
            self.stats.skipped_too_large += 1
            return []
        if is_binary(data):
            self.stats.skipped_binary += 1
            return []
        self.stats.files_scanned += 1
        self.stats.bytes_scanned += len(data)
        if not data:
            return []
        hits = self._prefilter.hits(data)
        if not hits:
            return []
        third_party = self._third_party.match(path)
        if third_party:
            hits = [h for h in hits if not self._skip_third_party[h[0]]]
            if not hits:
                return []
        accepted = self._match(data, hits, third_party)
        return self._findings(path, data, accepted)

    def is_third_party(self, path: str) -> bool:
        """Whether ``path`` is under a third-party or documentation glob of this scanner."""
        return self._third_party.match(path)

    def scan_text(self, path: str, text: str) -> list[SecretFinding]:
        """Scan a string (an image config value); no size or binary checks."""
        data = text.encode("utf-8", "surrogateescape")
        hits = self._prefilter.hits(data)
        return self._findings(path, data, self._match(data, hits)) if hits else []

    def _match(self, data: bytes, hits: list[tuple[int, int]], third_party: bool = False) -> list[_Hit]:
        by_rule: dict[int, list[int]] = {}
        for rule, off in hits:
            by_rule.setdefault(rule, []).append(off)
        accepted: list[_Hit] = []
        for idx in sorted(by_rule):
            for start, end in _windows(data, by_rule[idx], self._compiled[idx].rule.window):
                for m in self._compiled[idx].regex.finditer(data, start, end):
                    hit = self._check(idx, m, third_party)
                    if hit is not None and not _overlaps(hit, accepted):
                        accepted.append(hit)
        return accepted

    def _check(self, idx: int, m: re.Match[bytes], third_party: bool) -> _Hit | None:
        compiled = self._compiled[idx]
        rule = compiled.rule
        start, end = m.span("secret")
        if start < 0 or start == end:
            return None
        raw = m.group("secret")
        value = raw.decode("utf-8", "replace")
        if is_template(value) or any(a.search(value) for a in compiled.allow):
            return None
        validator = self._validators.get(idx)
        if validator is not None and not validator(value, m.group(0).decode("utf-8", "replace")):
            return None
        if rule.entropy is not None and shannon_entropy(value) < rule.entropy:
            return None
        severity = rule.severity
        if rule.placeholders and is_placeholder(value):
            if rule.generic:
                return None
            severity = "info"
        if third_party and SEVERITY_ORDER[severity] > SEVERITY_ORDER[THIRD_PARTY_SEVERITY]:
            severity = THIRD_PARTY_SEVERITY
        return _Hit(start, end, compiled, raw, severity, third_party)

    def _findings(self, path: str, data: bytes, hits: list[_Hit]) -> list[SecretFinding]:
        hits.sort(key=lambda h: h.start)
        out = []
        line, pos = 1, 0
        for h in hits:
            line += data.count(b"\n", pos, h.start)
            pos = h.start
            rule = h.rule.rule
            out.append(
                SecretFinding(
                    kind="secret",
                    rule_id=rule.id,
                    title=rule.title,
                    severity=h.severity,
                    path=path,
                    line=line,
                    fingerprint=fingerprint(self._key, h.raw),
                    preview=preview(h.raw.decode("utf-8", "replace")),
                    remediation=(THIRD_PARTY_NOTE if h.third_party else "") + (rule.remediation or DEFAULT_REMEDIATION),
                )
            )
            self.stats.placeholders += h.severity == "info" and rule.severity != "info"
        self.stats.findings += len(out)
        return out


def _windows(data: bytes, offsets: list[int], window: int) -> list[tuple[int, int]]:
    """Merge the neighbourhoods of the hit offsets into disjoint byte ranges."""
    if WHOLE_FILE in offsets:
        return [(0, len(data))]
    out: list[tuple[int, int]] = []
    for off in sorted(set(offsets)):
        if out and off < out[-1][1]:
            continue
        line_start = data.rfind(b"\n", 0, max(off - 1, 0)) + 1
        if window:
            start, end = line_start, min(len(data), line_start + window)
        else:
            line_end = data.find(b"\n", off)
            if line_end < 0:
                line_end = len(data)
            start, end = max(line_start, off - SPAN), min(line_end, off + SPAN)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _overlaps(hit: _Hit, accepted: list[_Hit]) -> bool:
    return any(hit.start < a.end and a.start < hit.end for a in accepted)

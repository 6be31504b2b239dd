"""One secret rule: a row of the rule table, and its compiled form.

A rule is plain data (strings and numbers) so that the table in ``rules.py``
reads as a table and costs nothing to import; ``compile_rule`` turns a row into
regex objects when a ``Scanner`` is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from imagewatch.models import Severity
from imagewatch.errors import ImagewatchError


THIRD_PARTY_ACTIONS = ("low", "skip")


@dataclass(frozen=True, slots=True)
class Rule:
    """A secret rule.

    ``pattern`` is a Python regex over bytes with a named group ``secret``.
    ``keywords`` are literals, at least one of which occurs inside every match;
    they drive the one-pass prefilter (lowercase, matched caselessly, unless
    ``case_sensitive``). ``anchor`` is an optional Hyperscan-compatible regex
    used instead of the keywords by the Hyperscan engine: every real match must
    contain an anchor hit. ``generic`` rules (keyword plus free-form value) drop
    placeholder values; specific rules (a provider's exact token format) keep
    them at severity ``info``; ``placeholders=False`` turns that heuristic off
    (private keys, whose base64 bodies hold long runs). ``allow`` patterns drop a value for this rule
    only. ``validator`` names a check in ``validators.py``. ``window`` is how many
    bytes after the line start a multi-line match may span (private keys).
    ``third_party`` is what the rule does in third-party and documentation paths
    (``THIRD_PARTY_PATHS`` in ``rules.py``): ``"low"`` reports at most at
    severity ``low``, ``"skip"`` reports nothing there.
    """

    id: str
    title: str
    severity: Severity
    keywords: tuple[str, ...]
    pattern: str
    entropy: float | None = None
    allow: tuple[str, ...] = ()
    generic: bool = False
    case_sensitive: bool = False
    anchor: str | None = None
    validator: str | None = None
    window: int = 0
    placeholders: bool = True
    remediation: str = ""
    third_party: str = "low"


@dataclass(slots=True)
class CompiledRule:
    """A rule with its regexes compiled; built once per ``Scanner``."""

    rule: Rule
    regex: re.Pattern[bytes]
    allow: tuple[re.Pattern[str], ...] = field(default_factory=tuple)


class RuleError(ImagewatchError, ValueError):
    """A rule row is malformed (bad regex, no ``secret`` group, duplicate id)."""


def compile_rule(rule: Rule) -> CompiledRule:
    """Compile one rule row; raise ``RuleError`` with the rule id on any defect."""
    try:
        regex = re.compile(rule.pattern.encode())
        allow = tuple(re.compile(a) for a in rule.allow)
    except re.error as e:
        raise RuleError(f"secrets: rule {rule.id}: bad regex: {e}") from None
    if "secret" not in regex.groupindex:
        raise RuleError(f"secrets: rule {rule.id}: pattern has no 'secret' group")
    if not rule.keywords and rule.anchor is None:
        raise RuleError(f"secrets: rule {rule.id}: needs keywords or an anchor")
    if rule.third_party not in THIRD_PARTY_ACTIONS:
        raise RuleError(f"secrets: rule {rule.id}: third_party must be one of {THIRD_PARTY_ACTIONS}")
    if not rule.case_sensitive and any(k != k.lower() for k in rule.keywords):
        raise RuleError(f"secrets: rule {rule.id}: keywords must be lowercase")
    return CompiledRule(rule=rule, regex=regex, allow=allow)


def compile_rules(rules: list[Rule] | tuple[Rule, ...]) -> list[CompiledRule]:
    """Compile every rule, refusing duplicate ids."""
    seen: set[str] = set()
    out = []
    for r in rules:
        if r.id in seen:
            raise RuleError(f"secrets: duplicate rule id {r.id!r}")
        seen.add(r.id)
        out.append(compile_rule(r))
    return out

"""Precision and recall on the labelled public cases in ../shared/data/secrets.

* detect-secrets: ``detect_secrets_cases.jsonl`` rows (rule_id, label tp/fp,
  text); each text is scanned as a file. ``ip_public`` rows are left out: a
  public IP address is not a secret and no rule here looks for one.
* Trivy: fixture files of its secret scanner, labelled by file name (below).
  Trivy's scanner-config YAML files and the targets that only its custom-rule
  configs act on are not cases.

A case counts as detected when any rule reports it. "strict" figures also
count findings downgraded to ``info`` as placeholders as misses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from imagewatch.secrets.detect import Scanner

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "secrets"
EXCLUDED_PLUGINS = {"detect-secrets:ip_public"}
TRIVY_NEGATIVE = {
    "invalid-aws-secrets.txt", "openai-invalid.txt", "wrapped-secrets.txt",
    "obfuscated.js", "settings-encrypted.xml",
}
TRIVY_NOT_CASES = {"secret.txt", "secret.md", "multi-line.txt"}  # custom-rule targets
MIN = 0.90


def _cases() -> list[tuple[str, str, bool, bytes]]:
    """(source, name, is_secret, content) for every labelled case."""
    out = []
    for line in (DATA / "detect-secrets" / "detect_secrets_cases.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["rule_id"] not in EXCLUDED_PLUGINS:
            out.append(("detect-secrets", row["rule_id"], row["label"] == "tp", row["text"].encode()))
    for p in sorted((DATA / "trivy" / "testdata").iterdir()):
        if p.suffix == ".yaml" and p.name != "symfony-secret.yaml" or p.name in TRIVY_NOT_CASES:
            continue
        out.append(("trivy", p.name, p.name not in TRIVY_NEGATIVE, p.read_bytes()))
    return out


def _score(results: list[tuple[bool, bool]]) -> tuple[float, float, int, int, int]:
    tp = sum(1 for truth, hit in results if truth and hit)
    fp = sum(1 for truth, hit in results if not truth and hit)
    fn = sum(1 for truth, hit in results if truth and not hit)
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1), tp, fp, fn


@pytest.mark.skipif(not DATA.is_dir(), reason=f"labelled secret cases not found at {DATA} (../shared/data/secrets)")
def test_precision_and_recall() -> None:
    scanner = Scanner(key=b"quality")
    by_source: dict[str, list[tuple[bool, bool, bool]]] = {}
    misses = []
    for source, name, truth, text in _cases():
        found = scanner.scan(name, text)
        hit = bool(found)
        strict = any(f.severity != "info" for f in found)
        by_source.setdefault(source, []).append((truth, hit, strict))
        if truth != hit:
            misses.append(f"{'FN' if truth else 'FP'} {source} {name}")
    rows = by_source["detect-secrets"] + by_source["trivy"]
    by_source["all"] = rows
    for source, res in by_source.items():
        p, r, tp, fp, fn = _score([(t, h) for t, h, _ in res])
        sp, sr, *_ = _score([(t, s) for t, _, s in res])
        print(f"\n{source:15} cases={len(res):4} tp={tp} fp={fp} fn={fn} "
              f"precision={p:.1%} recall={r:.1%} (strict: precision={sp:.1%} recall={sr:.1%})")
    print("\n".join(misses))
    p, r, *_ = _score([(t, h) for t, h, _ in rows])
    assert p >= MIN and r >= MIN, f"secrets quality below {MIN:.0%}: precision={p:.1%} recall={r:.1%}"


@pytest.mark.skipif(not DATA.is_dir(), reason=f"labelled secret cases not found at {DATA} (../shared/data/secrets)")
def test_labelled_cases_under_a_third_party_path() -> None:
    """Under site-packages, provider-format findings are the same ones at ``low``; the rest are skipped."""
    scanner = Scanner(key=b"quality")
    rules = {r.id: r for r in scanner.rules}
    kept = positives = 0
    for _, name, truth, text in _cases():
        own = scanner.scan(name, text)
        vendored = scanner.scan(f"usr/local/lib/python3.11/site-packages/pkg/{name}", text)
        expected = [(f.rule_id, f.line, f.fingerprint) for f in own if rules[f.rule_id].third_party == "low"]
        assert [(f.rule_id, f.line, f.fingerprint) for f in vendored] == expected, name
        assert all(f.severity in ("low", "info") for f in vendored), name
        positives += truth
        kept += truth and bool(vendored)
    print(f"\nunder site-packages: {kept} of {positives} labelled positives still reported (at low or info)")

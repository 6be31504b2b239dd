"""Precision and recall of the secret rules per rule family, on two labelled corpora.

    python bench/secrets_quality.py

* ``corpus``: the second corpus built by ``tests/secrets/detect/corpus/build.py``
  (generated tokens in documented formats, contextual credentials, look-alikes
  harvested from this venv's site-packages; see its README for provenance);
* ``shared``: ``../shared/data/secrets`` (detect-secrets cases and Trivy fixtures).

A case is flagged when a finding at severity ``low`` or above is reported
(``info`` placeholders do not count; the last column counts them too). Recall of a family is over its labelled
secrets; precision counts the non-secrets flagged by a rule of that family.
Prints Markdown tables (the ones in docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path

from imagewatch.secrets.detect import Scanner
from imagewatch.secrets.detect import rules as table

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared" / "data" / "secrets"
CORPUS = ROOT / "tests" / "secrets" / "detect" / "corpus" / "build.py"
PRIVATE_KEY_RULES = ("private-key", "pgp-private-key", "age-secret-key", "gcp-service-account")
TRIVY_NEGATIVE = {"invalid-aws-secrets.txt", "openai-invalid.txt", "wrapped-secrets.txt",
                  "obfuscated.js", "settings-encrypted.xml"}
TRIVY_NOT_CASES = {"secret.txt", "secret.md", "multi-line.txt"}
DS_FAMILY = {"keyword": "generic", "high_entropy_strings": "generic", "basic_auth": "contextual",
             "private_key": "private-key", "jwt": "contextual"}


def rule_family(rule_id: str) -> str:
    """``generic``, ``private-key``, ``contextual`` or ``provider`` for a rule id."""
    if rule_id.startswith("generic-") or rule_id == "http-bearer-token":
        return "generic"
    if rule_id.startswith(PRIVATE_KEY_RULES):
        return "private-key"
    if rule_id in table.CONTEXTUAL:
        return "contextual"
    return "provider"


@functools.lru_cache(maxsize=1)
def load_corpus() -> list[tuple[str, bool, str, bytes]]:
    """(family, is_secret, name, text) of the second corpus."""
    spec = importlib.util.spec_from_file_location("iw_secret_corpus", CORPUS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [(c.family, c.secret, c.name, c.text.encode()) for c in module.build()]


def load_shared() -> list[tuple[str, bool, str, bytes]]:
    """(family, is_secret, name, text) of ../shared/data/secrets."""
    out = []
    for line in (SHARED / "detect-secrets" / "detect_secrets_cases.jsonl").read_text().splitlines():
        row = json.loads(line)
        plugin = row["rule_id"].split(":", 1)[1]
        if plugin == "ip_public":
            continue
        out.append((DS_FAMILY.get(plugin, "provider"), row["label"] == "tp", row["rule_id"], row["text"].encode()))
    for p in sorted((SHARED / "trivy" / "testdata").iterdir()):
        if p.suffix == ".yaml" and p.name != "symfony-secret.yaml" or p.name in TRIVY_NOT_CASES:
            continue
        out.append(("trivy-fixtures", p.name not in TRIVY_NEGATIVE, p.name, p.read_bytes()))
    return out


def score(cases: list[tuple[str, bool, str, bytes]]) -> dict[str, dict[str, int]]:
    """Per family: tp, fn (labelled secrets) and fp (non-secrets flagged by that family's rules)."""
    scanner = Scanner(key=b"quality")
    out: dict[str, dict[str, int]] = {}
    for family, truth, name, text in cases:
        every = scanner.scan(f"app/{name}", text)
        found = [f for f in every if f.severity != "info"]
        if truth:
            row = out.setdefault(family, {"tp": 0, "fn": 0, "fp": 0, "neg": 0, "info": 0})
            row["tp" if found else "fn"] += 1
            row["info"] += bool(every) and not found
        else:
            out.setdefault(family, {"tp": 0, "fn": 0, "fp": 0, "neg": 0, "info": 0})["neg"] += 1
            for fam in {rule_family(f.rule_id) for f in found}:
                out.setdefault(fam, {"tp": 0, "fn": 0, "fp": 0, "neg": 0, "info": 0})["fp"] += 1
    return out


def markdown(title: str, rows: dict[str, dict[str, int]]) -> str:
    """One Markdown table, families then the total."""
    total = {k: sum(r[k] for r in rows.values()) for k in ("tp", "fn", "fp", "neg", "info")}
    lines = [f"**{title}**", "", "| family | secrets | found | missed (of which info) | non-secrets | flagged "
             "| precision | recall | recall counting info |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in [*sorted(rows.items()), ("all", total)]:
        pos = r["tp"] + r["fn"]
        precision = r["tp"] / (r["tp"] + r["fp"]) if r["tp"] + r["fp"] else 1.0
        recall = r["tp"] / pos if pos else float("nan")
        with_info = (r["tp"] + r["info"]) / pos if pos else float("nan")
        lines.append(f"| {name} | {pos} | {r['tp']} | {r['fn']} ({r['info']}) | {r['neg']} | {r['fp']} | "
                     f"{precision:.1%} | {'—' if pos == 0 else f'{recall:.1%}'} "
                     f"| {'—' if pos == 0 else f'{with_info:.1%}'} |")
    return "\n".join(lines)


def main() -> None:
    """Print both tables."""
    print(markdown("Second corpus (tests/secrets/detect/corpus)", score(load_corpus())))
    print()
    if SHARED.is_dir():
        print(markdown("Shared labelled cases (../shared/data/secrets)", score(load_shared())))


if __name__ == "__main__":
    main()

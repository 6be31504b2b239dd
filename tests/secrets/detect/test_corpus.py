"""Precision and recall per rule family on the second labelled corpus (``corpus/build.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from imagewatch.secrets.detect import Scanner

BENCH = Path(__file__).resolve().parents[3] / "bench" / "secrets_quality.py"


def _quality():
    spec = importlib.util.spec_from_file_location("iw_secrets_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_corpus_has_every_family_and_provenance() -> None:
    cases = _quality().load_corpus()
    families = {f for f, *_ in cases}
    assert {"provider", "contextual", "private-key", "generic"} <= families
    assert sum(1 for _, truth, *_ in cases if truth) >= 60
    assert sum(1 for _, truth, *_ in cases if not truth) >= 60  # look-alikes, placeholders, harvested files


def test_per_family_floor() -> None:
    q = _quality()
    rows = q.score(q.load_corpus())
    print("\n" + q.markdown("second corpus", rows))
    for family, r in rows.items():
        flagged = r["tp"] + r["fp"]
        assert not flagged or r["tp"] / flagged >= 0.95, family
        if r["tp"] + r["fn"]:
            assert r["tp"] / (r["tp"] + r["fn"]) >= 0.80, family


def test_no_look_alike_flagged() -> None:
    """Harvested UUIDs, digests, certificates and base64 blobs of installed packages are never flagged."""
    scanner = Scanner(key=b"corpus")
    for family, truth, name, text in _quality().load_corpus():
        if not truth and name.startswith("harvested-"):
            assert [f.rule_id for f in scanner.scan(f"app/{name}", text) if f.severity != "info"] == [], text[:80]

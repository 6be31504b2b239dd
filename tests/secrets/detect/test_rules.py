"""Every rule: one true positive it reports exactly, one false positive it does not."""

from __future__ import annotations

import pytest

from imagewatch.secrets.detect import Scanner, default_rules, fingerprint
from imagewatch.secrets.detect.rule import compile_rules

from .cases import cases

KEY = b"test-key"
CASES = cases()


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(key=KEY)


def test_table_has_at_least_100_rules_and_compiles() -> None:
    rules = default_rules()
    assert len(rules) >= 100
    compile_rules(rules)


def test_every_rule_has_a_case() -> None:
    assert sorted(c[0] for c in CASES) == sorted(r.id for r in default_rules())


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_true_positive(scanner: Scanner, case: tuple[str, str, str, str, str]) -> None:
    rule_id, before, secret, after, _ = case
    text = "# config\n" + before + secret + after
    found = scanner.scan("etc/app.conf", text.encode())
    mine = [f for f in found if f.rule_id == rule_id]
    assert mine, f"{rule_id} missed; got {[f.rule_id for f in found]}"
    assert mine[0].fingerprint == fingerprint(KEY, secret.encode())
    assert mine[0].line == 2 + before.count("\n")
    assert mine[0].severity != "info"
    assert secret not in repr(found)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_false_positive(scanner: Scanner, case: tuple[str, str, str, str, str]) -> None:
    rule_id, *_, negative = case
    found = scanner.scan("etc/app.conf", negative.encode())
    assert rule_id not in [f.rule_id for f in found]

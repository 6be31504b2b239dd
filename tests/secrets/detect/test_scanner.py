"""Scanner behaviour: skipping, stats, redaction, engines agreeing, placeholders."""

from __future__ import annotations

import pytest

from imagewatch.secrets.detect import Scanner, fingerprint, preview
from imagewatch.secrets.detect.engines import ENGINES

from .cases import cases, rnd

KEY = b"scanner-key"


def test_binary_and_oversized_files_are_skipped_and_counted() -> None:
    s = Scanner(key=KEY, max_size=1000)
    token = "ghp_" + rnd(36)
    assert s.scan("bin/tool", b"\x7fELF\x00\x00" + token.encode()) == []
    assert s.scan("big.txt", b"x" * 1001) == []
    assert s.scan("ok.txt", token.encode())
    assert (s.stats.skipped_binary, s.stats.skipped_too_large, s.stats.files_scanned, s.stats.findings) == (1, 1, 1, 1)


def test_preview_and_fingerprint() -> None:
    assert preview("abcdefghijklmnop") == "abcd****"
    assert preview("abcdefgh") == "ab****"
    assert preview("abc") == "****"
    assert fingerprint(b"k", b"v") == fingerprint(b"k", b"v") != fingerprint(b"other", b"v")


def test_same_secret_same_fingerprint_across_files() -> None:
    s = Scanner(key=KEY)
    token = "glpat-" + rnd(20)
    a = s.scan("a.env", f"T={token}\n".encode())
    b = s.scan("b.yaml", f"x: 1\ntoken: {token}\n".encode())
    assert a[0].fingerprint == b[0].fingerprint
    assert (a[0].line, b[0].line) == (1, 2)


def test_placeholders_dropped_by_generic_rules_downgraded_by_specific_ones() -> None:
    s = Scanner(key=KEY)
    assert s.scan("a", b'password = "changeme123"\n') == []
    assert s.scan("a", b"GITHUB_TOKEN=${GITHUB_TOKEN}\n") == []
    found = s.scan("a", ("GITHUB_TOKEN=ghp_" + "x" * 36).encode())
    assert [(f.rule_id, f.severity) for f in found] == [("github-pat", "info")]


def test_no_raw_value_in_findings_or_errors() -> None:
    s = Scanner(key=KEY)
    secret = rnd(30)
    found = s.scan("cfg", f"postgres://u:{secret}@db/x\napi_key: {secret}\n".encode())
    assert found and all(secret not in repr(f) and secret[4:] not in f.preview for f in found)
    with pytest.raises(ValueError) as e:
        Scanner(key=b"")
    assert "secrets:" in str(e.value)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_engines_find_the_same(engine: str) -> None:
    text = "\n".join(b + s + a for _, b, s, a, _ in cases()).encode()
    reference = Scanner(key=KEY, engine="hyperscan").scan("all.txt", text)
    other = Scanner(key=KEY, engine=engine).scan("all.txt", text)
    assert [(f.rule_id, f.line) for f in other] == [(f.rule_id, f.line) for f in reference]
    assert len(reference) >= 150

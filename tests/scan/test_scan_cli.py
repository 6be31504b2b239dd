"""``imagewatch scan`` through ``imagewatch.cli.main.main``: formats, filters, exit codes, suppressions, cache.

Every scan runs against a real PostgreSQL advisory store (the urllib3 PYSEC,
Alpine v3.19 secdb and one unfixed advisory) on the test image built with
umoci as an OCI layout. Layer results are shared through one cache directory
per module, so only the first scan reads the layers.
"""

from __future__ import annotations

import json
import shutil

import pytest

from imagewatch.cli.main import main
from report.schema_check import cyclonedx_validator, errors, sarif_validator, spdx_validator

from .helpers import TAG, UNFIXED_ID, github_token

OPENSSL = "CVE-2023-5678"       # libssl3 3.1.4-r0, fixed in 3.1.4-r1 (secdb v3.19)
URLLIB3_OLD = "CVE-2019-11324"  # PYSEC-2019-133, urllib3 1.24.1, fixed in 1.24.2
URLLIB3_NEW = "CVE-2020-26137"  # PYSEC-2020-148, fixed in 1.25.9


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def scan(scan_env, layout, cache_dir, capsys):
    """``scan(*options, target=...)`` → (exit code, stdout, stderr)."""
    def run(*options: str, target: str | None = None, cache: str | None = None) -> tuple[int, str, str]:
        code = main(["scan", target or f"oci:{layout}:{TAG}", "--cache-dir", cache or str(cache_dir), *options])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def vuln_ids(doc: dict) -> set[str]:
    return {v["VulnerabilityID"] for r in doc["Results"] for v in r.get("Vulnerabilities", [])}


def suppressed(doc: dict) -> dict[str, dict]:
    return {m["Finding"].get("VulnerabilityID") or m["Finding"].get("RuleID"): m
            for r in doc["Results"] for m in r.get("ExperimentalModifiedFindings", [])}


def rules(doc: dict, kind: str) -> set[str]:
    key = "RuleID" if kind == "Secrets" else "ID"
    return {s[key] for r in doc["Results"] for s in r.get(kind, [])}


def test_json_holds_os_and_language_findings_secrets_and_misconfigurations(scan):
    code, out, err = scan("--format", "json")
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert {OPENSSL, URLLIB3_OLD, URLLIB3_NEW, UNFIXED_ID} <= vuln_ids(doc)
    assert doc["Metadata"]["OS"] == {"Family": "alpine", "Name": "3.19.1"}
    assert doc["Metadata"]["ImageDigest"].startswith("sha256:")
    assert rules(doc, "Secrets") == {"github-pat"}
    assert "IW-CFG-001" in rules(doc, "Misconfigurations")  # no USER: runs as root
    [secret] = [s for r in doc["Results"] for s in r.get("Secrets", [])]
    assert secret["Match"].startswith("ghp_") and github_token() not in out  # a preview only


@pytest.mark.parametrize("fmt, validator", [
    ("sarif", sarif_validator), ("cyclonedx", cyclonedx_validator), ("spdx-json", spdx_validator)])
def test_formats_validate_against_official_schemas(scan, tmp_path, fmt, validator):
    out_file = tmp_path / f"report.{fmt}.json"
    code, out, err = scan("--format", fmt, "--output", str(out_file))
    assert (code, out, err) == (0, "", "")
    doc = json.loads(out_file.read_text())
    assert errors(validator(), doc) == []
    text = out_file.read_text()
    assert "urllib3" in text and "libssl3" in text
    if fmt == "cyclonedx":
        assert {v["id"] for v in doc["vulnerabilities"]} >= {OPENSSL}
    if fmt == "sarif":
        assert any(r["ruleId"] in (OPENSSL, "CVE-2023-5678") or OPENSSL in json.dumps(r)
                   for r in doc["runs"][0]["results"])


def test_table_shows_cve_and_fixed_version_without_colour_when_piped(scan, tmp_path):
    code, out, err = scan()
    assert code == 0 and err == ""
    assert OPENSSL in out and "3.1.4-r1" in out and "libssl3" in out
    assert URLLIB3_OLD in out and "1.24.2" in out
    assert "github-pat" in out and "IW-CFG-001" in out
    assert "\x1b[" not in out
    target = tmp_path / "table.txt"
    assert scan("--output", str(target))[0] == 0
    assert OPENSSL in target.read_text() and "\x1b[" not in target.read_text()


def test_exit_code_rules(scan):
    assert scan("--exit-code", "1")[0] == 1
    # Vulnerabilities here are UNKNOWN, and one (unfixed) LOW; nothing is CRITICAL.
    code, out, _ = scan("--exit-code", "1", "--scanners", "vuln", "--severity", "CRITICAL", "--format", "json")
    assert code == 0 and vuln_ids(json.loads(out)) == set()
    code, out, _ = scan("--exit-code", "1", "--scanners", "vuln", "--severity", "LOW", "--format", "json")
    assert code == 1 and vuln_ids(json.loads(out)) == {UNFIXED_ID}
    code, out, _ = scan("--exit-code", "1", "--scanners", "vuln", "--severity", "low",
                        "--ignore-unfixed", "--format", "json")
    assert code == 0 and vuln_ids(json.loads(out)) == set()
    code, out, _ = scan("--exit-code", "4", "--scanners", "vuln", "--ignore-unfixed", "--format", "json")
    assert code == 4 and UNFIXED_ID not in vuln_ids(json.loads(out)) and OPENSSL in vuln_ids(json.loads(out))
    # The secret is CRITICAL: it alone fails the build at that threshold.
    assert scan("--exit-code", "1", "--severity", "CRITICAL")[0] == 1


@pytest.mark.parametrize("scanners, want", [
    ("vuln", {"Vulnerabilities"}),
    ("secret", {"Secrets"}),
    ("misconfig", {"Misconfigurations"}),
    ("secret,misconfig", {"Secrets", "Misconfigurations"}),
])
def test_scanners_subsets(scan, scanners, want):
    code, out, _ = scan("--scanners", scanners, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    kinds = {k for r in doc["Results"] for k in ("Vulnerabilities", "Secrets", "Misconfigurations") if r.get(k)}
    assert kinds == want


@pytest.mark.parametrize("args, message", [
    (["oci:/no/such/layout"], "not an OCI image layout"),
    (["oci:{layout}:nosuchtag"], "no manifest tagged 'nosuchtag'"),
    (["docker-archive:/no/such.tar"], "not found"),
    (["oci:{layout}:app", "--severity", "SEVERE"], "unknown severity severe"),
    (["oci:{layout}:app", "--scanners", "vuln,license"], "--scanners: unknown license"),
    (["oci:{layout}:app", "--ignorefile", "/no/such/ignore.yaml"], "cannot read ignore file"),
    (["oci:{layout}:app", "--vex", "/no/such/vex.json"], "cannot read VEX document"),
    (["bad reference!"], "invalid"),
])
def test_usage_and_target_errors_exit_2_with_one_line(scan_env, layout, capsys, args, message):
    code = main(["scan", *(a.format(layout=layout) for a in args)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("imagewatch scan: ") and message in err and err.count("\n") == 1, err


def test_ignore_file_expired_entry_warns_and_valid_entry_suppresses(scan, tmp_path):
    (tmp_path / ".imagewatchignore.yaml").write_text(  # found in the current directory
        f"- id: {URLLIB3_OLD}\n  expires: 2020-01-01\n  reason: upgrade planned\n"
        f"- id: {OPENSSL}\n  package: libssl3\n  expires: 2999-12-31\n  reason: not reachable\n"
        f"- id: github-pat\n  reason: revoked token\n")
    code, out, err = scan("--format", "json")
    doc = json.loads(out)
    assert f"ignore entry {URLLIB3_OLD} expired on 2020-01-01" in err and "upgrade planned" in err
    assert URLLIB3_OLD in vuln_ids(doc) and OPENSSL not in vuln_ids(doc)
    hidden = suppressed(doc)
    assert hidden[OPENSSL]["Status"] == "ignored" and hidden[OPENSSL]["Justification"] == "not reachable"
    assert hidden["github-pat"]["Justification"] == "revoked token"
    code, _, err = scan("--exit-code", "1", "--severity", "CRITICAL")
    assert code == 0 and "expired" in err  # the only CRITICAL finding (the secret) is suppressed
    other = tmp_path / "elsewhere.yaml"
    other.write_text(f"ignore:\n  - id: {URLLIB3_NEW}\n")
    code, out, _ = scan("--format", "json", "--ignorefile", str(other))
    assert URLLIB3_NEW not in vuln_ids(json.loads(out)) and OPENSSL in vuln_ids(json.loads(out))


def test_vex_not_affected_suppresses_with_justification(scan, tmp_path):
    vex = {
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/app-1",
        "author": "team", "timestamp": "2024-05-01T00:00:00Z", "version": 1,
        "statements": [
            {"vulnerability": {"name": URLLIB3_NEW}, "products": [{"@id": "pkg:pypi/urllib3"}],
             "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
             "impact_statement": "we never pass user input as the HTTP method"},
            {"vulnerability": {"name": OPENSSL}, "products": [{"@id": "pkg:apk/alpine/libssl3"}],
             "status": "affected", "action_statement": "upgrade"},
        ],
    }
    path = tmp_path / "app.openvex.json"
    path.write_text(json.dumps(vex))
    code, out, err = scan("--format", "json", "--vex", str(path))
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert URLLIB3_NEW not in vuln_ids(doc) and OPENSSL in vuln_ids(doc)
    entry = suppressed(doc)[URLLIB3_NEW]
    assert entry["Status"] == "not_affected"
    assert entry["Justification"] == "vulnerable_code_not_in_execute_path"
    assert entry["Source"] == "https://example.com/vex/app-1"


def test_cache_is_reused_and_layers_are_verified_when_read(scan, layout, tmp_path):
    copy = tmp_path / "layout"
    shutil.copytree(layout, copy)
    cache = tmp_path / "cache"
    target = f"oci:{copy}:{TAG}"
    code, first, _ = scan("--format", "json", target=target, cache=str(cache))
    assert code == 0
    manifest = json.loads(_blob(copy, json.loads((copy / "index.json").read_text())["manifests"][0]["digest"]))
    diff_ids = json.loads(_blob(copy, manifest["config"]["digest"]))["rootfs"]["diff_ids"]
    for diff_id in diff_ids:
        entry = cache / "inventory" / diff_id.replace(":", "_")
        assert any(entry.glob("*.json")) and any((cache / "secrets" / diff_id.replace(":", "_")).glob("*.json"))
    for layer in manifest["layers"]:  # damage every layer blob, same length
        path = copy / "blobs" / "sha256" / layer["digest"].split(":")[1]
        path.write_bytes(bytes(b ^ 0xFF for b in path.read_bytes()))
    # Every layer result is cached: no layer is read, so the damage goes unnoticed.
    code, second, _ = scan("--format", "json", target=target, cache=str(cache))
    assert code == 0 and vuln_ids(json.loads(second)) == vuln_ids(json.loads(first))
    # A cold cache reads the layers, verifies them and fails the scan (exit 3).
    code, out, err = scan("--format", "json", target=target, cache=str(tmp_path / "cold"))
    assert code == 3 and out == "" and "does not match its digest" in err and err.count("\n") == 1


def _blob(layout, digest: str) -> bytes:
    return (layout / "blobs" / "sha256" / digest.split(":")[1]).read_bytes()


def test_default_cache_is_under_the_data_dir(scan_env, layout, tmp_path, capsys):
    assert main(["scan", f"oci:{layout}:{TAG}", "--scanners", "secret"]) == 0
    capsys.readouterr()
    assert any((tmp_path / "data" / "cache" / "secrets").iterdir())
    assert not any((tmp_path / "data" / "tmp").iterdir())  # downloads and extractions are removed


def test_empty_advisory_store_warns_but_scans(monkeypatch, pg_dsn, layout, tmp_path, capsys):
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    code = main(["scan", f"oci:{layout}:{TAG}", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == "imagewatch scan: warning: no advisories: run `imagewatch db import` or `db sync`\n"
    doc = json.loads(out)
    assert vuln_ids(doc) == set() and rules(doc, "Secrets") == {"github-pat"}

"""Flags, ignore files and VEX formats a ``trivy image`` user brings, each on the test image.

The image (tests/scan/helpers.py): Alpine libssl3 (CVE-2023-5678, fixed),
urllib3 1.24.1 (two PYSEC records, fixed), iwtestpkg (no fix yet), a GitHub
token in ``app/deploy.sh`` and no USER.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .helpers import TAG, UNFIXED_ID
from .test_scan_cli import OPENSSL, URLLIB3_NEW, URLLIB3_OLD, cache_dir, scan, vuln_ids  # noqa: F401

SITE_PKG = "usr/lib/python3.11/site-packages"


def _json(out: str) -> dict:
    return json.loads(out)


def _secret_rules(doc: dict) -> set[str]:
    return {s["RuleID"] for r in doc.get("Results", []) for s in r.get("Secrets", [])}


def test_short_options_and_repeated_comma_separated_severity(scan, tmp_path):
    out_file = tmp_path / "r.json"
    code, out, err = scan("-f", "json", "-o", str(out_file), "-s", "HIGH", "-s", "MEDIUM,LOW", "-q")
    assert (code, out, err) == (0, "", "")
    doc = json.loads(out_file.read_text())
    severities = {v["Severity"] for r in doc["Results"] for v in r.get("Vulnerabilities", [])}
    assert severities and severities <= {"HIGH", "MEDIUM", "LOW"}
    assert "CRITICAL" not in json.dumps(doc["Results"])
    code, _, err = scan("-s", "HIGH,NOPE")
    assert code == 2 and "--severity" in err


def test_env_variables_stand_for_flags(scan, scan_env):
    scan_env.setenv("IMAGEWATCH_FORMAT", "json")
    scan_env.setenv("IMAGEWATCH_SEVERITY", "LOW")
    scan_env.setenv("IMAGEWATCH_IGNORE_UNFIXED", "true")
    code, out, _ = scan()
    ids = vuln_ids(_json(out))
    assert code == 0 and UNFIXED_ID not in ids  # LOW, but no fix: ignored
    code, out, _ = scan("--severity", "LOW,MEDIUM,HIGH,CRITICAL,UNKNOWN")  # the flag wins over the variable
    assert code == 0 and OPENSSL in vuln_ids(_json(out))
    scan_env.setenv("IMAGEWATCH_IGNORE_UNFIXED", "maybe")
    code, _, err = scan()
    assert code == 2 and "IMAGEWATCH_IGNORE_UNFIXED: expected true or false" in err


def test_pkg_types_and_ignore_status(scan):
    code, out, _ = scan("-f", "json", "--pkg-types", "os")
    ids = vuln_ids(_json(out))
    assert OPENSSL in ids and URLLIB3_OLD not in ids and UNFIXED_ID not in ids
    code, out, _ = scan("-f", "json", "--pkg-types", "library")
    ids = vuln_ids(_json(out))
    assert OPENSSL not in ids and URLLIB3_OLD in ids
    code, out, _ = scan("-f", "json", "--ignore-status", "affected")
    ids = vuln_ids(_json(out))
    assert UNFIXED_ID not in ids and OPENSSL in ids
    code, out, _ = scan("-f", "json", "--ignore-status", "fixed,affected")
    assert vuln_ids(_json(out)) == set()
    assert scan("--pkg-types", "python")[0] == 2


def test_skip_dirs_and_skip_files(scan):
    code, out, _ = scan("-f", "json", "--skip-dirs", SITE_PKG)
    doc = _json(out)
    assert URLLIB3_OLD not in vuln_ids(doc) and OPENSSL in vuln_ids(doc) and _secret_rules(doc)
    code, out, _ = scan("-f", "json", "--skip-files", "app/*.sh", "--skip-files", "/lib/apk/db/installed")
    doc = _json(out)
    assert _secret_rules(doc) == set() and OPENSSL not in vuln_ids(doc) and URLLIB3_OLD in vuln_ids(doc)


def test_timeout_quiet_no_progress_and_debug(scan, tmp_path):
    code, _, err = scan("--timeout", "10 minutes")
    assert code == 2 and "--timeout" in err
    code, _, err = scan("-t", "5m", "--no-progress", "-d", "--scanners", "vuln")
    assert code == 0 and "debug: advisories: PostgreSQL at" in err
    ignore = tmp_path / "expired.yaml"
    ignore.write_text(f"- id: {OPENSSL}\n  expires: 2020-01-01\n")
    code, _, err = scan("--ignorefile", str(ignore))
    assert "expired" in err
    code, _, err = scan("--ignorefile", str(ignore), "--quiet")
    assert code == 0 and err == ""


def test_vulnerability_entries_carry_trivy_fields(scan):
    code, out, _ = scan("-f", "json", "--scanners", "vuln")
    [entry] = [v for r in _json(out)["Results"] for v in r.get("Vulnerabilities", [])
               if v["VulnerabilityID"] == URLLIB3_NEW]
    assert entry["PrimaryURL"] == f"https://nvd.nist.gov/vuln/detail/{URLLIB3_NEW}"
    assert entry["Title"] and entry["Description"] and entry["References"]
    assert all(r.startswith("http") for r in entry["References"])
    assert "CVSS" not in entry or all("Vector" in "".join(v) for v in entry["CVSS"].values())


def test_spdx_is_tag_value_and_spdx_json_is_json(scan):
    code, out, _ = scan("-f", "spdx")
    assert code == 0 and out.startswith("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n")
    assert "PackageName: urllib3" in out and "ExternalRef: PACKAGE-MANAGER purl pkg:pypi/urllib3@1.24.1" in out
    assert "Relationship: SPDXRef-DOCUMENT DESCRIBES" in out
    code, out, _ = scan("-f", "spdx-json")
    assert code == 0 and _json(out)["spdxVersion"] == "SPDX-2.3"


def test_trivyignore_files_when_no_imagewatch_ignore(scan, tmp_path, scan_env):
    (tmp_path / ".trivyignore").write_text(f"# accepted\n{OPENSSL}\n{URLLIB3_NEW} exp:2020-01-01\n")
    code, out, err = scan("-f", "json")
    ids = vuln_ids(_json(out))
    assert OPENSSL not in ids and URLLIB3_NEW in ids and "expired on 2020-01-01" in err
    (tmp_path / ".trivyignore.yaml").write_text(
        "vulnerabilities:\n"
        f"  - id: {URLLIB3_OLD}\n    paths: ['{SITE_PKG}/urllib3-*/METADATA']\n    statement: not used\n"
        f"  - id: {URLLIB3_NEW}\n    purls: ['pkg:pypi/requests']\n"
        "secrets:\n  - id: github-pat\n")
    code, out, _ = scan("-f", "json")
    doc = _json(out)
    ids = vuln_ids(doc)
    assert URLLIB3_OLD not in ids and URLLIB3_NEW in ids and OPENSSL in ids  # the yaml wins over .trivyignore
    assert _secret_rules(doc) == set()
    (tmp_path / ".imagewatchignore.yaml").write_text("[]\n")
    code, out, _ = scan("-f", "json")
    assert URLLIB3_OLD in vuln_ids(_json(out))  # ours, when present, wins


def test_cyclonedx_and_csaf_vex(scan, tmp_path):
    cdx = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "components": [{"bom-ref": "urllib3", "type": "library", "name": "urllib3",
                           "purl": "pkg:pypi/urllib3@1.24.1"}],
           "vulnerabilities": [{"id": URLLIB3_NEW, "analysis": {"state": "not_affected",
                                                                "justification": "code_not_reachable"},
                                "affects": [{"ref": "urllib3"}]}]}
    csaf = {"document": {"category": "csaf_vex", "csaf_version": "2.0", "title": "t",
                         "publisher": {"name": "team", "category": "vendor", "namespace": "https://e.com"},
                         "tracking": {"id": "VEX-1", "current_release_date": "2024-05-01T00:00:00Z"}},
            "product_tree": {"branches": [{"category": "vendor", "name": "alpine", "branches": [
                {"category": "product_version", "name": "libssl3",
                 "product": {"product_id": "LIBSSL", "name": "libssl3",
                             "product_identification_helper": {"purl": "pkg:apk/alpine/libssl3"}}}]}]},
            "vulnerabilities": [{"cve": OPENSSL, "product_status": {"known_not_affected": ["LIBSSL"]},
                                 "flags": [{"label": "vulnerable_code_not_present", "product_ids": ["LIBSSL"]}]}]}
    (tmp_path / "a.cdx.json").write_text(json.dumps(cdx))
    (tmp_path / "b.csaf.json").write_text(json.dumps(csaf))
    code, out, err = scan("-f", "json", "--vex", str(tmp_path / "a.cdx.json"), "--vex", str(tmp_path / "b.csaf.json"))
    assert (code, err) == (0, "")
    doc = _json(out)
    assert URLLIB3_NEW not in vuln_ids(doc) and OPENSSL not in vuln_ids(doc) and URLLIB3_OLD in vuln_ids(doc)
    cdx["vulnerabilities"][0]["analysis"]["state"] = "maybe"
    (tmp_path / "a.cdx.json").write_text(json.dumps(cdx))
    code, _, err = scan("--vex", str(tmp_path / "a.cdx.json"))
    assert code == 2 and "analysis.state 'maybe'" in err


def test_password_stdin_and_version(scan_env, layout, tmp_path):
    env = {k: v for k, v in __import__("os").environ.items()}
    proc = subprocess.run([sys.executable, "-m", "imagewatch.cli", "scan", f"oci:{layout}:{TAG}",
                           "--password-stdin", "--scanners", "secret", "-q"],
                          input="s3cret\n", capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "--password needs --username" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "imagewatch.cli", "scan", f"oci:{layout}:{TAG}", "--username",
                           "u", "--password-stdin", "--scanners", "secret", "-q", "-f", "json"],
                          input="s3cret\n", capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0 and "s3cret" not in proc.stdout + proc.stderr
    home = tmp_path / "home"
    version = subprocess.run([sys.executable, "-m", "imagewatch.cli", "--version"], capture_output=True, text=True,
                             env={**env, "HOME": str(home), "XDG_CACHE_HOME": ""}, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("imagewatch ")
    assert "Vulnerability DB: none" in version.stdout


def test_did_you_mean_completion_and_help_examples(tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "imagewatch.cli", *args], capture_output=True, text=True,
                              timeout=60, cwd=tmp_path)
    typo = cli("scan", "img", "--severty", "HIGH")
    assert typo.returncode == 2 and "did you mean --severty → --severity?" in typo.stderr
    assert "did you mean scna → scan?" in cli("scna", "img").stderr
    bash = cli("completion", "bash").stdout
    assert "complete -F _imagewatch imagewatch" in bash and "--db-repository" in bash
    assert subprocess.run(["bash", "-n"], input=bash, text=True).returncode == 0
    assert "complete -c imagewatch" in cli("completion", "fish").stdout
    assert cli("completion", "zsh").stdout.startswith("#compdef imagewatch")
    for command in (["scan"], ["db"], ["up"], []):
        assert "example" in cli(*command, "--help").stdout
    config = tmp_path / "c.toml"
    config.write_text("[updater]\nintervl_hours = 3\n")
    from imagewatch.config import ConfigError, load_config
    with pytest.raises(ConfigError, match="did you mean `interval_hours`"):
        load_config(config, env={})

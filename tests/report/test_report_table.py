"""The terminal table and the Trivy-shaped JSON."""

from __future__ import annotations

import json
import re

from imagewatch.report import render
from imagewatch.report.table import TITLE_WIDTH

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _sections(text: str) -> dict[str, str]:
    """Map each section heading (the line above ``====``) to its text."""
    lines = text.splitlines()
    heads = [i - 1 for i, line in enumerate(lines) if line and set(line) == {"="}]
    return {lines[h]: "\n".join(lines[h:n]) for h, n in zip(heads, heads[1:] + [len(lines)])}


def test_table_groups_by_target_in_order(scan_result):
    text = render(scan_result, "table").decode()
    assert "\x1b[" not in text, "no colours unless asked"
    sections = list(_sections(text))
    assert sections == [
        "registry.example.test/team/app:1.4.2 (debian 12)", "Python (python-pkg)",
        "usr/local/bin/app (gobinary)", "app/.env (secrets)", "root/.config/gh/hosts.yml (secrets)",
        "config:Env (misconfigurations)", "config:User (misconfigurations)", "Fix",
    ]


def test_table_rows_and_totals(scan_result):
    sections = _sections(render(scan_result, "table").decode())
    os_part = sections["registry.example.test/team/app:1.4.2 (debian 12)"]
    assert "Total: 3 (UNKNOWN: 0, INFO: 0, LOW: 0, MEDIUM: 1, HIGH: 1, CRITICAL: 1)" in os_part
    header = next(line for line in os_part.splitlines() if "Vulnerability" in line)
    assert [c.strip() for c in header.strip("│").split("│")] == [
        "Package", "Vulnerability", "Severity", "Installed", "Fixed", "Title"]
    libc = next(line for line in os_part.splitlines() if "libc6" in line)
    cells = [c.strip() for c in libc.strip("│").split("│")]
    assert cells == ["libc6", "DSA-5611-1 (CVE-2023-6246)", "HIGH", "2.36-9+deb12u3", "2.36-9+deb12u4",
                     "glibc: heap-based buffer overflow in __vsyslog_internal()"]
    zlib = next(line for line in os_part.splitlines() if "zlib1g" in line)
    assert [c.strip() for c in zlib.strip("│").split("│")][4] == "", "no fixed version"
    assert all(len(c.strip()) <= TITLE_WIDTH for c in zlib.split("│")), "long titles are clipped"
    python = sections["Python (python-pkg)"]
    assert python.splitlines()[4].startswith("┌") and "Library" in python
    assert "requests (opt/venv/lib/python3.11/site-packages)" in python, "same package twice: say where"
    go = sections["usr/local/bin/app (gobinary)"]
    assert "Total: 2 (" in go and "HIGH: 2" in go


def test_table_box_is_aligned(scan_result):
    for name, part in _sections(render(scan_result, "table").decode()).items():
        box = [line for line in part.splitlines() if line and line[0] in "┌│├└"]
        assert len({len(line) for line in box}) == 1, name


def test_secrets_show_preview_only(scan_result):
    text = render(scan_result, "table").decode()
    secret = _sections(text)["app/.env (secrets)"]
    assert "AKIA*****" in secret and "2 (removed in 3)" in secret
    assert scan_result.secrets[0].fingerprint not in text


def test_colour_when_asked(scan_result):
    plain = render(scan_result, "table").decode()
    coloured = render(scan_result, "table", color=True).decode()
    assert "\x1b[1;31mCRITICAL\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain, "colour codes never change the layout"


def test_json_shape(scan_result):
    report = json.loads(render(scan_result, "json"))
    assert report["SchemaVersion"] == 2
    assert report["ArtifactName"] == "registry.example.test/team/app:1.4.2"
    assert report["ArtifactType"] == "container_image"
    assert report["CreatedAt"] == "2024-05-01T12:00:00Z"
    assert report["Metadata"]["OS"] == {"Family": "debian", "Name": "12"}
    assert report["Metadata"]["RepoDigests"] == [f"registry.example.test/team/app@{scan_result.digest}"]
    classes = [(r["Target"], r["Class"]) for r in report["Results"]]
    assert classes[0] == ("registry.example.test/team/app:1.4.2 (debian 12)", "os-pkgs")
    assert [c for _, c in classes] == ["os-pkgs", "lang-pkgs", "lang-pkgs", "secret", "secret", "config", "config"]
    os_result = report["Results"][0]
    assert os_result["Type"] == "debian" and len(os_result["Packages"]) == 3
    libc = next(v for v in os_result["Vulnerabilities"] if v["PkgName"] == "libc6")
    assert libc["VulnerabilityID"] == "CVE-2023-6246" and libc["AdvisoryID"] == "DSA-5611-1"
    assert libc["Severity"] == "HIGH" and libc["FixedVersion"] == "2.36-9+deb12u4"
    assert libc["Status"] == "fixed" and libc["Layer"]["DiffID"].startswith("sha256:")
    zlib = next(v for v in os_result["Vulnerabilities"] if v["PkgName"] == "zlib1g")
    assert zlib["Status"] == "affected" and "FixedVersion" not in zlib
    secrets = report["Results"][3]
    assert secrets["Secrets"][0]["Match"] == "AKIA*****" and secrets["Secrets"][0]["StartLine"] == 3
    config = report["Results"][5]
    assert config["Misconfigurations"][0]["ID"] == "IW-CONFIG-SECRET-ENV"
    assert "ExperimentalModifiedFindings" not in os_result


def test_rendering_is_deterministic(scan_result):
    for fmt in ("table", "json", "sarif", "cyclonedx", "spdx"):
        assert render(scan_result, fmt) == render(scan_result, fmt), fmt

"""The ignore file (with an expired entry) and OpenVEX documents."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from imagewatch.report import (
    IgnoreFileError, VexError, apply_suppressions, load_ignore_file, load_vex, parse_ignore_file,
    parse_vex, render, should_fail,
)

TODAY = dt.date(2024, 6, 1)


def _ids(result) -> set[tuple[str, str]]:
    return {(f.advisory_id, f.package) for f in result.findings}


def test_ignore_file_suppresses_and_warns_on_expired_entry(scan_result, data_dir):
    ignore = load_ignore_file(data_dir / "imagewatchignore.yaml")
    out, suppressed, warnings = apply_suppressions(scan_result, ignore, [], TODAY)

    assert ("GHSA-g4mx-q9vg-27p4", "urllib3") not in _ids(out)
    assert ("DSA-5611-1", "libc6") in _ids(out), "an expired entry no longer suppresses"
    assert len(warnings) == 1
    assert "DSA-5611-1" in warnings[0] and "2024-03-31" in warnings[0] and "expired" in warnings[0]
    assert warnings[0].startswith("report: ")

    kinds = sorted((s.kind, s.status) for s in suppressed)
    assert kinds == [("misconfiguration", "ignored"), ("secret", "ignored"), ("vulnerability", "ignored")]
    assert [s.rule_id for s in out.secrets] == ["github-pat", "IW-CONFIG-SECRET-ENV"]
    assert out.suppressed == suppressed
    assert len(out.findings) == len(scan_result.findings) - 1


def test_entry_is_live_through_its_expiry_day(scan_result):
    ignore = parse_ignore_file("- id: CVE-2023-6246\n  expires: 2024-06-01\n")
    out, suppressed, warnings = apply_suppressions(scan_result, ignore, [], TODAY)
    assert [s.finding.advisory_id for s in suppressed] == ["DSA-5611-1"], "matched by alias"
    assert warnings == []
    _, suppressed, warnings = apply_suppressions(scan_result, ignore, [], TODAY + dt.timedelta(days=1))
    assert suppressed == [] and len(warnings) == 1


def test_ignore_entry_narrowed_to_a_package(scan_result):
    ignore = parse_ignore_file("- id: GO-2023-2102\n  package: stdlib\n"
                               "- id: PYSEC-2023-74\n  package: pkg:pypi/requests@2.28.1\n")
    out, suppressed, _ = apply_suppressions(scan_result, ignore, [], TODAY)
    assert ("GO-2023-2102", "golang.org/x/net") in _ids(out)
    assert ("GO-2023-2102", "stdlib") not in _ids(out)
    assert sum(s.finding.package == "requests" for s in suppressed) == 2, "purl without qualifiers matches both copies"


@pytest.mark.parametrize("text,needle", [
    ("- package: openssl\n", "needs an 'id'"),
    ("- id: CVE-1\n  expires: 31/12/2024\n", "YYYY-MM-DD"),
    ("- id: CVE-1\n  until: 2024-01-01\n", "unknown key"),
    ("id: [unclosed\n", "not valid YAML"),
    ("just a string\n", "expected a list"),
])
def test_bad_ignore_file(text, needle):
    with pytest.raises(IgnoreFileError, match=needle):
        parse_ignore_file(text)


def test_ignore_file_mapping_form_and_empty():
    assert parse_ignore_file("ignore:\n  - id: CVE-2024-1\n").entries[0].id == "CVE-2024-1"
    assert parse_ignore_file("").entries == []


def test_vex_document(scan_result, data_dir):
    vex = load_vex(data_dir / "app.openvex.json")
    assert vex.source == "https://example.test/vex/team-app-2024-05"
    out, suppressed, warnings = apply_suppressions(scan_result, None, [vex], TODAY)
    assert warnings == []
    got = {(s.finding.package, s.status, s.justification) for s in suppressed}
    assert got == {
        ("zlib1g", "not_affected", "vulnerable_code_not_present"),  # image product + subcomponent
        ("golang.org/x/net", "fixed", ""),  # package product, matched through the alias
    }
    remaining = _ids(out)
    assert ("GO-2023-2102", "stdlib") in remaining, "the statement names x/net only"
    assert ("CVE-2024-0727", "libssl3") in remaining, "a later 'affected' statement wins"
    assert ("PYSEC-2023-74", "requests") in remaining, "under_investigation does not suppress"
    assert ("DSA-5611-1", "libc6") in remaining, "a statement about another image digest does not apply"
    zlib = next(s for s in suppressed if s.finding.package == "zlib1g")
    assert zlib.statement == "minizip is not part of the zlib1g binary package"
    assert zlib.source == vex.source


def test_suppressed_findings_are_shown_in_json_with_justification(scan_result, data_dir):
    vex = load_vex(data_dir / "app.openvex.json")
    ignore = load_ignore_file(data_dir / "imagewatchignore.yaml")
    out, _, _ = apply_suppressions(scan_result, ignore, [vex], TODAY)
    report = json.loads(render(out, "json"))
    modified = [m for r in report["Results"] for m in r.get("ExperimentalModifiedFindings", [])]
    zlib = next(m for m in modified if m["Finding"].get("PkgName") == "zlib1g")
    assert zlib == {
        "Type": "vulnerability", "Status": "not_affected", "Justification": "vulnerable_code_not_present",
        "Statement": "minizip is not part of the zlib1g binary package",
        "Source": "https://example.test/vex/team-app-2024-05", "Finding": zlib["Finding"],
    }
    assert zlib["Finding"]["VulnerabilityID"] == "CVE-2023-45853"
    os_result = report["Results"][0]
    assert all(v["PkgName"] != "zlib1g" for v in os_result["Vulnerabilities"])
    secret = next(m for m in modified if m["Type"] == "secret")
    assert secret["Status"] == "ignored" and secret["Source"] == "imagewatchignore.yaml"
    assert secret["Finding"]["RuleID"] == "aws-access-key-id"
    assert "Suppressed: 1" in render(out, "table").decode()


def test_suppressed_findings_do_not_fail_the_build(scan_result, data_dir):
    vex = load_vex(data_dir / "app.openvex.json")
    assert should_fail(scan_result, {"critical"})
    out, _, _ = apply_suppressions(scan_result, load_ignore_file(data_dir / "imagewatchignore.yaml"), [vex], TODAY)
    assert not should_fail(out, {"critical"}), "zlib (VEX) and the AWS key (ignore file) were the criticals"


def test_openvex_legacy_string_shape(scan_result):
    doc = json.dumps({
        "@context": "https://openvex.dev/ns", "@id": "legacy", "timestamp": "2023-01-01T00:00:00Z",
        "statements": [{"vulnerability": "CVE-2023-6246", "products": ["pkg:deb/debian/libc6"],
                        "status": "not_affected", "justification": "inline_mitigations_already_exist"}],
    })
    out, suppressed, _ = apply_suppressions(scan_result, None, [parse_vex(doc)], TODAY)
    assert [s.finding.package for s in suppressed] == ["libc6"]


@pytest.mark.parametrize("doc,needle", [
    ("{", "not valid JSON"),
    ('{"statements": []}', "not an OpenVEX document"),
    ('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"products": [{"@id": "x"}], '
     '"status": "fixed"}]}', "needs a vulnerability"),
    ('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, '
     '"products": [{"@id": "x"}], "status": "wontfix"}]}', "status 'wontfix'"),
    ('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, '
     '"status": "fixed"}]}', "products"),
])
def test_bad_vex(doc, needle):
    with pytest.raises(VexError, match=needle):
        parse_vex(doc, source="bad.json")


def test_result_with_suppressions_round_trips_through_msgspec(scan_result, data_dir):
    import msgspec

    from imagewatch.report import ScanResult

    out, _, _ = apply_suppressions(scan_result, load_ignore_file(data_dir / "imagewatchignore.yaml"),
                                   [load_vex(data_dir / "app.openvex.json")], TODAY)
    again = msgspec.json.decode(msgspec.json.encode(out), type=ScanResult)
    assert again == out and render(again, "json") == render(out, "json")

"""Coverage you can see: an OS release with no advisory data warns "not covered" instead of "Total: 0"."""

from __future__ import annotations

import json

import pytest

from harness.images import tools_missing
from imagewatch.cli.main import main

from .realimages import alpine_layout

pytestmark = pytest.mark.skipif("umoci" in tools_missing(), reason="umoci is not installed")


def test_alpine_322_without_data_warns_not_covered(scan_env, tmp_path, capsys):
    # The module's store holds the Alpine v3.19 secdb excerpt and PyPI records, nothing for v3.22.
    layout = alpine_layout(tmp_path / "alpine")
    args = ["scan", f"oci:{layout}:app", "--scanners", "vuln", "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "not covered: no advisory data for OS release Alpine:v3.22" in err
    assert "Not covered: no advisory data for Alpine:v3.22" in out and "Total: 0" not in out

    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    [entry] = doc["Coverage"]
    assert entry == {"Class": "os-pkgs", "Ecosystem": "Alpine:v3.22", "Packages": 1, "Records": 0,
                     "Covered": False}
    assert any("Alpine:v3.22" in w for w in doc["Warnings"])


def test_covered_release_names_its_sources_and_age(scan_env, tmp_path, capsys):
    layout = alpine_layout(tmp_path / "alpine319", "3.19.1")
    assert main(["scan", f"oci:{layout}:app", "--scanners", "vuln", "--cache-dir", str(tmp_path / "c"),
                 "--format", "json"]) == 0
    out, err = capsys.readouterr()
    [entry] = json.loads(out)["Coverage"]
    assert entry["Covered"] and entry["Ecosystem"] == "Alpine:v3.19" and entry["Records"] > 50
    assert entry["Sources"] == ["alpine-secdb"] and entry["LastSync"]
    assert "not covered" not in err


def test_end_of_life_release_and_runtime_with_exit_on_eol(scan_env, tmp_path, capsys):
    from harness.images import ImageSpec, build_image

    from .realimages import SHARED

    summary = SHARED / "eol" / "eol-summary.json"
    if not summary.is_file():
        pytest.skip(f"shared data missing: {summary}")
    assert main(["db", "import", str(summary)]) == 0
    capsys.readouterr()
    layout = tmp_path / "buster"
    build_image(layout, "app", ImageSpec(layers=[{
        "etc/os-release": b'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n',
        "usr/local/lib/python3.7/site-packages/six-1.16.0.dist-info/METADATA":
            b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n",
    }], cmd=["python3"]))
    args = ["scan", f"oci:{layout}:app", "--scanners", "vuln", "--cache-dir", str(tmp_path / "c")]
    assert main([*args, "--exit-on-eol", "4", "--format", "json"]) == 4
    out, err = capsys.readouterr()
    eol = {e["Product"]: e for e in json.loads(out)["EndOfLife"]}
    assert eol["debian"] | {} == {"Kind": "eol", "Class": "os", "Product": "debian", "Cycle": "10",
                                  "Name": "Debian 10", "Version": "10", "EOL": "2024-06-30",
                                  "Evidence": "/etc/os-release", "Latest": eol["debian"]["Latest"]}
    assert eol["python"]["Cycle"] == "3.7" and eol["python"]["EOL"] == "2023-06-27"
    assert "end of life: Debian 10 (2024-06-30" in err
    assert main(args) == 0  # without --exit-on-eol the exit code is unchanged
    out, _ = capsys.readouterr()
    assert "End of life" in out and "Python 3.7" in out

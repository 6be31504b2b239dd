"""The Java analyser inflates at most one budget per layer, however many (nested) archives it holds.

The budget used to be per top-level archive, so many jars multiplied it. What
the budget or damage leaves unread is reported, so the scan is partial.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from imagewatch.ecosystems.java import analyser as java
from imagewatch.inventory.analysis import _run


def _jar(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


def _pom(artifact: str) -> bytes:
    return f"groupId=org.example\nartifactId={artifact}\nversion=1.0\n".encode()


def _fat(n: int, nested_bytes: int) -> bytes:
    nested = {f"BOOT-INF/lib/lib{i}-1.0.jar": _jar({f"META-INF/maven/org.example/lib{i}/pom.properties":
                                                    _pom(f"lib{i}"), "pad.bin": random.Random(i).randbytes(nested_bytes)})
              for i in range(n)}
    return _jar({"META-INF/maven/org.example/app/pom.properties": _pom("app"), **nested})


def _files(tmp_path: Path, jars: dict[str, bytes]) -> dict[str, Path]:
    out = {}
    for name, data in jars.items():
        path = tmp_path / name.replace("/", "_")
        path.write_bytes(data)
        out[name] = path
    return out


def test_one_budget_for_every_archive_of_the_layer(tmp_path, monkeypatch):
    monkeypatch.setattr(java, "MAX_TOTAL_BYTES", 3 * 1024 * 1024)
    # ten fat jars of four 200 KB nested jars each: 8 MB to inflate, over a 3 MB budget
    files = _files(tmp_path, {f"app{i}.jar": _fat(4, 200_000) for i in range(10)})
    packages, skipped = java.JavaAnalyser().analyse_with_skips(files)
    nested = [p for p in packages if "BOOT-INF" in p.path]
    assert 0 < len(nested) < 40
    assert skipped and all("inflation budget of the layer" in line for line in skipped)
    assert len(nested) + len(skipped) == 40


def test_skips_reach_the_layer_result(tmp_path, monkeypatch):
    monkeypatch.setattr(java, "MAX_TOTAL_BYTES", 300_000)
    files = _files(tmp_path, {"a.jar": _fat(3, 200_000)})
    result = _run(java.JavaAnalyser(), files)
    assert result.skipped and not result.error


def test_damaged_nested_archive_is_reported_and_its_siblings_read(tmp_path):
    jar = _jar({"BOOT-INF/lib/good-1.0.jar": _jar({"META-INF/maven/g/good/pom.properties": _pom("good")}),
                "BOOT-INF/lib/bad-1.0.jar": b"PK\x03\x04 not really a zip" * 10})
    packages, skipped = java.JavaAnalyser().analyse_with_skips(_files(tmp_path, {"app.jar": jar}))
    assert any(p.name.endswith(":good") for p in packages)
    assert any("bad-1.0.jar: not read (BadZipFile" in line for line in skipped)


@pytest.mark.parametrize("data", [b"", b"not a zip at all"])
def test_unreadable_top_level_archive_is_reported(tmp_path, data):
    packages, skipped = java.JavaAnalyser().analyse_with_skips(_files(tmp_path, {"x.jar": data}))
    assert packages == [] and skipped and skipped[0].startswith("x.jar: not read")

"""``imagewatch scan`` checks every layer against its claimed diff_id, for every kind of target.

A forged config (a gzip layer claiming another layer's diff_id) fails the scan
with exit code 3 and the reason on stderr, for an OCI layout, a docker archive
holding the compressed layer, and a registry; the cache directory gains no
result for the claimed diff_id, and the real image then scans right from the
same cache.
"""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
from pathlib import Path

import pytest

from harness.images import layer_tar, layout_descriptor, read_blob, tools_missing
from harness.registry import run_registry
from hostile.forge import build_forged, diff_id, push_forged
from imagewatch.cli.main import main

pytestmark = pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
REAL = layer_tar({"etc/os-release": b"ID=alpine\nVERSION_ID=3.19.1\n",
                  "lib/apk/db/installed": b"P:libssl3\nV:3.1.4-r0\nA:x86_64\no:openssl\n\n"})
EMPTY = layer_tar({})


@pytest.fixture
def scan(monkeypatch, tmp_path, pg_dsn, capsys):
    monkeypatch.setenv("IMAGEWATCH_DATABASE_URL", pg_dsn)
    monkeypatch.setenv("IMAGEWATCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("IMAGEWATCH_CONFIG", "IMAGEWATCH_FINGERPRINT_KEY", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "cache"

    def run(target: str, *options: str) -> tuple[int, str, str]:
        code = main(["scan", target, "--cache-dir", str(cache), "--format", "json", *options])
        out, err = capsys.readouterr()
        return code, out, err
    run.cache = cache  # type: ignore[attr-defined]
    return run


def _no_result_for(cache: Path, claimed: str) -> None:
    folder = claimed.replace(":", "_")
    assert not any(p.name == folder for p in cache.rglob("*")), "a result was cached for the claimed diff_id"
    assert not list((cache.rglob("_verified/*"))), "a pair was recorded as verified"


def _packages(out: str) -> set[str]:
    doc = json.loads(out)
    return {p["Name"] for r in doc["Results"] for p in r.get("Packages", [])}


def _layout(tmp_path: Path) -> Path:
    layout = tmp_path / "oci"
    build_forged(layout, "decoy", [EMPTY], [diff_id(REAL)])
    build_forged(layout, "real", [REAL], [None])
    return layout


def test_oci_layout_decoy_is_refused_and_the_real_image_scans(scan, tmp_path):
    layout = _layout(tmp_path)
    code, out, err = scan(f"oci:{layout}:decoy")
    assert code == 3 and out == ""
    assert "refused (diff_id)" in err and diff_id(REAL) in err and "Traceback" not in err
    _no_result_for(scan.cache, diff_id(REAL))
    code, out, err = scan(f"oci:{layout}:real")
    assert code == 0, err
    assert "libssl3" in _packages(out)


def _archive(layout: Path, tag: str, out: Path) -> Path:
    """A docker-save archive whose layer is the layout's gzip blob as is (compressed layers are allowed)."""
    manifest = json.loads(read_blob(layout, layout_descriptor(layout, tag)["digest"]))
    config = read_blob(layout, manifest["config"]["digest"])
    entries = {"config.json": config}
    names = []
    for n, layer in enumerate(manifest["layers"]):
        entries[f"{n}/layer.tar"] = read_blob(layout, layer["digest"])
        names.append(f"{n}/layer.tar")
    entries["manifest.json"] = json.dumps([{"Config": "config.json", "RepoTags": [f"x/{tag}:1"],
                                            "Layers": names}]).encode()
    with tarfile.open(out, "w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


def test_docker_archive_with_a_compressed_decoy_layer_is_refused(scan, tmp_path):
    layout = _layout(tmp_path)
    code, out, err = scan(f"docker-archive:{_archive(layout, 'decoy', tmp_path / 'decoy.tar')}")
    assert code == 3 and "refused (diff_id)" in err
    _no_result_for(scan.cache, diff_id(REAL))
    code, out, err = scan(f"docker-archive:{_archive(layout, 'real', tmp_path / 'real.tar')}")
    assert code == 0 and "libssl3" in _packages(out), err


async def test_registry_decoy_is_refused(scan, tmp_path, monkeypatch):
    with run_registry(tmp_path / "registry") as reg:
        decoy = await asyncio.to_thread(push_forged, reg.host, "evil/decoy", "1", [EMPTY], [diff_id(REAL)])
        real = await asyncio.to_thread(push_forged, reg.host, "team/real", "1", [REAL], [None])
        monkeypatch.setenv("IMAGEWATCH_INSECURE_REGISTRIES", reg.host)
        code, out, err = await asyncio.to_thread(scan, decoy.reference)
        assert code == 3 and "refused (diff_id)" in err, err
        _no_result_for(scan.cache, diff_id(REAL))
        code, out, err = await asyncio.to_thread(scan, real.reference)
        assert code == 0 and "libssl3" in _packages(out), err

"""The same image as a docker archive and from a real registry gives the same findings.

The secret's fingerprint is the installation key's HMAC whichever way the
image arrives, and the key is the database's, so the services agree with it.
"""

from __future__ import annotations

import asyncio
import io
import json
import tarfile

import asyncpg
import pytest

from harness.images import push_image, tools_missing
from harness.registry import run_registry
from imagewatch.cli.main import main
from imagewatch.secrets.detect.redaction import fingerprint
from imagewatch.store.installation import fingerprint_key

from .helpers import TAG, github_token, image_spec, write_docker_archive


@pytest.fixture
def scan_json(scan_env, capsys, tmp_path):
    def run(target: str, *options: str) -> tuple[int, dict | None, str]:
        code = main(["scan", target, "--format", "json", "--cache-dir", str(tmp_path / "cache"), *options])
        out, err = capsys.readouterr()
        return code, (json.loads(out) if out else None), err
    return run


def summary(doc: dict) -> tuple[set, set, set]:
    results = doc["Results"]
    return ({v["VulnerabilityID"] for r in results for v in r.get("Vulnerabilities", [])},
            {(s["RuleID"], s["Fingerprint"]) for r in results for s in r.get("Secrets", [])},
            {m["ID"] for r in results for m in r.get("Misconfigurations", [])})


async def _db_fingerprint(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return fingerprint(await fingerprint_key(conn), github_token().encode())
    finally:
        await conn.close()


def test_docker_archive_matches_oci_layout(scan_json, layout, tmp_path, advisory_dsn):
    archive = write_docker_archive(layout, tmp_path / "app.tar")
    code, oci, _ = scan_json(f"oci:{layout}:{TAG}")
    assert code == 0
    code, docker, err = scan_json(f"docker-archive:{archive}")
    assert (code, err) == (0, "")
    assert docker["ArtifactName"] == "test/app:1"
    assert summary(docker) == summary(oci)
    [(_, print_)] = summary(docker)[1]
    assert print_ == asyncio.run(_db_fingerprint(advisory_dsn))


@pytest.mark.skipif(bool(tools_missing()), reason=f"missing tools: {tools_missing()}")
def test_registry_image_matches_oci_layout(scan_json, scan_env, layout, tmp_path):
    code, oci, _ = scan_json(f"oci:{layout}:{TAG}")
    with run_registry(tmp_path / "registry") as reg:
        pushed = push_image(reg.host, "team/app", "v1", image_spec())
        scan_env.setenv("IMAGEWATCH_INSECURE_REGISTRIES", reg.host)
        code, doc, err = scan_json(reg.ref("team/app", "v1"), "--cache-dir", str(tmp_path / "cold"))
        assert (code, err) == (0, "")
        assert doc["Metadata"]["ImageDigest"] == pushed.digest
        assert summary(doc) == summary(oci)
        code, by_digest, _ = scan_json(f"{reg.host}/team/app@{pushed.digest}", "--scanners", "vuln")
        assert code == 0 and summary(by_digest)[0] == summary(oci)[0]
        code, none, err = scan_json(reg.ref("team/app", "nope"))
        assert code == 2 and none is None and err.startswith("imagewatch scan: ") and err.count("\n") == 1
    assert not any((tmp_path / "data" / "tmp").iterdir())  # downloaded layers are gone


def test_unreadable_layer_is_a_scan_failure(scan_json, tmp_path):
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "ab" * 32]}}).encode()
    entries = {"config.json": config, "l/layer.tar": b"\x1f\x8b\x08\x00" + b"not gzip at all" * 8,
               "manifest.json": json.dumps([{"Config": "config.json", "Layers": ["l/layer.tar"]}]).encode()}
    archive = tmp_path / "broken.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    code, doc, err = scan_json(f"docker-archive:{archive}")
    assert code == 3 and doc is None
    assert err.startswith("imagewatch scan: layers: ") and err.count("\n") == 1, err

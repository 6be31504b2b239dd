"""The secretscan library on layer tars: placement, removal, cache, config redaction."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgspec
import pytest

from harness.images import layer_tar
from imagewatch.layers import LayerLimits
from imagewatch.models import LayerRef
from imagewatch.secrets import (REDACTED, DirectorySecretCache, SecretLayerFailed, SecretLayerSource,
                                   ThreadScanners, is_redacted, redact_config, scan_image)

from .images import layers, patch_history
from .planted import Planted

KEY = b"test-installation-key"
TAR = "application/vnd.oci.image.layer.v1.tar"


def _sources(tmp: Path, specs: list[dict]) -> list[SecretLayerSource]:
    out = []
    for i, files in enumerate(specs):
        data = layer_tar(files)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = tmp / f"layer{i}.tar"
        path.write_bytes(data)
        out.append(SecretLayerSource(LayerRef(digest=digest, diff_id=digest, size=len(data), media_type=TAR),
                                     path=path))
    return out


def _config(p: Planted) -> dict:
    config = {"config": {"Env": ["PATH=/bin", f"DB_PASSWORD={p.db_password}"],
                         "ExposedPorts": {"22/tcp": {}}, "Cmd": ["/app/run"]},
              "container_config": {"Env": ["PATH=/bin", f"DB_PASSWORD={p.db_password}"]},
              "history": [{"created_by": "test layer 0"}]}
    patch_history(p)(config)
    return config


@pytest.fixture(scope="module")
def scanners():
    return ThreadScanners(KEY, max_file_bytes=1 << 20)


async def test_layers_are_placed_and_removals_marked(tmp_path, scanners):
    p = Planted.make(1)
    result = await scan_image(_sources(tmp_path, layers(p)), _config(p), scanners, None)
    by = {(f.rule_id, f.path): f for f in result.findings}
    secrets = [f for f in result.findings if f.kind == "secret"]
    token = next(f for f in secrets if f.path == "app/token.txt")
    assert (token.layer_index, token.removed_in) == (1, 2)
    settings = next(f for f in secrets if f.path == "app/settings.py")
    assert (settings.layer_index, settings.removed_in) == (1, 2)   # overwritten
    assert settings.fingerprint == token.fingerprint
    env = [f for f in secrets if f.path == "etc/app.env"]
    assert len(env) == 2 and all(f.layer_index == 1 and f.removed_in is None for f in env)
    assert any(f.path == "root/.ssh/id_rsa" and f.kind == "secret" for f in secrets)
    assert all(len(f.preview.removesuffix("****")) <= 4 for f in result.findings)
    assert ("IW-FS-001", "usr/local/bin/helper") in by and ("IW-FS-001", "bin/su") not in by
    assert ("IW-FS-002", "etc/app.conf") in by and ("IW-FS-003", "var/cache/apt/archives") in by
    assert ("IW-CFG-001", "config:User") in by and ("IW-CFG-005", "config:history[2]") in by
    assert ("IW-CFG-003", "config:Env[DB_PASSWORD]") in by
    assert any(f.path == "config:history[1]" and f.kind == "secret" for f in result.findings)
    assert result.stats["files_scanned"] >= 8 and len(result.read) == 3
    dumped = msgspec.json.encode(result.findings).decode()
    assert not any(v in dumped for v in p.values())


async def test_cache_reused_and_base_only_check_depends_on_position(tmp_path, scanners):
    p = Planted.make(2)
    sources = _sources(tmp_path, layers(p))
    cache = DirectorySecretCache(tmp_path / "cache")
    first = await scan_image(sources, None, scanners, cache)
    # The same layer 1 as a base layer: its setuid file is no longer "added".
    again = await scan_image([sources[1], sources[2]], None, scanners, cache)
    assert len(first.read) == 3 and again.read == []
    assert any(f.rule_id == "IW-FS-001" for f in first.findings)
    assert not any(f.rule_id == "IW-FS-001" for f in again.findings)
    token = next(f for f in again.findings if f.path == "app/token.txt")
    assert (token.layer_index, token.removed_in) == (0, 1)


async def test_refused_layer(tmp_path, scanners):
    sources = _sources(tmp_path, [{"big": b"\0" * 200_000}])
    with pytest.raises(SecretLayerFailed, match="layers: refused"):
        await scan_image(sources, None, scanners, None, LayerLimits(max_layer_bytes=10_000))


async def test_oversized_and_binary_files_are_counted(tmp_path):
    small = ThreadScanners(KEY, max_file_bytes=1000)
    p = Planted.make(3)
    sources = _sources(tmp_path, [{"a.env": p.env_file() + b"#" * 2000, "b.bin": b"\0\1\2" + p.env_file(),
                                   "c.env": p.env_file()}])
    result = await scan_image(sources, None, small, None)
    assert result.stats["skipped_too_large"] == 1 and result.stats["skipped_binary"] == 1
    assert {f.path for f in result.findings if f.kind == "secret"} == {"c.env"}


async def test_redact_config_removes_every_value_a_finding_points_at(tmp_path, scanners):
    p = Planted.make(4)
    config = _config(p)
    result = await scan_image([], config, scanners, None)
    redacted = redact_config(config, result.findings)
    text = json.dumps(redacted)
    assert not any(v in text for v in (p.db_password, p.npm_token))
    assert "PATH=/bin" in text and "curl -fsSL" in text and REDACTED in text
    assert is_redacted(redacted) and not is_redacted(config)
    assert redact_config({"config": {"Env": ["PATH=/bin"]}}, []) == {"config": {"Env": ["PATH=/bin"]}}

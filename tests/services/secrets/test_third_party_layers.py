"""Third-party paths through the layer scan, and the stage version that keys the layer cache."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from harness.images import layer_tar
from imagewatch.models import LayerRef
from imagewatch.secrets.detect import rules
from imagewatch.secrets import (DirectorySecretCache, SecretLayerSource, ThreadScanners, scan_image,
                                   stage_version)

from .planted import Planted

KEY = b"third-party-installation-key"
TAR = "application/vnd.oci.image.layer.v1.tar"
SITE = "usr/local/lib/python3.11/site-packages"
WERKZEUG_DOC = (b'def iri_to_uri(iri):\n    r"""\n    >>> iri_to_uri(u"http://\xc3\xbcser:p\xc3\xa4ssword@\xe2\x98\x83.net/")\n'
                b"    'http://%C3%BCser:p%C3%A4ssword@xn--n3h.net/'\n    \"\"\"\n")


def _source(tmp: Path, files: dict) -> SecretLayerSource:
    data = layer_tar(files)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = tmp / f"{digest[7:19]}.tar"
    path.write_bytes(data)
    return SecretLayerSource(LayerRef(digest=digest, diff_id=digest, size=len(data), media_type=TAR), path=path)


def _layer(p: Planted, password: str) -> dict:
    return {
        f"{SITE}/werkzeug/urls.py": WERKZEUG_DOC,
        f"{SITE}/pkg/settings.py": f'DB_PASSWORD = "{password}"\n',
        "usr/lib/python3/dist-packages/x/config.py": p.env_file(),
        "srv/app/.env": f"DATABASE_URL=postgres://app:{password}@db.internal:5432/app\n",
    }


async def test_layer_scan_skips_examples_and_lowers_provider_keys(tmp_path):
    p = Planted.make(41)
    result = await scan_image([_source(tmp_path, _layer(p, p.db_password))], None,
                              ThreadScanners(KEY, max_file_bytes=1 << 20), None)
    got = sorted((f.path, f.rule_id, f.severity) for f in result.findings if f.kind == "secret")
    assert got == [
        ("srv/app/.env", "url-credentials", "high"),
        ("usr/lib/python3/dist-packages/x/config.py", "aws-access-key-id", "low"),
        ("usr/lib/python3/dist-packages/x/config.py", "aws-secret-access-key", "low"),
    ]


def test_stage_version_hashes_the_allow_data(monkeypatch):
    before = stage_version(KEY, 1 << 20)
    assert before.startswith("secrets/2 ")
    for name, value in (("THIRD_PARTY_PATHS", rules.THIRD_PARTY_PATHS[:-1]),
                        ("URL_DOC_HOST", rules.URL_DOC_HOST + "|^docs$"),
                        ("URL_PLACEHOLDER_HOSTS", rules.URL_PLACEHOLDER_HOSTS | {"svc"}),
                        ("URL_PLACEHOLDER_USERS", rules.URL_PLACEHOLDER_USERS - {"me"}),
                        ("URL_PLACEHOLDER_PASSWORDS", rules.URL_PLACEHOLDER_PASSWORDS | {"hunter2"}),
                        ("RULES", tuple(replace(r, third_party="low") for r in rules.RULES))):
        with monkeypatch.context() as m:
            m.setattr(rules, name, value)
            assert stage_version(KEY, 1 << 20) != before, name
    assert stage_version(KEY, 1 << 20) == before


async def test_cached_layers_are_rescanned_when_the_allow_data_changes(tmp_path, monkeypatch):
    p = Planted.make(42)
    source = _source(tmp_path, _layer(p, p.db_password))
    cache = DirectorySecretCache(tmp_path / "cache")
    first = await scan_image([source], None, ThreadScanners(KEY, max_file_bytes=1 << 20), cache)
    again = await scan_image([source], None, ThreadScanners(KEY, max_file_bytes=1 << 20), cache)
    assert first.read == [source.ref.diff_id] and again.read == []
    monkeypatch.setattr(rules, "THIRD_PARTY_PATHS", ())
    changed = await scan_image([source], None, ThreadScanners(KEY, max_file_bytes=1 << 20), cache)
    assert changed.read == [source.ref.diff_id]
    assert ("generic-password", f"{SITE}/pkg/settings.py") in {(f.rule_id, f.path) for f in changed.findings}
    assert not any(f.path.startswith(SITE) for f in first.findings)


def test_stage_version_is_the_same_in_every_process():
    """Sets are hashed sorted: string hashing differs per process, the layer cache must not."""
    code = f"from imagewatch.secrets import stage_version; print(stage_version({KEY!r}, 1 << 20))"
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert seen == {stage_version(KEY, 1 << 20)}

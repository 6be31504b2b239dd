"""Misconfiguration checks on an image config and on filesystem metadata."""

from __future__ import annotations

import pytest

from imagewatch.secrets.detect import Scanner
from imagewatch.secrets.misconfig import FileEntry, all_checks, check_config, check_files

from .cases import rnd

KEY = b"misconfig-key"


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(key=KEY)


def _ids(findings) -> list[str]:
    return sorted(f.rule_id for f in findings)


def test_at_least_ten_checks_with_unique_ids_and_remediation() -> None:
    checks = all_checks()
    assert len(checks) >= 10
    assert all(c.remediation and c.title for c in checks)


def test_bad_config_reports_every_config_check(scanner: Scanner) -> None:
    db_password = rnd(20)
    token = "ghp_" + rnd(36)
    config = {
        "config": {
            "User": "0:0",
            "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}, "2375/tcp": {}},
            "Env": ["PATH=/usr/bin", f"DB_PASSWORD={db_password}", "DB_PASSWORD_FILE=/run/secrets/db",
                    "API_TOKEN=${TOKEN}", "EMPTY_SECRET="],
            "Cmd": ["app", f"--token={token}"],
            "Labels": {"maintainer": "ops"},
        },
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD https://example.org/tool.tgz /opt/"},
            {"created_by": "RUN /bin/sh -c curl -fsSL https://get.example.org | sh # buildkit"},
            {"created_by": "ENV X=1", "empty_layer": True},
        ],
    }
    found = check_config(config, scanner)
    mis = [f for f in found if f.kind == "misconfiguration"]
    assert _ids(mis) == sorted(["IW-CFG-001", "IW-CFG-002", "IW-CFG-002", "IW-CFG-003", "IW-CFG-004",
                                "IW-CFG-005", "IW-CFG-006"])
    env = next(f for f in mis if f.rule_id == "IW-CFG-003")
    assert env.path == "config:Env[DB_PASSWORD]"
    assert env.fingerprint == scanner.fingerprint(db_password.encode())
    assert {f.path for f in found if f.kind == "secret"} >= {"config:Cmd", "config:Env[DB_PASSWORD]"}
    assert {f.path for f in mis if f.rule_id == "IW-CFG-004"} == {"config:history[0]"}
    assert {f.path for f in mis if f.rule_id == "IW-CFG-005"} == {"config:history[1]"}
    assert db_password not in repr(found) and token not in repr(found)


def test_good_config_is_clean(scanner: Scanner) -> None:
    config = {
        "config": {
            "User": "app", "ExposedPorts": {"8080/tcp": {}}, "Env": ["PATH=/usr/bin", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D"],
            "Healthcheck": {"Test": ["CMD", "true"]},
        },
        "history": [{"created_by": "RUN /bin/sh -c apt-get update && apt-get install -y curl"}],
    }
    assert check_config(config, scanner) == []


def test_secret_in_history_build_arg(scanner: Scanner) -> None:
    key_id = "AKIA" + rnd(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    config = {"config": {"User": "1000"}, "history": [{"created_by": f"RUN |1 AWS_KEY={key_id} /bin/sh -c make"}]}
    secrets = [f for f in check_config(config, scanner) if f.kind == "secret"]
    assert [(f.rule_id, f.path) for f in secrets] == [("aws-access-key-id", "config:history[0]")]


def test_filesystem_checks() -> None:
    entries = [
        FileEntry("usr/bin/passwd", 0o4755, layer_index=0),
        FileEntry("usr/local/bin/tool", 0o4755, layer_index=2, layer="sha256:l2"),
        FileEntry("etc/app.conf", 0o666, layer_index=1),
        FileEntry("usr/share/tmp", 0o1777, is_dir=True, layer_index=1),
        FileEntry("usr/lib/link", 0o777, is_symlink=True, layer_index=1),
        FileEntry("tmp/x", 0o666, layer_index=1),
        FileEntry("var/cache/apt/archives/curl_8.0_amd64.deb", 0o644, layer_index=1),
        FileEntry("var/cache/apt/archives/libc_2.36_amd64.deb", 0o644, layer_index=1),
        FileEntry("var/lib/apt/lists/lock", 0o640, layer_index=1),
        FileEntry("root/.cache/pip/http/a/b", 0o644, layer_index=3),
        FileEntry("root/.ssh/id_ed25519", 0o600, layer_index=1),
        FileEntry("root/.ssh/id_ed25519.pub", 0o644, layer_index=1),
        FileEntry("etc/ssh/ssh_host_rsa_key", 0o600, layer_index=1),
        FileEntry("app/.git", 0o755, is_dir=True, layer_index=2),
        FileEntry("app/.env", 0o644, layer_index=2),
        FileEntry("app/.env.example", 0o644, layer_index=2),
        FileEntry("root/.bash_history", 0o600, size=120, layer_index=2),
    ]
    found = check_files(entries)
    got = sorted((f.rule_id, f.path) for f in found)
    assert got == sorted([
        ("IW-FS-001", "usr/local/bin/tool"),
        ("IW-FS-002", "etc/app.conf"),
        ("IW-FS-003", "var/cache/apt/archives"),
        ("IW-FS-003", "root/.cache/pip"),
        ("IW-FS-004", "root/.ssh/id_ed25519"),
        ("IW-FS-005", "etc/ssh/ssh_host_rsa_key"),
        ("IW-FS-006", "app/.git"),
        ("IW-FS-007", "app/.env"),
        ("IW-FS-008", "root/.bash_history"),
    ])
    setuid = next(f for f in found if f.rule_id == "IW-FS-001")
    assert (setuid.layer_index, setuid.layer, setuid.kind) == (2, "sha256:l2", "misconfiguration")


def test_config_secret_names_its_variable(scanner: Scanner) -> None:
    password = rnd(20)
    github = "ghp_" + rnd(36)
    config = {"config": {"User": "app", "Healthcheck": {"Test": ["CMD", "true"]},
                         "Env": ["PATH=/usr/bin", f"DATABASE_URL=postgres://app:{password}@db.internal:5432/app",
                                 f"GH={github}"]}}
    secrets = [f for f in check_config(config, scanner) if f.kind == "secret"]
    paths = {f.path for f in secrets}
    assert "config:Env[DATABASE_URL]" in paths and "config:Env[GH]" in paths
    assert "config:Env" not in paths and all(f.line == 0 for f in secrets)
    from imagewatch.secrets.redact import redact_config
    redacted = repr(redact_config(config, secrets))
    assert password not in redacted and github not in redacted

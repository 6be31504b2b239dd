"""Image misconfiguration checks: the registry and the two entry points.

``check_config`` runs every config check plus the secret scanner over Env,
Cmd, Entrypoint, Labels and history ``created_by``; ``check_files`` runs every
filesystem check over layer entry metadata. A check is listed once below; a
duplicate id raises at first use.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from imagewatch.models import SecretFinding
from imagewatch.secrets.detect.scanner import Scanner
from imagewatch.secrets.misconfig import filesystem as fs
from imagewatch.secrets.misconfig import image_config as cfg
from imagewatch.secrets.misconfig.check import Check, ConfigFn, FileEntry, FileFn, ImageConfig, history_commands, runtime_config
from imagewatch.errors import ImagewatchError

CONFIG_CHECKS: tuple[tuple[Check, ConfigFn], ...] = (
    (cfg.ROOT_USER, cfg.root_user),
    (cfg.SENSITIVE_PORT, cfg.sensitive_ports),
    (cfg.SECRET_ENV_NAME, cfg.secret_env_names),
    (cfg.ADD_REMOTE, cfg.add_remote),
    (cfg.CURL_PIPE_SHELL, cfg.curl_pipe_shell),
    (cfg.NO_HEALTHCHECK, cfg.no_healthcheck),
)
FILE_CHECKS: tuple[tuple[Check, FileFn], ...] = (
    (fs.SETUID_ADDED, fs.setuid_added),
    (fs.WORLD_WRITABLE, fs.world_writable),
    (fs.PACKAGE_CACHE, fs.package_caches),
    (fs.KEY_FILE, fs.key_files),
    (fs.SSH_HOST_KEY, fs.ssh_host_keys),
    (fs.GIT_DIR, fs.git_dirs),
    (fs.DOTENV, fs.dotenv_files),
    (fs.SHELL_HISTORY, fs.shell_history),
)


class CatalogError(ImagewatchError, ValueError):
    """Two misconfiguration checks share an id."""


def all_checks() -> list[Check]:
    """Every check, config first; raises ``CatalogError`` on a duplicate id."""
    checks = [c for c, _ in CONFIG_CHECKS] + [c for c, _ in FILE_CHECKS]
    ids = [c.id for c in checks]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CatalogError(f"secrets.misconfig: duplicate check ids {dupes}")
    return checks


def config_secrets(config: ImageConfig, scanner: Scanner) -> list[SecretFinding]:
    """Secret-rule findings in Env, Cmd, Entrypoint, Labels and history created_by.

    Each Env item is scanned on its own and its findings name the variable:
    ``config:Env[DATABASE_URL]`` (line 0).
    """
    rc = runtime_config(config)
    out: list[SecretFinding] = []
    for item in rc.get("Env") or []:
        item = str(item)
        name = item.partition("=")[0]
        out += [msgspec.structs.replace(f, line=0) for f in scanner.scan_text(f"config:Env[{name}]", item)]
    for field in ("Cmd", "Entrypoint"):
        text = "\n".join(str(v) for v in rc.get(field) or [])
        out += scanner.scan_text(f"config:{field}", text)
    labels = "\n".join(f"{k}={v}" for k, v in (rc.get("Labels") or {}).items())
    out += scanner.scan_text("config:Labels", labels)
    for i, cmd in history_commands(config):
        out += scanner.scan_text(f"config:history[{i}]", cmd)
    return out


def check_config(config: ImageConfig, scanner: Scanner) -> list[SecretFinding]:
    """Run every config check and the secret scanner over an OCI image config blob."""
    all_checks()
    out: list[SecretFinding] = []
    for _, fn in CONFIG_CHECKS:
        out.extend(fn(config, scanner.fingerprint))
    return out + config_secrets(config, scanner)


def check_files(entries: Iterable[FileEntry]) -> list[SecretFinding]:
    """Run every filesystem check over the entries of all layers."""
    all_checks()
    items = list(entries)
    out: list[SecretFinding] = []
    for _, fn in FILE_CHECKS:
        out.extend(fn(items))
    return out


__all__ = ["CONFIG_CHECKS", "FILE_CHECKS", "Check", "CatalogError", "FileEntry",
           "all_checks", "check_config", "check_files", "config_secrets"]

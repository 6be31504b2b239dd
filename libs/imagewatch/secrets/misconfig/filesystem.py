"""Checks on filesystem metadata: permissions, leftovers, files that hold keys."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from imagewatch.models import SecretFinding
from imagewatch.secrets.misconfig.check import Check, FileEntry

SETUID_ADDED = Check(
    "IW-FS-001", "Setuid/setgid file added above the base layer", "high",
    "Drop the bit (chmod u-s,g-s) unless the program must gain privileges; prefer capabilities.",
)
WORLD_WRITABLE = Check(
    "IW-FS-002", "World-writable file in a system directory", "medium",
    "chmod o-w the path; system files should be writable by root only.",
)
PACKAGE_CACHE = Check(
    "IW-FS-003", "Package manager cache left in the image", "low",
    "Clean the cache in the same RUN (apt-get clean && rm -rf /var/lib/apt/lists/*, apk --no-cache, pip --no-cache-dir, npm cache clean --force).",
)
KEY_FILE = Check(
    "IW-FS-004", "Private key or keystore file in the image", "high",
    "Remove the key material from the image, mount it at run time and rotate it.",
)
SSH_HOST_KEY = Check(
    "IW-FS-005", "SSH host keys baked into the image", "medium",
    "Generate host keys at container start; every container from this image shares these keys.",
)
GIT_DIR = Check(
    "IW-FS-006", "Git repository metadata in the image", "low",
    "Add .git to .dockerignore; it can hold history, credentials in remotes and deleted files.",
)
DOTENV = Check(
    "IW-FS-007", "Environment (.env) file in the image", "medium",
    "Add .env files to .dockerignore and pass configuration at run time.",
)
SHELL_HISTORY = Check(
    "IW-FS-008", "Shell or client history file in the image", "low",
    "Remove history files; they often hold typed passwords and tokens.",
)

SYSTEM_DIRS = ("etc/", "usr/", "bin/", "sbin/", "lib/", "lib64/")
CACHE_DIRS = re.compile(
    r"^(?P<dir>var/cache/apt/archives|var/lib/apt/lists|var/cache/apk|var/cache/yum|var/cache/dnf"
    r"|(?:root|home/[^/]+)/\.cache/pip|(?:root|home/[^/]+)/\.npm/_cacache)/(?P<rest>.+)$"
)
_CACHE_IGNORE = re.compile(r"(?:^|/)(?:lock|partial|auxfiles)$")
_KEY_NAMES = re.compile(r"^(?:id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?|.+\.(?:p12|pfx|jks|keystore|ppk))$")
_SSH_HOST_KEY = re.compile(r"^etc/ssh/ssh_host_[a-z0-9]+_key$")
_HISTORY = {".bash_history", ".ash_history", ".zsh_history", ".sh_history", ".python_history",
            ".mysql_history", ".psql_history", ".node_repl_history", ".rediscli_history"}
_DOTENV_ALLOWED = {".env.example", ".env.sample", ".env.template", ".env.dist"}


def setuid_added(entries: list[FileEntry]) -> Iterator[SecretFinding]:
    """Regular files with the setuid or setgid bit, from layer 1 upwards."""
    for e in entries:
        if e.layer_index > 0 and not e.is_dir and not e.is_symlink and e.mode & 0o6000:
            yield SETUID_ADDED.finding(e.path, layer_index=e.layer_index, layer=e.layer)


def world_writable(entries: list[FileEntry]) -> Iterator[SecretFinding]:
    """o+w files and non-sticky dirs under etc, usr, bin, sbin, lib."""
    for e in entries:
        if e.is_symlink or not e.mode & 0o002 or not e.path.startswith(SYSTEM_DIRS):
            continue
        if e.is_dir and e.mode & 0o1000:
            continue
        yield WORLD_WRITABLE.finding(e.path, layer_index=e.layer_index, layer=e.layer)


def package_caches(entries: list[FileEntry]) -> Iterator[SecretFinding]:
    """One finding per cache directory and layer that holds cached files."""
    seen: set[tuple[str, int]] = set()
    for e in entries:
        m = CACHE_DIRS.match(e.path)
        if not m or e.is_dir or _CACHE_IGNORE.search(m["rest"]):
            continue
        if (m["dir"], e.layer_index) not in seen:
            seen.add((m["dir"], e.layer_index))
            yield PACKAGE_CACHE.finding(m["dir"], layer_index=e.layer_index, layer=e.layer)


def key_files(entries: list[FileEntry]) -> Iterator[SecretFinding]:
    """SSH private keys by name and binary keystores (the content scanner skips binaries)."""
    for e in entries:
        if not e.is_dir and _KEY_NAMES.match(posixpath.basename(e.path)):
            yield KEY_FILE.finding(e.path, layer_index=e.layer_index, layer=e.layer)


def ssh_host_keys(entries: list[FileEntry]) -> Iterator[SecretFinding]:
    """/etc/ssh/ssh_host_*_key private host keys."""
    for e in entries:
        if not e.is_dir and _SSH_HOST_KEY.match(e.path):
            yield SSH_HOST_KEY.finding(e.path, layer_index=e.layer_index, layer=e.layer)


def git_dirs(entries: list[FileEntry]) -> Iterator[SecretFinding]:
    """A ``.git`` directory (reported once, at the directory)."""
    for e in entries:
        if e.is_dir and posixpath.basename(e.path) == ".git":
            yield GIT_DIR.finding(e.path, layer_index=e.layer_index, layer=e.layer)


def dotenv_files(entries: list[FileEntry]) -> Iterator[SecretFinding]:
    """``.env`` and ``.env.*`` files other than examples."""
    for e in entries:
        name = posixpath.basename(e.path)
        if not e.is_dir and (name == ".env" or name.startswith(".env.")) and name not in _DOTENV_ALLOWED:
            yield DOTENV.finding(e.path, layer_index=e.layer_index, layer=e.layer)


def shell_history(entries: list[FileEntry]) -> Iterator[SecretFinding]:
    """Non-empty shell and database client history files."""
    for e in entries:
        if not e.is_dir and e.size > 0 and posixpath.basename(e.path) in _HISTORY:
            yield SHELL_HISTORY.finding(e.path, layer_index=e.layer_index, layer=e.layer)

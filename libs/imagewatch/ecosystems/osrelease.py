"""OS detection: which distribution and release an image is built on.

Not a package analyser (the OS is not a package): the layer reader always
extracts ``OS_FILES`` and calls ``detect_os`` on what it found. os-release wins;
the older single-line release files are fallbacks.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from imagewatch.models import OSInfo

OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
OS_FILES = (*OS_RELEASE, "etc/alpine-release", "etc/debian_version", "etc/redhat-release")
MAX_BYTES = 64 * 1024

_REDHAT = [  # (pattern on redhat-release, os-release ID)
    (re.compile(r"^Rocky Linux", re.I), "rocky"),
    (re.compile(r"^AlmaLinux", re.I), "almalinux"),
    (re.compile(r"^CentOS", re.I), "centos"),
    (re.compile(r"^Fedora", re.I), "fedora"),
    (re.compile(r"^Red Hat Enterprise Linux", re.I), "rhel"),
]
_VERSION = re.compile(r"release\s+(\d+(?:\.\d+)*)")


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value pairs of an os-release file, shell quoting removed."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or key.startswith("#"):
            continue
        try:
            parts = shlex.split(value)
        except ValueError:
            parts = [value.strip("\"'")]
        out[key.strip()] = " ".join(parts)
    return out


def _read(path: Path) -> str:
    with path.open("rb") as f:
        return f.read(MAX_BYTES).decode("utf-8", errors="replace")


def _from_os_release(text: str) -> OSInfo | None:
    fields = parse_os_release(text)
    if not fields.get("ID"):
        return None
    return OSInfo(
        id=fields["ID"].lower(), version_id=fields.get("VERSION_ID", ""),
        version_codename=fields.get("VERSION_CODENAME", ""),
        pretty_name=fields.get("PRETTY_NAME", ""),
    )


def _from_redhat_release(text: str) -> OSInfo | None:
    line = text.strip().splitlines()[0] if text.strip() else ""
    for pattern, os_id in _REDHAT:
        if pattern.search(line):
            m = _VERSION.search(line)
            return OSInfo(id=os_id, version_id=m.group(1) if m else "", pretty_name=line)
    return None


def detect_os(files: Mapping[str, Path]) -> OSInfo | None:
    """OSInfo from the OS_FILES among ``files`` (image path → file on disk), or None."""
    for name in OS_RELEASE:
        if name in files and (info := _from_os_release(_read(files[name]))):
            return info
    if "etc/alpine-release" in files:
        version = _read(files["etc/alpine-release"]).strip()
        return OSInfo(id="alpine", version_id=version)
    if "etc/redhat-release" in files and (info := _from_redhat_release(_read(files["etc/redhat-release"]))):
        return info
    if "etc/debian_version" in files:
        version = _read(files["etc/debian_version"]).strip()
        return OSInfo(id="debian", version_id=version.split(".")[0] if version[:1].isdigit() else "",
                      version_codename="" if version[:1].isdigit() else version.split("/")[0])
    return None

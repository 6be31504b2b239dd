"""Checks on the OCI image config: user, ports, environment, build history."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from imagewatch.models import SecretFinding
from imagewatch.secrets.detect.placeholders import is_template
from imagewatch.secrets.detect.redaction import preview
from imagewatch.secrets.misconfig.check import Check, ImageConfig, env_pairs, history_commands, runtime_config

ROOT_USER = Check(
    "IW-CFG-001", "Image runs as root", "medium",
    "Add a non-root USER (name or uid other than 0) to the Dockerfile.",
)
SENSITIVE_PORT = Check(
    "IW-CFG-002", "Remote-access or Docker daemon port exposed", "high",
    "Do not EXPOSE SSH, Telnet, RDP, VNC or the Docker API; use `docker exec`/`kubectl exec`.",
)
SECRET_ENV_NAME = Check(
    "IW-CFG-003", "Secret-named environment variable set in the image", "high",
    "Pass secrets at run time (orchestrator secrets, mounted files), not with ENV/ARG; rotate this one.",
)
ADD_REMOTE = Check(
    "IW-CFG-004", "ADD of a remote URL", "medium",
    "Download with a pinned checksum (ADD --checksum, or curl + sha256sum) or COPY a vetted file.",
)
CURL_PIPE_SHELL = Check(
    "IW-CFG-005", "Remote script piped into a shell during the build", "medium",
    "Download the script, verify its checksum or signature, then run it.",
)
NO_HEALTHCHECK = Check(
    "IW-CFG-006", "No HEALTHCHECK", "info",
    "Add a HEALTHCHECK (or rely on the orchestrator's probes and ignore this).",
)

# Management and remote-access ports only: database images expose their
# service port by design, so 5432/6379/27017 would be noise, not findings.
SENSITIVE_PORTS = {22: "ssh", 23: "telnet", 2375: "docker", 2376: "docker-tls", 3389: "rdp", 5900: "vnc"}
_SECRET_NAME = re.compile(
    r"(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH_?KEY)",
    re.IGNORECASE,
)
_NOT_SECRET_NAME = re.compile(r"(?:_FILE|_PATH|_DIR|_URL|_ENDPOINT|_LENGTH|_TTL|_ID)$", re.IGNORECASE)
_ADD_REMOTE = re.compile(r"\bADD\b(?:\s+--\S+)*\s+https?://", re.IGNORECASE)
_CURL_SHELL = re.compile(r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b")


def root_user(config: ImageConfig, _fp: Callable[[bytes], str]) -> Iterator[SecretFinding]:
    """No USER, or USER 0 / root (with or without a group)."""
    user = str(runtime_config(config).get("User") or "").split(":")[0].strip()
    if user in ("", "0", "root"):
        yield ROOT_USER.finding("config:User")


def sensitive_ports(config: ImageConfig, _fp: Callable[[bytes], str]) -> Iterator[SecretFinding]:
    """EXPOSEd ports from ``SENSITIVE_PORTS``."""
    for spec in runtime_config(config).get("ExposedPorts") or {}:
        port = str(spec).split("/")[0]
        if port.isdigit() and int(port) in SENSITIVE_PORTS:
            yield SENSITIVE_PORT.finding(f"config:ExposedPorts[{spec}]")


def secret_env_names(config: ImageConfig, fp: Callable[[bytes], str]) -> Iterator[SecretFinding]:
    """Env names that say secret, with a literal non-empty value (reported redacted)."""
    for name, value in env_pairs(config):
        if not value.strip() or not _SECRET_NAME.search(name) or _NOT_SECRET_NAME.search(name):
            continue
        if is_template(value) or value.startswith("/"):
            continue
        yield SECRET_ENV_NAME.finding(f"config:Env[{name}]", fingerprint=fp(value.encode()), preview=preview(value))


def add_remote(config: ImageConfig, _fp: Callable[[bytes], str]) -> Iterator[SecretFinding]:
    """History entries made by ``ADD http(s)://...``."""
    for i, cmd in history_commands(config):
        if _ADD_REMOTE.search(cmd):
            yield ADD_REMOTE.finding(f"config:history[{i}]")


def curl_pipe_shell(config: ImageConfig, _fp: Callable[[bytes], str]) -> Iterator[SecretFinding]:
    """History entries that pipe curl/wget output into a shell."""
    for i, cmd in history_commands(config):
        if _CURL_SHELL.search(cmd):
            yield CURL_PIPE_SHELL.finding(f"config:history[{i}]")


def no_healthcheck(config: ImageConfig, _fp: Callable[[bytes], str]) -> Iterator[SecretFinding]:
    """No Healthcheck, or one disabled with ``NONE``."""
    hc = runtime_config(config).get("Healthcheck") or {}
    if not hc.get("Test") or hc["Test"][0] == "NONE":
        yield NO_HEALTHCHECK.finding("config:Healthcheck")

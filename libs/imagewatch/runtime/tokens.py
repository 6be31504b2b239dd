"""Bearer tokens and generated secrets: strength checks and files created once, 0600.

A token is refused when empty, shorter than :data:`MIN_TOKEN_LENGTH`, or a
placeholder (``CHANGE_ME``, ``changeme``, ``secret``, ``password``, ...): a
configuration that ships one must fail at start, never run with a guessable
token or with authentication off. Generated secrets go to files created with
``O_CREAT | O_EXCL`` and mode 0600 and written in one call; a file left empty
or short by a crash is refused with its path named, never read as "no token".
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from imagewatch.errors import ImagewatchError

MIN_TOKEN_LENGTH = 16
_PLACEHOLDER = re.compile(
    r"(change[-_ ]?me|replace[-_ ]?me|todo|fixme|xxx+|secret|password|passw0rd|token|example|"
    r"default|test|dummy|placeholder|sample|your|here|please|insert|enter|none|null|undefined)",
    re.IGNORECASE,
)


class TokenError(ImagewatchError, ValueError):
    """token: a configured or stored token is empty, too short or a placeholder."""


def check_token(name: str, value: str) -> str:
    """``value`` when it is a usable secret, else TokenError naming ``name`` (never the value)."""
    if not value or not value.strip():
        raise TokenError(f"token: {name} is empty")
    if value != value.strip():
        raise TokenError(f"token: {name} has leading or trailing whitespace")
    if len(value) < MIN_TOKEN_LENGTH:
        raise TokenError(f"token: {name} is shorter than {MIN_TOKEN_LENGTH} characters")
    stripped = _PLACEHOLDER.sub("", value)
    if len(set(value)) < 6 or len(re.sub(r"[^A-Za-z0-9]", "", stripped)) < 8:
        raise TokenError(f"token: {name} looks like a placeholder; generate one "
                         "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return value


def write_secret_file(path: Path, value: str) -> None:
    """Create ``path`` with mode 0600 (O_EXCL: never over an existing file) holding ``value``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        data = value.encode()
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to {path}")
        os.fsync(fd)
    finally:
        os.close(fd)


def stored_token(path: Path, name: str) -> str:
    """The token kept in ``path``, generated there once (0600) when missing; checked either way."""
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        value = secrets.token_urlsafe(32)
        try:
            write_secret_file(path, value)
        except FileExistsError:  # another process created it first: use theirs
            value = path.read_text().strip()
    return check_token(f"{name} (file {path})", value)


def configured_or_stored(configured: str, data_dir: Path, file_name: str, name: str) -> str:
    """The configured token (checked), else the one generated in ``data_dir/file_name``."""
    if configured:
        return check_token(name, configured)
    return stored_token(data_dir / file_name, name)

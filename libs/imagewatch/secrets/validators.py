"""Structural checks some rules apply after the regex (a decodable JWT header...).

Listed in one registry; a rule names its check in ``Rule.validator``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable


def _b64json(part: str) -> object | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def valid_jwt(value: str) -> bool:
    """True when the first two dot-separated parts decode to JSON objects."""
    parts = value.split(".")
    if len(parts) < 2:
        return False
    return all(isinstance(_b64json(p), dict) for p in parts[:2])


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "jwt": valid_jwt,
}


def get_validator(name: str) -> Callable[[str], bool]:
    """Return the named validator; raise ``KeyError`` naming the component."""
    try:
        return VALIDATORS[name]
    except KeyError:
        raise KeyError(f"secrets: unknown validator {name!r}") from None

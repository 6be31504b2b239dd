"""Structural checks some rules apply after the regex (a decodable JWT header...).

Listed in one registry; a rule names its check in ``Rule.validator``. A check
gets the secret value and the whole regex match, and says whether to keep it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import unquote

from imagewatch.secrets.detect import rules
def _b64json(part: str) -> object | None:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def valid_jwt(value: str, match: str = "") -> bool:
    """True when the first two dot-separated parts decode to JSON objects."""
    parts = value.split(".")
    if len(parts) < 2:
        return False
    return all(isinstance(_b64json(p), dict) for p in parts[:2])


def _fold(word: str) -> str:
    """Percent-decoded, accents removed, lowercase letters and digits only: ``p%C3%A4ss-word`` → ``password``."""
    decomposed = unicodedata.normalize("NFKD", unquote(word))
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def not_doc_url(value: str, match: str) -> bool:
    """False when a URL with credentials is a documentation example (see ``URL_*`` in ``rules.py``)."""
    scheme_rest = match.partition("://")[2]
    creds, _, host = scheme_rest.rpartition("@")
    user = creds.partition(":")[0]
    host = host.lower().strip("[]")
    if re.search(rules.URL_DOC_HOST, host):
        return False
    if _fold(user) not in rules.URL_PLACEHOLDER_USERS or _fold(value) not in rules.URL_PLACEHOLDER_PASSWORDS:
        return True
    escaped = "%" in user or "%" in value or not (user + value).isascii()
    return not (escaped or host in rules.URL_PLACEHOLDER_HOSTS)


VALIDATORS: dict[str, Callable[[str, str], bool]] = {
    "jwt": valid_jwt,
    "url": not_doc_url,
}


def get_validator(name: str) -> Callable[[str, str], bool]:
    """Return the named validator; raise ``KeyError`` naming the component."""
    try:
        return VALIDATORS[name]
    except KeyError:
        raise KeyError(f"secrets: unknown validator {name!r}") from None

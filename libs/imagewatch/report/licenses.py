"""License strings as SPDX expressions, when they are valid ones.

Uses ``packaging.licenses`` (the SPDX license list bundled with ``packaging``
for PEP 639) rather than a hand-kept list of identifiers.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression


@lru_cache(maxsize=4096)
def spdx_expression(text: str) -> str | None:
    """The canonical SPDX expression for ``text``, or None when it is not one."""
    try:
        return str(canonicalize_license_expression(text.strip()))
    except (InvalidLicenseExpression, ValueError):
        return None

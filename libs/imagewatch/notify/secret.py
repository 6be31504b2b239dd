"""A configuration value that must never be shown: webhook URLs, signing keys.

``repr``, ``str`` and formatting print ``'**********'``; ``reveal()`` is the
only way to the value, and is called only where the request is made.
"""

from __future__ import annotations

import hmac

MASK = "**********"


class Secret:
    """A string kept out of logs, reprs, tracebacks' locals display and API output."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value itself; call only where it is used."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(
            self._value.encode("utf-8", "surrogateescape"), other._value.encode("utf-8", "surrogateescape"))

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self):
        raise TypeError("notify: a Secret cannot be pickled")


def secret_dec_hook(kind: type, obj: object) -> object:
    """msgspec ``dec_hook`` turning configured strings into ``Secret``."""
    if kind is Secret:
        if not isinstance(obj, str):
            raise TypeError("expected a string")
        return Secret(obj)
    raise NotImplementedError(f"notify: cannot decode {kind!r}")


def secret_enc_hook(obj: object) -> object:
    """msgspec ``enc_hook`` that writes every ``Secret`` masked."""
    if isinstance(obj, Secret):
        return MASK
    raise NotImplementedError(f"notify: cannot encode {type(obj)!r}")

"""Binary detection by content sniffing, like ``file``/git: look at the first 8 KiB."""

from __future__ import annotations

SNIFF_BYTES = 8192
MAX_CONTROL_RATIO = 0.30
# Control bytes other than \t \n \v \f \r and ESC are rare in text files.
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1b")
_CONTROL = bytes(
    i for i in range(256) if (i < 0x20 and i not in _TEXT_CONTROLS) or i == 0x7F
)


def is_binary(data: bytes) -> bool:
    """True when the head of ``data`` has a NUL byte or mostly control bytes."""
    head = data[:SNIFF_BYTES]
    if not head:
        return False
    if b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL))
    return controls / len(head) > MAX_CONTROL_RATIO

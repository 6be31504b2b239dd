"""One ``Scanner`` per thread (Hyperscan scratch space is not thread-safe), and the stage version."""

from __future__ import annotations

import hashlib
import hmac
import threading

from imagewatch.secrets.detect import Scanner, rules
from imagewatch.secrets.misconfig import all_checks

# Bump when what a cached LayerSecrets holds, or how it is computed, changes.
# 2: path-aware allow rules (third-party paths) and documentation-example URLs.
LAYOUT_VERSION = 2


def stage_version(key: bytes, max_file_bytes: int) -> str:
    """The secrets stage's scanner version: rule table, checks, size limit and key, hashed.

    The rule table is ``rules.table_data()``: the rules and the allow data
    (third-party path globs, documentation-URL lists). Cached layer results and
    ``layer_scans`` rows are valid for one version only. The key enters as an
    HMAC tag (fingerprints depend on it); the tag tells nothing about the key.
    """
    table = rules.table_data()
    checks = all_checks()
    digest = hashlib.sha256(repr((table, checks)).encode()).hexdigest()[:12]
    key_tag = hmac.new(key, b"imagewatch-secrets-version", hashlib.sha256).hexdigest()[:8]
    return (f"secrets/{LAYOUT_VERSION} rules={len(table[0])}:{digest} checks={len(checks)} "
            f"max={max_file_bytes} key={key_tag}")


class ThreadScanners:
    """Builds and keeps one ``Scanner`` per thread for an installation key and size limit."""

    def __init__(self, key: bytes, *, max_file_bytes: int, engine: str | None = None) -> None:
        if not key:
            raise ValueError("secretscan: ThreadScanners needs a non-empty fingerprint key")
        self._key = key
        self._engine = engine
        self.max_file_bytes = max_file_bytes
        self.version = stage_version(key, max_file_bytes)
        self._local = threading.local()

    def get(self) -> Scanner:
        """This thread's scanner, built (rules compiled) on first use."""
        scanner = getattr(self._local, "scanner", None)
        if scanner is None:
            scanner = self._local.scanner = Scanner(key=self._key, max_size=self.max_file_bytes,
                                                    engine=self._engine)
        return scanner

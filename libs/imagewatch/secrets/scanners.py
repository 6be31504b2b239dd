"""One ``Scanner`` per thread (Hyperscan scratch space is not thread-safe), and the stage version."""

from __future__ import annotations

import hashlib
import hmac
import threading

from imagewatch.config import MalwareConfig
from imagewatch.malware import CHECKS as MALWARE_CHECKS
from imagewatch.malware import RuleSet, compiled, rule_files
from imagewatch.malware.scan import MalwareScan
from imagewatch.malware.tamper import Recorded
from imagewatch.secrets.detect import Scanner, rules
from imagewatch.secrets.misconfig import all_checks

# Bump when what a cached LayerSecrets holds, or how it is computed, changes.
# 2: path-aware allow rules (third-party paths) and documentation-example URLs.
# Malware findings and digests came with the ``malware=...`` part of the version
# (always present from ThreadScanners), which alone keeps older cached results out.
LAYOUT_VERSION = 2
# Bump when what the malware part of a cached LayerSecrets holds changes (it is part of the version).
# 2: tampering digests only of files a package database records, as "md5:<hex>"/"sha1:<hex>"; tamper_basis.
# 3: shared libraries and rpm file digests ("sha256:<hex>" ...) too.
MALWARE_LAYOUT = 3


def malware_version(config: MalwareConfig, ruleset: RuleSet | None) -> str:
    """The malware part of the stage version: rules (count and digest), size limit, checks, cached layout."""
    yara = f"{ruleset.count}:{ruleset.digest}" if ruleset is not None else "off"
    checks = f"{len(MALWARE_CHECKS)}" if config.checks else "off"
    return f"malware=yara:{yara},max:{config.max_file_bytes},checks:{checks},layout:{MALWARE_LAYOUT}"


def stage_version(key: bytes, max_file_bytes: int, malware: str = "") -> str:
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
            f"max={max_file_bytes} key={key_tag}" + (f" {malware}" if malware else ""))


class ThreadScanners:
    """Builds and keeps one ``Scanner`` per thread for a key and size limits; hands out malware scans.

    ``malware`` is the ``[malware]`` section (defaults when None): its YARA
    rules are compiled here, once per process (``malware.compiled`` caches by
    rule files), and a bad rule file raises ``malware.RuleError`` at start.
    """

    def __init__(self, key: bytes, *, max_file_bytes: int, engine: str | None = None,
                 malware: MalwareConfig | None = None) -> None:
        if not key:
            raise ValueError("secretscan: ThreadScanners needs a non-empty fingerprint key")
        self._key = key
        self._engine = engine
        self.max_file_bytes = max_file_bytes
        self.malware = malware if malware is not None else MalwareConfig()
        self.ruleset = (compiled(rule_files(self.malware.rules, self.malware.builtin_rules))
                        if self.malware.yara else None)
        self.version = stage_version(key, max_file_bytes, malware_version(self.malware, self.ruleset))
        self._local = threading.local()

    def get_malware(self, recorded: Recorded | None = None) -> MalwareScan | None:
        """A malware scan for one layer in the calling thread, or None when YARA and the checks are off.

        A fresh one per layer: yara-x scanners must be dropped by the thread
        that made them (the compiled rules are shared and never rebuilt).
        ``recorded`` is what the package databases of the layers below record
        (``tamper.recorded``); None for a layer with nothing below.
        """
        if self.ruleset is None and not self.malware.checks:
            return None
        return MalwareScan(self.ruleset, self.malware.max_file_bytes, self.malware.checks,
                           recorded=recorded or Recorded())

    def get(self) -> Scanner:
        """This thread's scanner, built (rules compiled) on first use."""
        scanner = getattr(self._local, "scanner", None)
        if scanner is None:
            scanner = self._local.scanner = Scanner(key=self._key, max_size=self.max_file_bytes,
                                                    engine=self._engine)
        return scanner

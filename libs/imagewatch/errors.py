"""The one base of every error imagewatch raises, and where each family lives.

::

    ImagewatchError
    ├── ConfigError                     config: bad file, key or value
    ├── runtime.errors.HandlerError     steer a message's delivery
    │   ├── Retry                       transient: redeliver after a delay
    │   └── Permanent                   dead-letter at once
    ├── oci.errors.RegistryError        the OCI distribution client (drawn in oci/errors.py)
    ├── layers.errors.LayerError        a layer that cannot be read (LayerRefused: over a limit)
    ├── ecosystems.catalog.CatalogError / UnknownEcosystem
    ├── ecosystems.rpm.rpmdb.RpmDbError, ecosystems.java.archive errors …  analyser input
    ├── versions.base.InvalidVersion
    ├── advisories.model.AdvisoryError, advisories.sources.base.SourceError
    ├── inventory.image.LayerFailed     a layer of an image could not be analysed
    ├── secrets.detect.rule.RuleError, secrets.misconfig.CatalogError
    ├── notify …                        channel and routing errors
    ├── report …                        ignore files, VEX, formats
    ├── webhooks.base.WebhookError      a registry notification we cannot read
    ├── store …                         migrations
    └── scan.errors.ScanError           the one-shot command (exit codes 2 and 3)

Each error also keeps the built-in base that callers caught before
(``ValueError``, ``LookupError``), so ``except ValueError`` still works;
``except ImagewatchError`` catches everything of ours and nothing else.
Messages start with their component (``registry: …``, ``versions: …``).
"""

from __future__ import annotations


class ImagewatchError(Exception):
    """Base of every error raised by imagewatch code."""

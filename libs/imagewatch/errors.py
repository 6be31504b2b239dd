"""The one base of every error imagewatch raises, and where each family lives.

::

    ImagewatchError
    ├── config.ConfigError                       a bad file, key or value
    ├── runtime.errors.HandlerError              steer a message's delivery
    │   ├── Retry                                transient: redeliver after a delay
    │   └── Permanent                            dead-letter at once
    ├── runtime.blobstore.BlobError              BlobMissing (retry), BlobCorrupt, BlobStoreFull (retry)
    ├── runtime.layerblob.LayerFailed            a layer of an image could not be analysed
    ├── runtime.tokens.TokenError                an empty, short or placeholder token
    ├── oci.errors.RegistryError                 the distribution client (tree in oci/errors.py)
    ├── oci.local.LocalImageError                an OCI layout or docker-archive we cannot read
    ├── layers.errors.LayerError                 a layer that cannot be read; LayerRefused: over a limit
    ├── ecosystems.catalog.CatalogError          the catalog is inconsistent
    ├── ecosystems.catalog.UnknownEcosystem      no version scheme for an ecosystem
    ├── ecosystems.go.elf.ElfError, go.buildinfo.BuildInfoError, rpm.rpmdb.RpmDbError
    ├── versions.base.InvalidVersion
    ├── advisories.model.AdvisoryError           a record we cannot read
    ├── advisories.sources.base.SourceError      a feed that failed; Unchanged: nothing new
    ├── secrets.detect.rule.RuleError, secrets.detect.engines.base.PrefilterError
    ├── secrets.misconfig.CatalogError           duplicate check ids
    ├── notify.channels.catalog.CatalogError, notify.signing.SignatureError
    ├── report.base.ReportError, report.ignorefile.IgnoreFileError, report.vex.VexError
    ├── webhooks.base.WebhookError               a registry notification we cannot read
    ├── admission.policy.AdmissionError          a review we cannot judge
    ├── harbor.spec.HarborRequestError           a Harbor scan request refused (status 400/422)
    ├── harbor.authorization.AuthorizationUnavailable  Harbor's pull authorization expired or unreadable
    ├── store.dbfile.DbFileError                 a portable database file we cannot use (damaged, tampered, other schema)
    ├── cli.embedded.EmbeddedError               an embedded server that would not start
    ├── cli.scale.ScaleError                     a bad ``up --scale`` value (unknown service, count out of range)
    └── scan.errors.ScanError                    the one-shot command (exit codes 2 and 3)

Each error also keeps the built-in base that callers caught before
(``ValueError``, ``LookupError``), so ``except ValueError`` still works;
``except ImagewatchError`` catches everything of ours and nothing else.
Messages start with their component (``registry: …``, ``versions: …``).
"""

from __future__ import annotations


class ImagewatchError(Exception):
    """Base of every error raised by imagewatch code."""

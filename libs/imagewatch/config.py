"""Typed configuration: one msgspec Struct per section, from TOML plus environment.

The TOML file is named by ``IMAGEWATCH_CONFIG``; unknown keys are rejected with
the key named. Environment variables override the file:

==============================  =========================================
``IMAGEWATCH_NATS_URL``         bus URL (``nats://127.0.0.1:4222``); comma-separated for a cluster
``IMAGEWATCH_NATS_REPLICAS``    JetStream replicas (1, 3 or 5) of the stream, consumers, buckets
``IMAGEWATCH_NATS_NKEY_SEED_FILE`` a file with the NATS nkey user seed (instead of a password)
``IMAGEWATCH_NATS_USER``        bus user (or in the URL)
``IMAGEWATCH_NATS_PASSWORD``    bus password (a secret)
``IMAGEWATCH_DATABASE_URL``     PostgreSQL DSN
``IMAGEWATCH_WEBHOOK_TOKEN``    bearer token registries send (a secret)
``IMAGEWATCH_API_PORT``         api listen port (8080)
``IMAGEWATCH_API_HOST``         api listen host (127.0.0.1)
``IMAGEWATCH_READ_TOKEN``       bearer token for read routes when not on loopback
``IMAGEWATCH_ADMISSION_TOKEN``  bearer token the API server's webhook sends
``IMAGEWATCH_METRICS_HOST``     per-service health/metrics host (127.0.0.1)
``IMAGEWATCH_INSECURE_REGISTRIES`` comma-separated host:port over plain HTTP
``IMAGEWATCH_DATA_DIR``         data directory (``$XDG_CACHE_HOME/imagewatch``)
``IMAGEWATCH_BLOB_STORE``       ``nats`` (Object Store) or a directory path
``IMAGEWATCH_LOG_FORMAT``       ``json`` | ``console`` (default: by terminal)
``IMAGEWATCH_METRICS_PORT``     per-service health/metrics port (0: off)
``IMAGEWATCH_HARBOR_TOKEN``     bearer token Harbor sends to the scanner adapter (a secret)
==============================  =========================================

Secrets (tokens, passwords, chat URLs) are wrapped in :class:`Secret`, whose
``repr`` never shows the value.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import msgspec
from imagewatch.errors import ImagewatchError
from imagewatch.paths import default_data_dir


class ConfigError(ImagewatchError):
    """config: the configuration cannot be used; the message names the key."""


class RegistryCredential(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Credentials for one registry host; only the fetcher reads them."""

    host: str
    username: str = ""
    password: str = ""

    def __repr__(self) -> str:
        return f"RegistryCredential(host={self.host!r}, username={self.username!r}, password=***)"


class BusConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """NATS JetStream connection and delivery policy (``user``/``password`` or in the URL).

    ``url`` may list several servers, comma-separated (the nodes of a cluster);
    ``replicas`` (1, 3 or 5) is the replica count of the stream, its consumers
    and the blob bucket, applied to existing ones at start.
    """

    url: str = "nats://127.0.0.1:4222"
    user: str = ""
    password: str = ""
    stream: str = "IMAGEWATCH"
    max_deliver: int = 5
    ack_wait: float = 12.0
    nak_delay: float = 2.0
    max_age_days: int = 7
    duplicate_window: float = 600.0
    heartbeat: float = 0.0
    """Seconds between ``in_progress`` heartbeats of a message being handled; 0 = ``ack_wait / 3``."""
    stalled_after: float = 0.0
    """A running stage with no heartbeat for this long shows ``stalled``; 0 = ``ack_wait``."""
    backlog_warn: int = 1000
    """A consumer backlog (pending + ack pending) above this is logged as a warning."""
    replicas: int = 1
    """JetStream replicas of the stream, every consumer and the buckets: 1, 3 or 5 (a cluster for 3 and 5)."""
    nkey_seed_file: str = ""
    """A file holding an nkey user seed (``SU...``): NATS nkey authentication instead of a password."""
    presence_interval: float = 10.0
    """Seconds between a process's presence announcements (bucket ``imagewatch-presence``, TTL 3×)."""

    def __post_init__(self) -> None:
        from imagewatch.runtime.natsservers import server_list

        server_list(self.url)
        if self.user and self.nkey_seed_file:
            raise ValueError("bus: give either user/password or nkey_seed_file, not both")
        if self.replicas not in (1, 3, 5):
            raise ValueError(f"bus.replicas: expected 1, 3 or 5 (an odd count a JetStream quorum needs), "
                             f"got {self.replicas}")
        if not 0.1 <= self.presence_interval <= 3600:
            raise ValueError(f"bus.presence_interval: expected 0.1 to 3600 seconds, got {self.presence_interval}")

    @property
    def heartbeat_interval(self) -> float:
        """Seconds between heartbeats of a message in flight."""
        return self.heartbeat if self.heartbeat > 0 else max(0.05, self.ack_wait / 3)

    @property
    def stall_deadline(self) -> float:
        """Seconds without a heartbeat after which a running stage is stalled."""
        return self.stalled_after if self.stalled_after > 0 else self.ack_wait

    def __repr__(self) -> str:
        return f"BusConfig(stream={self.stream!r}, user={self.user!r}, password=***)"


class DatabaseConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """PostgreSQL connection."""

    url: str = ""
    min_pool: int = 1
    max_pool: int = 10


class BlobStoreConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where layer blobs travel: ``nats`` Object Store bucket, or a local directory."""

    kind: str = "nats"
    bucket: str = "imagewatch-blobs"
    directory: str = ""
    ttl_hours: float = 24.0


class ApiConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The api service: webhooks, queries, admission.

    Bound to loopback by default. Bound elsewhere (or with
    ``require_read_token``, for a proxy in front of a loopback api), read
    routes need ``read_token`` (or the webhook token; generated in the data
    directory when unset). ``tls_cert_file``/``tls_key_file`` serve HTTPS; with
    ``tls_client_ca_file`` every client must present a certificate it signed
    (see docs/security.md).
    """

    host: str = "127.0.0.1"
    port: int = 8080
    webhook_token: str = ""
    read_token: str = ""
    require_read_token: bool = False
    max_body_bytes: int = 1_048_576
    public_url: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_client_ca_file: str = ""


class FetcherConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The fetcher service: the only holder of registry credentials.

    ``allowed_registries`` are globs (``host`` or ``host:port``) of registries
    that may live on private addresses; see ``imagewatch.oci.egress``.
    """

    insecure_registries: list[str] = []
    allowed_registries: list[str] = []
    platforms: list[str] = msgspec.field(default_factory=lambda: ["linux/amd64"])
    credentials: list[RegistryCredential] = []
    max_manifest_bytes: int = 4 * 1024 * 1024
    max_blob_bytes: int = 4 * 1024 * 1024 * 1024
    concurrency: int = 4


class InventoryConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The inventory service: layer reading limits."""

    max_layer_bytes: int = 8 * 1024 * 1024 * 1024
    max_entries: int = 1_000_000
    max_file_bytes: int = 512 * 1024 * 1024
    concurrency: int = 2


class SecretsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The secrets service: size limit per file, fingerprint key file."""

    max_file_bytes: int = 10 * 1024 * 1024
    concurrency: int = 2


class MatcherConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The matcher service."""

    concurrency: int = 4


class UpdaterConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The updater service: which sources run and how often."""

    interval_hours: float = 6.0
    sources: list[str] = []
    run_at_start: bool = False
    publish_to: str = ""  # REGISTRY/REPO:TAG: push the portable database there after each pass


class NotifierConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The notifier service: channels and routes (see docs/notifications.md), and delivery.

    This is the one definition of the notifier's configuration (the TOML keys
    and defaults). ``channels`` and ``routes`` stay raw here and are validated
    into ``imagewatch.notify.rules.Rules`` by
    ``imagewatch.notify.settings.load_settings`` when the notifier starts
    (channel URLs are secrets). A message is tried at most ``max_attempts`` times;
    retries wait a full-jitter backoff from ``retry_base`` seconds up to
    ``retry_cap`` (or what a ``429`` asked). The dispatcher looks for due
    messages every ``poll_interval`` seconds and at once after new ones.
    """

    channels: list[dict[str, Any]] = []
    routes: list[dict[str, Any]] = []
    max_attempts: int = 8
    api_base: str = ""
    poll_interval: float = 1.0
    retry_base: float = 2.0
    retry_cap: float = 600.0
    batch_size: int = 20
    timeout: float = 15.0


class AdmissionConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The admission policy of ``POST /v1/admission`` (see docs/architecture.md).

    Images never scanned are denied (``deny_unscanned``) or allowed with a
    warning. Images with findings at or above ``severity_threshold`` (only
    fixable ones when ``only_fixable``) are denied, and so are images with any
    ``malware`` finding while ``deny_malware`` holds. ``exempt_namespaces`` and
    ``exempt_repositories`` are globs; the latter match the normalised
    ``registry/repository`` (``docker.io/library/nginx``). Tags are resolved at
    their registry (``tag_source = "registry"``; ``"database"`` trusts the
    scanned tags first) within ``resolve_timeout`` seconds, at most
    ``max_lookups`` per review. ``node_platforms`` are the ``os/arch`` of the
    cluster's nodes (default: ``default_platform``). ``token`` is the bearer
    token the API server sends (generated in the data directory when unset).
    Reviews up to ``max_review_bytes`` are read; anything that cannot be
    judged is denied.
    """

    deny_unscanned: bool = True
    severity_threshold: str = "critical"
    only_fixable: bool = False
    deny_malware: bool = True
    exempt_namespaces: list[str] = msgspec.field(default_factory=lambda: ["kube-system"])
    exempt_repositories: list[str] = []
    default_platform: str = "linux/amd64"
    node_platforms: list[str] = []
    resolve_timeout: float = 3.0
    deny_partial: bool = False  # deny images whose scan could not read everything (else a warning)
    deny_not_covered: bool = False  # deny images with an OS release/ecosystem no advisory data covers (else a warning)
    token: str = ""
    tag_source: str = "registry"
    max_lookups: int = 16
    max_review_bytes: int = 3 * 1024 * 1024

    def __post_init__(self) -> None:
        from imagewatch.models import SEVERITY_ORDER

        if self.severity_threshold not in SEVERITY_ORDER:
            raise ValueError(f"admission.severity_threshold: expected one of {', '.join(SEVERITY_ORDER)}")
        if self.tag_source not in ("registry", "database"):
            raise ValueError("admission.tag_source: expected registry or database")


class LogConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Logging: ``json`` lines, ``console``, or ``auto`` (console on a terminal)."""

    format: str = "auto"
    level: str = "info"


class MalwareConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Malware detection (see docs/malware.md), run in the secrets stage's single pass over each layer.

    ``yara`` turns the YARA scan of layer files on; ``builtin_rules`` loads the
    shipped rule set; ``rules`` adds the user's rule files (paths or globs,
    ``/etc/imagewatch/yara/*.yar``). Files larger than ``max_file_bytes`` are
    not YARA-scanned and are counted. ``checks`` turns the persistence and
    tampering checks on. ``feed_url`` is the OpenSSF malicious-packages
    repository zip that ``db sync`` and the updater download (source ``ossf-malicious``).
    """

    yara: bool = True
    builtin_rules: bool = True
    rules: list[str] = []
    max_file_bytes: int = 32 * 1024 * 1024
    checks: bool = True
    feed_url: str = "https://github.com/ossf/malicious-packages/archive/refs/heads/main.zip"


class HarborConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The Harbor Pluggable Scanner Adapter served by the api under ``/harbor/api/v1``.

    ``token`` is the bearer token Harbor is configured with for this scanner (a
    secret; empty turns the adapter off: every call answers 401).
    ``refresh_after`` is the ``Refresh-After`` seconds of a report still being
    made; ``authorization_ttl`` bounds how long Harbor's pull authorization for
    one scan is kept (sealed, in memory of NATS) for the fetcher.
    """

    token: str = ""
    refresh_after: int = 5
    authorization_ttl: float = 3600.0

    def __repr__(self) -> str:
        return f"HarborConfig(token=***, refresh_after={self.refresh_after})"


class MetricsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Prometheus metrics: the api refreshes the gauges it reads from PostgreSQL
    (fleet findings, advisory sources, outbox) at most every ``refresh_seconds``."""

    refresh_seconds: float = 15.0


class ReachabilityConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Go findings whose vulnerable code is not linked into the binary (``reachability = "not-linked"``).

    They are always stored and listed; with ``show_unreachable`` they are also
    alerted and counted by ``imagewatch scan --exit-code`` (the CLI flag
    ``--show-unreachable`` does the same for one scan).
    """

    show_unreachable: bool = False


class FeedsConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Where ``db sync`` and the updater fetch the exploitation, end-of-life and Debian tracker feeds.

    ``endoflife_url`` holds ``{product}``; each is fetched conditionally (ETag / Last-Modified).
    """

    kev_url: str = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
    epss_url: str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
    endoflife_url: str = "https://endoflife.date/api/{product}.json"
    debian_tracker_url: str = "https://security-tracker.debian.org/tracker/data/json"


class DashboardConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The dashboard the api serves at ``/``: on/off, fleet page size, session lifetime in hours,
    how long the fleet's trend chart is reused (seconds; 0 = computed on every request), failed
    logins allowed per client address and minute (then 429; 0 = no limit), and whether a
    TLS-terminating proxy's ``X-Forwarded-Proto: https`` makes the session cookie Secure."""

    enabled: bool = True
    page_size: int = 50
    session_hours: float = 12.0
    trend_cache_seconds: float = 60.0
    login_failures_per_minute: int = 10
    trust_forwarded_proto: bool = False


class RetentionConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Ageing out what the registry no longer serves (docs/operations.md, "Retention").

    The updater checks ``check_batch`` tags and untagged images every
    ``interval_hours`` against their registry: a tag answering 404 is dropped,
    an image no tag points at whose digest answers 404 in every repository is
    marked gone (any other answer keeps it). Images gone for ``gone_after_days``
    are deleted with their findings, packages, secrets and stage history;
    history rows (scan failures, re-match records, delivered or failed
    notifications, Harbor scan requests) older than ``history_days`` are
    deleted too, ``batch`` rows per statement. 0 days turns that part off.
    """

    enabled: bool = True
    interval_hours: float = 1.0
    gone_after_days: float = 30.0
    history_days: float = 90.0
    check_batch: int = 20000
    batch: int = 5000


class Config(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The whole configuration; every service reads the sections it needs."""

    data_dir: str = ""  # empty: default_data_dir()
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    bus: BusConfig = msgspec.field(default_factory=BusConfig)
    database: DatabaseConfig = msgspec.field(default_factory=DatabaseConfig)
    blobs: BlobStoreConfig = msgspec.field(default_factory=BlobStoreConfig)
    api: ApiConfig = msgspec.field(default_factory=ApiConfig)
    fetcher: FetcherConfig = msgspec.field(default_factory=FetcherConfig)
    inventory: InventoryConfig = msgspec.field(default_factory=InventoryConfig)
    secrets: SecretsConfig = msgspec.field(default_factory=SecretsConfig)
    matcher: MatcherConfig = msgspec.field(default_factory=MatcherConfig)
    updater: UpdaterConfig = msgspec.field(default_factory=UpdaterConfig)
    notifier: NotifierConfig = msgspec.field(default_factory=NotifierConfig)
    admission: AdmissionConfig = msgspec.field(default_factory=AdmissionConfig)
    log: LogConfig = msgspec.field(default_factory=LogConfig)
    malware: MalwareConfig = msgspec.field(default_factory=MalwareConfig)
    harbor: HarborConfig = msgspec.field(default_factory=HarborConfig)
    metrics: MetricsConfig = msgspec.field(default_factory=MetricsConfig)
    reachability: ReachabilityConfig = msgspec.field(default_factory=ReachabilityConfig)
    feeds: FeedsConfig = msgspec.field(default_factory=FeedsConfig)
    dashboard: DashboardConfig = msgspec.field(default_factory=DashboardConfig)
    retention: RetentionConfig = msgspec.field(default_factory=RetentionConfig)

    def __repr__(self) -> str:
        return "Config(...)"


_ENV: dict[str, tuple[str, ...]] = {
    "IMAGEWATCH_NATS_URL": ("bus", "url"),
    "IMAGEWATCH_NATS_USER": ("bus", "user"),
    "IMAGEWATCH_NATS_PASSWORD": ("bus", "password"),
    "IMAGEWATCH_NATS_REPLICAS": ("bus", "replicas"),
    "IMAGEWATCH_NATS_NKEY_SEED_FILE": ("bus", "nkey_seed_file"),
    "IMAGEWATCH_DATABASE_URL": ("database", "url"),
    "IMAGEWATCH_WEBHOOK_TOKEN": ("api", "webhook_token"),
    "IMAGEWATCH_READ_TOKEN": ("api", "read_token"),
    "IMAGEWATCH_ADMISSION_TOKEN": ("admission", "token"),
    "IMAGEWATCH_METRICS_HOST": ("metrics_host",),
    "IMAGEWATCH_API_PORT": ("api", "port"),
    "IMAGEWATCH_API_HOST": ("api", "host"),
    "IMAGEWATCH_API_PUBLIC_URL": ("api", "public_url"),
    "IMAGEWATCH_INSECURE_REGISTRIES": ("fetcher", "insecure_registries"),
    "IMAGEWATCH_ALLOWED_REGISTRIES": ("fetcher", "allowed_registries"),
    "IMAGEWATCH_PLATFORMS": ("fetcher", "platforms"),
    "IMAGEWATCH_DATA_DIR": ("data_dir",),
    "IMAGEWATCH_BLOB_STORE": ("blobs", "kind"),
    "IMAGEWATCH_LOG_FORMAT": ("log", "format"),
    "IMAGEWATCH_LOG_LEVEL": ("log", "level"),
    "IMAGEWATCH_METRICS_PORT": ("metrics_port",),
    "IMAGEWATCH_MAX_DELIVER": ("bus", "max_deliver"),
    "IMAGEWATCH_HARBOR_TOKEN": ("harbor", "token"),
}
_LISTS = {("fetcher", "insecure_registries"), ("fetcher", "platforms"), ("fetcher", "allowed_registries")}
_INTS = {("api", "port"), ("metrics_port",), ("bus", "max_deliver"), ("bus", "replicas")}


def _apply_env(raw: dict[str, Any], env: dict[str, str]) -> None:
    for name, path in _ENV.items():
        value = env.get(name)
        if value is None or value == "":
            continue
        parsed: Any = value
        if path in _LISTS:
            parsed = [v.strip() for v in value.split(",") if v.strip()]
        elif path in _INTS:
            try:
                parsed = int(value)
            except ValueError:
                raise ConfigError(f"config: {name} must be an integer, got {value!r}") from None
        node = raw
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = parsed
    blob = env.get("IMAGEWATCH_BLOB_STORE", "")
    if blob and blob != "nats":
        raw.setdefault("blobs", {}).update(kind="directory", directory=blob)


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Load the TOML file (``path`` or ``IMAGEWATCH_CONFIG``) and apply environment overrides."""
    env = dict(os.environ if env is None else env)
    path = path or env.get("IMAGEWATCH_CONFIG") or None
    raw: dict[str, Any] = {}
    if path:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config: file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {path}: {exc}") from None
    _apply_env(raw, env)
    try:
        return msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"config: {exc}{_did_you_mean(str(exc))}") from None


def _did_you_mean(message: str) -> str:
    """`` (did you mean `x`?)`` for msgspec's "unknown field `y` - at `$.section`", else empty."""
    import difflib
    import re

    found = re.search(r"unknown field `([^`]+)`(?: - at `\$\.?([\w.]*)`)?", message)
    if not found:
        return ""
    struct: Any = Config
    for part in filter(None, (found.group(2) or "").split(".")):
        field = next((f for f in msgspec.structs.fields(struct) if f.name == part), None)
        struct = getattr(field, "type", None) if field else None
        if not (isinstance(struct, type) and issubclass(struct, msgspec.Struct)):
            return ""
    names = [f.name for f in msgspec.structs.fields(struct)]
    close = difflib.get_close_matches(found.group(1), names, n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def data_dir(config: Config) -> Path:
    """The data directory (``data_dir``, else ``default_data_dir()``), created when missing."""
    path = (Path(config.data_dir).expanduser() if config.data_dir else default_data_dir()).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def webhook_token(config: Config) -> str:
    """The webhook (admin) token: configured, or generated once (0600) in the data dir; checked."""
    from imagewatch.runtime.tokens import configured_or_stored

    return configured_or_stored(config.api.webhook_token, data_dir(config), "webhook-token", "api.webhook_token")


def read_token(config: Config) -> str:
    """The read token: configured, or generated once (0600) in the data dir; checked."""
    from imagewatch.runtime.tokens import configured_or_stored

    return configured_or_stored(config.api.read_token, data_dir(config), "read-token", "api.read_token")


def admission_token(config: Config) -> str:
    """The admission token: configured, or generated once (0600) in the data dir; checked."""
    from imagewatch.runtime.tokens import configured_or_stored

    return configured_or_stored(config.admission.token, data_dir(config), "admission-token", "admission.token")


def installation_key(config: Config) -> bytes:
    """The per-installation key for secret fingerprints, generated once in the data dir."""
    env = os.environ.get("IMAGEWATCH_FINGERPRINT_KEY")
    if env:
        return env.encode()
    import secrets

    from imagewatch.runtime.tokens import write_secret_file

    path = data_dir(config) / "fingerprint-key"
    if path.exists():
        stored = path.read_text().strip()
        if len(stored) < 32:
            raise ConfigError(f"config: {path} is empty or truncated; remove it to generate a new key")
        return bytes.fromhex(stored)
    key = secrets.token_bytes(32)
    write_secret_file(path, key.hex())
    return key

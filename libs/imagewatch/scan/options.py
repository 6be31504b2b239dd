"""The ``imagewatch scan`` command line: every flag, its ``IMAGEWATCH_<FLAG>`` variable, Trivy's spellings.

Flags a ``trivy image`` user types work unchanged (``-f -o -s -q -d -t``,
``--timeout``, ``--insecure``, ``--username``/``--password``/``--password-stdin``,
``--skip-dirs``/``--skip-files``, ``--pkg-types``, ``--ignore-status``,
``--db-repository``, ``--skip-db-update`` ...). Every flag may also come from
the environment: ``--ignore-unfixed`` from ``IMAGEWATCH_IGNORE_UNFIXED=true``,
``--severity`` from ``IMAGEWATCH_SEVERITY=HIGH,CRITICAL``; the command line wins.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

FORMATS = ["table", "json", "sarif", "cyclonedx", "spdx", "spdx-json", "openvex"]
PKG_TYPES = ("os", "library")
STATUSES = ("fixed", "affected", "unknown")
ENV_PREFIX = "IMAGEWATCH_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

SCAN_EPILOG = """\
targets:
  registry/repo:tag, registry/repo@sha256:...   an image in a registry
  oci:DIR[:tag]                                  an OCI image layout directory
  docker-archive:FILE                            a `docker save` archive

examples:
  imagewatch scan registry.example.com/team/app:1.0 -s HIGH,CRITICAL --exit-code 1
  imagewatch scan --db-repository registry.example.com/imagewatch/db:1 app:1.0   # no server at all
  imagewatch scan --db imagewatch.db oci:build/layout:app -f sarif -o app.sarif
  imagewatch scan --scanners secret,misconfig docker-archive:app.tar              # needs no database
  imagewatch scan -f spdx-json -o sbom.json docker-archive:app.tar

advisory database (first that applies):
  --db FILE, --db-repository REF (pulled into CACHE_DIR/db when the registry has a newer one),
  IMAGEWATCH_DATABASE_URL or [database] url, a database file in CACHE_DIR/db,
  else the embedded PostgreSQL under the data dir. --scanners without vuln uses none.

environment:
  every flag as IMAGEWATCH_<FLAG>: IMAGEWATCH_SEVERITY=HIGH,CRITICAL, IMAGEWATCH_INSECURE=true ...

exit codes:
  0   no finding passed the filters (or --exit-code not given)
  N   a finding passed the filters and --exit-code N was given
  2   usage or target error (bad option, missing file or image, bad ignore/VEX file)
  3   scan failure (database unreachable, registry or layer error during the scan)
  4   scan partial: parts of the image could not be read (see the warnings); --allow-partial gives 0/N
  M   --exit-on-eol M: the OS release or a runtime in the image is past its end of life
"""


def add_scan_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``scan`` and its flags to the sub-command set ``sub``; returns the scan parser."""
    scan = sub.add_parser("scan", help="one-shot scan of an image (for CI)", epilog=SCAN_EPILOG,
                          description="Scan one image for vulnerabilities, secrets and misconfigurations.",
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    scan.add_argument("target", help="registry reference, oci:DIR[:tag] or docker-archive:FILE")
    scan.add_argument("--data-dir", dest="data_dir_sub", default=None,
                      help="data directory (default $XDG_CACHE_HOME/imagewatch)")
    out = scan.add_argument_group("output")
    out.add_argument("-f", "--format", default="table", choices=FORMATS,
                     help="report format: spdx is SPDX tag-value, spdx-json SPDX JSON (default table)")
    out.add_argument("-o", "--output", default=None, metavar="FILE", help="write the report here (default stdout)")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress and no warnings on stderr")
    out.add_argument("--no-progress", action="store_true", help="no progress line")
    out.add_argument("--sort", default="severity", choices=["severity", "priority"],
                     help="order of vulnerabilities: by package and severity, or fix-first (docs/prioritisation.md)")
    out.add_argument("-d", "--debug", action="store_true", help="say on stderr which database and cache are used")
    filt = scan.add_argument_group("filters")
    filt.add_argument("-s", "--severity", action="append", default=[], metavar="LIST",
                      help="only these severities, e.g. HIGH,CRITICAL; repeatable (default all)")
    filt.add_argument("--exit-code", type=int, default=0, metavar="N",
                      help="exit N when a finding passes the filters (default 0)")
    filt.add_argument("--ignore-unfixed", action="store_true", help="leave out vulnerabilities without a fix")
    filt.add_argument("--show-unreachable", action="store_true",
                      help="let Go findings whose vulnerable code is not linked fail --exit-code too")
    filt.add_argument("--allow-partial", action="store_true",
                      help="exit 0/N even when parts of the image could not be read (default: exit 4)")
    filt.add_argument("--exit-on-eol", type=int, default=0, metavar="N",
                      help="exit N when the OS release or a runtime in the image is past its end of life")
    filt.add_argument("--ignore-status", action="append", default=[], metavar="LIST",
                      help=f"leave out vulnerabilities with these statuses: {','.join(STATUSES)}")
    filt.add_argument("--pkg-types", default="os,library", metavar="LIST",
                      help="package types to report vulnerabilities of: os,library (default both)")
    filt.add_argument("--ignorefile", default=None, metavar="FILE",
                      help="ignore file (default .imagewatchignore.yaml, else .trivyignore.yaml or .trivyignore)")
    filt.add_argument("--vex", action="append", default=[], metavar="FILE",
                      help="OpenVEX, CycloneDX VEX or CSAF VEX document; repeatable")
    what = scan.add_argument_group("scanning")
    what.add_argument("--scanners", default="vuln,secret,misconfig,malware", metavar="LIST",
                      help="any of vuln,secret,misconfig,malware (default all)")
    what.add_argument("--skip-dirs", action="append", default=[], metavar="GLOB",
                      help="leave out files under these directories (glob, repeatable, comma-separated)")
    what.add_argument("--skip-files", action="append", default=[], metavar="GLOB",
                      help="leave out these files (glob, repeatable, comma-separated)")
    what.add_argument("--platform", default="linux/amd64", help="platform to pick from an index")
    what.add_argument("-t", "--timeout", default="", metavar="DURATION",
                      help="give up after this long, e.g. 5m, 90s, 1h30m (default none)")
    db = scan.add_argument_group("advisory database")
    db.add_argument("--db", default=None, metavar="FILE", help="read advisories from this file (db export)")
    db.add_argument("--db-repository", default=None, metavar="REF",
                    help="pull the database from this OCI repository into the cache when newer")
    db.add_argument("--skip-db-update", action="store_true",
                    help="with --db-repository, use the cached database without asking the registry")
    db.add_argument("--cache-dir", default=None, metavar="DIR",
                    help="per-layer results and the pulled database (default DATA_DIR/cache)")
    reg = scan.add_argument_group("registry")
    reg.add_argument("--insecure", action="store_true",
                     help="skip TLS verification; fall back to plain HTTP for hosts without TLS")
    reg.add_argument("--username", default=None, help="registry user name")
    reg.add_argument("--password", default=None, help="registry password (prefer --password-stdin)")
    reg.add_argument("--password-stdin", action="store_true", help="read the registry password from stdin")
    return scan


def _flag_name(action: argparse.Action) -> str | None:
    longs = [o for o in action.option_strings if o.startswith("--")]
    return longs[0][2:] if longs else None


def env_name(flag: str) -> str:
    """``ignore-unfixed`` → ``IMAGEWATCH_IGNORE_UNFIXED``."""
    return ENV_PREFIX + flag.upper().replace("-", "_")


# Flags whose IMAGEWATCH_ name already means something else to the configuration.
_NOT_FROM_ENV = {"data-dir", "help"}


def apply_env_defaults(parser: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    """Take each flag's default from ``IMAGEWATCH_<FLAG>`` when set; raises ``ValueError`` on a bad value."""
    env = os.environ if env is None else env
    for action in parser._actions:
        flag = _flag_name(action)
        if flag is None or flag in _NOT_FROM_ENV:
            continue
        value = env.get(env_name(flag))
        if value is None:
            continue
        if isinstance(action, argparse._StoreTrueAction):
            if value.strip().lower() not in _TRUE | _FALSE:
                raise ValueError(f"{env_name(flag)}: expected true or false, got {value!r}")
            action.default = value.strip().lower() in _TRUE
        elif isinstance(action, argparse._AppendAction):
            action.default = [value]
        elif action.type is int:
            try:
                action.default = int(value)
            except ValueError:
                raise ValueError(f"{env_name(flag)}: expected an integer, got {value!r}") from None
        else:
            if action.choices is not None and value not in action.choices:
                raise ValueError(f"{env_name(flag)}: {value!r} is not one of {', '.join(action.choices)}")
            action.default = value


def split_list(values: list[str]) -> list[str]:
    """Repeated and comma-separated values as one list, blanks dropped: ``["a,b", "c"]`` → ``[a, b, c]``."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def parse_duration(text: str) -> float | None:
    """Seconds in a Go-style duration (``5m``, ``90s``, ``1h30m``, ``300``); None for empty or ``0``."""
    import re

    text = text.strip().lower()
    if not text or text in {"0", "0s"}:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a duration (e.g. 5m, 90s, 1h30m)")
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    return sum(float(n) * scale[u] for n, u in parts)

"""``imagewatch scan TARGET``: a one-shot scan for CI pipelines, no NATS, one process.

    imagewatch scan registry.example.com/team/app:1.0 --severity HIGH,CRITICAL --exit-code 1
    imagewatch scan --db-repository registry.example.com/imagewatch/db:1 oci:build/layout:app -f sarif
    imagewatch scan docker-archive:app.tar --scanners secret,misconfig

Options are checked first (a bad one exits 2 before anything runs; the flags
are in ``scan.options``), then the target is opened, then the advisory store
(``scan.advisorydb``: a database file, a pulled one, or PostgreSQL) and the
image scanned by ``scan.pipeline``. Suppressions (ignore file, VEX) apply
before the severity and fixability filters; the exit code follows
``scan.errors``. Go findings whose vulnerable code is not linked are reported
but do not fail ``--exit-code`` unless ``--show-unreachable`` (or
``reachability.show_unreachable``). Every error is one line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from imagewatch.report import (IgnoreFile, IgnoreFileError, VexDoc, VexError, apply_suppressions, filter_result,
                               load_ignore_file, load_vex, parse_severities, render, should_fail)
from imagewatch.report.ignorefile import DEFAULT_NAME
from imagewatch.scan.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, ScanError
from imagewatch.scan.options import PKG_TYPES, STATUSES, parse_duration, split_list
from imagewatch.scan.pipeline import SCANNERS, PipelineOptions, PipelineStats, scan_one
from imagewatch.scan.progress import Progress
from imagewatch.scan.target import open_target, parse_target

SBOM_FORMATS = frozenset({"cyclonedx", "spdx", "spdx-json"})


@dataclass(frozen=True)
class ScanOptions:
    """The validated command line."""

    target: str
    fmt: str
    output: Path | None
    scanners: frozenset[str]
    severities: frozenset[str] | None
    ignore_unfixed: bool
    exit_code: int
    ignore: IgnoreFile | None
    vex: list[VexDoc]
    cache_dir: Path | None
    platform: str
    allow_partial: bool = False
    show_unreachable: bool = False
    sort: str = "severity"
    exit_on_eol: int = 0
    db: Path | None = None
    db_repository: str | None = None
    skip_db_update: bool = False
    quiet: bool = False
    progress: bool = True
    debug: bool = False
    timeout: float | None = None
    insecure: bool = False
    login: tuple[str, str] | None = None
    skip_dirs: tuple[str, ...] = ()
    skip_files: tuple[str, ...] = ()
    pkg_types: frozenset[str] = frozenset(PKG_TYPES)
    ignore_statuses: frozenset[str] = frozenset()


def _usage(message: str) -> ScanError:
    return ScanError(f"scan: {message}", EXIT_USAGE)


def parse_scanners(text: str) -> frozenset[str]:
    """``vuln,secret,misconfig,malware`` (any non-empty subset) as a set; raises ``ScanError`` (exit 2)."""
    names = frozenset(s.strip().lower() for s in text.split(",") if s.strip())
    unknown = sorted(names - set(SCANNERS))
    if unknown or not names:
        raise _usage(f"--scanners: unknown {', '.join(unknown) or '(empty)'} (use any of {','.join(SCANNERS)})")
    return names


def _ignore_file(path: str | None) -> IgnoreFile | None:
    from imagewatch.report.trivyignore import TRIVYIGNORE, TRIVYIGNORE_YAML, load_trivy_ignore

    try:
        if path is not None:
            name = Path(path).name
            return load_trivy_ignore(path) if name.startswith(TRIVYIGNORE) else load_ignore_file(path)
        if Path(DEFAULT_NAME).is_file():
            return load_ignore_file(DEFAULT_NAME)
        for name in (TRIVYIGNORE_YAML, TRIVYIGNORE):
            if Path(name).is_file():
                return load_trivy_ignore(name)
    except IgnoreFileError as exc:
        raise _usage(str(exc)) from None
    return None


def _choices(flag: str, values: list[str], allowed: tuple[str, ...]) -> frozenset[str]:
    names = frozenset(v.lower() for v in split_list(values))
    unknown = sorted(names - set(allowed))
    if unknown:
        raise _usage(f"{flag}: unknown {', '.join(unknown)} (use any of {','.join(allowed)})")
    return names


def _login(args: argparse.Namespace) -> tuple[str, str] | None:
    password = args.password
    if args.password_stdin:
        if args.password:
            raise _usage("--password and --password-stdin exclude each other")
        password = sys.stdin.readline().rstrip("\r\n")
    if password and not args.username:
        raise _usage("--password needs --username")
    if args.username:
        return args.username, password or ""
    return None


def options_from(args: argparse.Namespace) -> ScanOptions:
    """Check every option before the scan; raises ``ScanError`` (exit 2) naming the bad one."""
    parse_target(args.target)
    severity = ",".join(split_list(args.severity))
    try:
        severities = parse_severities(severity) if severity else None
    except ValueError as exc:
        raise _usage(f"--severity: {exc}") from None
    output = Path(args.output) if args.output else None
    if output is not None and not output.parent.is_dir():
        raise _usage(f"--output: directory {output.parent} does not exist")
    try:
        vex = [load_vex(path) for path in split_list(args.vex)]
    except VexError as exc:
        raise _usage(str(exc)) from None
    try:
        timeout = parse_duration(args.timeout)
    except ValueError as exc:
        raise _usage(f"--timeout: {exc}") from None
    if args.db and args.db_repository:
        raise _usage("--db and --db-repository exclude each other")
    if args.db and not Path(args.db).is_file():
        raise _usage(f"--db: {args.db}: no such file")
    return ScanOptions(
        target=args.target, fmt=args.format, output=output, scanners=parse_scanners(args.scanners),
        severities=severities, ignore_unfixed=args.ignore_unfixed, exit_code=args.exit_code,
        ignore=_ignore_file(args.ignorefile), vex=vex,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None, platform=args.platform,
        allow_partial=getattr(args, "allow_partial", False),
        show_unreachable=getattr(args, "show_unreachable", False),
        sort=getattr(args, "sort", "severity"), exit_on_eol=getattr(args, "exit_on_eol", 0),
        db=Path(args.db) if args.db else None, db_repository=args.db_repository,
        skip_db_update=args.skip_db_update, quiet=args.quiet, progress=not (args.quiet or args.no_progress),
        debug=args.debug, timeout=timeout, insecure=args.insecure, login=_login(args),
        skip_dirs=tuple(split_list(args.skip_dirs)), skip_files=tuple(split_list(args.skip_files)),
        pkg_types=_choices("--pkg-types", [args.pkg_types], PKG_TYPES) or frozenset(PKG_TYPES),
        ignore_statuses=_choices("--ignore-status", args.ignore_status, STATUSES))


def run(args: argparse.Namespace) -> int:
    """Run ``imagewatch scan``; returns the exit code (see ``imagewatch.scan.errors``)."""
    try:
        opts = options_from(args)
        return asyncio.run(_with_timeout(opts))
    except ScanError as exc:
        print(f"imagewatch {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("imagewatch scan: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a one-line message instead of a traceback
        print(f"imagewatch scan: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


async def _with_timeout(opts: ScanOptions) -> int:
    if opts.timeout is None:
        return await _scan(opts)
    try:
        return await asyncio.wait_for(_scan(opts), opts.timeout)
    except asyncio.TimeoutError:
        raise ScanError(f"scan: timed out after {opts.timeout:g}s (--timeout)", EXIT_FAILED) from None


async def _scan(opts: ScanOptions) -> int:
    from imagewatch.config import ConfigError, data_dir, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        raise _usage(str(exc)) from None
    root = data_dir(config)
    (root / "tmp").mkdir(exist_ok=True)
    warnings: list[str] = []
    progress = Progress(enabled=None if opts.progress else False)
    progress.start()
    try:
        result, _stats = await _scan_image(opts, config, root, progress, warnings)
    finally:
        await progress.stop()
    from imagewatch.scan.narrow import narrow_result

    result = narrow_result(result, skip_dirs=opts.skip_dirs, skip_files=opts.skip_files,
                           pkg_types=opts.pkg_types, ignore_statuses=opts.ignore_statuses)
    result, _suppressed, expired = apply_suppressions(result, opts.ignore, opts.vex, dt.date.today())
    result = msgspec.structs.replace(result, sort=opts.sort)
    if not opts.quiet:
        # With an empty store the one "no advisories" warning says it for every ecosystem.
        coverage = result.coverage.warnings if result.coverage is not None and not warnings else []
        partial = [f"scan partial: {line}" for line in result.problems]
        for line in warnings + coverage + expired + partial:
            print(f"imagewatch scan: warning: {line}", file=sys.stderr)
    _write(opts, _render(filter_result(result, opts.severities, opts.ignore_unfixed), opts.fmt, _color(opts)))
    if not opts.quiet:
        for e in result.eol:
            print(f"imagewatch scan: warning: end of life: {e.name} ({e.eol or 'ended'}; found in {e.evidence})"
                  + (f"; latest is {e.latest}" if e.latest else ""), file=sys.stderr)
    show_unreachable = opts.show_unreachable or config.reachability.show_unreachable
    if opts.exit_code and should_fail(result, opts.severities, opts.ignore_unfixed, show_unreachable):
        return opts.exit_code
    if opts.exit_on_eol and result.eol:
        return opts.exit_on_eol
    if result.problems and not opts.allow_partial:
        return EXIT_PARTIAL
    return EXIT_OK


def _render(result: Any, fmt: str, color: bool) -> bytes:
    if fmt == "spdx-json":
        return render(result, "spdx")
    if fmt == "spdx":
        from imagewatch.report.spdx_tagvalue import render_tag_value

        return render_tag_value(result)
    return render(result, fmt, color=color)


def _debug(opts: ScanOptions, message: str) -> None:
    if opts.debug:
        print(f"imagewatch scan: debug: {message}", file=sys.stderr)


def _client_factory(opts: ScanOptions, config: Any):
    @contextlib.asynccontextmanager
    async def factory(trusted: list[str]):
        from imagewatch.fetcher import fetch

        policy = fetch.egress_policy(config.fetcher, fetch.credential_hosts(config.fetcher), trusted)
        async with fetch.session_for(policy, trust_env=True) as session:
            yield fetch.make_client(session, config.fetcher, use_docker_config=True, trusted=trusted,
                                    insecure=opts.insecure, login=opts.login)
    return factory


async def _scan_image(opts: ScanOptions, config: Any, root: Path, progress: Progress,
                      warnings: list[str]) -> tuple[Any, PipelineStats]:
    import tempfile

    from imagewatch.inventory.image import limits_from
    from imagewatch.layers import LayerLimits
    from imagewatch.scan.advisorydb import open_advisories

    inv = config.inventory
    cache_dir = opts.cache_dir or root / "cache"
    with tempfile.TemporaryDirectory(prefix="iw-scan-", dir=root / "tmp") as tmp:
        pipeline = PipelineOptions(
            scanners=opts.scanners, cache_dir=cache_dir, tmp_dir=Path(tmp),
            inventory=opts.fmt in SBOM_FORMATS,
            limits=limits_from(inv.max_layer_bytes, inv.max_entries, inv.max_file_bytes),
            secret_limits=LayerLimits(max_layer_bytes=inv.max_layer_bytes, max_entries=inv.max_entries,
                                      max_read_bytes=config.secrets.max_file_bytes),
            max_secret_file_bytes=config.secrets.max_file_bytes, malware=config.malware)
        factory = _client_factory(opts, config)
        async with open_target(opts.target, platform=opts.platform, fetcher=config.fetcher,
                               tmp_dir=Path(tmp), progress=progress, client_factory=factory) as image:
            async with open_advisories(scanners=opts.scanners, db=opts.db, db_repository=opts.db_repository,
                                       skip_db_update=opts.skip_db_update, cache_dir=cache_dir, config=config,
                                       root=root, client_factory=factory) as db:
                _debug(opts, f"advisories: {db.description}; cache: {cache_dir}")
                if db.lookup is not None and db.empty:
                    warnings.append("no advisories: run `imagewatch db import` or `db sync`")
                return await scan_one(image, db.lookup, pipeline, progress, fingerprint_key=db.fingerprint_key)


def _color(opts: ScanOptions) -> bool:
    return (opts.fmt == "table" and opts.output is None and sys.stdout.isatty()
            and not os.environ.get("NO_COLOR"))


def _write(opts: ScanOptions, data: bytes) -> None:
    if opts.output is None:
        sys.stdout.write(data.decode())
        sys.stdout.flush()
        return
    try:
        opts.output.write_bytes(data)
    except OSError as exc:
        raise ScanError(f"scan: cannot write {opts.output}: {exc.strerror}", EXIT_FAILED) from None

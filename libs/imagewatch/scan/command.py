"""``imagewatch scan TARGET``: a one-shot scan for CI pipelines, no NATS, one process.

    imagewatch scan registry.example.com/team/app:1.0 --severity HIGH,CRITICAL --exit-code 1
    imagewatch scan oci:build/layout:app --format sarif --output app.sarif
    imagewatch scan docker-archive:app.tar --scanners vuln --ignore-unfixed

Options are checked first (a bad one exits 2 before anything runs), then the
target is opened, then the advisory store (``IMAGEWATCH_DATABASE_URL`` or the
embedded PostgreSQL under the data dir) is connected and the image scanned by
``scan_pipeline``. Suppressions (ignore file, VEX) apply before the severity and
fixability filters; the exit code follows ``scan_errors``. Go findings whose
vulnerable code is not linked are reported but do not fail ``--exit-code``
unless ``--show-unreachable`` (or ``reachability.show_unreachable``). Every error is one
line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from imagewatch.report import (IgnoreFile, IgnoreFileError, VexDoc, VexError, apply_suppressions, filter_result,
                     load_ignore_file, load_vex, parse_severities, render, should_fail)
from imagewatch.report.ignorefile import DEFAULT_NAME
from imagewatch.scan.errors import EXIT_FAILED, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, ScanError
from imagewatch.scan.pipeline import SCANNERS, PipelineOptions, PipelineStats, scan_one
from imagewatch.scan.progress import Progress
from imagewatch.scan.target import open_target, parse_target

SBOM_FORMATS = frozenset({"cyclonedx", "spdx"})


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
    if path is None and not Path(DEFAULT_NAME).is_file():
        return None
    try:
        return load_ignore_file(path or DEFAULT_NAME)
    except IgnoreFileError as exc:
        raise _usage(str(exc)) from None


def options_from(args: argparse.Namespace) -> ScanOptions:
    """Check every option before the scan; raises ``ScanError`` (exit 2) naming the bad one."""
    parse_target(args.target)
    try:
        severities = parse_severities(args.severity) if args.severity.strip() else None
    except ValueError as exc:
        raise _usage(f"--severity: {exc}") from None
    output = Path(args.output) if args.output else None
    if output is not None and not output.parent.is_dir():
        raise _usage(f"--output: directory {output.parent} does not exist")
    try:
        vex = [load_vex(path) for path in args.vex]
    except VexError as exc:
        raise _usage(str(exc)) from None
    return ScanOptions(
        target=args.target, fmt=args.format, output=output, scanners=parse_scanners(args.scanners),
        severities=severities, ignore_unfixed=args.ignore_unfixed, exit_code=args.exit_code,
        ignore=_ignore_file(args.ignorefile), vex=vex,
        cache_dir=Path(args.cache_dir) if args.cache_dir else None, platform=args.platform,
        allow_partial=getattr(args, "allow_partial", False),
        show_unreachable=getattr(args, "show_unreachable", False),
        sort=getattr(args, "sort", "severity"), exit_on_eol=getattr(args, "exit_on_eol", 0))


def run(args: argparse.Namespace) -> int:
    """Run ``imagewatch scan``; returns the exit code (see ``imagewatch.scan.errors``)."""
    try:
        opts = options_from(args)
        return asyncio.run(_scan(opts))
    except ScanError as exc:
        print(f"imagewatch {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("imagewatch scan: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - a one-line message instead of a traceback
        print(f"imagewatch scan: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED


async def _pool(dsn: str) -> Any:
    import asyncpg

    from imagewatch.store.db import connect_pool

    where = urlsplit(dsn)
    try:
        return await asyncio.wait_for(connect_pool(dsn, 1, 4), 60)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as exc:
        raise ScanError(f"scan: cannot use PostgreSQL at {where.hostname}:{where.port or 5432}: "
                        f"{type(exc).__name__}: {exc}", EXIT_FAILED) from None


async def has_advisories(pool: Any) -> bool:
    """Whether the advisory store holds at least one advisory."""
    from imagewatch.store import advisories

    return await advisories.has_advisories(pool)


async def _scan(opts: ScanOptions) -> int:
    from imagewatch.config import ConfigError, data_dir, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        raise _usage(str(exc)) from None
    root = data_dir(config)
    (root / "tmp").mkdir(exist_ok=True)
    warnings: list[str] = []
    progress = Progress()
    progress.start()
    try:
        result, _stats = await _scan_image(opts, config, root, progress, warnings)
    finally:
        await progress.stop()
    result, _suppressed, expired = apply_suppressions(result, opts.ignore, opts.vex, dt.date.today())
    result = msgspec.structs.replace(result, sort=opts.sort)
    # With an empty store the one "no advisories" warning says it for every ecosystem.
    coverage = result.coverage.warnings if result.coverage is not None and not warnings else []
    partial = [f"scan partial: {line}" for line in result.problems]
    for line in warnings + coverage + expired + partial:
        print(f"imagewatch scan: warning: {line}", file=sys.stderr)
    _write(opts, render(filter_result(result, opts.severities, opts.ignore_unfixed), opts.fmt,
                        color=_color(opts)))
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


async def _scan_image(opts: ScanOptions, config: Any, root: Path, progress: Progress,
                      warnings: list[str]) -> tuple[Any, PipelineStats]:
    import tempfile

    from imagewatch.cli.embedded import EmbeddedError, ensure_database_url
    from imagewatch.inventory.image import limits_from
    from imagewatch.layers import LayerLimits

    inv = config.inventory
    with tempfile.TemporaryDirectory(prefix="iw-scan-", dir=root / "tmp") as tmp:
        pipeline = PipelineOptions(
            scanners=opts.scanners, cache_dir=opts.cache_dir or root / "cache", tmp_dir=Path(tmp),
            inventory=opts.fmt in SBOM_FORMATS,
            limits=limits_from(inv.max_layer_bytes, inv.max_entries, inv.max_file_bytes),
            secret_limits=LayerLimits(max_layer_bytes=inv.max_layer_bytes, max_entries=inv.max_entries,
                                      max_read_bytes=config.secrets.max_file_bytes),
            max_secret_file_bytes=config.secrets.max_file_bytes, malware=config.malware)
        async with open_target(opts.target, platform=opts.platform, fetcher=config.fetcher,
                               tmp_dir=Path(tmp), progress=progress) as image:
            try:
                dsn, started = await asyncio.to_thread(ensure_database_url, root)
            except EmbeddedError as exc:
                raise ScanError(f"scan: {exc}", EXIT_FAILED) from None
            try:
                pool = await _pool(dsn)
                try:
                    if "vuln" in opts.scanners and not await has_advisories(pool):
                        warnings.append("no advisories: run `imagewatch db import` or `db sync`")
                    return await scan_one(image, pool, pipeline, progress)
                finally:
                    await pool.close()
            finally:
                if started is not None:
                    await asyncio.to_thread(started.stop)


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

"""``imagewatch db``: import advisories offline, sync them from upstream, show their status.

    imagewatch db import PATH...   OSV JSON/YAML directories, OSV zip exports, Alpine secdb files
    imagewatch db sync             download the configured sources (``updater.sources``; all by default;
                                   ``--source NAME`` picks some: ``kev``, ``epss``, ``endoflife``, ``debian-tracker`` ...)
    imagewatch db status           records, last sync and fingerprint per source
    imagewatch db export FILE      every advisory in one portable file (``scan --db FILE`` reads it)
    imagewatch db push REF         publish that file as an OCI artifact (``scan --db-repository REF``)

The database is ``IMAGEWATCH_DATABASE_URL`` or the embedded one under the data
directory. When a NATS URL is configured (``IMAGEWATCH_NATS_URL``), or an
``imagewatch up`` on the same data directory runs its embedded NATS (its URL
is in ``<data dir>/nats/url``), import and sync publish ``iw.vulndb`` so
running matchers re-match the images holding changed packages. Errors are one line on stderr and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from imagewatch.config import BusConfig, Config, ConfigError, data_dir, load_config

EXIT_FAILED = 1
EXIT_USAGE = 2


def _err(message: str) -> None:
    print(f"imagewatch db: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run ``db import`` / ``db sync`` / ``db status``; returns the exit code."""
    try:
        config = load_config()
    except ConfigError as exc:
        _err(str(exc))
        return EXIT_USAGE
    try:
        return asyncio.run(_run(args, config))
    except KeyboardInterrupt:
        return 130


async def _run(args: argparse.Namespace, config: Config) -> int:
    from imagewatch.cli.embedded import EmbeddedError, ensure_database_url

    if args.db_command == "push" and getattr(args, "file", None):
        return await _push(args, config, None)
    from imagewatch.store.db import connect_pool

    try:
        dsn, started = await asyncio.to_thread(ensure_database_url, data_dir(config))
    except EmbeddedError as exc:
        _err(str(exc))
        return EXIT_FAILED
    try:
        try:
            pool = await connect_pool(dsn, 1, 4)
        except (OSError, asyncio.TimeoutError) as exc:
            _err(f"cannot reach PostgreSQL: {exc}")
            return EXIT_FAILED
        try:
            command = {"import": _import, "sync": _sync, "status": _status, "export": _export,
                       "push": _push, "prune": _prune}[args.db_command]
            return await command(args, config, pool)
        finally:
            await pool.close()
    finally:
        if started is not None:
            await asyncio.to_thread(started.stop)


async def _bus(config: Config) -> tuple[Any, str]:
    """A connected bus when NATS is configured (or run by ``imagewatch up`` here) and answers, and what to tell the user."""
    if not (os.environ.get("IMAGEWATCH_NATS_URL") or config.bus.url != BusConfig().url):
        from imagewatch.cli.embedded import running_nats_url

        url = running_nats_url(data_dir(config))
        if url is None:
            return None, ("NATS not configured (IMAGEWATCH_NATS_URL) and no `imagewatch up` running on "
                          f"{data_dir(config)}: advisories stored, no matcher notified")
        import msgspec

        config = msgspec.structs.replace(config, bus=msgspec.structs.replace(config.bus, url=url))
    from imagewatch.runtime.bus import Bus

    from imagewatch.runtime.natsservers import redacted

    shown = redacted(config.bus.url)
    try:
        await _probe(config.bus.url)
        bus = await asyncio.wait_for(Bus.connect(config.bus, name="imagewatch-db"), 10)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return None, (f"NATS at {shown} not reachable ({type(exc).__name__}): "
                      "advisories stored, no matcher notified")
    return bus, f"published iw.vulndb on {shown}"


async def _probe(url: str) -> None:
    """Fail fast when nothing listens at any server of a (comma-separated) NATS URL."""
    from urllib.parse import urlsplit

    error: Exception | None = None
    for server in url.split(","):
        parts = urlsplit(server.strip() if "://" in server else f"nats://{server.strip()}")
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname or "127.0.0.1", parts.port or 4222), 3)
        except (OSError, asyncio.TimeoutError) as exc:
            error = exc
            continue
        writer.close()
        return
    raise error or OSError("no NATS server given")


async def _close(bus: Any) -> None:
    if bus is not None:
        await bus.close()


def _report(results: list, bus_note: str) -> None:
    for r in results:
        if r.state == "changed":
            print(f"{r.source}: {len(r.advisories)} advisories changed, "
                  f"{len(r.changed)} packages affected, {r.published} iw.vulndb message(s)")
        elif r.state == "unchanged":
            print(f"{r.source}: unchanged")
        elif r.state == "skipped":
            print(f"{r.source}: skipped, {r.error.split(': ', 1)[-1]}")
    if any(r.state == "changed" for r in results):
        print(bus_note)


async def _import(args: argparse.Namespace, config: Config, pool: Any) -> int:
    from imagewatch.advisories import AdvisoryError
    from imagewatch.updater.sync import import_paths

    bus, note = await _bus(config)
    try:
        results = await import_paths(pool, args.paths, bus)
    except (AdvisoryError, FileNotFoundError, OSError, ValueError) as exc:
        _err(f"import failed: {exc}")
        return EXIT_FAILED
    finally:
        await _close(bus)
    if not results:
        print("no advisories found in " + " ".join(args.paths))
    _report(results, note)
    return 0


async def _sync(args: argparse.Namespace, config: Config, pool: Any) -> int:
    import aiohttp

    from imagewatch.advisories.sources.catalog import default_sources
    from imagewatch.updater.sync import run_sources, select_sources

    try:
        sources = select_sources(getattr(args, "source", None) or config.updater.sources,
                                 default_sources(malicious_url=config.malware.feed_url, feeds=config.feeds))
    except ValueError as exc:
        _err(str(exc))
        return EXIT_USAGE
    bus, note = await _bus(config)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=20, sock_read=300)
    try:
        async with aiohttp.ClientSession(trust_env=True, timeout=timeout) as session:
            results = await run_sources(pool, sources, session, bus)
    finally:
        await _close(bus)
    _report(results, note)
    failed = [r for r in results if r.state == "failed"]
    for r in failed:
        _err(r.error)
    if failed and len(failed) == len(results) and all("(offline?)" in r.error for r in failed):
        _err(f"sync failed: no advisory source reachable ({len(failed)} tried); are you offline? "
             "Use `imagewatch db import PATH...` with downloaded files instead.")
    elif failed:
        _err(f"sync failed for {len(failed)} of {len(results)} sources")
    return EXIT_FAILED if failed else 0


def _short(fingerprint: str, width: int = 48) -> str:
    if not fingerprint:
        return "-"
    return fingerprint if len(fingerprint) <= width else fingerprint[:width - 1] + "…"


async def _status(args: argparse.Namespace, config: Config, pool: Any) -> int:
    from imagewatch.store.advisories import live_advisory_count, source_status

    rows = await source_status(pool)
    live = await live_advisory_count(pool)
    if not rows:
        print("no advisory source synced or imported yet: run `imagewatch db sync` or `imagewatch db import PATH...`")
        return 0
    print(f"{'SOURCE':<24} {'RECORDS':>8}  {'LAST SYNC':<20}  FINGERPRINT")
    for r in rows:
        when = r.last_sync.strftime("%Y-%m-%d %H:%M:%SZ") if r.last_sync else "never"
        print(f"{r.name:<24} {r.records:>8}  {when:<20}  {_short(r.fingerprint)}")
    print(f"{len(rows)} sources, {sum(r.records for r in rows)} records, {live} advisories not withdrawn")
    return 0


async def _prune(args: argparse.Namespace, config: Config, pool: Any) -> int:
    import msgspec

    from imagewatch.updater.retention import run_retention

    settings = config.retention
    for name in ("gone_after_days", "history_days"):
        value = getattr(args, name)
        if value is not None:
            if value < 0:
                _err(f"--{name.replace('_', '-')}: must be 0 or more")
                return EXIT_USAGE
            settings = msgspec.structs.replace(settings, **{name: value})
    if args.check:
        from imagewatch.fetcher import fetch

        fetcher = config.fetcher
        async with fetch.session_for(fetch.egress_policy(fetcher, fetch.credential_hosts(fetcher)),
                                     trust_env=True) as session:
            ran = await run_retention(pool, fetch.make_client(session, fetcher), settings)
        if ran is None:
            _err("another retention pass is running (the updater's?); try again later")
            return EXIT_FAILED
        checked, pruned = ran
        print(f"checked {checked.tags_checked} tags ({checked.tags_dropped} gone) and {checked.images_checked} "
              f"untagged images ({checked.images_gone} gone); {checked.errors} could not be told")
    else:
        ran = await run_retention(pool, None, settings)
        if ran is None:
            _err("another retention pass is running (the updater's?); try again later")
            return EXIT_FAILED
        pruned = ran[1]
    rows = ", ".join(f"{n} {table}" for table, n in sorted(pruned.deleted.items()) if n) or "nothing"
    print(f"deleted: {rows}")
    return 0


async def _export(args: argparse.Namespace, config: Config, pool: Any) -> int:
    from imagewatch.portable.export import export_db
    from imagewatch.store.dbfile import DbFileError

    try:
        meta = await export_db(pool, args.file)
    except DbFileError as exc:
        _err(f"export failed: {exc}")
        return EXIT_FAILED
    except OSError as exc:
        _err(f"export failed: {args.file}: {exc.strerror or exc}")
        return EXIT_FAILED
    print(f"{args.file}: {meta.version}, {len(meta.sources)} sources")
    return 0


async def _push(args: argparse.Namespace, config: Config, pool: Any) -> int:
    import tempfile
    from pathlib import Path

    from imagewatch.oci import InvalidReference, RegistryError
    from imagewatch.portable.export import export_db
    from imagewatch.portable.publish import push_file
    from imagewatch.store.dbfile import DbFileError

    with tempfile.TemporaryDirectory(prefix="iw-db-push-") as tmp:
        path = Path(args.file) if args.file else Path(tmp) / "imagewatch.db"
        try:
            if not args.file:
                await export_db(pool, path)
            digest = await push_file(config.fetcher, args.reference, path, insecure=args.insecure)
        except (DbFileError, InvalidReference) as exc:
            _err(str(exc))
            return EXIT_USAGE
        except (RegistryError, OSError) as exc:
            _err(f"push failed: {exc}")
            return EXIT_FAILED
    print(f"pushed {args.reference}@{digest}")
    return 0

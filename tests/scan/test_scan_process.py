"""``imagewatch scan`` as its own process: real exit codes, and what a terminal sees vs a pipe.

Progress goes to stderr only when stderr is a terminal; the table is coloured
only when stdout is one. Terminals here are pseudo-terminals (``os.openpty``).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading

import pytest

from imagewatch.scan.progress import Progress, human_bytes

from .helpers import TAG


@pytest.fixture
def env(advisory_dsn, tmp_path):
    keep = {k: v for k, v in os.environ.items() if not k.startswith("IMAGEWATCH_") and k != "NO_COLOR"}
    return {**keep, "IMAGEWATCH_DATABASE_URL": advisory_dsn, "IMAGEWATCH_DATA_DIR": str(tmp_path / "data")}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "imagewatch.cli", "scan", *args]


def _drain(fd: int, sink: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO once the other side is closed
            return
        if not chunk:
            return
        sink.extend(chunk)


def run_on_terminals(args: list[str], env: dict, cwd) -> tuple[int, str, str]:
    """Run with stdout and stderr each on its own pseudo-terminal; returns (code, stdout, stderr)."""
    (out_master, out_slave), (err_master, err_slave) = os.openpty(), os.openpty()
    sinks = (bytearray(), bytearray())
    readers = [threading.Thread(target=_drain, args=(fd, sink)) for fd, sink in zip((out_master, err_master), sinks)]
    for reader in readers:
        reader.start()
    try:
        proc = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=out_slave, stderr=err_slave,
                              env=env, cwd=cwd, timeout=120)
    finally:
        os.close(out_slave)
        os.close(err_slave)
        for reader in readers:
            reader.join(10)
        os.close(out_master)
        os.close(err_master)
    return proc.returncode, sinks[0].decode(), sinks[1].decode()


def test_exit_codes_and_silence_when_piped(env, layout, tmp_path):
    missing = subprocess.run(cli("oci:/no/such/layout"), capture_output=True, text=True, env=env, cwd=tmp_path)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
    found = subprocess.run(cli(f"oci:{layout}:{TAG}", "--exit-code", "5"), capture_output=True, text=True,
                           env=env, cwd=tmp_path)
    assert found.returncode == 5 and "CVE-2023-5678" in found.stdout
    assert found.stderr == ""  # no progress, no colour codes when piped
    assert "\x1b[" not in found.stdout
    env = {**env, "IMAGEWATCH_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    down = subprocess.run(cli(f"oci:{layout}:{TAG}"), capture_output=True, text=True, env=env, cwd=tmp_path)
    assert down.returncode == 3 and "cannot use PostgreSQL at 127.0.0.1:1" in down.stderr
    assert down.stderr.count("\n") == 1 and "nobody" not in down.stderr


def test_terminal_gets_progress_and_colours(env, layout, tmp_path):
    code, out, err = run_on_terminals(cli(f"oci:{layout}:{TAG}", "--cache-dir", str(tmp_path / "c")),
                                      env, tmp_path)
    assert code == 0
    assert "\x1b[" in out and "CVE-2023-5678" in out
    assert "\r" in err and "fetched 2 layers" in err and "inventory 2/2" in err


def test_progress_line_counts_and_stays_quiet_off_terminal():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    progress = Progress(stream=Tty())
    assert progress.enabled
    progress.set_stage("analysing", layers=3)
    progress.add_fetched(2_500_000)
    progress.add_analysed("inventory")
    line = progress.line()
    assert line.startswith("analysing, fetched 1 layers (2.5 MB), inventory 1/3, ")
    assert [human_bytes(n) for n in (812, 12_300, 1_200_000_000)] == ["812 B", "12.3 kB", "1.2 GB"]
    assert not Progress(stream=io.StringIO()).enabled

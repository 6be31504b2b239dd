"""Supervision: a killed child (service or embedded NATS) is restarted with backoff and the reason logged."""

from __future__ import annotations

import os
import signal
import sys
import time

from imagewatch.cli.embedded import EmbeddedNats, port_open
from imagewatch.cli.supervisor import ProcessChild, ServerChild, Supervisor, SupervisorThread, describe_exit


def _until(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_killed_children_come_back_and_the_reason_is_logged(tmp_path, capsys):
    nats = EmbeddedNats(tmp_path / "nats")
    sleeper = ProcessChild("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], dict(os.environ))
    with SupervisorThread(Supervisor([ServerChild("nats", nats), sleeper], base=0.1)) as sup:
        first_nats, first_sleeper = nats.proc.pid, sleeper.pid
        os.kill(first_nats, signal.SIGKILL)
        os.kill(first_sleeper, signal.SIGKILL)
        _until(lambda: sup.restarts("nats") == 1 and sup.restarts("sleeper") == 1)
        assert nats.proc.pid != first_nats and sleeper.pid not in (None, first_sleeper)
        _until(lambda: port_open(nats.port))  # same port as before: clients reconnect to it
    assert nats.proc.poll() is not None and sleeper.proc.poll() is not None
    out = capsys.readouterr().out
    assert "child died; restarting" in out and "killed by SIGKILL" in out


def test_a_child_that_keeps_dying_waits_longer_each_time(capsys):
    crasher = ProcessChild("crasher", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    sup = Supervisor([crasher], base=0.05, cap=0.2, healthy_after=60)
    sup.start_all()
    try:
        _until(lambda: (sup.check() or sup.restarts("crasher") >= 4))
    finally:
        sup.stop_all()
    out = capsys.readouterr().out
    assert "exited with code 3" in out
    assert "restart_in=0.2" in out  # doubled up to the cap


def test_describe_exit():
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(2) == "exited with code 2"

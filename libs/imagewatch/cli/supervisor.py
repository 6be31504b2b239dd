"""Supervision for ``imagewatch up``: keep every process it started running.

A :class:`Supervisor` holds children (the embedded NATS and PostgreSQL, and
one process per service). ``check()`` restarts a child that died, waiting a
backoff that doubles (``base`` … ``cap`` seconds) while the child keeps dying
soon after its start and resets once it stayed up ``healthy_after`` seconds;
every death and restart is logged with the reason (exit code or signal).
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from imagewatch.runtime.logs import get_logger

log = get_logger("supervisor")


class Child(Protocol):
    """Something the supervisor starts, watches and stops."""

    name: str

    def start(self) -> None:
        """Start it (returns once it is usable, or raises)."""

    def exit_reason(self) -> str | None:
        """None while it runs; else why it is not running."""

    def stop(self) -> None:
        """Stop it, politely first."""


def describe_exit(code: int | None) -> str:
    """``exited with code 1`` or ``killed by SIGKILL``."""
    if code is None:
        return "is not running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class ProcessChild:
    """A command run as a child process (a service)."""

    def __init__(self, name: str, argv: list[str], env: Callable[[], dict[str, str]] | dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = self.env() if callable(self.env) else self.env
        self.proc = subprocess.Popen(self.argv, env=env)

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def exit_reason(self) -> str | None:
        if self.proc is None:
            return "was never started"
        code = self.proc.poll()
        return None if code is None else describe_exit(code)

    def stop(self, timeout: float = 30) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ServerChild:
    """An embedded server (``EmbeddedNats`` / ``EmbeddedPostgres``) under supervision."""

    def __init__(self, name: str, server) -> None:
        self.name = name
        self.server = server

    def start(self) -> None:
        self.server.start()

    def exit_reason(self) -> str | None:
        return self.server.exit_reason()

    def stop(self) -> None:
        self.server.stop()


@dataclass
class _State:
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class Supervisor:
    """Starts children in order, restarts the ones that die (with backoff), stops them in reverse."""

    children: list[Child]
    base: float = 0.5
    cap: float = 30.0
    healthy_after: float = 30.0
    states: dict[str, _State] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start_all(self) -> None:
        """Start every child, in order."""
        for child in self.children:
            child.start()
            self.states[child.name] = _State(started_at=time.monotonic())

    def child(self, name: str) -> Child:
        """The child called ``name``."""
        return next(c for c in self.children if c.name == name)

    def restarts(self, name: str) -> int:
        """How many times ``name`` was restarted."""
        return self.states[name].restarts

    def check(self) -> None:
        """Restart, in order, the children that died and whose backoff has passed."""
        with self._lock:
            now = time.monotonic()
            for child in self.children:
                state = self.states.setdefault(child.name, _State(started_at=now))
                reason = child.exit_reason()
                if reason is None:
                    if now - state.started_at > self.healthy_after:
                        state.failures = 0
                    continue
                if state.restart_at is None:
                    ran = now - state.started_at
                    state.failures = state.failures + 1 if ran < self.healthy_after else 1
                    delay = min(self.cap, self.base * 2 ** (state.failures - 1))
                    state.restart_at = now + delay
                    log.warning("child died; restarting", child=child.name, reason=reason,
                                ran_seconds=round(ran, 1), restart_in=delay, restarts=state.restarts)
                if now < state.restart_at:
                    continue
                try:
                    child.start()
                except Exception as exc:  # noqa: BLE001 - try again after a longer wait
                    state.failures += 1
                    delay = min(self.cap, self.base * 2 ** (state.failures - 1))
                    state.restart_at = time.monotonic() + delay
                    log.error("restart failed", child=child.name, error=str(exc) or type(exc).__name__,
                              retry_in=delay)
                    continue
                state.restart_at = None
                state.started_at = time.monotonic()
                state.restarts += 1
                log.info("child restarted", child=child.name, restarts=state.restarts)

    def run(self, stopping: Callable[[], bool], interval: float = 0.25) -> None:
        """Check every ``interval`` seconds until ``stopping()``."""
        while not stopping():
            self.check()
            time.sleep(interval)

    def stop_all(self) -> None:
        """Stop every child, last started first."""
        with self._lock:
            for child in reversed(self.children):
                try:
                    child.stop()
                except Exception as exc:  # noqa: BLE001 - stop the others anyway
                    log.error("stop failed", child=child.name, error=str(exc) or type(exc).__name__)


class SupervisorThread:
    """A supervisor checking on its own thread (tests and benchmarks drive faults meanwhile)."""

    def __init__(self, supervisor: Supervisor, interval: float = 0.25) -> None:
        self.supervisor = supervisor
        self._stop = threading.Event()
        self._thread = threading.Thread(target=supervisor.run, args=(self._stop.is_set, interval),
                                        name="supervisor", daemon=True)

    def start(self, *, children: bool = True) -> Supervisor:
        """Start the children (unless they run already) and the watching thread."""
        if children:
            self.supervisor.start_all()
        self._thread.start()
        return self.supervisor

    def stop(self, *, children: bool = True) -> None:
        """Stop watching, then (unless told not to) stop the children."""
        self._stop.set()
        self._thread.join(10)
        if children:
            self.supervisor.stop_all()

    def __enter__(self) -> Supervisor:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["Child", "ProcessChild", "ServerChild", "Supervisor", "SupervisorThread", "describe_exit"]

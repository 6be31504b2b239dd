"""Which service processes are alive: each announces itself in a NATS key-value bucket.

Every process started by the runner puts ``<service>.<identity>`` into the
bucket ``imagewatch-presence`` every ``bus.presence_interval`` seconds and
deletes it on a clean stop. The bucket's entries expire after three intervals
(the stream's ``max_age``), so a killed process disappears on its own. The
identity is the replica name (``IMAGEWATCH_REPLICA``), else ``hostname-pid``,
reduced to the characters a key may hold. Readers (the dashboard) treat the
values as untrusted: any client of the bus may write them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from nats.js import api
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue

from imagewatch import __version__
from imagewatch.runtime.identity import replica
from imagewatch.runtime.logs import get_logger
from imagewatch.runtime.replicas import align_stream

BUCKET = "imagewatch-presence"
TTL_INTERVALS = 3
"""An entry lives this many announce intervals after its last put."""
MAX_VALUE = 4096
"""Bytes an announcement may hold (the bucket refuses more; readers skip more)."""
MAX_ENTRIES = 1000
"""Entries a reader takes at most."""
_KEY_PART = re.compile(r"[^A-Za-z0-9_=-]")

log = get_logger("presence")


class Presence(msgspec.Struct, kw_only=True):
    """What a live process says about itself (the value of its presence entry)."""

    service: str
    replica: str = ""
    hostname: str = ""
    pid: int = 0
    started_at: float = 0.0
    version: str = ""
    in_flight: int = 0
    """Messages the process is handling right now."""


@dataclass
class LiveProcess:
    """One entry of the bucket: the service and identity from its key, the announcement if readable."""

    service: str
    identity: str
    presence: Presence | None

    @property
    def name(self) -> str:
        """A name to show: the replica name, else ``hostname-pid``, else the key's identity (bounded)."""
        p = self.presence
        if p is not None and p.replica:
            return p.replica[:128]
        if p is not None and p.hostname:
            return f"{p.hostname[:100]}-{p.pid}"
        return self.identity or "(unnamed)"


def key_part(text: str) -> str:
    """``text`` reduced to what a key token may hold (letters, digits, ``_ = -``), at most 64 characters."""
    return _KEY_PART.sub("_", text)[:64] or "_"


def identity() -> str:
    """This process's identity: the replica name, else ``hostname-pid``."""
    return replica() or f"{socket.gethostname()}-{os.getpid()}"


def entry_key(service: str, ident: str) -> str:
    """The key of a process's presence entry: ``<service>.<identity>``, both sanitised."""
    return f"{key_part(service)}.{key_part(ident)}"


async def bucket(js, interval: float, replicas: int = 1) -> KeyValue:
    """The presence bucket (in memory; created when missing), its TTL and replica count set to the config's."""
    ttl = interval * TTL_INTERVALS
    try:
        kv = await js.key_value(BUCKET)
    except BucketNotFoundError:
        return await js.create_key_value(config=api.KeyValueConfig(
            bucket=BUCKET, ttl=ttl, storage=api.StorageType.MEMORY, history=1, replicas=replicas,
            max_value_size=MAX_VALUE, description="live imagewatch processes, one entry each"))
    stream = f"KV_{BUCKET}"
    info = await js.stream_info(stream)
    if abs((info.config.max_age or 0) - ttl) > 0.001:  # created with another interval
        window = min(info.config.duplicate_window or ttl, ttl)
        await js.update_stream(dataclasses.replace(info.config, max_age=ttl, duplicate_window=window))
        log.info("presence ttl changed", before=info.config.max_age, after=ttl)
    await align_stream(js, stream, replicas)
    return kv


class Announcer:
    """Puts this process's presence entry every ``interval`` seconds until ``stop()``, which deletes it.

    ``in_flight`` is called at each announcement for the count of messages
    being handled. NATS being away is logged once and retried at the next interval.
    """

    def __init__(self, js, service: str, interval: float, replicas: int = 1,
                 in_flight: Callable[[], int] | None = None) -> None:
        self.js = js
        self.interval = interval
        self.replicas = replicas
        self.in_flight = in_flight or (lambda: 0)
        self.key = entry_key(service, identity())
        self.presence = Presence(service=service, replica=replica(), hostname=socket.gethostname(),
                                 pid=os.getpid(), started_at=time.time(), version=__version__)
        self._kv: KeyValue | None = None
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        """Start announcing (the first put is made at once, in the background)."""
        self._task = asyncio.create_task(self._run())

    async def announce(self) -> None:
        """Put the entry once (opening the bucket when needed)."""
        if self._kv is None:
            self._kv = await bucket(self.js, self.interval, self.replicas)
        value = msgspec.structs.replace(self.presence, in_flight=self.in_flight())
        await self._kv.put(self.key, msgspec.json.encode(value))

    async def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self.announce(), timeout=max(self.interval, 2.0))
                if failing:
                    log.info("presence announced again", key=self.key)
                failing = False
            except Exception as exc:  # noqa: BLE001 - NATS away: the entry expires, the next put restores it
                if not failing:
                    log.warning("presence not announced", key=self.key, error=str(exc) or type(exc).__name__)
                failing = True
                self._kv = None
            try:
                await asyncio.wait_for(self._stopping.wait(), self.interval)
            except asyncio.TimeoutError:
                pass

    async def stop(self) -> None:
        """Stop announcing and delete the entry (left to expire when NATS does not answer)."""
        self._stopping.set()  # ends the loop even when a cancellation is lost inside wait_for (3.11)
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=5)
            self._task = None
        if self._kv is None:
            return
        try:
            await asyncio.wait_for(self._kv.delete(self.key), timeout=2)
        except Exception as exc:  # noqa: BLE001 - it expires after the TTL anyway
            log.warning("presence not withdrawn; it expires", key=self.key, error=str(exc) or type(exc).__name__)


async def live(js, timeout: float = 5.0) -> list[LiveProcess]:
    """Every live process in the bucket, by key; raises when the bucket cannot be read.

    A missing bucket means nobody announced yet: an empty list. Values larger
    than ``MAX_VALUE`` or not decodable are kept with ``presence=None``.
    """
    try:
        kv = await js.key_value(BUCKET)
    except BucketNotFoundError:
        return []
    return await asyncio.wait_for(_read(kv), timeout)


async def _read(kv: KeyValue) -> list[LiveProcess]:
    decode = msgspec.json.Decoder(Presence).decode
    out: list[LiveProcess] = []
    watcher = await kv.watchall(ignore_deletes=True)
    try:
        async for entry in watcher:
            if entry is None or len(out) >= MAX_ENTRIES:
                break
            service, _, ident = entry.key.partition(".")
            presence = None
            if entry.value and len(entry.value) <= MAX_VALUE:
                try:
                    presence = decode(entry.value)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    presence = None
            out.append(LiveProcess(service, ident, presence))
    finally:
        await watcher.stop()
    return sorted(out, key=lambda p: (p.service, p.name))


__all__ = ["BUCKET", "Announcer", "LiveProcess", "Presence", "bucket", "entry_key", "identity", "key_part", "live"]

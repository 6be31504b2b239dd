"""Harbor's pull authorization for one scan: sealed, kept in memory of NATS for a while, read by the fetcher.

Harbor passes a short-lived registry ``Authorization`` with each scan request.
It must reach the fetcher (the only service that talks to registries) without
being stored in clear anywhere: the api seals it with AES-256-GCM under a key
derived (HKDF-SHA256) from the installation key in PostgreSQL, bound to the
scan id, and puts it in the JetStream key-value bucket ``imagewatch-harbor-auth``
held in memory (never on disk) whose entries expire after
``harbor.authorization_ttl`` seconds. The push event itself carries no
credential, only the scan id (``event_id = harbor:<id>``); the fetcher opens the
entry for that one event. An expired or missing entry fails the scan.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nats.js import api
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from nats.js.kv import KeyValue

from imagewatch.errors import ImagewatchError
from imagewatch.runtime.replicas import align_stream

BUCKET = "imagewatch-harbor-auth"
EVENT_PREFIX = "harbor:"
_INFO = b"imagewatch harbor registry authorization v1"
_NONCE = 12


class AuthorizationUnavailable(ImagewatchError):
    """harbor: the pull authorization of a scan is gone (expired) or cannot be opened."""


def _key(installation_key: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(installation_key)
    return AESGCM(derived)


def seal(installation_key: bytes, scan_id: str, authorization: str) -> bytes:
    """``authorization`` encrypted and authenticated for ``scan_id`` (nonce + ciphertext)."""
    nonce = os.urandom(_NONCE)
    return nonce + _key(installation_key).encrypt(nonce, authorization.encode(), scan_id.encode())


def open_sealed(installation_key: bytes, scan_id: str, sealed: bytes) -> str:
    """The authorization ``seal`` sealed for ``scan_id``; raises :class:`AuthorizationUnavailable`."""
    try:
        plain = _key(installation_key).decrypt(sealed[:_NONCE], sealed[_NONCE:], scan_id.encode())
    except (InvalidTag, ValueError):
        raise AuthorizationUnavailable(f"harbor: the pull authorization of scan {scan_id} cannot be opened") from None
    return plain.decode()


_ALIGNED: set[tuple[int, int]] = set()  # (JetStream context, replicas) whose bucket was checked


async def bucket(js, ttl: float, replicas: int = 1) -> KeyValue:
    """The in-memory key-value bucket of sealed authorizations (created when missing) on ``replicas`` nodes."""
    try:
        kv = await js.key_value(BUCKET)
    except BucketNotFoundError:
        return await js.create_key_value(config=api.KeyValueConfig(
            bucket=BUCKET, ttl=ttl, storage=api.StorageType.MEMORY, history=1, replicas=replicas,
            description="sealed Harbor pull authorizations, one per scan"))
    if (id(js), replicas) not in _ALIGNED:  # once per process: created earlier, maybe with another count
        await align_stream(js, f"KV_{BUCKET}", replicas)
        _ALIGNED.add((id(js), replicas))
    return kv


async def put(js, ttl: float, installation_key: bytes, scan_id: str, authorization: str,
              replicas: int = 1) -> None:
    """Keep the sealed ``authorization`` of ``scan_id`` for ``ttl`` seconds."""
    kv = await bucket(js, ttl, replicas)
    await kv.put(scan_id, seal(installation_key, scan_id, authorization))


async def take(js, ttl: float, installation_key: bytes, scan_id: str, replicas: int = 1) -> str:
    """The authorization of ``scan_id`` (left in place for a retried fetch until it expires)."""
    kv = await bucket(js, ttl, replicas)
    try:
        entry = await kv.get(scan_id)
    except KeyNotFoundError:
        raise AuthorizationUnavailable(
            f"harbor: the pull authorization of scan {scan_id} expired before the fetch") from None
    return open_sealed(installation_key, scan_id, entry.value or b"")


async def forget(js, ttl: float, scan_id: str, replicas: int = 1) -> None:
    """Drop the authorization of ``scan_id`` (the fetch is over)."""
    kv = await bucket(js, ttl, replicas)
    try:
        await kv.purge(scan_id)
    except Exception:  # noqa: BLE001 - it expires anyway
        pass


def scan_id_of(event_id: str) -> str | None:
    """The Harbor scan id of a push event id (``harbor:<id>``), or None for other events."""
    return event_id[len(EVENT_PREFIX):] if event_id.startswith(EVENT_PREFIX) else None

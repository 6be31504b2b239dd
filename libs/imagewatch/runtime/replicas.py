"""Bring an existing JetStream stream (and its consumers) to the configured replica count.

``[bus] replicas`` applies to streams created before it was set or changed:
the imagewatch stream, the Object Store bucket's stream ``OBJ_<bucket>`` and
the key-value bucket's ``KV_<bucket>``. A stream's replica count can be raised
or lowered in place (JetStream copies the data to the new peers), and so can a
durable consumer's; neither is ever deleted, so no acknowledged position is lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from nats.js.errors import NotFoundError

from imagewatch.runtime.logs import get_logger

log = get_logger("replicas")


async def align_stream(js, name: str, replicas: int) -> bool:
    """Set stream ``name``'s replica count to ``replicas`` when it differs; whether it changed.

    A missing stream is left alone (its creator sets the count).
    """
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        return False
    if (info.config.num_replicas or 1) == replicas:
        return False
    before = info.config.num_replicas or 1
    await js.update_stream(dataclasses.replace(info.config, num_replicas=replicas))
    log.info("stream replicas changed", stream=name, before=before, after=replicas)
    await wait_current(js, name, replicas)
    return True


async def wait_current(js, name: str, replicas: int, timeout: float = 30.0) -> bool:
    """Wait (up to ``timeout`` s) until stream ``name`` has a leader and ``replicas - 1`` current followers.

    Writes to a stream whose new peers are still catching up can time out;
    waiting here, once at start after a change, keeps that out of the first
    messages. Returns whether it got there (it goes on regardless: the
    writers retry).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            info = await js.stream_info(name)
            cluster = info.cluster
            peers = (cluster.replicas or []) if cluster else []
            if replicas == 1 or (cluster and cluster.leader and len(peers) == replicas - 1
                                 and all(p.current and not p.offline for p in peers)):
                return True
        except Exception:  # noqa: BLE001 - no leader for a moment
            pass
        if time.monotonic() > deadline:
            log.warning("stream replicas not current yet", stream=name, replicas=replicas, waited=timeout)
            return False
        await asyncio.sleep(0.2)


__all__ = ["align_stream", "wait_current"]

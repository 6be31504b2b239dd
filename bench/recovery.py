"""Recovery after ``kill -9``: from the kill of a worker to the completion of its in-flight image.

Runs the chaos stack of ``tests/chaos/pipeline.py`` (embedded NATS and
PostgreSQL, every service its own supervised process, a real registry whose
push notifications drive the pipeline, a local chat receiver). Each sample
pushes an image, waits until the inventory stage is running it, kills the
inventory process with SIGKILL, and times until the image's alert arrives
(every stage done). Samples where the kill came after the stage had already
finished (no redelivery happened) are discarded. Prints the median of 5 per
``ack_wait`` value: a dead worker's message comes back after ``ack_wait``, so
that setting bounds recovery; heartbeats keep slow live handlers from being
redelivered whatever its value.

Usage: ``.venv/bin/python bench/recovery.py [--ack-wait 30,10] [--samples 5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

# bench/secrets.py and tests/secrets/ must not shadow the standard library's secrets
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

from chaos.pipeline import Pipeline, image, wait_until  # noqa: E402


async def _running(p: Pipeline, digest: str) -> str | None:
    rows = await p.query("SELECT state FROM scan_stages WHERE image_digest = $1 AND stage = 'inventory'", digest)
    return rows[0]["state"] if rows and rows[0]["state"] in ("running", "done") else None


async def measure(ack_wait: float, samples: int) -> list[float]:
    root = Path(tempfile.mkdtemp(prefix="iw-bench-recovery-"))
    p = Pipeline(root, ack_wait=ack_wait)
    times: list[float] = []
    try:
        await p.start()
        n = 0
        while len(times) < samples and n < samples * 3:
            n += 1
            # many files: the inventory takes long enough on it for the kill to land mid-handling
            spec = image(f"bench{ack_wait}", n, {f"app/many/{i}.txt": b"%d\n" % i for i in range(12000)})
            digest = await p.push("bench/recovery", f"a{ack_wait}-{n}", spec)
            state = await wait_until(lambda: _running(p, digest), 120, "inventory on the image", interval=0.01)
            if state != "running":
                await wait_until(lambda: p.completed([digest]), 120, "completion")
                continue
            killed = p.kill("inventory")
            await wait_until(lambda: p.completed([digest]), 300, "completion after the kill", interval=0.05)
            attempts = await p.query("""SELECT attempts FROM scan_stages WHERE image_digest = $1
                                        AND stage = 'inventory'""", digest)
            if attempts[0]["attempts"] < 2:
                continue  # the handler had finished before the signal: no recovery to time
            took = p.chat.received(digest)[0] - killed
            times.append(took)
            print(f"  ack_wait={ack_wait:g}s sample {len(times)}: {took:.1f} s", flush=True)
    finally:
        await p.stop()
        shutil.rmtree(root, ignore_errors=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ack-wait", default="30,10")
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("IMAGEWATCH_LOG_LEVEL", "error")
    print(f"cores: {os.cpu_count()}")
    rows = []
    for value in (float(v) for v in args.ack_wait.split(",")):
        t0 = time.monotonic()
        times = asyncio.run(measure(value, args.samples))
        rows.append((value, times))
        print(f"ack_wait={value:g}s: median {statistics.median(times):.1f} s over {len(times)} kills "
              f"(min {min(times):.1f}, max {max(times):.1f}; bench took {time.monotonic() - t0:.0f} s)",
              flush=True)
    print("\n| ack_wait | kill -9 → image complete, median of 5 | min | max |\n|---|---|---|---|")
    for value, times in rows:
        print(f"| {value:g} s | {statistics.median(times):.1f} s | {min(times):.1f} s | {max(times):.1f} s |")


if __name__ == "__main__":
    main()

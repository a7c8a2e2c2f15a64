"""The servers a run measures against: the sink (client cost alone) and SeaweedFS (real S3).

Both run in processes of their own, so their CPU time never counts as the client's.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

from .common import BENCH_DIR, BUCKET, LIST_KEYS, LIST_PREFIX, SINK_CREDS


class Target(NamedTuple):
    """One server to measure against: its name in the tables, URL and key pair."""

    name: str
    endpoint: str
    creds: tuple[str, str]


def start_sink() -> tuple[subprocess.Popen[str], str]:
    """``benchmarks/sink.py`` in its own process; returns it and its URL once it listens."""
    proc = subprocess.Popen(
        [sys.executable, str(BENCH_DIR / "sink.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"the sink did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}"


async def _populate_listing(endpoint: str, access_key: str, secret_key: str) -> None:
    # The list rows need 1,000 keys under list/; the sink has its canned page instead.
    from r2async import R2Client

    from .worker import run_ops

    async with R2Client(
        endpoint_url=endpoint, access_key_id=access_key, secret_access_key=secret_key
    ) as r2:
        keys = [f"{LIST_PREFIX}object-{i:06d}.json" for i in range(LIST_KEYS)]

        async def put(key: str) -> None:
            await r2.put_object(BUCKET, key, b"x")

        await run_ops(put, keys, len(keys), 32)


@contextmanager
def running(
    servers: Sequence[str], log: Callable[[str], None]
) -> Iterator[tuple[str, list[Target]]]:
    """Start the sink (always: the time-to-first-response rows use it) and the named servers.

    Yields the sink's URL and the targets, in the order sink, seaweedfs; stops them all on
    the way out, whatever happened.
    """
    sink_proc, sink_url = start_sink()
    seaweed = None
    try:
        targets: list[Target] = []
        if "sink" in servers:
            targets.append(Target("sink", sink_url, SINK_CREDS))
        if "seaweedfs" in servers:
            from r2async.testing import start_local_server

            log("starting SeaweedFS ...")
            seaweed = start_local_server(buckets=[BUCKET])
            asyncio.run(
                _populate_listing(
                    seaweed.endpoint_url, seaweed.access_key_id, seaweed.secret_access_key
                )
            )
            creds = (seaweed.access_key_id, seaweed.secret_access_key)
            targets.append(Target("seaweedfs", seaweed.endpoint_url, creds))
        yield sink_url, targets
    finally:
        sink_proc.kill()
        sink_proc.wait()
        if seaweed is not None:
            seaweed.stop()

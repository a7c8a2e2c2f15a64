"""A seeded storm of transfer and object operations cancelled at random points, against
SeaweedFS, on both transports, leaves nothing behind and the client answering.

Each operation runs under a random deadline (an anyio ``move_on_after`` or asyncio's own
``wait_for``, so both kinds of cancellation are exercised), several at a time. Afterwards:
0 busy connections, 0 descriptors beyond the baseline once the client is closed, 0 temporary
files, 0 multipart uploads in progress, and the client still answers.

Bounded: ``STORM`` operations per transport (a few hundred, about 20-40 s per transport on a
shared 2-core machine; the issue's thousands would not fit in a test run). ``R2ASYNC_STORM``
raises the count, ``R2ASYNC_STORM_SEED`` replays a seed.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from tests.support.object_server import busy_connections, open_fds

from r2async import R2Client
from r2async.testing import LocalR2Server

pytestmark = pytest.mark.integration

P = 5 * 1024 * 1024
STORM = int(os.environ.get("R2ASYNC_STORM", "240"))
SEED = int(os.environ.get("R2ASYNC_STORM_SEED", "13"))
AT_ONCE = 6
BIG = P + 512 * 1024  # two parts: multipart uploads and parallel ranged downloads
SMALL = 64 * 1024


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if "r2async" in p.name)


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_storm_of_cancelled_operations_leaves_nothing_behind(
    s3_server: LocalR2Server, bucket: str, tmp_path: Path, transport: str
) -> None:
    rng = random.Random(f"{SEED}-{transport}")
    big, small = payload(BIG, 1), payload(SMALL, 2)
    source = tmp_path / "source.bin"
    source.write_bytes(big)
    baseline = open_fds()
    r2 = R2Client(**s3_server.client_kwargs, transport=transport)  # type: ignore[arg-type]
    await r2.put_object(bucket, "big", big)
    await r2.put_object(bucket, "small", small)

    async def upload_file(n: int) -> None:
        await r2.upload_file(bucket, f"up/{n}", str(source), part_size=P, threshold=P)

    async def upload_stream(n: int) -> None:
        await r2.upload_stream(bucket, f"up/{n}", big, part_size=P, threshold=P)

    async def download_file(n: int) -> None:
        await r2.download_file(bucket, "big", tmp_path / f"dl-{n}.bin", part_size=P)

    async def download_stream(n: int) -> None:
        async with r2.download_stream(bucket, "big", part_size=P) as stream:
            async for _ in stream:
                pass

    async def put(n: int) -> None:
        await r2.put_object(bucket, f"put/{n}", small)

    async def get(n: int) -> None:
        await r2.get_object(bucket, "small")

    async def stream(n: int) -> None:
        async with r2.stream_object(bucket, "big") as body:
            async for _ in body:
                pass

    kinds: list[Callable[[int], Awaitable[None]]] = [
        upload_file,
        upload_stream,
        download_file,
        download_stream,
        put,
        get,
        stream,
    ]
    outcomes = {"completed": 0, "cancelled": 0}

    async def one(n: int) -> None:
        op = rng.choice(kinds)
        # Mostly early, where requests are being opened, sometimes well into the bodies.
        delay = rng.choice([0.0, rng.uniform(0, 0.01), rng.uniform(0, 0.2)])
        if rng.random() < 0.5:
            with anyio.move_on_after(delay) as scope:
                await op(n)
            cancelled = scope.cancelled_caught
        else:
            try:
                await asyncio.wait_for(op(n), delay)
                cancelled = False
            except asyncio.TimeoutError:
                cancelled = True
        outcomes["cancelled" if cancelled else "completed"] += 1

    try:
        for start in range(0, STORM, AT_ONCE):  # bounded: STORM operations in all
            async with anyio.create_task_group() as tg:
                for n in range(start, min(start + AT_ONCE, STORM)):
                    tg.start_soon(one, n)
            assert busy_connections(r2) == 0, f"after operation {start + AT_ONCE}"
        assert outcomes["cancelled"] > STORM // 2, outcomes  # the storm did cancel

        assert busy_connections(r2) == 0
        assert temp_files(tmp_path) == []
        uploads = await r2.list_multipart_uploads(bucket)
        assert uploads.uploads == (), f"orphaned uploads: {uploads.uploads}"
        # Still answering, for small and multipart calls alike.
        assert (await r2.get_object(bucket, "small")).body == small
        await r2.download_file(bucket, "big", tmp_path / "check.bin", part_size=P)
        assert (tmp_path / "check.bin").read_bytes() == big
    finally:
        await r2.aclose()
    await asyncio.sleep(0)  # let closed transports finish closing their sockets
    assert open_fds() <= baseline, "descriptors left open after the client was closed"

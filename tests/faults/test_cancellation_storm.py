"""A seeded storm of transfer and object operations cancelled at random points leaves nothing
behind and the client answering: against SeaweedFS (both transports under asyncio, the default
transport under trio) and against a loopback server that misbehaves at random.

Each operation runs under a random deadline (an anyio ``move_on_after`` or, under asyncio,
asyncio's own ``wait_for``, so both kinds of cancellation are exercised), several at a time.
Afterwards: 0 busy connections (checked after every batch), 0 descriptors beyond the baseline
once the client is closed, 0 temporary files, 0 multipart uploads in progress, and the client
still answers.

Bounded: ``STORM`` operations per run (240 by default, about 15 s per transport on a shared
2-core machine; the issue's thousands per run would not fit in the suite's time, so they are
spread over seeds: ``R2ASYNC_STORM=500 R2ASYNC_STORM_SEED=<n>`` was run for seeds 1-4).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
import sniffio
from tests.support.object_server import ObjectServer, busy_connections, open_fds

from r2async import R2Client, R2Error
from r2async.testing import LocalR2Server

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


async def storm(
    r2: R2Client, bucket: str, tmp_path: Path, rng: random.Random, longest: float = 0.2
) -> dict[str, int]:
    """Run ``STORM`` random operations, each cancelled within ``longest`` s (or not at all)."""
    big, small = payload(BIG, 1), payload(SMALL, 2)
    source = tmp_path / "source.bin"
    source.write_bytes(big)
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
    outcomes = {"completed": 0, "cancelled": 0, "failed": 0}
    native = sniffio.current_async_library() == "asyncio"

    async def one(n: int) -> None:
        op = rng.choice(kinds)
        # Mostly early, where requests are being opened, sometimes well into the bodies.
        delay = rng.choice([0.0, rng.uniform(0, 0.01), rng.uniform(0, longest)])
        outcome = "completed"
        try:
            if native and rng.random() < 0.5:
                try:
                    await asyncio.wait_for(op(n), delay)
                except asyncio.TimeoutError:
                    outcome = "cancelled"
            else:
                with anyio.move_on_after(delay) as scope:
                    await op(n)
                if scope.cancelled_caught:
                    outcome = "cancelled"
        except R2Error:  # a misbehaving server's answers are refused: fine, if nothing leaks
            outcome = "failed"
        outcomes[outcome] += 1

    for start in range(0, STORM, AT_ONCE):  # bounded: STORM operations in all
        async with anyio.create_task_group() as tg:
            for n in range(start, min(start + AT_ONCE, STORM)):
                tg.start_soon(one, n)
        assert busy_connections(r2) == 0, f"after operation {start + AT_ONCE}: {outcomes}"
    assert outcomes["cancelled"] > STORM // 3, outcomes  # the storm did cancel
    assert temp_files(tmp_path) == []
    return outcomes


async def still_answers(r2: R2Client, bucket: str, tmp_path: Path) -> None:
    big, small = payload(BIG, 1), payload(SMALL, 2)
    assert (await r2.get_object(bucket, "small")).body == small
    await r2.download_file(bucket, "big", tmp_path / "check.bin", part_size=P)
    assert (tmp_path / "check.bin").read_bytes() == big
    await r2.upload_stream(bucket, "after", big, part_size=P, threshold=P)


@pytest.mark.integration
@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_storm_of_cancelled_operations_leaves_nothing_behind(
    s3_server: LocalR2Server, bucket: str, tmp_path: Path, transport: str
) -> None:
    baseline = open_fds()
    r2 = R2Client(**s3_server.client_kwargs, transport=transport)  # type: ignore[arg-type]
    try:
        await storm(r2, bucket, tmp_path, random.Random(f"{SEED}-{transport}"))
        uploads = await r2.list_multipart_uploads(bucket)
        assert uploads.uploads == (), f"orphaned uploads: {uploads.uploads}"
        await still_answers(r2, bucket, tmp_path)
        assert busy_connections(r2) == 0
    finally:
        await r2.aclose()
    await asyncio.sleep(0)  # let closed transports finish closing their sockets
    assert open_fds() <= baseline, "descriptors left open after the client was closed"


@pytest.mark.integration
# Known, outside the transfers (reported to the lead): when a request is cancelled while its
# body is being sent, nothing closes httpx's async generator over the request body
# (httpx._content.ByteStream / AsyncIteratorByteStream ``__aiter__``), and trio, unlike
# asyncio, warns when it is collected. No connection, descriptor or file stays open (checked).
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <async_generator object [A-Za-z]*ByteStream.__aiter__"
    ":pytest.PytestUnraisableExceptionWarning"
)
def test_a_storm_of_cancelled_operations_under_trio_leaves_nothing_behind(
    s3_server: LocalR2Server, tmp_path: Path
) -> None:
    pytest.importorskip("trio")
    baseline = open_fds()

    async def main() -> None:
        async with R2Client(**s3_server.client_kwargs) as r2:
            bucket = f"storm-trio-{SEED}"
            await r2.create_bucket(bucket)
            await storm(r2, bucket, tmp_path, random.Random(f"{SEED}-trio"))
            assert (await r2.list_multipart_uploads(bucket)).uploads == ()
            await still_answers(r2, bucket, tmp_path)
            assert busy_connections(r2) == 0

    anyio.run(main, backend="trio")
    assert open_fds() <= baseline


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_storm_against_a_misbehaving_server_leaves_nothing_behind(
    tmp_path: Path, transport: str
) -> None:
    rng = random.Random(f"{SEED}-hostile-{transport}")
    async with ObjectServer() as server:
        server.other["big"] = payload(BIG, 3)
        server.endless_limit = 16 * P
        server.hold_bytes = 64 * 1024
        server.hold_seconds = 2.0
        # Most answers are right; the rest endless, cut short and held, from another
        # version, or whole objects for ranges.
        actions = ["normal"] * 6 + ["endless", "hold", "swap", "full200"]
        server.policy = lambda n, start, end: rng.choice(actions)
        async with R2Client(**server.client_kwargs, transport=transport) as r2:  # type: ignore[arg-type]
            # Longer deadlines: answers must get far enough to be refused, too.
            outcomes = await storm(r2, "bkt", tmp_path, rng, longest=1.0)
            assert outcomes["failed"] > 0, outcomes  # the server did misbehave
            server.policy = lambda n, start, end: "normal"
            await still_answers(r2, "bkt", tmp_path)
            assert busy_connections(r2) == 0
        assert server.uploads == {}, "orphaned multipart uploads"

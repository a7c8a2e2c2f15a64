"""Downloads stay within their memory bound and never mix object versions, whatever the
server sends: an endless body, a 200 that ignores Range, an ETag or size that changes between
parts because If-Match is ignored (both transports, a loopback server).
"""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.object_server import ObjectServer, busy_connections

from r2async import IntegrityError, ObjectChangedError, PreconditionFailedError, R2Client

P = 5 * 1024 * 1024
CONCURRENCY = 2
TRANSPORTS = ["httpx", "aiohttp"]


def payload(size: int, seed: int = 0) -> bytes:
    block = bytes((i * 7 + seed) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


@pytest.fixture
async def server() -> AsyncIterator[ObjectServer]:
    async with ObjectServer() as srv:
        yield srv


def names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def client(server: ObjectServer, transport: str) -> R2Client:
    return R2Client(**server.client_kwargs, transport=transport)  # type: ignore[arg-type]


async def read_stream(r2: R2Client, key: str) -> int:
    received = 0
    async with r2.download_stream("bkt", key, part_size=P, concurrency=CONCURRENCY) as stream:
        async for chunk in stream:
            received += len(chunk)
    return received


async def peak_memory_of_a_failing_stream(r2: R2Client, key: str, error: type) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(error):
            await read_stream(r2, key)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_download_stream_stops_an_endless_part_at_its_span(
    server: ObjectServer, transport: str
) -> None:
    server.put("obj", payload(3 * P))
    server.endless_limit = 128 * 1024 * 1024
    server.policy = lambda n, start, end: "endless" if n > 1 else "normal"
    async with client(server, transport) as r2:
        peak = await peak_memory_of_a_failing_stream(r2, "obj", IntegrityError)
        assert busy_connections(r2) == 0
    # Before: each endless part was buffered whole (here up to the server's 128 MiB limit).
    assert peak < 2 * P * CONCURRENCY, f"peak {peak:,} bytes"
    assert max(server.body_bytes_sent) < 64 * 1024 * 1024


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_download_stream_refuses_a_200_to_a_later_range_before_its_body(
    server: ObjectServer, transport: str
) -> None:
    size = 24 * P
    server.put("big", payload(size))
    server.policy = lambda n, start, end: "full200" if n > 1 else "normal"
    async with client(server, transport) as r2:
        peak = await peak_memory_of_a_failing_stream(r2, "big", IntegrityError)
        assert busy_connections(r2) == 0
    # Before: the whole 120 MiB object was buffered (per part asked for) before the check.
    assert peak < 2 * P * CONCURRENCY, f"peak {peak:,} bytes"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_download_file_stops_an_endless_part_at_its_span(
    server: ObjectServer, transport: str, tmp_path: Path
) -> None:
    server.put("obj", payload(3 * P))
    server.policy = lambda n, start, end: "endless" if n > 1 else "normal"
    async with client(server, transport) as r2:
        with pytest.raises(IntegrityError, match=r"sent more than|received more than"):
            await r2.download_file("bkt", "obj", tmp_path / "dest.bin", part_size=P)
        assert busy_connections(r2) == 0
    assert names(tmp_path) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("change", ["etag", "multipart-etag", "size"])
async def test_a_server_ignoring_if_match_cannot_mix_two_versions(
    server: ObjectServer, transport: str, tmp_path: Path, change: str
) -> None:
    size = 3 * P
    other = payload(size + P if change == "size" else size, seed=1)
    server.put("obj", payload(size), other=other)
    if change != "etag":
        # Multipart ETags are no MD5 of the data: no whole-file check can catch a mix.
        server.etags["obj"] = '"0123456789abcdef0123456789abcdef-3"'
    if change == "multipart-etag":
        server.other_etags["obj"] = '"fedcba9876543210fedcba9876543210-3"'
    # "size": the same ETag, another total size in Content-Range.
    # Every GET after the first is answered from another version, If-Match ignored.
    server.policy = lambda n, start, end: "swap" if n > 1 else "normal"
    dest = tmp_path / "dest.bin"
    dest.write_bytes(b"previous")
    async with client(server, transport) as r2:
        with pytest.raises(ObjectChangedError, match="changed during the download") as info:
            await r2.download_file("bkt", "obj", dest, part_size=P)
        assert isinstance(info.value, PreconditionFailedError)
        assert dest.read_bytes() == b"previous"
        assert names(tmp_path) == ["dest.bin"]

        server.gets = 0  # download_stream: its first GET is answered by the first version

        with pytest.raises(ObjectChangedError):
            await read_stream(r2, "obj")
        assert busy_connections(r2) == 0

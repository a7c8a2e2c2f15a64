"""open_object: the GetObject is sent and checked before the body is handed on (web handlers)."""

from __future__ import annotations

import pytest

from r2async import NoSuchKeyError, ObjectStream, R2Client
from r2async.testing import LocalR2Server

pytestmark = pytest.mark.integration

TRANSPORTS = ["httpx", "aiohttp"]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_missing_key_raises_before_any_body(
    s3_server: LocalR2Server, bucket: str, transport: str
) -> None:
    async with R2Client(**s3_server.client_kwargs, transport=transport) as r2:
        with pytest.raises(NoSuchKeyError):
            await r2.open_object(bucket, "missing")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_status_and_headers_known_and_closes_itself_at_the_end(
    s3_server: LocalR2Server, bucket: str, transport: str
) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    async with R2Client(**s3_server.client_kwargs, transport=transport) as r2:
        await r2.put_object(bucket, "k", data, content_type="application/x-test")
        stream = await r2.open_object(bucket, "k", chunk_size=64 * 1024)
        assert isinstance(stream, ObjectStream)
        assert stream.status_code == 200
        assert stream.metadata.content_length == len(data)
        assert stream.headers["content-type"] == "application/x-test"
        assert stream.bytes_received == 0
        received = b"".join([chunk async for chunk in stream])  # no async with, no aclose
        assert received == data
        assert stream._first is not None and stream._first.is_closed

        partial = await r2.open_object(bucket, "k", range=(0, 9))
        assert partial.status_code == 206
        async with partial:  # entering an open stream sends nothing more
            assert await partial.read() == data[:10]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_closed_before_reading_releases_the_connection(
    s3_server: LocalR2Server, bucket: str, transport: str
) -> None:
    async with R2Client(**s3_server.client_kwargs, transport=transport) as r2:
        await r2.put_object(bucket, "k", b"x" * 100_000)
        # More opens than the default pool's 64 connections: each close must give one back.
        for _ in range(70):
            stream = await r2.open_object(bucket, "k")
            await stream.aclose()
            assert stream._first is not None and stream._first.is_closed
        assert (await r2.get_object(bucket, "k")).body == b"x" * 100_000

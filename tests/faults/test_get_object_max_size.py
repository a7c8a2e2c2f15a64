"""``get_object(max_size=)``: a body over the cap is refused, whatever the server declares.

Issue 13, item 10: ``get_object`` buffered any body. With ``max_size`` the declared
Content-Length is checked before any body byte is read (the server below never sends one),
and the bytes are counted as they arrive (a chunked body declares no length). Both raise
``ResponseTooLargeError`` (a ``ResponseParseError``), not retried, and the connection is
closed rather than reused.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from tests.support.hostile import Conn, HostileServer, response

from r2async import R2Client, ResponseParseError, ResponseTooLargeError

TRANSPORTS = ["httpx", "aiohttp"]
CHUNK = b"y" * 65536


async def _serve(conn: Conn) -> None:
    for _ in range(100):
        request = await conn.request()
        if request is None:
            return
        key = request.target.rsplit("/", 1)[1]
        if key == "declared-big":
            # Declares 10 MB, then sends nothing: reading the body would hang.
            await conn.write(response(length=10_000_000))
            await asyncio.sleep(60)
            return
        if key == "endless-chunked":
            head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            await conn.write(head)
            for _ in range(2000):  # 128 MiB at most: the client must stop long before
                await conn.write(b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK))
            return
        await conn.write(response(b"z" * 1000))


@pytest.fixture
def server() -> Any:
    with HostileServer(_serve) as srv:
        yield srv


def _client(url: str, transport: str) -> R2Client:
    return R2Client(
        endpoint_url=url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=transport,  # type: ignore[arg-type]
        timeout=30,
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_declared_length_over_max_size_is_refused_before_reading(
    server: HostileServer, transport: str
) -> None:
    async with _client(server.url, transport) as r2:
        with anyio.fail_after(10), pytest.raises(ResponseTooLargeError, match="10000000 bytes"):
            await r2.get_object("bucket", "declared-big", max_size=1_000_000)
        # Not retried, and the client still answers.
        assert server.connections == 1
        assert len((await r2.get_object("bucket", "small", max_size=1000)).body) == 1000


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_endless_chunked_body_stops_at_max_size(
    server: HostileServer, transport: str
) -> None:
    async with _client(server.url, transport) as r2:
        with anyio.fail_after(20), pytest.raises(ResponseTooLargeError, match="max_size=1000000"):
            await r2.get_object("bucket", "endless-chunked", max_size=1_000_000)
        assert len((await r2.get_object("bucket", "small")).body) == 1000


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_body_at_or_under_max_size_is_returned(
    server: HostileServer, transport: str
) -> None:
    async with _client(server.url, transport) as r2:
        assert len((await r2.get_object("bucket", "small", max_size=1000)).body) == 1000
        with pytest.raises(ResponseTooLargeError) as caught:
            await r2.get_object("bucket", "small", max_size=999)
        assert isinstance(caught.value, ResponseParseError)


@pytest.mark.parametrize(
    ("bad", "error"),
    [(-1, ValueError), (1.5, TypeError), ("10", TypeError), (True, TypeError)],
)
async def test_a_bad_max_size_is_refused_before_any_io(bad: object, error: type) -> None:
    async with R2Client(
        endpoint_url="http://127.0.0.1:9", access_key_id="AKID", secret_access_key="SECRET"
    ) as r2:
        with pytest.raises(error, match="max_size"):
            await r2.get_object("bucket", "key", max_size=bad)  # type: ignore[arg-type]

"""The default transport reads a Content-Length body straight from its connection.

See ``r2async._transports.direct_body`` and ``asyncio_stream``: past the bytes h11 buffered
with the headers, the body comes from the network stream in chunks far larger than
httpcore's 64 KiB reads, exactly, the connection is reused afterwards, and a body cut short
still raises h11's error and is not reused. Under asyncio and trio.
"""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
from tests.support.hostile import Conn, HostileServer, response

from r2async._transports.direct_body import available
from r2async._transports.pool import PoolTransport

BODY = bytes(range(256)) * (16 * 4096)  # 16 MiB


async def _serve(conn: Conn) -> None:
    for _ in range(100):
        request = await conn.request()
        if request is None:
            return
        if request.target.endswith("/cut"):
            await conn.write(response(length=len(BODY)) + BODY[: len(BODY) // 2])
            return
        await conn.write(response(BODY))


@pytest.fixture
def server() -> Any:
    with HostileServer(_serve) as srv:
        yield srv


def test_the_installed_h11_passes_the_self_test() -> None:
    assert available()


async def _large_bodies(url: str) -> list[int]:
    transport = PoolTransport()
    sizes = []
    async with httpx.AsyncClient(transport=transport) as http:
        for _ in range(2):
            with anyio.fail_after(30):
                async with http.stream("GET", f"{url}/b/k") as r:
                    chunks = [chunk async for chunk in r.aiter_raw()]
            assert b"".join(chunks) == BODY
            sizes.append(max(map(len, chunks)))
    return sizes


async def _cut_body(url: str) -> None:
    transport = PoolTransport()
    async with httpx.AsyncClient(transport=transport) as http:
        with anyio.fail_after(30), pytest.raises(httpx.RemoteProtocolError):
            async with http.stream("GET", f"{url}/b/cut") as r:
                async for _ in r.aiter_raw():
                    pass
        assert transport.pool.connections == []
        with anyio.fail_after(30):
            again = await http.get(f"{url}/b/k")
        assert again.content == BODY


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_large_body_arrives_exactly_in_large_chunks_and_the_connection_is_reused(
    server: HostileServer, backend: str
) -> None:
    sizes = anyio.run(_large_bodies, server.url, backend=backend)
    # Both bodies on one connection.
    assert server.connections == 1
    if backend == "asyncio":
        # httpcore alone reads (and yields) at most 64 KiB at a time.
        assert min(sizes) > 64 * 1024


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_cut_body_raises_and_its_connection_is_not_reused(
    server: HostileServer, backend: str
) -> None:
    anyio.run(_cut_body, server.url, backend=backend)

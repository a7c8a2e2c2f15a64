"""A response body dropped unclosed (no ``aclose``, no ``async with``) does not leak its connection.

Issue 13, item 1: the pool does not rely on callers alone. More streams than the pool has
connections are opened and dropped without closing; once garbage-collected, each connection
is closed (never reused: the response was cut off mid-body) and its place given back, so the
client keeps answering. In debug mode (asyncio debug, or ``python -X dev``) each such drop
warns with a ``ResourceWarning``; otherwise nothing is emitted (the suite turns
``ResourceWarning`` into errors, so the tests without debug mode also show that).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from tests.support.hostile import Conn, HostileServer, response

from r2async import R2Client
from r2async._transports.aiohttp_transport import AiohttpTransport
from r2async._transports.pool import PoolTransport

LIMIT = 2
# Larger than one read and than what aiohttp buffers, so a dropped stream stops mid-body.
BODY = b"x" * (8 * 1024 * 1024)


async def _serve(conn: Conn) -> None:
    for _ in range(1000):
        if await conn.request() is None:
            return
        await conn.write(response(BODY))


@pytest.fixture
def server() -> Any:
    with HostileServer(_serve) as srv:
        yield srv


def _transport(name: str) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(max_connections=LIMIT, max_keepalive_connections=LIMIT)
    if name == "httpx":
        return PoolTransport(limits=limits)
    return AiohttpTransport(limits=limits)


def _client(url: str, transport: httpx.AsyncBaseTransport) -> R2Client:
    return R2Client(
        endpoint_url=url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=transport,
        # A leaked connection shows as a quick PoolTimeout, not a hang.
        timeout=httpx.Timeout(10, pool=2),
        max_retries=0,
    )


async def _drop_unclosed_streams(r2: R2Client, count: int, *, read_some: bool) -> None:
    for _ in range(count):
        stream = r2.stream_object("bucket", "key")
        await stream.__aenter__()
        if read_some:
            iterator = stream.__aiter__()
            assert len(await iterator.__anext__()) > 0
            del iterator
        del stream
        gc.collect()
        # The pool takes the connection back on the event loop, at the next checkpoint.
        await anyio.lowlevel.checkpoint()


async def _in_use_drops_to_zero(transport: httpx.AsyncBaseTransport) -> None:
    if isinstance(transport, PoolTransport):
        for _ in range(1000):
            if transport.pool.in_use == 0:
                return
            await anyio.sleep(0.001)
        raise AssertionError(f"{transport.pool.in_use} connections still in use")


async def _scenario(url: str, name: str, *, read_some: bool) -> None:
    transport = _transport(name)
    async with _client(url, transport) as r2:
        await _drop_unclosed_streams(r2, 3 * LIMIT + 1, read_some=read_some)
        with anyio.fail_after(20):
            for _ in range(2 * LIMIT):
                got = await r2.get_object("bucket", "key")
                assert got.body == BODY
        await _in_use_drops_to_zero(transport)


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
@pytest.mark.parametrize("read_some", [False, True], ids=["unread", "partly-read"])
async def test_dropped_streams_give_their_connections_back(
    server: HostileServer, transport: str, read_some: bool
) -> None:
    await _scenario(server.url, transport, read_some=read_some)


# trio warns about each of httpx's async generators a dropped, partly read stream abandons:
# that warning is trio's (and deserved); the connection is what is tested here.
@pytest.mark.filterwarnings("ignore:Async generator .* was garbage collected:ResourceWarning")
@pytest.mark.parametrize("read_some", [False, True], ids=["unread", "partly-read"])
def test_dropped_streams_give_their_connections_back_under_trio(
    server: HostileServer, read_some: bool
) -> None:
    async def main() -> None:
        await _scenario(server.url, "httpx", read_some=read_some)

    anyio.run(main, backend="trio")


@pytest.mark.parametrize("transport_name", ["httpx", "aiohttp"])
async def test_a_reclaimed_connection_is_closed_not_reused(
    server: HostileServer, transport_name: str
) -> None:
    transport = _transport(transport_name)
    async with _client(server.url, transport) as r2:
        await _drop_unclosed_streams(r2, 1, read_some=False)
        await _in_use_drops_to_zero(transport)
        got = await r2.get_object("bucket", "key")
        assert got.body == BODY
    # Two connections: the dropped response's one was closed, a new one served the GET.
    assert server.connections == 2


@pytest.mark.parametrize("transport", ["httpx", "aiohttp"])
async def test_a_dropped_stream_warns_in_debug_mode(server: HostileServer, transport: str) -> None:
    asyncio.get_running_loop().set_debug(True)
    chosen = _transport(transport)
    async with _client(server.url, chosen) as r2:
        stream = r2.stream_object("bucket", "key")
        await stream.__aenter__()
        with pytest.warns(ResourceWarning, match="[Uu]nclosed"):
            del stream
            gc.collect()
        await anyio.lowlevel.checkpoint()
        await _in_use_drops_to_zero(chosen)
        assert (await r2.get_object("bucket", "key")).body == BODY


async def _a_waiter_gets_the_reclaimed_place(url: str) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    transport = PoolTransport(limits=limits)
    async with _client(url, transport) as r2:
        stream = r2.stream_object("bucket", "key")
        await stream.__aenter__()
        got: list[bytes] = []

        async def waiter() -> None:
            got.append((await r2.get_object("bucket", "key")).body)

        with anyio.fail_after(20):
            async with anyio.create_task_group() as tg:
                tg.start_soon(waiter)
                for _ in range(1000):  # until the waiter queues for the one connection
                    if transport.pool.waiting:
                        break
                    await anyio.sleep(0.001)
                assert transport.pool.waiting == 1
                del stream
                gc.collect()
        assert got == [BODY]
    assert transport.pool.in_use == 0


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_queued_request_gets_the_place_of_a_dropped_stream(
    server: HostileServer, backend: str
) -> None:
    async def main() -> None:
        await _a_waiter_gets_the_reclaimed_place(server.url)

    anyio.run(main, backend=backend)

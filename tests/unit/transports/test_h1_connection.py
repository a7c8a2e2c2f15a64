"""The pool's own HTTP/1.1 connection: src/r2async/_transports/h1_connection.py.

Against a hostile loopback server (tests/support/hostile.py), through ``PoolTransport`` as
httpx uses it: reuse only after a clean, complete exchange (not after trailing bytes, a
``Connection: close``, a body read until close, a HEAD answered with a body, a cancellation
mid-body), a server that closed an idle connection, the call's deadline, interim responses,
chunked bodies both ways, and the fallbacks to httpcore's connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from tests.support.hostile import Conn, HostileServer

from r2async._transports import DEADLINE
from r2async._transports.asyncio_stream import AsyncioStream
from r2async._transports.h1_connection import H1Connection
from r2async._transports.pool import PoolTransport
from r2async._transports.pooled_stream import PooledStream

OK = b"0123456789" * 100
BIG = bytes(range(256)) * 1200  # 300 KiB: more than the first read brings


def _plain(body: bytes = OK, **headers: str) -> bytes:
    lines = [b"HTTP/1.1 200 OK", b"Content-Length: %d" % len(body)]
    lines += [f"{k.replace('_', '-')}: {v}".encode() for k, v in headers.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def _answers(conn: Conn) -> None:
    # Each request's target names its answer.
    for _ in range(100):
        request = await conn.request()
        if request is None:
            return
        target = request.target
        if target == "/trailing":
            await conn.write(_plain() + b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL")
        elif target == "/close":
            await conn.write(_plain(Connection="close"))
        elif target == "/hang-up":
            await conn.write(_plain())
            return  # closes the connection after a keep-alive answer
        elif target == "/until-close":
            await conn.write(b"HTTP/1.1 200 OK\r\n\r\n" + OK)
            return
        elif target == "/http10":
            await conn.write(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nold!")
        elif target == "/chunked":
            await conn.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\nX-Trailer: 1\r\n\r\n"
            )
        elif target == "/chunked-junk":
            await conn.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nJUNK"
            )
        elif target == "/head-body" and request.method == "HEAD":
            await conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody")
        elif target == "/slow":
            await conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            for _ in range(100):
                await conn.write(b"x")
                await asyncio.sleep(0.05)
        elif target == "/half":
            await conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + OK)
            await asyncio.sleep(30)
        elif target.startswith("/interim/"):
            count = int(target.rsplit("/", 1)[1])
            await conn.write(b"HTTP/1.1 100 Continue\r\n\r\n" * count + _plain())
        elif target == "/huge-head":
            await conn.write(b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * 200_000 + b"\r\n\r\n")
        elif target == "/nothing":
            return
        elif target == "/big":
            await conn.write(_plain(BIG))
        elif target == "/echo":
            await conn.write(_plain(request.body))
        elif request.method == "HEAD":
            await conn.write(_plain()[: -len(OK)])  # the length of a GET's body, no body
        else:
            await conn.write(_plain())


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(_answers) as srv:
        yield srv


def _http() -> tuple[httpx.AsyncClient, PoolTransport]:
    transport = PoolTransport(limits=httpx.Limits(max_connections=4))
    return httpx.AsyncClient(transport=transport, timeout=10), transport


async def _get(http: httpx.AsyncClient, url: str, method: str = "GET") -> httpx.Response:
    return await asyncio.wait_for(http.request(method, url), 20)


# -- reuse ---------------------------------------------------------------------------------------


async def test_sequential_requests_share_one_of_r2asyncs_own_connections(
    server: HostileServer,
) -> None:
    http, transport = _http()
    async with http:
        for i in range(5):
            got = await _get(http, f"{server.url}/k{i}")
            assert got.content == OK and got.http_version == "HTTP/1.1"
            assert got.reason_phrase == "OK"
        [conn] = transport.pool.connections
        assert isinstance(conn, H1Connection) and conn.is_idle()
    assert server.connections == 1
    assert conn.is_closed()


@pytest.mark.parametrize(
    "path",
    ["/trailing", "/close", "/until-close", "/http10", "/chunked-junk", "/head-body"],
)
async def test_a_connection_is_not_reused_after(server: HostileServer, path: str) -> None:
    http, transport = _http()
    async with http:
        method = "HEAD" if path == "/head-body" else "GET"
        first = await _get(http, f"{server.url}{path}", method)
        assert first.status_code == 200
        assert transport.pool.connections == []  # closed when its response was
        again = await _get(http, f"{server.url}/after")
        assert again.content == OK
    assert server.connections == 2


async def test_bodies_of_every_framing_arrive_whole(server: HostileServer) -> None:
    http, _ = _http()
    async with http:
        assert (await _get(http, f"{server.url}/until-close")).content == OK
        assert (await _get(http, f"{server.url}/http10")).content == b"old!"
        assert (await _get(http, f"{server.url}/chunked")).content == b"abcdefg"
        head = await _get(http, f"{server.url}/x", "HEAD")
        assert head.content == b"" and head.headers["content-length"] == str(len(OK))


async def test_a_chunked_answer_and_a_head_answer_leave_the_connection_reusable(
    server: HostileServer,
) -> None:
    http, transport = _http()
    async with http:
        await _get(http, f"{server.url}/chunked")
        await _get(http, f"{server.url}/x", "HEAD")
        await _get(http, f"{server.url}/interim/2")
        assert len(transport.pool.connections) == 1
    assert server.connections == 1


# -- connections the server closes ---------------------------------------------------------------


async def _until(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


async def test_an_idle_connection_the_server_closed_is_replaced(server: HostileServer) -> None:
    http, transport = _http()
    async with http:
        await _get(http, f"{server.url}/hang-up")
        [conn] = transport.pool.connections
        await _until(conn.has_expired)
        assert (await _get(http, f"{server.url}/after")).content == OK
        assert transport.pool.connections != [conn]
    assert server.connections == 2


async def test_a_dead_connection_taken_from_the_pool_is_retried_before_sending(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server closes between the pool's check and the request: nothing was sent, so the
    # pool takes another connection (ConnectionNotAvailable), and the caller sees no error.
    http, transport = _http()
    async with http:
        await _get(http, f"{server.url}/hang-up")
        [conn] = transport.pool.connections
        await _until(conn.has_expired)
        monkeypatch.setattr(H1Connection, "has_expired", lambda self: False)
        assert (await _get(http, f"{server.url}/after")).content == OK
        assert transport.pool.in_use == 0
    assert server.connections == 2


async def test_a_server_that_answers_nothing_is_a_protocol_error(server: HostileServer) -> None:
    http, transport = _http()
    async with http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await _get(http, f"{server.url}/nothing")
        assert transport.pool.connections == [] and transport.pool.in_use == 0


# -- bounds --------------------------------------------------------------------------------------


async def test_interim_responses_are_skipped_up_to_the_cap(server: HostileServer) -> None:
    http, transport = _http()
    async with http:
        assert (await _get(http, f"{server.url}/interim/8")).content == OK
        with pytest.raises(httpx.RemoteProtocolError, match="more than 8 interim"):
            await _get(http, f"{server.url}/interim/9")
        assert transport.pool.in_use == 0


async def test_an_oversized_head_is_refused(server: HostileServer) -> None:
    http, transport = _http()
    async with http:
        with pytest.raises(httpx.RemoteProtocolError, match="head exceeds"):
            await _get(http, f"{server.url}/huge-head")
        assert transport.pool.connections == []


async def test_the_calls_deadline_bounds_a_dripping_body(server: HostileServer) -> None:
    http, transport = _http()
    async with http:
        started = time.monotonic()
        request = http.build_request(
            "GET", f"{server.url}/slow", extensions={DEADLINE: started + 0.4}
        )
        with pytest.raises(httpx.ReadTimeout):
            await asyncio.wait_for(http.send(request), 20)
        # Each byte came well within the 10 s read timeout: only the deadline stops it.
        assert time.monotonic() - started < 3
        assert transport.pool.connections == [] and transport.pool.in_use == 0


async def test_a_deadline_already_passed_sends_nothing(server: HostileServer) -> None:
    http, _ = _http()
    async with http:
        request = http.build_request(
            "GET", f"{server.url}/x", extensions={DEADLINE: time.monotonic() - 1}
        )
        with pytest.raises(httpx.ConnectTimeout, match="deadline"):
            await http.send(request)
    assert server.connections == 0


# -- cancellation --------------------------------------------------------------------------------


async def test_cancelled_mid_body_the_connection_is_not_reused(server: HostileServer) -> None:
    http, transport = _http()
    async with http:
        received = asyncio.Event()

        async def read() -> None:
            async with http.stream("GET", f"{server.url}/half") as r:
                async for _ in r.aiter_raw():
                    received.set()

        task = asyncio.create_task(read())
        await asyncio.wait_for(received.wait(), 20)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert transport.pool.in_use == 0 and transport.pool.connections == []
        assert (await _get(http, f"{server.url}/after")).content == OK
    assert server.connections == 2


async def test_a_body_closed_early_leaves_no_reusable_connection(server: HostileServer) -> None:
    http, transport = _http()
    async with http:
        async with http.stream("GET", f"{server.url}/half") as r:
            async for _ in r.aiter_raw():
                break
        assert transport.pool.in_use == 0 and transport.pool.connections == []


# -- request bodies ------------------------------------------------------------------------------


async def test_a_request_body_goes_out_with_its_length(server: HostileServer) -> None:
    http, _ = _http()
    async with http:
        for size in (0, 1, 70_000, 300_000):
            body = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
            got = await asyncio.wait_for(http.put(f"{server.url}/echo", content=body), 20)
            assert got.content == body


async def test_a_request_body_shorter_than_its_declared_length_is_refused(
    server: HostileServer,
) -> None:
    http, transport = _http()
    async with http:
        with pytest.raises(httpx.LocalProtocolError, match="Too little data"):
            await http.put(f"{server.url}/echo", content=b"abc", headers={"Content-Length": "10"})
        with pytest.raises(httpx.LocalProtocolError, match="Too much data"):
            await http.put(f"{server.url}/echo", content=b"abc", headers={"Content-Length": "2"})
        assert transport.pool.in_use == 0


async def test_a_body_of_unknown_length_goes_out_chunked() -> None:
    received: list[bytes] = []

    async def handler(conn: Conn) -> None:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head.lower()
        received.append(await conn.reader.readuntil(b"0\r\n\r\n"))
        await conn.write(_plain())

    async def parts() -> AsyncIterator[bytes]:
        yield b"hello"
        yield b""
        yield b" world"

    with HostileServer(handler) as srv:
        http, _ = _http()
        async with http:
            got = await asyncio.wait_for(http.put(f"{srv.url}/k", content=parts()), 20)
            assert got.content == OK
    assert received == [b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"]


# -- fallbacks to httpcore's connection ----------------------------------------------------------


async def test_a_traced_request_takes_httpcores_connection(server: HostileServer) -> None:
    seen: list[str] = []

    async def trace(name: str, info: dict[str, Any]) -> None:
        seen.append(name)

    http, transport = _http()
    async with http:
        got = await http.get(f"{server.url}/x", extensions={"trace": trace})
        assert got.content == OK
        assert "http11.send_request_headers.started" in seen
        [conn] = transport.pool.connections
        assert not isinstance(conn, H1Connection)
        # An untraced request takes r2async's own: the two kinds are pooled apart.
        await http.get(f"{server.url}/y")
        assert sum(isinstance(c, H1Connection) for c in transport.pool.connections) == 1


async def test_a_mocked_httpx_transport_method_is_respected(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What pytest-httpx does: PoolTransport's own path must not bypass such a mock.
    async def mocked(self: Any, request: httpx.Request) -> httpx.Response:
        return httpx.Response(299, content=b"mocked")

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", mocked)
    http, _ = _http()
    async with http:
        got = await http.get(f"{server.url}/x")
    assert (got.status_code, got.content) == (299, b"mocked")
    assert server.connections == 0


# -- reading into a caller's buffer --------------------------------------------------------------


@pytest.mark.parametrize("direct", [False, True])
async def test_readinto_fills_a_callers_buffers_exactly(
    server: HostileServer, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    # For body_reads' contract: small buffers, the bytes that came with the head spilling
    # over several of them, then (``direct``) the stream's own read_into, never asked for a
    # byte past the body; the connection is reusable after.
    asked: list[int] = []
    if direct:

        async def read_into(
            self: AsyncioStream, buffer: memoryview, timeout: Any = None, deadline: Any = None
        ) -> int:
            asked.append(len(buffer))
            data = await self.read(len(buffer), timeout)
            buffer[: len(data)] = data
            return len(data)

        monkeypatch.setattr(AsyncioStream, "read_into", read_into, raising=False)
    transport = PoolTransport()
    pool = transport.pool
    async with transport:
        assert pool.takes_own({})
        for _ in range(2):
            head, body, conn = await pool.exchange_own(
                b"http",
                b"127.0.0.1",
                server.port,
                b"GET",
                b"/big",
                [(b"Host", b"127.0.0.1")],
                httpx.ByteStream(b""),
                {"timeout": {"read": 10}},
            )
            stream = PooledStream(body, pool, conn, sync_close=True)
            buf = bytearray(len(BIG) + 100)
            view = memoryview(buf)
            got = 0
            while n := await asyncio.wait_for(body.readinto(view[got : got + 7777]), 20):
                got += n
            assert head.status == 200 and bytes(buf[:got]) == BIG
            assert await body.readinto(view) == 0
            await stream.aclose()
            assert conn.is_idle() and pool.in_use == 0
    assert server.connections == 1
    if direct:
        assert asked and sum(asked) <= len(BIG)

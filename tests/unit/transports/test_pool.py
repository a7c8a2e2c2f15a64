"""r2async's connection pool under the default (httpx) transport: src/r2async/_pool.py.

Behaviour only (reuse, limits, FIFO order, release on read, expiry, cancellation, leaks);
its speed is measured by benchmarks/run.py. The server is a threaded HTTP/1.1 one, so the
same tests run under asyncio and trio, and it tells which connection served each request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import httpcore
import httpx
import pytest
import respx
from tests.support.r2_answers import LAST_MODIFIED, object_headers

from r2async import APITimeoutError, R2Client
from r2async._transports.pool import ConnectionPool, PoolTransport

BODY = b"x" * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.accepts += 1

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.served.append((self.client_address[1], self.path))
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("ETag", '"etag"')
        self.send_header("Last-Modified", LAST_MODIFIED)
        if self.path.endswith("conn-close"):
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(BODY)
        if self.path.endswith("hang-up"):
            # Answered as keep-alive, then closed: the client holds a dead idle connection.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.accepts = 0
        self.served: list[tuple[int, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def ports(self) -> list[int]:
        with self.lock:
            return [port for port, _ in self.served]

    def paths(self) -> list[str]:
        with self.lock:
            return [path for _, path in self.served]


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def _client(
    max_connections: int = 4, max_keepalive: int | None = None, keepalive_expiry: float = 30
) -> tuple[httpx.AsyncClient, ConnectionPool]:
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive,
        keepalive_expiry=keepalive_expiry,
    )
    transport = PoolTransport(ssl_context=ssl.create_default_context(), limits=limits)
    pool = transport._pool
    assert isinstance(pool, ConnectionPool)
    return httpx.AsyncClient(transport=transport), pool


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(5000):
        if condition():
            return
        await anyio.sleep(0.001)
    raise AssertionError("condition not reached")


def _r2(server: _Server, **kwargs: Any) -> R2Client:
    return R2Client(
        endpoint_url=server.url, access_key_id="AKID", secret_access_key="SECRET", **kwargs
    )


# -- wiring --------------------------------------------------------------------------------------


async def test_the_default_transport_is_httpx_over_r2asyncs_pool(server: _Server) -> None:
    async with _r2(server) as r2:
        got = await r2.get_object("bkt", "k")
        transport = r2._shared.transport
        assert isinstance(transport, httpx.AsyncHTTPTransport)
        pool = transport._pool
        # httpx sends through the transport's ``_pool`` attribute, which PoolTransport replaces:
        # if this fails, httpx changed that private name and requests bypass r2async's pool.
        assert isinstance(pool, ConnectionPool), "httpx.AsyncHTTPTransport no longer has _pool"
        assert len(pool.connections) == 1, "the request did not go through r2async's pool"
        # The pool queues by itself: no gate in front of it.
        assert r2._shared.gate is None
    assert got.body == BODY
    assert pool.connections == []


async def test_a_user_http_client_keeps_its_own_pool_and_the_gate(server: _Server) -> None:
    limits = httpx.Limits(max_connections=3)
    async with httpx.AsyncClient(limits=limits) as http, _r2(server, http_client=http) as r2:
        await r2.get_object("bkt", "k")
        gate = r2._shared.gate
        assert gate is not None and gate.limit == 3
        assert not isinstance(http._transport._pool, ConnectionPool)  # type: ignore[attr-defined]
        assert len(http._transport._pool.connections) == 1  # type: ignore[attr-defined]


async def test_a_given_transport_is_used_as_given(server: _Server) -> None:
    transport = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=5))
    async with _r2(server, transport=transport) as r2:
        await r2.get_object("bkt", "k")
        assert r2._shared.transport is transport
        assert not isinstance(transport._pool, ConnectionPool)
        assert r2._shared.gate is not None and r2._shared.gate.limit == 5


# -- reuse and release ---------------------------------------------------------------------------


async def test_sequential_requests_reuse_one_connection_released_on_read(
    server: _Server,
) -> None:
    async with _r2(server) as r2:
        pool = r2._shared.client()._transport._pool  # type: ignore[attr-defined]
        for i in range(10):
            got = await r2.get_object("bkt", f"k{i}")
            assert got.body == BODY
            # get_object read the body and gave the connection back before returning.
            assert pool.in_use == 0 and len(pool.connections) == 1
    assert server.accepts == 1
    assert len(set(server.ports())) == 1


async def test_a_streamed_body_holds_its_connection_until_closed(server: _Server) -> None:
    async with _r2(server) as r2:
        pool = r2._shared.client()._transport._pool  # type: ignore[attr-defined]
        async with r2.stream_object("bkt", "k") as stream:
            assert pool.in_use == 1
            data = b"".join([chunk async for chunk in stream])
        assert data == BODY
        assert pool.in_use == 0 and len(pool.connections) == 1
        # An unread stream closed early: the connection is not reusable, its place is freed.
        async with r2.stream_object("bkt", "k"):
            assert pool.in_use == 1
        assert pool.in_use == 0
        await r2.get_object("bkt", "k")


async def test_the_most_recently_released_connection_is_reused_first(server: _Server) -> None:
    http, pool = _client(max_connections=2)
    async with http:
        first = await http.send(http.build_request("GET", f"{server.url}/a"), stream=True)
        second = await http.send(http.build_request("GET", f"{server.url}/b"), stream=True)
        await first.aread()
        await second.aread()  # released last
        await first.aclose()
        await second.aclose()
        assert len(pool.connections) == 2
        for path in ("/c", "/d"):
            (await http.get(f"{server.url}{path}")).raise_for_status()
    ports = dict((path, port) for port, path in server.served)
    assert ports["/a"] != ports["/b"]
    assert ports["/c"] == ports["/d"] == ports["/b"]


async def test_concurrent_requests_stay_within_the_limit(server: _Server) -> None:
    http, pool = _client(max_connections=3)
    peak = peak_waiting = 0

    async def get(i: int) -> bytes:
        nonlocal peak, peak_waiting
        response = await http.get(f"{server.url}/k{i}")
        peak = max(peak, len(pool.connections))
        peak_waiting = max(peak_waiting, pool.waiting)
        return response.content

    async with http:
        bodies = await asyncio.gather(*(get(i) for i in range(60)))
        assert bodies == [BODY] * 60
        assert peak <= 3 and len(pool.connections) <= 3 and pool.in_use == 0
        assert peak_waiting > 0 and pool.waiting == 0
    assert server.accepts <= 3
    assert pool.connections == []


async def test_queued_requests_are_served_in_arrival_order(server: _Server) -> None:
    http, pool = _client(max_connections=1)
    order: list[int] = []
    async with http:
        holder = await http.send(http.build_request("GET", f"{server.url}/hold"), stream=True)

        async def get(i: int) -> None:
            (await http.get(f"{server.url}/q{i}")).raise_for_status()
            order.append(i)

        tasks = []
        for i in range(6):
            tasks.append(asyncio.create_task(get(i)))
            await asyncio.sleep(0)  # each one queued before the next arrives
        await _until(lambda: pool.waiting == 6)
        await holder.aread()
        await holder.aclose()
        await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert server.paths() == ["/hold"] + [f"/q{i}" for i in range(6)]
    assert server.accepts == 1


async def test_surplus_idle_connections_are_closed(server: _Server) -> None:
    http, pool = _client(max_connections=3, max_keepalive=1)
    async with http:
        responses = [
            await http.send(http.build_request("GET", f"{server.url}/{i}"), stream=True)
            for i in range(3)
        ]
        assert len(pool.connections) == 3
        for response in responses:
            await response.aread()
            await response.aclose()
        assert len(pool.connections) == 1 and pool.in_use == 0


async def test_an_idle_connection_past_keepalive_is_closed(server: _Server) -> None:
    http, pool = _client(max_connections=2, keepalive_expiry=0.05)
    async with http:
        a = await http.send(http.build_request("GET", f"{server.url}/a"), stream=True)
        b = await http.send(http.build_request("GET", f"{server.url}/b"), stream=True)
        await a.aread()
        await a.aclose()
        await anyio.sleep(0.2)
        await b.aread()
        await b.aclose()  # released after a's connection expired: that one is closed
        assert len(pool.connections) == 1
        await anyio.sleep(0.2)
        # The remaining one has expired too: checked before reuse, replaced by a new one.
        (await http.get(f"{server.url}/c")).raise_for_status()
        assert len(pool.connections) == 1
    assert server.accepts == 3


# -- connections the server closes ---------------------------------------------------------------


async def test_a_connection_close_answer_is_not_reused(server: _Server) -> None:
    http, pool = _client(max_connections=1)
    async with http:
        (await http.get(f"{server.url}/conn-close")).raise_for_status()
        assert pool.connections == []
        (await http.get(f"{server.url}/after")).raise_for_status()
    assert server.accepts == 2


async def test_an_idle_connection_the_server_hung_up_is_not_reused(server: _Server) -> None:
    http, pool = _client(max_connections=1)
    async with http:
        (await http.get(f"{server.url}/hang-up")).raise_for_status()
        [conn] = pool.connections
        await _until(conn.has_expired)  # the server's FIN has arrived
        (await http.get(f"{server.url}/after")).raise_for_status()
        assert pool.connections != [conn] and len(pool.connections) == 1
    assert server.accepts == 2


async def test_failed_connects_give_their_place_back() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    http, pool = _client(max_connections=1)
    async with http:
        for _ in range(3):
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{port}/k", timeout=5)
        assert pool.connections == [] and pool.in_use == 0 and pool.waiting == 0


# -- timeouts and cancellation -------------------------------------------------------------------


async def test_a_pool_timeout_leaves_the_queue_working(server: _Server) -> None:
    limits = httpx.Limits(max_connections=1)
    transport = PoolTransport(ssl_context=ssl.create_default_context(), limits=limits)
    async with _r2(server, timeout=httpx.Timeout(30, pool=0.05), transport=transport) as r2:
        assert r2._shared.gate is None  # a PoolTransport queues by itself
        pool = r2._shared.client()._transport._pool  # type: ignore[attr-defined]
        async with r2.stream_object("bkt", "held"):
            with pytest.raises(APITimeoutError, match="pool timeout"):
                await r2.with_options(max_retries=0).get_object("bkt", "k")
            assert pool.waiting == 0
        assert (await r2.get_object("bkt", "k")).body == BODY


async def test_a_cancelled_waiter_passes_its_turn_on(server: _Server) -> None:
    http, pool = _client(max_connections=1)
    async with http:
        holder = await http.send(http.build_request("GET", f"{server.url}/hold"), stream=True)
        first = asyncio.create_task(http.get(f"{server.url}/first"))
        second = asyncio.create_task(http.get(f"{server.url}/second"))
        await _until(lambda: pool.waiting == 2)
        await holder.aread()
        await holder.aclose()  # hands the connection to `first`...
        first.cancel()  # ...which is cancelled before it runs: it goes on to `second`
        with pytest.raises(asyncio.CancelledError):
            await first
        assert (await second).content == BODY
        assert pool.in_use == 0 and pool.waiting == 0 and len(pool.connections) == 1

        # Cancelled while still queued: it just leaves the queue.
        holder = await http.send(http.build_request("GET", f"{server.url}/hold"), stream=True)
        queued = asyncio.create_task(http.get(f"{server.url}/never"))
        await _until(lambda: pool.waiting == 1)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert pool.waiting == 0
        await holder.aclose()
        (await http.get(f"{server.url}/last")).raise_for_status()
    assert "/never" not in server.paths() and "/first" not in server.paths()


# -- respx and trio ------------------------------------------------------------------------------


async def test_respx_mocks_the_default_transport_and_no_place_leaks() -> None:
    async with R2Client(
        endpoint_url="http://r2.test", access_key_id="AKID", secret_access_key="SECRET"
    ) as r2:
        pool = r2._shared.client()._transport._pool  # type: ignore[attr-defined]
        with respx.mock(base_url="http://r2.test") as mock:
            route = mock.get("/bkt/k").respond(
                200, headers=object_headers(b"mocked"), content=b"mocked"
            )
            # More calls than the pool has places: a place kept by a mocked call would hang.
            for _ in range(70):
                got = await r2.with_options(timeout=httpx.Timeout(10, pool=1)).get_object(
                    "bkt", "k"
                )
                assert got.body == b"mocked"
        assert route.call_count == 70
        assert pool.connections == [] and pool.in_use == 0


def test_under_trio_requests_queue_and_reuse_connections(server: _Server) -> None:
    async def main() -> list[bytes]:
        limits = httpx.Limits(max_connections=2)
        transport = PoolTransport(ssl_context=ssl.create_default_context(), limits=limits)
        r2 = _r2(server, transport=transport)
        bodies: list[bytes] = []
        async with r2:

            async def get(i: int) -> None:
                bodies.append((await r2.get_object("bkt", f"t{i}")).body)

            async with anyio.create_task_group() as tg:
                for i in range(20):
                    tg.start_soon(get, i)
            pool = transport._pool
            assert isinstance(pool, ConnectionPool)
            assert pool.in_use == 0 and pool.waiting == 0
        return bodies

    assert anyio.run(main, backend="trio") == [BODY] * 20
    assert server.accepts <= 2


def test_unsupported_schemes_are_refused() -> None:
    async def main() -> None:
        pool = ConnectionPool(ssl_context=None, limits=httpx.Limits())
        request = httpcore.Request("GET", "ftp://example.com/")
        with pytest.raises(httpcore.UnsupportedProtocol):
            await pool.handle_async_request(request)

    anyio.run(main)


async def test_the_books_balance_after_a_mixed_load(server: _Server) -> None:
    # Reuse, Connection: close, server hang-ups, early closes and cancellations, all at once
    # through 3 connections: afterwards every place is accounted for and the pool still works.
    import random

    rng = random.Random(8)
    http, pool = _client(max_connections=3, max_keepalive=2)

    async def one(i: int) -> None:
        kind = rng.choice(["get", "get", "conn-close", "hang-up", "early-close", "cancel"])
        request = http.build_request("GET", f"{server.url}/{i}/{kind}")
        try:
            if kind == "early-close":
                await (await http.send(request, stream=True)).aclose()
            elif kind == "cancel":
                task = asyncio.create_task(http.send(request))
                await asyncio.sleep(rng.choice([0, 0, 0.001]))
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            else:
                assert (await http.send(request)).content == BODY
        except (httpx.RemoteProtocolError, httpx.ReadError):
            pass  # reused a connection as the server hung up on it (r2async retries these)

    async with http:
        await asyncio.gather(*(one(i) for i in range(150)))
        assert pool.in_use == 0 and pool.waiting == 0
        assert pool._total == len(pool.connections) <= 2
        assert (await http.get(f"{server.url}/end")).content == BODY
    assert pool.connections == []


# -- the public PoolTransport --------------------------------------------------------------------


def test_pool_transport_defaults_are_r2clients() -> None:
    import r2async
    from r2async._transports.tls import shared_ssl_context as _shared_ssl_context

    transport = r2async.PoolTransport()
    assert isinstance(transport.pool, ConnectionPool)
    assert transport._pool is transport.pool
    assert transport.pool._max_connections == 64 and transport.pool._max_keepalive == 32
    assert transport.pool._keepalive_expiry == 30
    # The process-wide verifying context, not a new one per transport (50-90 ms each).
    assert transport.pool._ssl_context is _shared_ssl_context()
    assert transport.pool._ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert repr(transport) == "PoolTransport(in_use=0, waiting=0)"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limits": 10}, "limits must be an httpx.Limits"),
        ({"limits": {"max_connections": 10}}, "limits must be an httpx.Limits"),
        ({"ssl_context": True}, "ssl_context must be an ssl.SSLContext"),
        ({"ssl_context": "/etc/ssl/cert.pem"}, "ssl_context must be an ssl.SSLContext"),
    ],
)
def test_pool_transport_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    from r2async import PoolTransport as Public

    with pytest.raises(TypeError, match=message):
        Public(**kwargs)


async def test_a_user_client_on_pool_transport_needs_no_gate(server: _Server) -> None:
    transport = PoolTransport(limits=httpx.Limits(max_connections=2))
    async with httpx.AsyncClient(transport=transport) as http, _r2(server, http_client=http) as r2:
        # r2async's pool queues by itself: no gate, and 8 requests share its 2 connections.
        assert r2._shared.gate is None
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for _ in range(8):
                    tg.start_soon(r2.get_object, "bkt", "k")
        assert len(set(server.ports())) == 2
        assert transport.pool.in_use == 0 and transport.pool.waiting == 0

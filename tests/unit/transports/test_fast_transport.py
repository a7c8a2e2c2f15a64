"""The opt-in aiohttp transport: same wire, same results, same typed errors as the default.

These run against small loopback servers written here, so that each behaviour (the exact
request bytes, a reset mid-body, a server that never answers, a fast sender) can be staged.
The core operations against SeaweedFS are in test_fast_transport_integration.py.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import socket
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import anyio
import httpx
import pytest
from tests.support.r2_answers import LAST_MODIFIED, etag_of

from r2async import (
    AiohttpTransport,
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    NoSuchKeyError,
    R2Client,
)
from r2async._body import StreamLengthError
from r2async._retry import is_retryable_transport
from r2async._transports.aiohttp_transport import _mapped, _ResponseStream

MiB = 1024 * 1024
TRANSPORTS = ["httpx", "aiohttp"]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class LoopbackServer:
    """A one-handler HTTP server on 127.0.0.1 that records each request head it reads."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            await self.handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.tasks.discard(task)
            writer.close()

    async def __aenter__(self) -> LoopbackServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def read_request(self, reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
        """Read one request: its head (recorded) and its Content-Length body."""
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length) if length else b""
        return head, body


# The rest of what R2 sends with every object (raw header lines).
OBJECT_HEAD = f'ETag: "e"\r\nLast-Modified: {LAST_MODIFIED}\r\n'


def respond(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}"]
    merged = dict(headers or {})
    if 200 <= status < 300:
        # What R2 sends with every object (r2async refuses an object answer without it).
        merged = {"ETag": etag_of(body), "Last-Modified": LAST_MODIFIED, **merged}
    lines += [f"{k}: {v}" for k, v in merged.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def client(url: str, transport: str, **kwargs: object) -> R2Client:
    return R2Client(
        endpoint_url=url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=transport,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def ok_server(body: bytes = b"hello") -> LoopbackServer:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(100):  # keep-alive: a bounded number of requests per connection
            await server.read_request(reader)
            writer.write(respond(200, body, {"ETag": '"e"', "Last-Modified": LAST_MODIFIED}))
            await writer.drain()

    server = LoopbackServer(handler)
    return server


# -- the wire ------------------------------------------------------------------------------------

TRICKY_KEYS = ["plain.txt", "a/../b", "./x/.", "100%", "%41", "sp ace+plus~", "ü/日本", "a//b/"]


@pytest.mark.parametrize("key", TRICKY_KEYS)
async def test_requests_go_out_byte_for_byte_as_on_the_default_transport(key: str) -> None:
    heads: dict[str, list[bytes]] = {}
    async with ok_server() as server:
        for transport in TRANSPORTS:
            async with client(server.url, transport) as r2:
                await r2.put_object(
                    "bkt", key, b"data", content_type="text/plain", metadata={"a": "1"}
                )
                await r2.get_object("bkt", key, range=(0, 3))
            heads[transport] = server.heads[-2:]

    def normalised(head: bytes) -> list[bytes]:
        # The signing time (and so the signature) may differ by a second between the runs.
        return [
            line
            for line in head.split(b"\r\n")
            if not line.lower().startswith((b"x-amz-date:", b"authorization:"))
        ]

    assert [normalised(h) for h in heads["aiohttp"]] == [normalised(h) for h in heads["httpx"]]
    request_line = heads["aiohttp"][0].split(b"\r\n")[0]
    assert b"/../" in request_line or key != "a/../b"


async def test_aiohttp_adds_no_headers_of_its_own() -> None:
    async with ok_server() as server, httpx.AsyncClient(transport=AiohttpTransport()) as http:
        await http.send(httpx.Request("PUT", server.url + "/b/k", content=b"x"))
        await http.send(httpx.Request("GET", server.url + "/b/k"))
    for head in server.heads:
        names = {line.split(b":")[0].lower() for line in head.split(b"\r\n")[1:] if line}
        assert names <= {b"host", b"content-length"}, names


async def test_response_bodies_are_passed_through_undecoded() -> None:
    stored = gzip.compress(b"the stored bytes")
    async with ok_server(stored) as server:
        for transport in TRANSPORTS:
            async with client(server.url, transport) as r2:
                result = await r2.get_object("bkt", "k.gz")
                async with r2.stream_object("bkt", "k.gz") as stream:
                    streamed = await stream.read()
            assert result.body == stored
            assert streamed == stored

        # Through httpx, aiter_bytes still decodes a declared Content-Encoding.
        async def gzip_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.read_request(reader)
            writer.write(respond(200, stored, {"Content-Encoding": "gzip"}))
            await writer.drain()

        server.handler = gzip_handler
        async with httpx.AsyncClient(transport=AiohttpTransport()) as http:
            response = await http.get(server.url + "/b/k")
        assert response.content == b"the stored bytes"


async def test_bodiless_answers_one_after_another() -> None:
    # aiohttp shares one empty body reader among HEAD, 204 and 304 answers: once read it
    # keeps saying "end of a chunk", which must still end the body (it once spun forever).
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(20):
            head, _ = await server.read_request(reader)
            if head.startswith(b"HEAD"):
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n{OBJECT_HEAD}\r\n".encode())
            else:
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    server = LoopbackServer(handler)
    async with server, client(server.url, "aiohttp", max_retries=0) as r2:
        for _ in range(3):
            head = await asyncio.wait_for(r2.head_object("bkt", "k"), 10)
            assert head.content_length == 5
            await asyncio.wait_for(r2.delete_object("bkt", "k"), 10)
    assert len(server.heads) == 6


async def test_a_spent_empty_reader_ends_the_body() -> None:
    class SpentEmptyReader:
        calls = 0

        async def readchunk(self) -> tuple[bytes, bool]:
            self.calls += 1
            if self.calls > 100:
                raise AssertionError("the body never ended")
            return b"", True

        def at_eof(self) -> bool:
            return True

    class Response:
        content = SpentEmptyReader()

    stream = _ResponseStream(Response())  # type: ignore[arg-type]
    assert [chunk async for chunk in stream] == []
    assert Response.content.calls == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_large_in_memory_bodies_arrive_whole(transport: str) -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(5):
            _, body = await server.read_request(reader)
            received.append(body)
            writer.write(respond(200, b"", {"ETag": '"e"', "Last-Modified": LAST_MODIFIED}))
            await writer.drain()

    data = bytes(range(256)) * (12 * 1024 + 3)  # 3 MiB and a bit: sent in slices
    server = LoopbackServer(handler)
    async with server, client(server.url, transport, max_retries=0) as r2:
        await r2.put_object("bkt", "big", data)
        await r2.put_object("bkt", "small", b"tiny")
    assert received == [data, b"tiny"]
    # Signed with the SHA-256 of the whole body, though it went out in slices.
    digest = hashlib.sha256(data).hexdigest().encode()
    assert b"x-amz-content-sha256: " + digest in server.heads[0]


# -- streaming -----------------------------------------------------------------------------------


async def test_streaming_a_large_body_holds_bounded_memory() -> None:
    size = 48 * MiB
    piece = bytes(MiB)

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n{OBJECT_HEAD}\r\n".encode())
        for _ in range(size // MiB):  # as fast as the socket takes it
            writer.write(piece)
            await writer.drain()

    server = LoopbackServer(handler)
    async with server, client(server.url, "aiohttp") as r2:
        tracemalloc.start()
        try:
            received = 0
            async with r2.stream_object("bkt", "big", chunk_size=256 * 1024) as stream:
                async for chunk in stream:
                    received += len(chunk)
                    await asyncio.sleep(0.001)  # a slow consumer: the sender must wait
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert received == size
    # About read_bufsize x 2 buffered, plus the chunk being handed over: far below the body.
    assert peak < 12 * MiB, f"peak traced memory {peak / MiB:.1f} MiB"


async def test_read_bufsize_is_validated() -> None:
    with pytest.raises(ValueError, match="read_bufsize"):
        AiohttpTransport(read_bufsize=10)
    with pytest.raises(TypeError, match="limits"):
        AiohttpTransport(limits={"max_connections": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="verify"):
        AiohttpTransport(verify="yes")  # type: ignore[arg-type]


# -- errors --------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_connection_refused_is_api_connection_error(transport: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    async with client(url, transport, max_retries=0) as r2:
        with pytest.raises(APIConnectionError) as info:
            await r2.get_object("bkt", "k")
    assert isinstance(info.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_server_that_never_answers_is_a_timeout(transport: str) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        await asyncio.sleep(5)

    server = LoopbackServer(handler)
    async with server, client(server.url, transport, max_retries=0, timeout=0.3) as r2:
        with pytest.raises(APITimeoutError) as info:
            await r2.get_object("bkt", "k")
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_body_cut_short_is_a_connection_error(transport: str) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(10):
            await server.read_request(reader)
            head = f"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n{OBJECT_HEAD}\r\n"
            writer.write(head.encode() + b"x" * 10)
            await writer.drain()
            writer.close()
            return

    server = LoopbackServer(handler)
    async with server, client(server.url, transport, max_retries=0) as r2:
        with pytest.raises(APIConnectionError):
            await r2.get_object("bkt", "k")
        with pytest.raises(APIConnectionError, match="connection failed after"):
            async with r2.stream_object("bkt", "k") as stream:
                await stream.read()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_error_responses_are_typed_and_retried(transport: str) -> None:
    answers = [
        respond(500, b"<Error><Code>InternalError</Code><Message>m</Message></Error>"),
        respond(404, b"<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>"),
        respond(500, b"<Error><Code>InternalError</Code><Message>m</Message></Error>"),
    ]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(10):
            await server.read_request(reader)
            writer.write(answers.pop(0) if answers else respond(200, b"ok"))
            await writer.drain()

    server = LoopbackServer(handler)
    async with server, client(server.url, transport, max_retries=1) as r2:
        with pytest.raises(NoSuchKeyError):  # 500 (retried), then the 404
            await r2.get_object("bkt", "k")
        assert len(server.heads) == 2
        with pytest.raises(InternalServerError):
            await r2.with_options(max_retries=0).get_object("bkt", "k")
        assert (await r2.get_object("bkt", "k")).body == b"ok"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_lying_body_stream_raises_its_own_error(transport: str) -> None:
    async def short() -> AsyncIterator[bytes]:
        yield b"only this"

    async with ok_server() as server, client(server.url, transport, max_retries=0) as r2:
        with pytest.raises(StreamLengthError, match="content_length=100"):
            await r2.put_object("bkt", "k", short(), content_length=100)


def test_aiohttp_failures_map_to_the_httpx_exceptions_retries_understand() -> None:
    key = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None)
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cases: list[tuple[Exception, type[Exception]]] = [
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (asyncio.TimeoutError(), httpx.ReadTimeout),
        (
            aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused")),
            httpx.ConnectError,
        ),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx.ReadError),
        (aiohttp.ClientOSError(104, "reset"), httpx.ReadError),
        (
            aiohttp.ClientResponseError(None, (), message="bad status line"),
            httpx.RemoteProtocolError,
        ),  # type: ignore[arg-type]
    ]
    for exc, expected in cases:
        mapped = _mapped(exc)
        assert type(mapped) is expected, (exc, mapped)
    assert _mapped(ValueError("a bug")) is None
    # A failed certificate check stays recognisable through the chain: never retried.
    failure = aiohttp.ClientConnectorCertificateError(key, cert)
    mapped = _mapped(failure)
    assert isinstance(mapped, httpx.ConnectError)
    mapped.__cause__ = failure
    failure.__cause__ = cert
    assert not is_retryable_transport(mapped, idempotent=True)
    assert is_retryable_transport(httpx.ConnectError("refused"), idempotent=False)


# -- event loops and lifecycle -------------------------------------------------------------------


def test_trio_gets_a_clear_error() -> None:
    async def main() -> None:
        async with client("http://127.0.0.1:9", "aiohttp", max_retries=0) as r2:
            await r2.get_object("bkt", "k")

    with pytest.raises(RuntimeError, match="asyncio only"):
        anyio.run(main, backend="trio")


def test_one_transport_per_event_loop() -> None:
    transport = AiohttpTransport()
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()

    async def use() -> None:
        async with ok_server() as server:
            response = await transport.handle_async_request(
                httpx.Request("GET", server.url + "/b/k")
            )
            await response.aread()
            await response.aclose()

    try:
        first.run_until_complete(use())
        with pytest.raises(RuntimeError, match="another event loop"):
            second.run_until_complete(use())
        first.run_until_complete(transport.aclose())
    finally:
        first.close()
        second.close()


# -- choosing the transport ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"transport": "curl"}, ValueError, "'httpx', 'aiohttp'"),
        ({"transport": 3}, TypeError, "AsyncBaseTransport"),
        ({"transport": "aiohttp", "http_client": "client"}, ValueError, "not both"),
    ],
)
async def test_bad_transport_choices_fail_at_construction(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    if kwargs.get("http_client") == "client":
        kwargs["http_client"] = httpx.AsyncClient()
    try:
        with pytest.raises(error, match=match):
            R2Client(
                endpoint_url="http://127.0.0.1:9",
                access_key_id="AKID",
                secret_access_key="SECRET",
                **kwargs,  # type: ignore[arg-type]
            )
    finally:
        if isinstance(kwargs.get("http_client"), httpx.AsyncClient):
            await kwargs["http_client"].aclose()  # type: ignore[union-attr]


async def test_a_transport_instance_is_used_and_closed_by_the_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"ETag": '"e"', "Last-Modified": LAST_MODIFIED})

    closed: list[bool] = []

    class Recording(httpx.MockTransport):
        async def aclose(self) -> None:
            closed.append(True)

    r2 = client("http://127.0.0.1:9", Recording(handler))  # type: ignore[arg-type]
    result = await r2.put_object("bkt", "k", b"x")
    assert result.etag == '"e"'
    assert seen[0].url.path == "/bkt/k" and "authorization" in seen[0].headers
    await r2.aclose()
    assert closed == [True]


async def test_an_unused_transport_instance_is_still_closed() -> None:
    transport = AiohttpTransport()
    r2 = client("http://127.0.0.1:9", transport)  # type: ignore[arg-type]
    await r2.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await transport.handle_async_request(httpx.Request("GET", "http://127.0.0.1:9/"))


async def test_closed_transport_refuses_requests() -> None:
    async with ok_server() as server:
        transport = AiohttpTransport()
        response = await transport.handle_async_request(httpx.Request("GET", server.url + "/b/k"))
        assert await response.aread() == b"hello"
        await transport.aclose()
        await transport.aclose()  # idempotent
        with pytest.raises(RuntimeError, match="closed"):
            await transport.handle_async_request(httpx.Request("GET", server.url + "/b/k"))

"""Bytes a server sends past the end of a complete response never become the next answer.

Issue 13, item 10: on the default transport, extra bytes after a complete response were kept
by h11 and returned as the next ``get_object``'s body (a response framing desync). A
connection with unexpected bytes after a complete response is closed, never reused, on both
transports, and under trio too.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import pytest
from tests.support.hostile import Conn, HostileServer, response

from r2async import R2Client

TRANSPORTS = ["httpx", "aiohttp"]
EVIL = response(b"EVIL!")

GARBAGE = {
    "a-whole-fake-response": EVIL,
    "two-fake-responses": EVIL + EVIL,
    "junk-bytes": b"\x00\x01junk that is not HTTP\r\n\r\n",
    "a-partial-response": b"HTTP/1.1 200 OK\r\nContent-Len",
    "partial-headers": b"HTTP/1.1 200 OK\r\nx-amz-meta-injected: 1\r\nx-amz-meta-b: ",
}


def _body(target: str) -> bytes:
    return f"body of {target}".encode()


class _Desync:
    """The first response on the first connection carries ``extra`` after its end."""

    def __init__(self, extra: bytes, *, late: bool = False, head_body: bool = False) -> None:
        self.extra = extra
        self.late = late  # send the extra bytes in a second write, after a pause
        self.head_body = head_body  # answer a HEAD with a body (h11 expects none)
        self.sent = threading.Event()

    async def __call__(self, conn: Conn) -> None:
        for _ in range(100):
            request = await conn.request()
            if request is None:
                return
            first = conn.index == 0 and conn.requests == 1
            if request.method == "HEAD":
                head = response(length=5)
                if first and self.head_body:
                    head += b"12345" + self.extra
                await conn.write(head)
            else:
                data = response(_body(request.target))
                if first and not self.late:
                    data += self.extra
                await conn.write(data)
                if first and self.late:
                    await asyncio.sleep(0.05)
                    await conn.write(self.extra)
            if first:
                self.sent.set()


def _client(url: str, transport: str) -> R2Client:
    return R2Client(
        endpoint_url=url,
        access_key_id="AKID",
        secret_access_key="SECRET",
        transport=transport,  # type: ignore[arg-type]
        timeout=10,
    )


async def _wait(event: threading.Event) -> None:
    for _ in range(2000):
        if event.is_set():
            return
        await anyio.sleep(0.005)
    raise AssertionError("the server never sent the extra bytes")


async def _scenario(url: str, transport: str, desync: _Desync, *, head_first: bool) -> None:
    async with _client(url, transport) as r2:
        if head_first:
            head = await r2.head_object("bucket", "k0")
            assert head.content_length == 5
        else:
            first = await r2.get_object("bucket", "k1")
            assert first.body == _body("/bucket/k1")
        await _wait(desync.sent)
        # Give bytes sent late the time to reach the client's socket.
        await anyio.sleep(0.1)
        for n in range(2, 6):
            got = await r2.get_object("bucket", f"k{n}")
            assert got.body == _body(f"/bucket/k{n}")
            assert got.metadata == {}


@pytest.fixture
def desync(request: pytest.FixtureRequest) -> Any:
    handler = _Desync(GARBAGE[request.param])
    with HostileServer(handler) as server:
        yield server, handler


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("desync", list(GARBAGE), indirect=True)
async def test_extra_bytes_after_a_response_never_become_the_next_answer(
    desync: tuple[HostileServer, _Desync], transport: str
) -> None:
    server, handler = desync
    await _scenario(server.url, transport, handler, head_first=False)
    if transport == "httpx" or handler.extra.startswith(EVIL):
        # The poisoned connection was dropped: the later requests went over a new one.
        # (aiohttp sets up a new parser per request, which drops an unfinished partial
        # message, so that connection may be reused safely.)
        assert server.connections >= 2


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("extra", ["a-whole-fake-response", "junk-bytes", "partial-headers"])
async def test_extra_bytes_arriving_while_idle_are_not_read_as_the_next_answer(
    transport: str, extra: str
) -> None:
    handler = _Desync(GARBAGE[extra], late=True)
    with HostileServer(handler) as server:
        await _scenario(server.url, transport, handler, head_first=False)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_body_sent_with_a_head_answer_is_not_the_next_answer(transport: str) -> None:
    handler = _Desync(EVIL, head_body=True)
    with HostileServer(handler) as server:
        await _scenario(server.url, transport, handler, head_first=True)


@pytest.mark.parametrize("extra", ["a-whole-fake-response", "junk-bytes"])
def test_extra_bytes_are_not_the_next_answer_under_trio(extra: str) -> None:
    handler = _Desync(GARBAGE[extra])
    with HostileServer(handler) as server:

        async def main() -> None:
            await _scenario(server.url, "httpx", handler, head_first=False)

        anyio.run(main, backend="trio")


async def test_the_aiohttp_transport_installs_the_guarded_protocol() -> None:
    # Installed through a private name (the connector's _factory): an aiohttp that renames it
    # must fail here, not run unguarded.
    from r2async._transports.aiohttp_transport import AiohttpTransport

    transport = AiohttpTransport()
    try:
        session: Any = transport._open()
        assert session.connector._factory.func.__name__ == "GuardedResponseHandler"
    finally:
        await transport.aclose()

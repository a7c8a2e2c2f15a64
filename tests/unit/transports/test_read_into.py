"""``AsyncioStream.read_into``: a connection's bytes received (over TLS: decrypted) in place.

See ``r2async._transports.asyncio_stream``: the reader's buffer is filled whole (queued
bytes first, then the rest straight from the transport), never written past its end nor
after the call returned, and the read timeout counts from the last byte received while the
call's deadline is absolute. A timeout after some bytes hands them out and raises next; a
read cancelled after it placed bytes leaves the stream unusable (and not reusable). Over
plain TCP and over TLS, on real loopback sockets.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpcore
import pytest

from r2async._testing.tls import write_test_ca
from r2async._transports.asyncio_stream import AsyncioBackend, AsyncioStream

Script = Callable[[asyncio.StreamWriter], Awaitable[None]]
DATA = bytes(range(256)) * 4096  # 1 MiB


class Peer:
    """A loopback server that runs ``script`` on the one connection it accepts."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        self.tls = tls
        self.script: Script | None = None
        self.server: asyncio.Server | None = None
        self.task: asyncio.Task[None] | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self.script is not None
        self.task = asyncio.current_task()  # type: ignore[assignment]
        try:
            await self.script(writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def connect(self, script: Script, client_tls: ssl.SSLContext | None) -> AsyncioStream:
        self.script = script
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        port = self.server.sockets[0].getsockname()[1]
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=10)
        if client_tls is not None:
            stream = await stream.start_tls(client_tls, "127.0.0.1", timeout=10)
        assert isinstance(stream, AsyncioStream)
        return stream

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.server is not None:
            self.server.close()


@pytest.fixture(params=["tcp", "tls"])
async def peer(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Peer, ssl.SSLContext | None]]:
    client_tls = None
    server_tls = None
    if request.param == "tls":
        files = write_test_ca(tmp_path)
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(files.cert_file, files.key_file)
        client_tls = ssl.create_default_context(cafile=str(files.ca_file))
    p = Peer(server_tls)
    try:
        yield p, client_tls
    finally:
        await p.close()


def _queuing(stream: AsyncioStream) -> bool:
    """Whether the queuing protocol (not the one placing bytes in a reader's buffer) is in place."""
    return stream._transport.get_protocol() is stream._protocol


async def _open(peer: tuple[Peer, ssl.SSLContext | None], script: Script) -> AsyncioStream:
    return await peer[0].connect(script, peer[1])


async def test_the_buffer_is_filled_whole_with_the_bytes_in_order(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        # In pieces, some before the read starts, the rest while it waits.
        w.write(DATA[:1000])
        await w.drain()
        await asyncio.sleep(0.05)
        for i in range(1000, len(DATA), 70_000):
            w.write(DATA[i : i + 70_000])
            await w.drain()
            await asyncio.sleep(0.001)
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    await asyncio.sleep(0.02)  # the first piece is queued by now
    buffer = bytearray(len(DATA))
    n = await stream.read_into(memoryview(buffer), timeout=10)
    assert n == len(DATA)
    assert buffer == DATA
    # Nothing was held back or queued behind the reader's back, and the queuing protocol is
    # the transport's again.
    assert stream._protocol.queued == 0
    assert _queuing(stream)
    await stream.aclose()


async def test_bytes_past_the_buffer_are_never_written_into_it(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        w.write(DATA)
        await w.drain()
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    buffer = bytearray(b"\xee" * 1000)
    n = await stream.read_into(memoryview(buffer)[:600], timeout=10)
    assert n == 600
    assert buffer[:600] == DATA[:600]
    assert buffer[600:] == b"\xee" * 400
    # The rest comes out of the next reads, in order.
    rest = bytearray()
    while len(rest) < len(DATA) - 600:
        rest += await stream.read(1 << 20, timeout=10)
    assert rest == DATA[600:]
    await stream.aclose()


async def test_the_end_of_the_connection_gives_what_arrived_then_zero(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        w.write(DATA[:5000])
        await w.drain()
        await asyncio.sleep(0.1)
        if w.can_write_eof():
            w.write_eof()

    stream = await _open(peer, script)
    buffer = bytearray(len(DATA))
    assert await stream.read_into(memoryview(buffer), timeout=10) == 5000
    assert buffer[:5000] == DATA[:5000]
    assert await stream.read_into(memoryview(buffer), timeout=10) == 0
    await stream.aclose()


async def test_the_read_timeout_counts_from_the_last_byte_received(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        # 12 pieces 0.05 s apart: 0.6 s in all, never 0.3 s without a byte.
        for i in range(12):
            w.write(DATA[i * 100 : (i + 1) * 100])
            await w.drain()
            await asyncio.sleep(0.05)
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    buffer = bytearray(1200)
    started = time.monotonic()
    assert await stream.read_into(memoryview(buffer), timeout=0.3) == 1200
    assert time.monotonic() - started > 0.3
    assert buffer == DATA[:1200]
    # Then silence: the timeout fires, with nothing placed.
    with pytest.raises(httpcore.ReadTimeout, match="timed out reading"):
        await stream.read_into(memoryview(buffer), timeout=0.2)
    await stream.aclose()


async def test_a_timeout_after_some_bytes_hands_them_out_then_raises(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        w.write(DATA[:300])
        await w.drain()
        await asyncio.sleep(0.6)
        w.write(DATA[300:600])  # too late: after the timeout
        await w.drain()
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    buffer = bytearray(b"\xee" * 1000)
    assert await stream.read_into(memoryview(buffer), timeout=0.2) == 300
    await asyncio.sleep(0.8)
    # Never written to after the call returned: the late bytes went to the queue.
    assert buffer[300:] == b"\xee" * 700
    assert _queuing(stream)
    assert stream._protocol.queued == 300
    with pytest.raises(httpcore.ReadTimeout):
        await stream.read_into(memoryview(buffer), timeout=5)
    with pytest.raises(httpcore.ReadTimeout):
        await stream.read(100, timeout=5)
    await stream.aclose()


async def test_the_deadline_is_absolute_however_the_bytes_trickle(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        for i in range(200):
            w.write(DATA[i : i + 1])
            await w.drain()
            await asyncio.sleep(0.02)

    stream = await _open(peer, script)
    buffer = bytearray(1000)
    started = time.monotonic()
    n = await stream.read_into(memoryview(buffer), timeout=5, deadline=started + 0.3)
    assert 0 < n < 1000
    assert time.monotonic() - started < 2
    assert buffer[:n] == DATA[:n]
    with pytest.raises(httpcore.ReadTimeout, match="deadline"):
        await stream.read_into(memoryview(buffer), timeout=5)
    await stream.aclose()


async def test_a_deadline_already_passed_with_nothing_received_raises(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    with pytest.raises(httpcore.ReadTimeout, match="deadline"):
        await stream.read_into(memoryview(bytearray(10)), timeout=5, deadline=time.monotonic())
    await stream.aclose()


async def test_a_read_cancelled_after_placing_bytes_leaves_the_stream_unusable(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        w.write(DATA[:100])
        await w.drain()
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    buffer = bytearray(1000)
    task = asyncio.ensure_future(stream.read_into(memoryview(buffer), timeout=10))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _queuing(stream)
    # Those 100 bytes are lost to the message: no later read may pretend otherwise, and the
    # pool sees the connection as unusable.
    assert stream.get_extra_info("is_readable") is True
    with pytest.raises(httpcore.ReadError, match="abandoned"):
        await stream.read_into(memoryview(buffer), timeout=1)
    with pytest.raises(httpcore.ReadError, match="abandoned"):
        await stream.read(10, timeout=1)
    await stream.aclose()


async def test_a_read_cancelled_before_any_byte_leaves_the_stream_as_it_was(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    go = asyncio.Event()

    async def script(w: asyncio.StreamWriter) -> None:
        await go.wait()
        w.write(DATA[:100])
        await w.drain()
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    task = asyncio.ensure_future(stream.read_into(memoryview(bytearray(100)), timeout=10))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    go.set()
    buffer = bytearray(100)
    assert await stream.read_into(memoryview(buffer), timeout=10) == 100
    assert buffer == DATA[:100]
    await stream.aclose()


async def test_a_reset_after_some_bytes_gives_them_then_raises(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        w.write(DATA[:2000])
        await w.drain()
        await asyncio.sleep(0.1)
        w.transport.abort()

    stream = await _open(peer, script)
    buffer = bytearray(10_000)
    n = await stream.read_into(memoryview(buffer), timeout=10)
    assert n == 2000
    assert buffer[:2000] == DATA[:2000]
    # The end of the connection: a reset raises, an orderly close (TLS without close_notify
    # counts as one) returns 0.
    try:
        again = await stream.read_into(memoryview(buffer), timeout=10)
    except httpcore.ReadError:
        pass
    else:
        assert again == 0
    await stream.aclose()


async def test_two_readers_at_once_are_refused(peer: tuple[Peer, ssl.SSLContext | None]) -> None:
    async def script(w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    first = asyncio.ensure_future(stream.read_into(memoryview(bytearray(10)), timeout=10))
    await asyncio.sleep(0.05)
    with pytest.raises(httpcore.ReadError, match="already waiting"):
        await stream.read_into(memoryview(bytearray(10)), timeout=10)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    await stream.aclose()


async def test_without_a_reader_bytes_are_queued_within_bounds(
    peer: tuple[Peer, ssl.SSLContext | None],
) -> None:
    # Without a reader, bytes are queued (paused above the high-water mark), as before.
    async def script(w: asyncio.StreamWriter) -> None:
        w.write(DATA * 8)
        await w.drain()
        await asyncio.sleep(10)

    stream = await _open(peer, script)
    await asyncio.sleep(0.3)
    p = stream._protocol
    assert p.paused
    assert p.queued <= 2 * 1024 * 1024 + 256 * 1024
    got = bytearray()
    while len(got) < len(DATA) * 8:
        chunk = bytearray(300_000)
        n = await stream.read_into(memoryview(chunk), timeout=10)
        got += chunk[:n]
    assert got == DATA * 8
    await stream.aclose()

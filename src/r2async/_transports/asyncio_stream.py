"""The default transport's sockets under asyncio: asyncio's own streams, not anyio's.

Why: httpcore reads every connection through anyio, which costs per read a cancel scope
(``fail_after``: a timer armed and cancelled), an async-library lookup and a context
manager, and, over TLS, gives back one TLS record (at most 16 KiB) per read. Profiled over
HTTPS on a 256 MiB body (benchmarks/bench_large_bodies.py), that read path was more than
half the client's CPU: 4.9 CPU-s per GiB, where aiohttp on asyncio's own TLS needs 1.9.

Here a connection is an ``asyncio.Protocol``: asyncio's transport reads the socket (256 KiB
per read) and, over TLS, decrypts everything available in one go, and the protocol queues
the chunks as they come. ``read`` hands a queued chunk over untouched (split only to honour
``max_bytes``), without arming any timer when data is already there; a timer is armed only
for a read or a write that has to wait. Reading pauses once 2 MiB are queued, so memory per
connection stays bounded whatever the reader's pace.

The pool uses it under asyncio only (httpcore's anyio backend under trio stays as it was);
errors are httpcore's, as its anyio backend raises them (``ConnectError``,
``ConnectTimeout``, ``ReadError``, ``ReadTimeout``, ``WriteError``, ``WriteTimeout``), the
original exception as their cause.
"""

from __future__ import annotations

import asyncio
import select
import ssl
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore

# Reading pauses above this many queued bytes and resumes below the low mark.
_HIGH_WATER = 2 * 1024 * 1024
_LOW_WATER = 512 * 1024
# Loop passes a close waits for the socket to be released (TLS takes two or three).
_CLOSE_PASSES = 8


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


async def _wait(waiter: asyncio.Future[None], timeout: float | None) -> None:
    """Wait for ``waiter``; ``TimeoutError`` after ``timeout`` seconds (None: no limit)."""
    if timeout is None:
        await waiter
        return
    handle = asyncio.get_running_loop().call_later(max(timeout, 0.0), _expire, waiter)
    try:
        await waiter
    finally:
        handle.cancel()


class _Protocol(asyncio.Protocol):
    """Queues what a connection receives; wakes the one reader or writer waiting."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.queued = 0
        self.eof = False
        self.lost = False
        self.error: BaseException | None = None
        self.paused = False
        self.can_write = True
        self.read_waiter: asyncio.Future[None] | None = None
        self.write_waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.queued += len(data)
        if self.queued > _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake_reader()
        return None  # close the transport (HTTP/1.1 needs no half-open connection)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.error = exc
        self.can_write = True
        self._wake_reader()
        waiter, self.write_waiter = self.write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        self.can_write = False

    def resume_writing(self) -> None:
        self.can_write = True
        waiter, self.write_waiter = self.write_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_reader(self) -> None:
        waiter, self.read_waiter = self.read_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection (TCP, or TLS over it) read through an asyncio protocol."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        protocol.transport = transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._protocol
        if not p.chunks:
            if not (p.eof or p.lost):
                if p.read_waiter is not None:
                    raise httpcore.ReadError("another read is already waiting on this stream")
                waiter = p.read_waiter = asyncio.get_running_loop().create_future()
                try:
                    await _wait(waiter, timeout)
                except TimeoutError:
                    raise httpcore.ReadTimeout("timed out reading from the server") from None
                finally:
                    if p.read_waiter is waiter:
                        p.read_waiter = None
            if not p.chunks:
                if p.error is not None:
                    raise httpcore.ReadError(str(p.error) or type(p.error).__name__) from p.error
                return b""
        chunk = p.chunks[0]
        if len(chunk) <= max_bytes:
            p.chunks.popleft()
        else:
            p.chunks[0] = chunk[max_bytes:]
            chunk = chunk[:max_bytes]
        p.queued -= len(chunk)
        if p.paused and p.queued < _LOW_WATER and not p.lost:
            p.paused = False
            self._transport.resume_reading()
        return chunk

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        p = self._protocol
        if p.lost or self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        try:
            self._transport.write(buffer)
        except (OSError, RuntimeError) as exc:
            raise httpcore.WriteError(str(exc)) from exc
        if not p.can_write:
            waiter = p.write_waiter = asyncio.get_running_loop().create_future()
            try:
                await _wait(waiter, timeout)
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out writing to the server") from None
            finally:
                if p.write_waiter is waiter:
                    p.write_waiter = None
        if p.lost and p.error is not None:
            raise httpcore.WriteError(str(p.error)) from p.error

    async def aclose(self) -> None:
        transport = self._transport
        if transport.get_extra_info("ssl_object") is not None:
            # No close_notify exchange (httpcore's anyio streams skip it too): the
            # connection is done with, and a peer that never answers must not hold it.
            transport.abort()
        else:
            transport.close()
        # The socket itself closes in a callback on the loop: let it run, as anyio's
        # streams do, so that a closed connection holds no file descriptor.
        for _ in range(_CLOSE_PASSES):
            if self._protocol.lost:
                return
            await asyncio.sleep(0)
        transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        protocol = self._protocol
        try:
            started = loop.start_tls(
                self._transport, protocol, ssl_context, server_hostname=server_hostname
            )
            tls = await (started if timeout is None else asyncio.wait_for(started, timeout))
        except (asyncio.TimeoutError, TimeoutError) as exc:
            self._transport.abort()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from exc
        except (OSError, ssl.SSLError, EOFError) as exc:
            self._transport.abort()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if tls is None:  # pragma: no cover - only for a transport closed meanwhile
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(tls, asyncio.Transport)
        return AsyncioStream(tls, protocol)

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        if info == "is_readable":
            # Anything received while idle (data, an EOF, a reset) means the connection
            # cannot carry a new request; so does a socket with bytes not yet picked up.
            p = self._protocol
            if p.chunks or p.eof or p.lost or transport.is_closing():
                return True
            return _socket_readable(transport.get_extra_info("socket"))
        return None


def _socket_readable(sock: Any) -> bool:
    if sock is None:
        return True
    try:
        fileno = sock.fileno()
        if fileno < 0:
            return True
        poller = select.poll()
        poller.register(fileno, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no poll() here
        return False


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens connections as :class:`AsyncioStream` (asyncio only)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        try:
            connecting = loop.create_connection(_Protocol, host, port, local_addr=local)
            transport, protocol = await (
                connecting if timeout is None else asyncio.wait_for(connecting, timeout)
            )
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        assert isinstance(transport, asyncio.Transport)
        if socket_options:
            sock = transport.get_extra_info("socket")
            try:
                for option in socket_options:
                    sock.setsockopt(*option)
            except OSError as exc:
                transport.abort()
                raise httpcore.ConnectError(str(exc)) from exc
        return AsyncioStream(transport, protocol)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            connecting = loop.create_unix_connection(_Protocol, path)
            transport, protocol = await (
                connecting if timeout is None else asyncio.wait_for(connecting, timeout)
            )
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        assert isinstance(transport, asyncio.Transport)
        return AsyncioStream(transport, protocol)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

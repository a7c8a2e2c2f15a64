"""The default transport's sockets under asyncio: asyncio's own streams, not anyio's.

Why: httpcore reads every connection through anyio, which costs per read a cancel scope
(``fail_after``: a timer armed and cancelled), an async-library lookup and a context
manager, and, over TLS, gives back one TLS record (at most 16 KiB) per read. Profiled over
HTTPS on a 256 MiB body (benchmarks/bench_large_bodies.py), that read path was more than
half the client's CPU: 4.9 CPU-s per GiB, where aiohttp on asyncio's own TLS needs 1.9.

Here a connection is an ``asyncio.Protocol``: asyncio's transport reads the socket (256 KiB
per read) and, over TLS, decrypts everything available in one go. Two ways to read:

* ``read(max_bytes)`` (httpcore's, for heads and for bodies read as chunks): the protocol
  queues the chunks as they come; a queued chunk is handed over untouched (split only to
  honour ``max_bytes``), without arming any timer when data is already there. Reading
  pauses once 2 MiB are queued, so memory per connection stays bounded whatever the
  reader's pace.
* ``read_into(buffer)`` (for bodies of known length, ``direct_body``): the bytes already
  queued are moved into the reader's buffer, and while the reader waits for the rest, the
  transport's protocol is a ``BufferedProtocol`` (``_Placing``) that has them received
  straight into it: over plain TCP by the socket's ``recv_into``, over TLS by
  ``SSLObject.read`` into it, so no intermediate ``bytes`` object exists at all. (With a
  plain ``asyncio.Protocol``, CPython's TLS layer reads each record into new ``bytes`` of
  up to 256 KiB and joins them; it decrypts into the app's buffer only for a
  ``BufferedProtocol``.) The reader is woken once, when its buffer is full or the
  connection ends, and one timer covers the whole wait (re-armed only if it fires while
  bytes are still coming). Nothing is queued while it waits: the memory is the reader's
  buffer, which it sized.

The pool uses it under asyncio only (httpcore's anyio backend under trio stays as it was);
errors are httpcore's, as its anyio backend raises them (``ConnectError``,
``ConnectTimeout``, ``ReadError``, ``ReadTimeout``, ``WriteError``, ``WriteTimeout``), the
original exception as their cause.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore

# Reading pauses above this many queued bytes and resumes below the low mark.
_HIGH_WATER = 2 * 1024 * 1024
_LOW_WATER = 512 * 1024
# Loop passes a close waits for the socket to be released (TLS takes two or three).
_CLOSE_PASSES = 8
_monotonic = time.monotonic


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


class _Timer:
    """Ends a ``read_into`` wait: after ``timeout`` seconds without a byte, or at ``deadline``.

    Armed once for the wait and re-armed only when it fires early (bytes arrived meanwhile,
    which just note the time): no timer work per received chunk.
    """

    __slots__ = ("_deadline", "_handle", "_loop", "_protocol", "_timeout", "_waiter", "at_deadline")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        waiter: asyncio.Future[None],
        protocol: _Protocol,
        timeout: float | None,
        deadline: float | None,
    ) -> None:
        self._loop = loop
        self._waiter = waiter
        self._protocol = protocol
        self._timeout = timeout
        self._deadline = deadline
        self._handle: asyncio.TimerHandle | None = None
        self.at_deadline = False
        due = self._due()
        if due is not None:
            self._handle = loop.call_later(max(0.0, due - _monotonic()), self._fire)

    def _due(self) -> float | None:
        due = None if self._timeout is None else self._protocol.progress + self._timeout
        deadline = self._deadline
        if deadline is not None and (due is None or deadline <= due):
            due = deadline
            self.at_deadline = True
        else:
            self.at_deadline = False
        return due

    def _fire(self) -> None:
        self._handle = None
        if self._waiter.done():
            return
        due = self._due()
        assert due is not None
        now = _monotonic()
        if now >= due:
            self._waiter.set_exception(TimeoutError())
        else:
            self._handle = self._loop.call_later(due - now, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class _Protocol(asyncio.Protocol):
    """Queues what a connection receives; wakes the one reader or writer waiting.

    While a ``read_into`` waits, its companion :class:`_Placing` is the transport's protocol
    instead, and places the bytes in the reader's buffer.
    """

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
        # A reader's buffer that received bytes go straight into (read_into), how much of it
        # is filled, and when bytes last arrived in it (time.monotonic()).
        self.target: memoryview | None = None
        self.filled = 0
        self.progress = 0.0
        self.placing = _Placing(self)
        # A read timed out after it had placed bytes (it returned them): the next read raises.
        self.timed_out: BaseException | None = None
        # A read was abandoned (cancelled) after placing bytes nobody received: the stream
        # has lost its place in the message and can never be read (nor reused) again.
        self.broken = False

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

    def place(self, target: memoryview, filled: int) -> None:
        """Have the bytes received from now on placed in ``target`` (after ``filled`` bytes)."""
        self.target = target
        self.filled = filled
        self.progress = _monotonic()
        assert self.transport is not None
        self.transport.set_protocol(self.placing)

    def unplace(self) -> None:
        """Queue received bytes again (the reader's buffer is never written after this)."""
        self.target = None
        transport = self.transport
        if transport is not None and transport.get_protocol() is self.placing:
            transport.set_protocol(self)

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake_reader()
        return None  # close the transport (HTTP/1.1 needs no half-open connection)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        # Without its traceback: the frames of asyncio's read path may hold a view of a
        # reader's buffer, which must not stay exported for as long as the error is kept.
        self.error = exc.with_traceback(None) if exc is not None else None
        self.target = None  # nothing more is placed (the reader's finally unplaces)
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

    def take(self, max_bytes: int) -> bytes:
        """The first queued chunk (at most ``max_bytes`` of it); there must be one."""
        chunk = self.chunks[0]
        if len(chunk) <= max_bytes:
            self.chunks.popleft()
        else:
            self.chunks[0] = chunk[max_bytes:]
            chunk = chunk[:max_bytes]
        self._consumed(len(chunk))
        return chunk

    def take_into(self, view: memoryview) -> int:
        """Move queued bytes into ``view``; how many."""
        chunks = self.chunks
        want = len(view)
        n = 0
        while chunks and n < want:  # bounded by the queued chunks
            chunk = chunks[0]
            k = len(chunk)
            if k <= want - n:
                chunks.popleft()
                view[n : n + k] = chunk
            else:
                k = want - n
                view[n:want] = memoryview(chunk)[:k]
                chunks[0] = chunk[k:]
            n += k
        if n:
            self._consumed(n)
        return n

    def _consumed(self, n: int) -> None:
        self.queued -= n
        if self.paused and self.queued < _LOW_WATER and not self.lost:
            self.paused = False
            assert self.transport is not None
            self.transport.resume_reading()

    def _wake_reader(self) -> None:
        waiter, self.read_waiter = self.read_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Placing(asyncio.BufferedProtocol):
    """A connection's protocol while a reader waits in ``read_into``: asyncio's transport
    receives (over TLS, decrypts) into the reader's buffer itself; everything else is
    :class:`_Protocol`'s.

    Why a second object rather than one ``BufferedProtocol`` throughout: bytes no reader
    waits for are best received as asyncio does for a plain protocol (a new ``bytes`` per
    socket read, filled by the kernel: no copy of ours), and a transport takes the one way
    or the other from the type of its protocol (``set_protocol``, asyncio's public way to
    change it; CPython's TLS layer and the socket transport both re-check it there).
    """

    __slots__ = ("main",)

    def __init__(self, main: _Protocol) -> None:
        self.main = main

    def get_buffer(self, sizehint: int) -> memoryview:
        # Never empty: once the target is full, the queuing protocol is back in place
        # (buffer_updated) before the transport reads again.
        main = self.main
        target = main.target
        assert target is not None
        return target[main.filled :]

    def buffer_updated(self, nbytes: int) -> None:
        main = self.main
        main.filled += nbytes
        main.progress = _monotonic()
        target = main.target
        if target is None or main.filled >= len(target):
            main.unplace()  # later bytes are queued
            main._wake_reader()

    def eof_received(self) -> bool | None:
        return self.main.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.main.connection_lost(exc)

    def pause_writing(self) -> None:
        self.main.pause_writing()

    def resume_writing(self) -> None:
        self.main.resume_writing()


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection (TCP, or TLS over it) read through an asyncio protocol."""

    def __init__(self, transport: asyncio.Transport, protocol: _Protocol) -> None:
        self._transport = transport
        self._protocol = protocol
        protocol.transport = transport

    def _check(self) -> None:
        p = self._protocol
        if p.broken:
            raise httpcore.ReadError("an earlier read on this connection was abandoned midway")
        if p.timed_out is not None:
            raise p.timed_out

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._protocol
        if p.broken or p.timed_out is not None:
            self._check()
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
        return p.take(max_bytes)

    async def read_into(
        self, buffer: memoryview, timeout: float | None = None, deadline: float | None = None
    ) -> int:
        """Fill ``buffer`` with the next bytes of the connection, received straight into it.

        Returns how many bytes were placed: all of ``len(buffer)``, fewer only when the
        connection ended or a read timed out meanwhile (the timeout is then raised by the
        next read), 0 at its end. ``ReadTimeout`` when no byte arrives for ``timeout``
        seconds (None: no limit), or once ``deadline`` (a ``time.monotonic()`` instant, None:
        none) passes; ``ReadError`` if the connection failed before any byte was placed.

        While it waits, asyncio's transport receives (over TLS: decrypts) into ``buffer``
        itself; the reader is woken once, when it is full, or at the end. The buffer is
        never written to after this returns or raises. A read cancelled after it placed
        bytes leaves the stream unusable (``ReadError`` from then on; the pool never
        reuses it), since those bytes are lost to the message.

        Args:
            buffer: a writable, byte-formatted view (e.g. ``BytesIO.getbuffer()``).
            timeout: seconds without any byte before ``ReadTimeout`` (None: no limit).
            deadline: a ``time.monotonic()`` instant after which ``ReadTimeout`` (None: none).
        """
        p = self._protocol
        if p.broken or p.timed_out is not None:
            self._check()
        if p.read_waiter is not None:
            raise httpcore.ReadError("another read is already waiting on this stream")
        want = len(buffer)
        n = p.take_into(buffer) if p.chunks else 0
        if n == want or p.eof or p.lost:
            if not n and p.error is not None:
                raise httpcore.ReadError(str(p.error) or type(p.error).__name__) from p.error
            return n
        loop = asyncio.get_running_loop()
        waiter = p.read_waiter = loop.create_future()
        p.place(buffer, n)
        timer = _Timer(loop, waiter, p, timeout, deadline)
        try:
            await waiter
        except TimeoutError:
            n = p.filled
            error = httpcore.ReadTimeout(
                "the call's deadline passed"
                if timer.at_deadline
                else "timed out reading from the server"
            )
            if not n:
                raise error from None
            p.timed_out = error  # the bytes placed are handed out first
            return n
        except BaseException:
            if p.filled:
                p.broken = True
            raise
        finally:
            p.unplace()
            timer.cancel()
            if p.read_waiter is waiter:
                p.read_waiter = None
        n = p.filled
        if not n and p.error is not None:
            raise httpcore.ReadError(str(p.error) or type(p.error).__name__) from p.error
        return n

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
            if p.chunks or p.eof or p.lost or p.broken or transport.is_closing():
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

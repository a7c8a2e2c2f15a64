"""The pool's own HTTP/1.1 connection under asyncio: no h11, no httpcore connection, no anyio.

Why: profiled on 1 KiB GETs (valgrind, 2.36 M instructions a request), h11 was 14% of the
client's CPU, httpcore 11% and anyio 11%: an event object per header block and per body
piece, a lock per request and another per release, a cancel-shield and a trace context per
step, and the anyio lookups behind them. Here one request is one write (head and a small
body together), one read for a small answer, a head parsed in a few regular-expression
matches (``h1_parse``, which holds every rule of the format), and a body read as it comes:
the bytes that arrived with the head, then reads of at most what the body still lacks.

What it keeps from the path it replaces: httpcore's request and response types and its
exceptions (``ConnectError``, ``ConnectTimeout``, ``ReadError``, ``ReadTimeout``,
``WriteError``, ``WriteTimeout``, ``RemoteProtocolError``, ``LocalProtocolError``), so httpx
maps them as before and r2async's retry rules see the same errors; the connect, read and
write timeouts of each request, each cut to the call's deadline (the ``r2async.deadline``
extension, as ``call_guard`` does on the httpcore path); interim (1xx) responses capped at
``call_guard.MAX_INTERIM``; asyncio's own sockets and TLS (``asyncio_stream``); and the
connection interface the pool uses (``has_expired``, ``is_idle``, ``is_closed``,
``aclose``). A write error while sending is followed by reading the response, as httpcore
does (a server may answer and close early); a reused connection found closed before a byte
was sent raises ``ConnectionNotAvailable`` (the pool then takes another).

A connection is reused only after a response read to its end, with nothing received past
it, both sides keeping the connection alive and the whole request sent; anything else (a
body closed early, a cut, a timeout, a cancellation anywhere, trailing bytes) leaves it
broken, and the pool closes it.

The pool uses it under asyncio only, and not for a request with httpcore's ``trace``
extension, nor while respx mocks httpcore's connections: those take httpcore's own
``AsyncHTTPConnection``.
"""

from __future__ import annotations

import ssl
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

import httpcore

from . import DEADLINE
from .asyncio_stream import AsyncioBackend, AsyncioStream
from .h1_parse import (
    CHUNKED,
    LAST_CHUNK,
    MAX_HEAD,
    MAX_INTERIM,
    UNTIL_CLOSE,
    ChunkedDecoder,
    ResponseHead,
    body_length,
    chunk,
    find_head_end,
    parse_head,
    request_head,
)

# The most asked of the stream at once (asyncio's transport hands over up to 256 KiB per
# socket read, and the stream returns whole queued chunks up to this).
MAX_READ = 1024 * 1024
# A request body up to this size goes out in the same write as the head.
_COALESCE = 64 * 1024

_NEW, _ACTIVE, _IDLE, _BROKEN, _CLOSED = range(5)
_STATE_NAMES = ("NEW", "ACTIVE", "IDLE", "BROKEN", "CLOSED")
_monotonic = time.monotonic
_BACKEND = AsyncioBackend()


class H1Connection:
    """One HTTP/1.1 connection to one origin, serving one request at a time."""

    __slots__ = (
        "_expire_at",
        "_keepalive_expiry",
        "_origin",
        "_requests",
        "_ssl_context",
        "_state",
        "_stream",
        "deadline",
    )

    def __init__(
        self,
        origin: httpcore.Origin,
        ssl_context: ssl.SSLContext | None,
        keepalive_expiry: float | None,
    ) -> None:
        """Prepare a connection to ``origin``; it connects on its first request.

        Args:
            origin: scheme, host and port.
            ssl_context: for https (the pool's).
            keepalive_expiry: seconds an idle connection stays usable (None: no limit).
        """
        self._origin = origin
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._stream: AsyncioStream | None = None
        self._state = _NEW
        self._expire_at: float | None = None
        self._requests = 0
        # The current call's deadline (a time.monotonic() instant), or None.
        self.deadline: float | None = None

    # -- the pool's interface ----------------------------------------------------------------

    def has_expired(self) -> bool:
        """Past its keep-alive, or (idle) its socket has something to read: an EOF, a reset."""
        state = self._state
        if state == _IDLE:
            expire_at = self._expire_at
            if expire_at is not None and _monotonic() > expire_at:
                return True
            stream = self._stream
            return stream is None or bool(stream.get_extra_info("is_readable"))
        return state in (_BROKEN, _CLOSED)

    def is_idle(self) -> bool:
        """Waiting for a request after a complete, clean exchange."""
        return self._state == _IDLE

    def is_closed(self) -> bool:
        return self._state == _CLOSED

    async def aclose(self) -> None:
        self._state = _CLOSED
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.aclose()

    def info(self) -> str:
        state = _STATE_NAMES[self._state]
        return f"{str(self._origin)!r}, HTTP/1.1, {state}, Request Count: {self._requests}"

    def __repr__(self) -> str:
        return f"<H1Connection [{self.info()}]>"

    # -- one exchange ------------------------------------------------------------------------

    @property
    def stream(self) -> AsyncioStream | None:
        """The network stream (None before it connects and once closed)."""
        return self._stream

    async def exchange(
        self,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        content: Any,
        extensions: Mapping[str, Any],
    ) -> tuple[ResponseHead, H1Body]:
        """Send a request; the final response's head and its body (to read, then close).

        Args:
            method: e.g. ``b"GET"``.
            target: the request target (path and query).
            headers: the request headers, ``Host`` among them.
            content: the body, an async iterable of ``bytes``.
            extensions: httpcore's request extensions (``timeout``, ``sni_hostname``) and
                ``r2async.deadline``.
        """
        state = self._state
        if state != _NEW and state != _IDLE:
            raise httpcore.ConnectionNotAvailable()
        self._state = _ACTIVE
        self._requests += 1
        self._expire_at = None
        self.deadline = extensions.get(DEADLINE)
        timeouts = extensions.get("timeout") or {}
        try:
            wire_head, length, keep_alive = request_head(method, target, headers)
            if self._stream is None:
                await self._connect(timeouts.get("connect"), extensions.get("sni_hostname"))
            sent = await self._send(wire_head, length, content, timeouts.get("write"), state)
            read_timeout = timeouts.get("read")
            head, rest = await self._receive_head(read_timeout)
            framing = body_length(method, head)
            body = H1Body(
                self,
                rest,
                framing,
                sent and keep_alive and not head.close and framing != UNTIL_CLOSE,
                read_timeout,
            )
        except BaseException:
            if self._state == _ACTIVE:
                self._state = _BROKEN
            raise
        return head, body

    async def _connect(self, timeout: float | None, sni_hostname: str | None) -> None:
        origin = self._origin
        host = origin.host.decode("ascii")
        self._stream = await _BACKEND.connect_tcp(  # type: ignore[assignment]
            host, origin.port, timeout=self._left(timeout, httpcore.ConnectTimeout)
        )
        if origin.scheme == b"https":
            context = self._ssl_context
            if context is None:  # pragma: no cover - the pool always gives one
                from .tls import shared_ssl_context

                context = shared_ssl_context()
            # As httpcore does on each connect: this connection speaks HTTP/1.1 only.
            context.set_alpn_protocols(["http/1.1"])
            assert self._stream is not None
            tls = await self._stream.start_tls(
                context,
                server_hostname=sni_hostname or host,
                timeout=self._left(timeout, httpcore.ConnectTimeout),
            )
            self._stream = tls  # type: ignore[assignment]
            ssl_object = tls.get_extra_info("ssl_object")
            protocol = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            if protocol not in (None, "http/1.1"):  # pragma: no cover - refused by ALPN
                raise httpcore.ConnectError(f"the server chose {protocol}, not HTTP/1.1")

    def _left(self, timeout: float | None, error: type[Exception]) -> float | None:
        # ``timeout`` cut to the time left before the call's deadline; ``error`` past it.
        deadline = self.deadline
        if deadline is None:
            return timeout
        left = deadline - _monotonic()
        if left <= 0:
            raise error("the call's deadline passed")
        return left if timeout is None or timeout > left else timeout

    async def _send(
        self, head: bytes, length: int, content: Any, timeout: float | None, was: int
    ) -> bool:
        # Whether the whole request went out. A write error is not raised: the server may
        # have answered and closed early, and that answer is read next (as httpcore does).
        stream = self._stream
        assert stream is not None
        pending: bytes | None = head
        count = 0
        chunked = length == CHUNKED
        try:
            if content is not None:
                async for data in content:
                    if not data:
                        continue
                    count += len(data)
                    if not chunked and count > length:
                        raise httpcore.LocalProtocolError(
                            "Too much data for declared Content-Length"
                        )
                    if chunked:
                        data = chunk(data)
                    if pending is not None:
                        if len(pending) + len(data) <= _COALESCE:
                            pending += data
                            continue
                        await self._first_write(stream, pending, timeout, was)
                        pending = None
                    await stream.write(data, self._left(timeout, httpcore.WriteTimeout))
            if chunked:
                pending = LAST_CHUNK if pending is None else pending + LAST_CHUNK
            elif count < length:
                raise httpcore.LocalProtocolError("Too little data for declared Content-Length")
            if pending is not None:
                await self._first_write(stream, pending, timeout, was)
        except httpcore.WriteError:
            return False
        return True

    async def _first_write(
        self, stream: AsyncioStream, data: bytes, timeout: float | None, was: int
    ) -> None:
        try:
            await stream.write(data, self._left(timeout, httpcore.WriteTimeout))
        except httpcore.WriteError:
            if was == _IDLE:
                # A reused connection the server closed before this request's first byte
                # went out: nothing was sent, the pool tries another connection.
                raise httpcore.ConnectionNotAvailable() from None
            raise

    async def _receive_head(self, timeout: float | None) -> tuple[ResponseHead, bytes]:
        # The final response's head (interim ones skipped, at most MAX_INTERIM) and the
        # bytes received after it.
        stream = self._stream
        assert stream is not None
        buf: bytes | bytearray = b""
        searched = 0
        interim = 0
        while True:
            if buf:
                end = find_head_end(buf, searched)
                if end >= 0:
                    head = parse_head(bytes(buf[:end]))
                    rest = bytes(buf[end:])
                    if head.status >= 200:
                        return head, rest
                    if head.status == 101:
                        raise httpcore.RemoteProtocolError(
                            "unexpected 101 Switching Protocols (no upgrade was asked for)"
                        )
                    interim += 1
                    if interim > MAX_INTERIM:
                        raise httpcore.RemoteProtocolError(
                            f"the server sent more than {MAX_INTERIM} interim (1xx) responses"
                        )
                    buf = rest
                    searched = 0
                    continue
                if len(buf) > MAX_HEAD:
                    raise httpcore.RemoteProtocolError(
                        f"the response head exceeds {MAX_HEAD} bytes"
                    )
                searched = len(buf)
            deadline = self.deadline
            read_timeout = timeout
            if deadline is not None:
                left = deadline - _monotonic()
                if left <= 0:
                    raise httpcore.ReadTimeout("the call's deadline passed")
                if read_timeout is None or read_timeout > left:
                    read_timeout = left
            data = await stream.read(MAX_READ, read_timeout)
            if not data:
                if not buf and not interim:
                    raise httpcore.RemoteProtocolError(
                        "Server disconnected without sending a response."
                    )
                raise httpcore.RemoteProtocolError(
                    "peer closed connection without sending a complete response head"
                )
            if not buf:
                buf = data
            else:
                if type(buf) is bytes:
                    buf = bytearray(buf)
                buf += data

    def _done(self, reusable: bool) -> None:
        # The response was read to its end (called by its body).
        if self._state != _ACTIVE:
            return
        if reusable:
            self._state = _IDLE
            expiry = self._keepalive_expiry
            if expiry is not None:
                self._expire_at = _monotonic() + expiry
        else:
            self._state = _BROKEN

    def _break(self) -> None:
        if self._state == _ACTIVE:
            self._state = _BROKEN


class H1Body:
    """A response body: the bytes that came with the head, then reads as it needs them.

    Iterate it for the body's pieces, then ``aclose()``. Read to its end, it leaves its
    connection idle (reusable if the exchange allows); closed before, or on any error, it
    leaves it broken.
    """

    __slots__ = (
        "_conn",
        "_decoder",
        "_first",
        "_framing",
        "_pending",
        "_received",
        "_remaining",
        "_reusable",
        "_spill",
        "_timeout",
        "ended",
    )

    def __init__(
        self,
        conn: H1Connection,
        first: bytes,
        framing: int,
        reusable: bool,
        timeout: float | None,
    ) -> None:
        self._conn = conn
        self._framing = framing
        self._reusable = reusable
        self._timeout = timeout
        self._first = first
        self._received = 0
        self._remaining = framing if framing >= 0 else 0
        self._decoder: ChunkedDecoder | None = ChunkedDecoder() if framing == CHUNKED else None
        self._pending: deque[bytes] = deque()
        # Read to its end, or closed: nothing more is read.
        self.ended = False
        # Bytes read that did not fit the buffer given to readinto.
        self._spill: memoryview | None = None
        if framing == 0:
            self._end(not first)

    def __aiter__(self) -> H1Body:
        return self

    async def __anext__(self) -> bytes:
        try:
            data = await self._next()
        except BaseException:
            self._conn._break()
            raise
        if data is None:
            raise StopAsyncIteration
        return data

    async def readinto(self, buffer: memoryview) -> int:
        """The next bytes of the body placed in ``buffer``: at least one, 0 at its end.

        Past the bytes that came with the head, a ``Content-Length`` body is received
        straight into ``buffer`` where the stream can (a ``read_into(buffer, timeout,
        deadline)``), never beyond the body's end; otherwise a piece is read and copied.
        Errors are httpcore's, and leave the connection broken, as when iterating.

        Args:
            buffer: a writable byte view, not empty.
        """
        try:
            return await self._readinto(buffer)
        except BaseException:
            self._conn._break()
            raise

    async def _readinto(self, buffer: memoryview) -> int:
        spill = self._spill
        if spill is None and self._framing >= 0 and not self._first:
            remaining = self._remaining
            if not remaining:
                return 0
            reader = getattr(self._conn._stream, "read_into", None)
            if reader is not None:
                deadline = self._conn.deadline
                if deadline is not None and deadline <= _monotonic():
                    raise httpcore.ReadTimeout("the call's deadline passed")
                if len(buffer) > remaining:
                    buffer = buffer[:remaining]
                n: int = await reader(buffer, self._timeout, deadline)
                if not n:
                    raise httpcore.RemoteProtocolError(
                        "peer closed connection without sending complete message body "
                        f"(received {self._framing - remaining} bytes, expected {self._framing})"
                    )
                self._remaining = remaining - n
                if n == remaining:
                    self._end(True)
                return n
        if spill is None:
            data = await self._next()
            if data is None:
                return 0
            spill = memoryview(data)
        n = min(len(spill), len(buffer))
        buffer[:n] = spill[:n]
        self._spill = spill[n:] if n < len(spill) else None
        return n

    async def _next(self) -> bytes | None:
        spill = self._spill
        if spill is not None:
            self._spill = None
            return bytes(spill)
        framing = self._framing
        if framing >= 0:
            remaining = self._remaining
            if not remaining:
                return None
            first = self._first
            if first:
                self._first = b""
                if len(first) >= remaining:
                    # Anything past the body is not part of this response: not reused.
                    self._remaining = 0
                    self._end(len(first) == remaining)
                    return first if len(first) == remaining else first[:remaining]
                self._remaining = remaining - len(first)
                return first
            data = await self._read(remaining if remaining < MAX_READ else MAX_READ)
            if not data:
                received = framing - remaining
                raise httpcore.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    f"(received {received} bytes, expected {framing})"
                )
            remaining -= len(data)
            self._remaining = remaining
            if not remaining:
                self._end(True)
            return data
        if framing == CHUNKED:
            return await self._next_chunked()
        # Until the server closes: never reused.
        first = self._first
        if first:
            self._first = b""
            return first
        if self.ended:
            return None
        data = await self._read(MAX_READ)
        if not data:
            self._end(False)
            return None
        return data

    async def _next_chunked(self) -> bytes | None:
        decoder = self._decoder
        assert decoder is not None
        pending = self._pending
        while not pending:
            if decoder.done:
                return None
            first = self._first
            if first:
                self._first = b""
                data = first
            else:
                data = await self._read(MAX_READ)
                if not data:
                    decoder.feed_eof()  # raises: the body is incomplete
            pending.extend(decoder.feed(data))
            if decoder.done:
                self._end(not decoder.trailing)
        return pending.popleft()

    async def _read(self, max_bytes: int) -> bytes:
        conn = self._conn
        stream = conn._stream
        assert stream is not None
        timeout = self._timeout
        deadline = conn.deadline
        if deadline is not None:
            left = deadline - _monotonic()
            if left <= 0:
                raise httpcore.ReadTimeout("the call's deadline passed")
            if timeout is None or timeout > left:
                timeout = left
        return await stream.read(max_bytes, timeout)

    def _end(self, clean: bool) -> None:
        # The last byte of the body arrived; ``clean``: nothing past it.
        self.ended = True
        self._conn._done(clean and self._reusable)

    def close(self) -> None:
        """Done with the body (nothing to await: the pool closes a broken connection)."""
        if not self.ended:
            # Closed before its end: the rest of the body is still on its way.
            self.ended = True
            self._conn._break()

    async def aclose(self) -> None:
        self.close()

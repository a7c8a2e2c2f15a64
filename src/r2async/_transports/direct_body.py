"""A response body of known length read straight from the network stream, past h11's buffer.

Why: httpcore reads a body 64 KiB at a time and passes every byte through h11, which
copies it four times (into its receive buffer, twice while slicing it out, and once more
in httpcore's ``bytes(event.data)``), and each 64 KiB costs a trip through h11's event
machinery and httpcore's read loop. For a body with a ``Content-Length`` none of that
parsing is needed: once h11 has handed out the bytes it already buffered, the rest of the
body is exactly the next ``remaining`` bytes of the connection.

So, while h11 is in the middle of a ``Content-Length`` body with nothing buffered, a chunk
is read from the connection's network stream (the pool's guarded stream: the call's
deadline and the read timeout still apply) for at most the bytes the body still lacks,
and h11's count of them is lowered by as much. h11 never sees those bytes, and nothing it
checks depends on them: at zero its reader reports the end of the message, through
httpcore's own code path as before (a connection cut short still raises h11's "peer closed
connection" error, from its own code, since an empty read is handed back to it). Anything
else (chunked bodies, h11's buffered bytes, a request traced through httpcore's ``trace``
extension) takes httpcore's path unchanged.

What it relies on in h11: ``Connection._reader`` (the body reader of the current state),
``ContentLengthReader._remaining`` and ``Connection._receive_buffer``. :func:`available`
checks once, on a sample exchange, that a lowered count ends the message as expected; if
this h11 works otherwise, every body takes httpcore's path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpcore

# The most read from the network stream at once (asyncio's transport hands over at most
# 256 KiB per socket read; anyio's streams under trio read up to this).
MAX_READ = 1024 * 1024

_AVAILABLE: bool | None = None


def available() -> bool:
    """Whether this h11 keeps a body's remaining length where :class:`DirectBody` lowers it."""
    global _AVAILABLE
    if _AVAILABLE is None:
        try:
            _AVAILABLE = _self_test()
        except Exception:
            _AVAILABLE = False
    return _AVAILABLE


def _self_test() -> bool:
    import h11

    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "a")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123")
    if not isinstance(conn.next_event(), h11.Response):
        return False
    data = conn.next_event()
    if not (isinstance(data, h11.Data) and bytes(data.data) == b"0123"):
        return False
    if _remaining(conn) != 6 or len(conn._receive_buffer):
        return False
    conn._reader._remaining -= 6  # type: ignore[union-attr]  # the six bytes read directly
    return isinstance(conn.next_event(), h11.EndOfMessage) and conn.their_state is h11.DONE


def _remaining(h11_conn: Any) -> int:
    """The bytes a ``Content-Length`` body still lacks (h11's buffered ones included), else 0."""
    reader = h11_conn._reader
    if type(reader).__name__ != "ContentLengthReader":
        return 0
    remaining = reader._remaining
    return remaining if type(remaining) is int else 0


def _buffered(h11_conn: Any) -> bytes:
    """The body bytes h11 holds, as httpcore would hand them out."""
    import h11

    try:
        event = h11_conn.next_event()
    except h11.RemoteProtocolError as exc:  # pragma: no cover - not for a length-framed body
        raise httpcore.RemoteProtocolError(str(exc)) from exc
    if not isinstance(event, h11.Data):  # pragma: no cover - buffered bytes of a body are Data
        raise httpcore.RemoteProtocolError(f"unexpected {type(event).__name__} in a body")
    return bytes(event.data)


class DirectBody:
    """httpcore's response stream of one HTTP/1.1 response, its body read directly."""

    __slots__ = ("_h11", "_inner", "_network", "_pending", "_stream", "_timeout")

    def __init__(self, stream: Any, http11: Any, request: httpcore.Request) -> None:
        """Read the body of ``stream`` (httpcore's) from ``http11``'s connection.

        Args:
            stream: httpcore's ``HTTP11ConnectionByteStream`` of the response.
            http11: its ``AsyncHTTP11Connection``.
            request: the request (its read timeout applies to every read).
        """
        self._stream = stream
        self._h11 = http11._h11_state
        self._network = http11._network_stream
        self._timeout = request.extensions.get("timeout", {}).get("read")
        self._inner: AsyncIterator[bytes] | None = None
        # Bytes handed out by h11 or httpcore that did not fit the caller's buffer.
        self._pending: memoryview | None = None

    def __aiter__(self) -> DirectBody:
        return self

    async def __anext__(self) -> bytes:
        pending = self._pending
        if pending is not None:
            self._pending = None
            return bytes(pending)
        if self._inner is None:
            # httpcore's own generator is started only for what this cannot read (the end
            # of the message, a cut, another framing) and then used to the end: one that
            # is left suspended mid-body would be finalised by the garbage collector.
            h11_conn = self._h11
            remaining = _remaining(h11_conn)
            if remaining:
                if len(h11_conn._receive_buffer):
                    # The body bytes that came with the headers: h11 hands them out.
                    return _buffered(h11_conn)
                data: bytes = await self._network.read(min(remaining, MAX_READ), self._timeout)
                if data:
                    # Never more than asked for: a stream that returned more would be a bug.
                    if len(data) > remaining:
                        raise httpcore.RemoteProtocolError("read past the end of the body")
                    h11_conn._reader._remaining = remaining - len(data)
                    return data
                # The peer closed early: h11 raises its own error for the cut body.
                h11_conn.receive_data(b"")
            self._inner = self._stream.__aiter__()
        return await self._inner.__anext__()

    async def readinto(self, buffer: memoryview) -> int:
        """The next bytes of the body placed in ``buffer``: at least one, 0 at its end.

        Past h11's buffered bytes, a ``Content-Length`` body is received straight into
        ``buffer`` (the network stream's ``read_into``: see ``asyncio_stream``), never
        beyond the body's last byte. The read that completes the body also ends the message
        in h11 and httpcore (no I/O: the connection is then reusable once closed), so a
        caller that stops at the declared length need not read again to see the end.
        Errors are httpcore's, as from iterating.

        Args:
            buffer: a writable, byte-formatted view, not empty.
        """
        pending = self._pending
        if pending is not None:
            return self._place(pending, buffer)
        if self._inner is None:
            h11_conn = self._h11
            remaining = _remaining(h11_conn)
            if remaining:
                if len(h11_conn._receive_buffer):
                    # The body bytes that came with the headers: h11 hands them out.
                    data = memoryview(_buffered(h11_conn))
                    if not _remaining(h11_conn):
                        await self._finish()
                    return self._place(data, buffer)
                if len(buffer) > remaining:
                    buffer = buffer[:remaining]  # never a byte of what follows the body
                n: int = await self._network.read_into(buffer, self._timeout)
                if n:
                    if n > remaining:  # pragma: no cover - the view is bounded above
                        raise httpcore.RemoteProtocolError("read past the end of the body")
                    h11_conn._reader._remaining = remaining - n
                    if n == remaining:
                        await self._finish()
                    return n
                # The peer closed early: h11 raises its own error for the cut body.
                h11_conn.receive_data(b"")
            self._inner = self._stream.__aiter__()
        return await self._next_into(buffer)

    async def _finish(self) -> None:
        # The body is complete: httpcore's generator reads h11's end of message (from h11's
        # state, without I/O) and ends; bytes it yields are kept for the next read.
        self._inner = self._stream.__aiter__()
        try:
            data = await self._inner.__anext__()
        except StopAsyncIteration:
            return
        if data:  # pragma: no cover - h11 ends a complete Content-Length body
            raise httpcore.RemoteProtocolError("bytes past the end of a complete body")

    async def _next_into(self, buffer: memoryview) -> int:
        assert self._inner is not None
        while True:  # bounded by httpcore's chunks; empty ones are skipped
            try:
                data = await self._inner.__anext__()
            except StopAsyncIteration:
                return 0
            if data:
                return self._place(memoryview(data), buffer)

    def _place(self, data: memoryview, buffer: memoryview) -> int:
        # Copy what fits; keep the rest for the next read.
        n = min(len(data), len(buffer))
        buffer[:n] = data[:n]
        self._pending = data[n:] if n < len(data) else None
        return n

    async def aclose(self) -> None:
        inner, self._inner = self._inner, None
        try:
            if inner is not None:
                # Started for h11's buffered bytes and left at a yield when a direct read
                # failed or the reader stopped: closed here, not by the garbage collector
                # (trio warns). It closes httpcore's response as it goes.
                await inner.aclose()  # type: ignore[attr-defined]
        finally:
            await self._stream.aclose()


def direct(stream: Any, http11: Any, request: httpcore.Request) -> Any:
    """``stream`` with its body read directly when possible, else ``stream`` itself.

    Args:
        stream: the response stream httpcore returned.
        http11: the connection that answered (None when the request was mocked).
        request: the request.
    """
    if (
        http11 is None
        or type(stream).__name__ != "HTTP11ConnectionByteStream"
        or "trace" in request.extensions
        or not available()
    ):
        return stream
    return DirectBody(stream, http11, request)

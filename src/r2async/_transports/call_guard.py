"""Per-call bounds on the wire, under the pool's httpcore connections: deadline, interim answers.

httpcore applies its timeouts to one read or one write at a time. A server that drips a body
(or its headers) one byte at a time, or answers with ``HTTP/1.1 100 Continue`` over and over
(httpcore, like h11, loops over interim responses without a limit), therefore holds a
request forever without any timeout firing. Each connection the pool opens gets its network
stream through a :class:`GuardedBackend`, and the pool arms the connection's
:class:`CallGuard` for every request it lends it to:

* every connect, read and write is given at most the time left before the call's deadline
  (the ``r2async.deadline`` request extension, a ``time.monotonic()`` instant set by
  ``_send``), and fails at once past it; so a call, its streamed body included, ends by
  its deadline however the server paces its bytes;
* the start of each response is looked at (12 bytes: ``HTTP/1.1 1xx``), and more than
  ``MAX_INTERIM`` interim responses to one request raise ``RemoteProtocolError``. Only the
  first bytes of each response are examined; nothing is copied or parsed beyond them,
  except inside interim responses.

The cost on a request: a few attribute reads per read and write, and one 12-byte check.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore

# Interim (1xx, other than 101) responses accepted before the final one. R2 sends none
# (r2async never asks for 100-continue); a few 103 Early Hints would still pass.
MAX_INTERIM = 8

_START, _INTERIM, _FINAL = 0, 1, 2
# The end of a header block, as h11 finds it (it also accepts a bare LF line ending).
_BLANK_LINE = re.compile(b"\n\r?\n")
_STATUS_LINE = 12  # len(b"HTTP/1.1 100")
_monotonic = time.monotonic


class CallGuard:
    """One connection's bounds for the request it currently serves."""

    __slots__ = ("_head", "_state", "_tail", "deadline", "interim")

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.interim = 0
        self._state = _FINAL
        self._head = b""
        self._tail = b""

    def arm(self, deadline: float | None) -> None:
        """Start bounding a new request (``deadline``: a ``time.monotonic()`` value, or None)."""
        self.deadline = deadline
        self.interim = 0
        self._state = _START
        self._head = b""

    def left(self, timeout: float | None, error: type[Exception]) -> float | None:
        """``timeout`` cut to the time left before the deadline; ``error`` once it passed."""
        deadline = self.deadline
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise error("the call's deadline passed")
        return left if timeout is None or timeout > left else timeout

    def received(self, data: bytes) -> None:
        """Look at received bytes until the final response starts (count interim ones)."""
        state = self._state
        if state == _START and not self._head and len(data) >= _STATUS_LINE and data[9] != 0x31:
            # The usual case: a whole status line, not 1xx. (Anything that is not HTTP at all
            # is h11's to refuse.)
            self._state = _FINAL
            return
        if state == _FINAL:
            return
        pos = 0
        end = len(data)
        while pos < end:  # each pass consumes bytes of ``data``
            if self._state == _START:
                take = _STATUS_LINE - len(self._head)
                self._head += data[pos : pos + take]
                pos += take
                if len(self._head) < _STATUS_LINE:
                    return
                head, self._head = self._head, b""
                if not (head.startswith(b"HTTP/") and head[9:10] == b"1" and head[9:12] != b"101"):
                    self._state = _FINAL
                    return
                self.interim += 1
                if self.interim > MAX_INTERIM:
                    raise httpcore.RemoteProtocolError(
                        f"the server sent more than {MAX_INTERIM} interim (1xx) responses"
                    )
                self._state = _INTERIM
                self._tail = b""
            elif self._state == _INTERIM:
                # Inside an interim response's headers: find the blank line that ends them.
                window = self._tail + data[pos:]
                match = _BLANK_LINE.search(window)
                if match is None:
                    self._tail = window[-2:]
                    return
                pos += match.end() - len(self._tail)
                self._state = _START
            else:
                return


class GuardedStream(httpcore.AsyncNetworkStream):
    """A network stream whose reads and writes obey its connection's :class:`CallGuard`."""

    __slots__ = ("_guard", "_stream")

    def __init__(self, stream: httpcore.AsyncNetworkStream, guard: CallGuard) -> None:
        self._stream = stream
        self._guard = guard

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        guard = self._guard
        deadline = guard.deadline
        if deadline is not None:
            # guard.left, inlined: this runs for every read.
            left = deadline - _monotonic()
            if left <= 0:
                raise httpcore.ReadTimeout("the call's deadline passed")
            if timeout is None or timeout > left:
                timeout = left
        data = await self._stream.read(max_bytes, timeout)
        if guard._state != _FINAL:
            guard.received(data)
        return data

    async def read_into(self, buffer: memoryview, timeout: float | None = None) -> int:
        """Bytes received into ``buffer`` (at least one; 0 at the end of the connection).

        The network stream's own ``read_into`` (``AsyncioStream``'s: the buffer filled whole
        unless the connection ends, ``timeout`` counted from the last byte received, the
        call's deadline as an absolute bound) once the final response has started; else one
        ``read`` copied into ``buffer`` (trio's streams, and while interim responses are
        still being counted).
        """
        guard = self._guard
        deadline = guard.deadline
        if deadline is not None and deadline <= _monotonic():
            raise httpcore.ReadTimeout("the call's deadline passed")
        reader = getattr(self._stream, "read_into", None)
        if reader is None or guard._state != _FINAL:
            data = await self.read(len(buffer), timeout)
            buffer[: len(data)] = data
            return len(data)
        n: int = await reader(buffer, timeout, deadline)
        return n

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        deadline = self._guard.deadline
        if deadline is not None:
            left = deadline - _monotonic()
            if left <= 0:
                raise httpcore.WriteTimeout("the call's deadline passed")
            if timeout is None or timeout > left:
                timeout = left
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = self._guard.left(timeout, httpcore.ConnectTimeout)
        stream = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return GuardedStream(stream, self._guard)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens one connection's network streams, bounded by that connection's guard."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend, guard: CallGuard) -> None:
        self._backend = backend
        self.guard = guard

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = self.guard.left(timeout, httpcore.ConnectTimeout)
        stream = await self._backend.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return GuardedStream(stream, self.guard)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = self.guard.left(timeout, httpcore.ConnectTimeout)
        stream = await self._backend.connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return GuardedStream(stream, self.guard)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)

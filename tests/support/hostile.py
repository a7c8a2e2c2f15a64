"""A tiny hostile HTTP/1.1 server on 127.0.0.1 for fault tests (tests only).

It runs an asyncio server in a thread of its own, so the same server serves tests that run
under asyncio and under trio. Each accepted connection is handed to ``handler(conn)``, a
coroutine that reads requests with ``conn.request()`` and writes whatever bytes it likes with
``conn.write()``, which is how a test makes the server misbehave:

```python
async def handler(conn: Conn) -> None:
    while await conn.request() is not None:
        await conn.write(response(b"hello") + b"garbage")

with HostileServer(handler) as server:
    ...  # R2Client(endpoint_url=server.url, ...)
```

Every wait is bounded (``IO_TIMEOUT``), and stopping the server cancels every handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType

from tests.support.r2_answers import LAST_MODIFIED, etag_of

IO_TIMEOUT = 30.0
_MAX_HEAD = 64 * 1024


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


class Conn:
    """One accepted connection, as the handler sees it."""

    def __init__(
        self, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.index = index  # 0 for the first connection the server accepted
        self.reader = reader
        self.writer = writer
        self.requests = 0

    async def request(self) -> Request | None:
        """The next request on this connection, or None once the client closed it."""
        try:
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), IO_TIMEOUT)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        if len(head) > _MAX_HEAD:
            raise ValueError("request head too large")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = b""
        length = int(headers.get("content-length", "0"))
        if length:
            body = await asyncio.wait_for(self.reader.readexactly(length), IO_TIMEOUT)
        self.requests += 1
        return Request(method, target, headers, body)

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), IO_TIMEOUT)


def response(
    body: bytes = b"",
    *,
    status: str = "200 OK",
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length (``length`` overrides the real one)."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body) if length is None else length}"]
    # What R2 sends with every object (r2async refuses an object response without them),
    # unless the caller sets its own. The ETag is the body's MD5 when the body is all there
    # (downloads compare them); otherwise a multipart one, which is never compared.
    given = {name.lower() for name in (headers or {})}
    if "etag" not in given:
        if length is None:
            lines.append(f"ETag: {etag_of(body)}")
        else:
            lines.append('ETag: "0123456789abcdef0123456789abcdef-2"')
    if "last-modified" not in given:
        lines.append(f"Last-Modified: {LAST_MODIFIED}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


Handler = Callable[[Conn], Awaitable[None]]


class HostileServer:
    """The server; use ``with HostileServer(handler) as server`` and ``server.url``."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(IO_TIMEOUT)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(IO_TIMEOUT)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(IO_TIMEOUT)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        # Connections the kernel accepted just before the test ended may still be on their way
        # in: asyncio's _accept_connection2 tasks, not yet run. Closing the server first made
        # them fail (3.11's Server._attach asserts the server is open) after their transport
        # held the socket, which was then never closed: "ResourceWarning: unclosed transport"
        # in some later test. So first let every accepted connection reach its handler (each
        # handler task joins self._tasks on its first step), then close the server, with no
        # await in between so no new connection comes in, then cancel the handlers.
        me = asyncio.current_task()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + IO_TIMEOUT
        while arriving := asyncio.all_tasks() - {me} - self._tasks:
            if loop.time() > deadline:
                raise TimeoutError(f"server tasks never started: {arriving}")
            await asyncio.wait(arriving, timeout=0.01)
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        conn = Conn(self.connections, reader, writer)
        self.connections += 1
        try:
            await self._handler(conn)
        except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Stopped by _stop. Ending normally, not cancelled: asyncio 3.11's own done-callback
            # for client_connected_cb tasks calls task.exception(), which raises on those.
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

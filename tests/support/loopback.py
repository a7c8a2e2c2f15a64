"""A scripted loopback HTTP/1.1 server for tests: records what arrives, answers as told.

```python
async def answer(request: Received) -> bytes | None:
    return ok(b"<xml/>")            # raw bytes to write; None: reset the connection

async with LoopbackServer(answer) as server:
    async with R2Client(endpoint_url=server.url, ...) as r2:
        ...
    assert server.connections == 0   # nothing was sent
```

The answer function sees each request (method, target, headers, body) after the server has
read it whole; a ``Stall`` answer holds the connection until the client hangs up (bounded).
Only what r2async sends is read: requests framed by ``Content-Length`` (or without a body).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

from tests.support.r2_answers import object_headers

_IO_TIMEOUT = 30.0
_MAX_HEAD = 64 * 1024
_MAX_STALL = 10.0


@dataclass
class Received:
    """One request as it arrived."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    raw_head: bytes = b""


@dataclass
class Stall:
    """Answer nothing until the client hangs up (at most ``seconds``), then close."""

    seconds: float = _MAX_STALL


Answer = bytes | Stall | None
Handler = Callable[[Received], Awaitable[Answer]]


def response(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length.

    A 2xx one also carries what R2 sends with every object (ETag, Last-Modified), so that it
    answers a GET, HEAD or PUT as R2 would; ``headers`` override them.
    """
    lines = [f"HTTP/1.1 {status} X"]
    merged = {"Content-Length": str(len(body))}
    if 200 <= status < 300:
        given = {name.lower() for name in headers or {}}
        merged.update((k, v) for k, v in object_headers(body).items() if k.lower() not in given)
    merged.update(headers or {})
    lines += [f"{k}: {v}" for k, v in merged.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def error_response(status: int, code: str) -> bytes:
    """An S3 ``<Error>`` document with ``status``."""
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>scripted</Message><RequestId>LOOPBACK</RequestId></Error>"
    ).encode()
    return response(status, body, {"Content-Type": "application/xml"})


@dataclass(repr=False)
class LoopbackServer:
    """The server; use ``async with LoopbackServer(handler) as server``."""

    handler: Handler
    requests: list[Received] = field(default_factory=list)
    connections: int = 0
    _server: asyncio.base_events.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def __repr__(self) -> str:
        # Not the requests: they hold the credentials tests search renderings for.
        return f"LoopbackServer(connections={self.connections})"

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LoopbackServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            for _ in range(10_000):  # requests on one keep-alive connection, bounded
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IO_TIMEOUT)
                except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
                    return
                if len(head) > _MAX_HEAD:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                body = await asyncio.wait_for(reader.readexactly(length), _IO_TIMEOUT)
                request = Received(method, target, headers, body, head)
                self.requests.append(request)
                answer = await self.handler(request)
                if answer is None:
                    reset(writer)
                    return
                if isinstance(answer, Stall):
                    with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
                        await asyncio.wait_for(reader.read(), min(answer.seconds, _MAX_STALL))
                    return
                writer.write(answer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()

"""A loopback HTTP/1.1 proxy that injects faults in front of a real S3 server (tests only).

```python
async with FaultProxy(server.endpoint_url) as proxy:
    proxy.inject(respond(500), reset_after_body(method="PUT"))
    async with R2Client(**{**server.client_kwargs, "endpoint_url": proxy.endpoint_url}) as r2:
        await r2.put_object(bucket, "k", b"data")   # 500, then reset, then the real answer
```

Each request that arrives takes the first queued fault whose ``method``/``path`` filter
matches, and whose ``range`` (a prefix of the request's ``Range`` header, e.g.
``"bytes=5242880-"``) does when given (or is forwarded untouched when none does). Faults:

- ``respond(status, code)``: answer with an S3 ``<Error>`` document without forwarding;
  ``slow_down(retry_after)`` is the 503 ``SlowDown`` + ``Retry-After`` variant.
- ``reset_before_body()``: read the request head, then reset the connection (RST) without
  reading the body or forwarding anything.
- ``reset_after_body()``: forward the whole request, let the server act on it, then reset the
  connection instead of returning the answer (the "lost response").
- ``truncate(keep)``: forward, relay the answer's head and only ``keep`` body bytes, close.
- ``reset_during_body(keep)``: forward, relay the answer's head and only ``keep`` body bytes,
  then reset the connection (RST) mid-body.
- ``stall(seconds)``: read the request, answer nothing until the client hangs up or
  ``seconds`` pass (bounded), then close.
- ``stall_during_body(keep, seconds)``: forward, relay the answer's head and ``keep`` body
  bytes, then send nothing more until the client hangs up or ``seconds`` pass, then close.

``proxy.stalled`` is set when either stall starts holding a request.

The Host header is passed through unchanged, so SigV4 signatures made for the proxy's address
verify upstream. Only what r2async sends is supported: requests carry ``Content-Length``;
answers may use ``Content-Length``, chunked encoding or close-delimited bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field
from types import TracebackType

import httpx

# Bounds for every loop and wait in the proxy: it must never hang a test.
_MAX_HEAD = 64 * 1024
_IO_TIMEOUT = 30.0
_MAX_STALL = 10.0


@dataclass
class Fault:
    """One fault to inject into the next matching request."""

    kind: str
    status: int = 500
    code: str = "InternalError"
    headers: dict[str, str] = field(default_factory=dict)
    keep: int = 0
    seconds: float = 0.0
    method: str | None = None
    path: str | None = None
    range: str | None = None

    def matches(self, method: str, path: str, range_header: str | None = None) -> bool:
        """Whether this fault applies to a request (its line and its Range header)."""
        if self.method is not None and self.method != method:
            return False
        if self.range is not None and not (range_header or "").startswith(self.range):
            return False
        return self.path is None or self.path in path

    @property
    def name(self) -> str:
        """A short label, e.g. 'respond-500-InternalError'."""
        if self.kind == "respond":
            return f"respond-{self.status}-{self.code}"
        return self.kind


def respond(
    status: int = 500,
    code: str = "InternalError",
    *,
    headers: dict[str, str] | None = None,
    method: str | None = None,
    path: str | None = None,
    range: str | None = None,
) -> Fault:
    """Answer with an S3 error document instead of forwarding (the connection stays open)."""
    return Fault(
        "respond",
        status=status,
        code=code,
        headers=dict(headers or {}),
        method=method,
        path=path,
        range=range,
    )


def slow_down(
    retry_after: str = "1", *, method: str | None = None, path: str | None = None
) -> Fault:
    """503 SlowDown with a Retry-After header."""
    return respond(503, "SlowDown", headers={"Retry-After": retry_after}, method=method, path=path)


def reset_before_body(*, method: str | None = None, path: str | None = None) -> Fault:
    """Reset the connection after the request head, before reading the body."""
    return Fault("reset_before_body", method=method, path=path)


def reset_after_body(
    *, method: str | None = None, path: str | None = None, range: str | None = None
) -> Fault:
    """Forward the request, then reset instead of returning the server's answer."""
    return Fault("reset_after_body", method=method, path=path, range=range)


def truncate(
    keep: int, *, method: str | None = None, path: str | None = None, range: str | None = None
) -> Fault:
    """Forward, then relay the answer's head and only ``keep`` bytes of its body."""
    return Fault("truncate", keep=keep, method=method, path=path, range=range)


def reset_during_body(
    keep: int, *, method: str | None = None, path: str | None = None, range: str | None = None
) -> Fault:
    """Forward, relay the answer's head and only ``keep`` bytes of its body, then reset."""
    return Fault("reset_during_body", keep=keep, method=method, path=path, range=range)


def stall(
    seconds: float, *, method: str | None = None, path: str | None = None, range: str | None = None
) -> Fault:
    """Read the request and answer nothing for up to ``seconds`` (at most 10)."""
    return Fault("stall", seconds=min(seconds, _MAX_STALL), method=method, path=path, range=range)


def stall_during_body(
    keep: int,
    seconds: float,
    *,
    method: str | None = None,
    path: str | None = None,
    range: str | None = None,
) -> Fault:
    """Forward, relay the head and ``keep`` body bytes, then stall for up to ``seconds``."""
    return Fault(
        "stall_during_body",
        keep=keep,
        seconds=min(seconds, _MAX_STALL),
        method=method,
        path=path,
        range=range,
    )


@dataclass
class _Message:
    head: bytes
    first_line: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


def _parse_head(head: bytes) -> _Message:
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
    return _Message(head, lines[0], headers)


async def _read_head(reader: asyncio.StreamReader) -> _Message | None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _IO_TIMEOUT)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None  # the peer closed an idle keep-alive connection
    if len(head) > _MAX_HEAD:
        raise ValueError("HTTP head too large")
    return _parse_head(head)


async def _read_body(
    reader: asyncio.StreamReader, msg: _Message, *, response: bool, head_request: bool = False
) -> tuple[bytes, bool]:
    """The raw body bytes as framed on the wire, and whether the body ended with the stream."""
    if response:
        status = int(msg.first_line.split(" ", 2)[1])
        if head_request or status in (204, 304) or 100 <= status < 200:
            return b"", False
    if (msg.header("transfer-encoding") or "").lower() == "chunked":
        raw = bytearray()
        for _ in range(1_000_000):
            line = await asyncio.wait_for(reader.readuntil(b"\r\n"), _IO_TIMEOUT)
            raw += line
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                for _ in range(1000):  # trailers, then the blank line
                    trailer = await asyncio.wait_for(reader.readuntil(b"\r\n"), _IO_TIMEOUT)
                    raw += trailer
                    if trailer == b"\r\n":
                        return bytes(raw), False
                raise ValueError("too many trailers")
            raw += await asyncio.wait_for(reader.readexactly(size + 2), _IO_TIMEOUT)
        raise ValueError("too many chunks")
    length = msg.header("content-length")
    if length is not None:
        return await asyncio.wait_for(reader.readexactly(int(length)), _IO_TIMEOUT), False
    if not response:
        return b"", False
    return await asyncio.wait_for(reader.read(), _IO_TIMEOUT), True


def _error_document(status: int, code: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>injected fault {status} {code}</Message>"
        "<RequestId>FAULT-PROXY</RequestId></Error>"
    ).encode()


def _reset(writer: asyncio.StreamWriter) -> None:
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """The proxy; use ``async with FaultProxy(upstream_url) as proxy``."""

    def __init__(self, upstream_url: str) -> None:
        """Prepare a proxy for ``upstream_url`` (an http:// URL on loopback)."""
        url = httpx.URL(upstream_url)
        assert url.scheme == "http" and url.host and url.port
        self._upstream = (url.host, url.port)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._faults: list[Fault] = []
        self.port = 0
        self.applied: list[tuple[str, str, str]] = []
        self.forwarded: list[tuple[str, str]] = []
        # Every request that arrived: (method, path, Range header, If-Match header).
        self.requests: list[tuple[str, str, str | None, str | None]] = []
        # Set when a stall fault starts holding a request: a test can act while it hangs.
        self.stalled = asyncio.Event()
        self.connections = 0

    @property
    def endpoint_url(self) -> str:
        """The URL clients should use instead of the upstream's."""
        return f"http://127.0.0.1:{self.port}"

    def inject(self, *faults: Fault) -> None:
        """Queue faults; each is used once, by the first request it matches."""
        self._faults.extend(faults)

    @property
    def pending(self) -> list[Fault]:
        """Faults queued but not used yet."""
        return list(self._faults)

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop listening, end every connection, and wait for the handlers to finish."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def _take(self, method: str, path: str, range_header: str | None = None) -> Fault | None:
        for i, fault in enumerate(self._faults):
            if fault.matches(method, path, range_header):
                del self._faults[i]
                self.applied.append((fault.name, method, path))
                return fault
        return None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self._writers.add(writer)
        self.connections += 1
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            for _ in range(100_000):  # requests on one keep-alive connection
                upstream, keep_open = await self._one_request(reader, writer, upstream)
                if not keep_open:
                    break
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
            pass  # the client went away mid-request, or a fault closed the connection
        finally:
            if upstream is not None:
                upstream[1].transport.abort()
                self._writers.discard(upstream[1])
            if not writer.transport.is_closing():
                writer.close()
            self._writers.discard(writer)
            self._tasks.discard(task)  # type: ignore[arg-type]

    async def _one_request(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
    ) -> tuple[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None, bool]:
        request = await _read_head(reader)
        if request is None:
            return upstream, False
        method, path = request.first_line.split(" ")[:2]
        self.requests.append((method, path, request.header("range"), request.header("if-match")))
        fault = self._take(method, path, request.header("range"))
        if fault is not None and fault.kind == "reset_before_body":
            _reset(writer)
            return upstream, False
        body, _ = await _read_body(reader, request, response=False)
        client_close = (request.header("connection") or "").lower() == "close"
        if fault is not None and fault.kind == "respond":
            content = _error_document(fault.status, fault.code)
            extra = "".join(f"{k}: {v}\r\n" for k, v in fault.headers.items())
            writer.write(
                (
                    f"HTTP/1.1 {fault.status} Injected\r\nContent-Type: application/xml\r\n"
                    f"Content-Length: {len(content)}\r\nx-amz-request-id: FAULT-PROXY\r\n"
                    f"{extra}\r\n"
                ).encode()
                + (b"" if method == "HEAD" else content)
            )
            await writer.drain()
            return upstream, not client_close
        if fault is not None and fault.kind == "stall":
            self.stalled.set()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(1), fault.seconds)
            return upstream, False
        if upstream is None:
            upstream = await asyncio.wait_for(asyncio.open_connection(*self._upstream), _IO_TIMEOUT)
            self._writers.add(upstream[1])
        up_reader, up_writer = upstream
        up_writer.write(request.head + body)
        await up_writer.drain()
        response = await _read_head(up_reader)
        if response is None:
            raise ValueError("upstream closed without answering")
        content, eof = await _read_body(
            up_reader, response, response=True, head_request=method == "HEAD"
        )
        self.forwarded.append((method, path))
        server_close = eof or (response.header("connection") or "").lower() == "close"
        if fault is not None and fault.kind == "reset_after_body":
            _reset(writer)
            return upstream, False
        if fault is not None and fault.kind in (
            "truncate",
            "reset_during_body",
            "stall_during_body",
        ):
            writer.write(response.head + content[: fault.keep])
            await writer.drain()
            if fault.kind == "reset_during_body":
                _reset(writer)
            elif fault.kind == "stall_during_body":
                self.stalled.set()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(reader.read(1), fault.seconds)
            return upstream, False
        writer.write(response.head + content)
        await writer.drain()
        if server_close:
            up_writer.transport.abort()
            self._writers.discard(up_writer)
            return None, False
        return upstream, not client_close


# A throwaway self-signed certificate for 127.0.0.1/localhost, for TLS tests only (the key
# protects nothing). Valid until 2126.
SELF_SIGNED_PEM = """-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUVT6dJVdN0oE/awMpZvw1eyoHS0wwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNjAyMjEwMVoYDzIxMjYxMTAy
MDIyMTAxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARDTmFFW3XVlU7kRikCZ+nlaPFGVPCf/FHx6aX4zSbNk2tl3qzjk8Td
l4FT2PACvROhNS7u3dfnWKgiWqXuN5nmo28wbTAdBgNVHQ4EFgQUq1Bg01T+hQjk
HOuXn+37ZmlncuYwHwYDVR0jBBgwFoAUq1Bg01T+hQjkHOuXn+37ZmlncuYwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSAAwRQIgaeiRqIA/ZHDi1j4H5FtTE9zhdVsyqWH5DFqCJygC3YwCIQC2
3t1fpJG3i8DUsTMV43qC0FNWyn/aFNGFiuM/s4aFvQ==
-----END CERTIFICATE-----
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcjMi+bHpHi5VvTnS
TP1tG8LmxSE936PAcBSV4QZvP6ChRANCAARDTmFFW3XVlU7kRikCZ+nlaPFGVPCf
/FHx6aX4zSbNk2tl3qzjk8Tdl4FT2PACvROhNS7u3dfnWKgiWqXuN5nm
-----END PRIVATE KEY-----
"""


class TLSServer:
    """A minimal HTTPS server on 127.0.0.1 with the self-signed certificate above.

    Answers every request with ``204 No Content`` and counts TLS handshakes that completed.
    """

    def __init__(self, tmp_path: str) -> None:
        """Prepare the server; ``tmp_path`` is a directory for the PEM file."""
        import os
        import ssl

        self.pem_path = os.path.join(tmp_path, "selfsigned.pem")
        with open(self.pem_path, "w") as f:
            f.write(SELF_SIGNED_PEM)
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ctx.load_cert_chain(self.pem_path)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.requests = 0

    @property
    def url(self) -> str:
        """The server's https:// URL."""
        return f"https://127.0.0.1:{self.port}"

    def trusting_context(self) -> object:
        """An SSL context for clients that trusts this server's certificate."""
        import ssl

        return ssl.create_default_context(cafile=self.pem_path)

    async def __aenter__(self) -> TLSServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._ctx)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)  # type: ignore[arg-type]
        try:
            request = await _read_head(reader)
            if request is not None:
                await _read_body(reader, request, response=False)
                self.requests += 1
                writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
            pass
        finally:
            writer.transport.abort()
            self._tasks.discard(task)  # type: ignore[arg-type]

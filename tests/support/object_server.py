"""A loopback S3-like object server that misbehaves on request (tests of transfers only).

```python
async with ObjectServer() as server:
    server.put("k", data)
    server.policy = lambda n, start, end: "endless" if n > 1 else "normal"
    async with R2Client(**server.client_kwargs) as r2:
        ...
```

It serves GET (with ``Range``; ``If-Match`` is ignored), PutObject, and the multipart calls
of an upload (CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
AbortMultipartUpload), without checking signatures. ``policy(n, start, end)`` (``n`` counts
GETs from 1; ``end`` is None without a Range) says how to answer each GET:

- ``"normal"``: 206 (or 200 without a Range) with ``Content-Range``, ``Content-Length``, ETag.
- ``"full200"``: ignore ``Range``: 200 with the whole object (a server without range support).
- ``"endless"``: 206 with the asked ``Content-Range`` but a chunked body that never ends (the
  server stops after ``endless_limit`` bytes, or when the client hangs up).
- ``"swap"``: answer from ``other`` (another version, other ETag), ignoring ``If-Match``.
- ``"hold"``: send the head and the first ``hold_bytes`` body bytes, then wait until the
  client hangs up (bounded by ``hold_seconds``).

HEAD (with ``partNumber``) answers the object's ETag and length, or, for a key in
``part1_sizes``, part 1's length (a multipart object); a key in ``parts_counts`` adds
``x-amz-mp-parts-count``. ``heads`` records each HEAD's target and ``If-Match``. Faking an
ETag in ``etags`` (the MD5 of other bytes) serves a corrupt body with a plain-MD5 ETag.

``hold_create`` (an ``asyncio.Event``) delays the answer to CreateMultipartUpload, after the
upload was created, until it is set: a cancellation can land while the request is in flight.
``uploads`` holds the multipart uploads in progress; ``body_bytes_sent`` counts GET body
bytes written per request. Every loop is bounded; loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from collections.abc import Callable
from typing import Any

from tests.support.r2_answers import LAST_MODIFIED

_MAX_HEAD = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def etag_of(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


class ObjectServer:
    """See the module docstring."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.other: dict[str, bytes] = {}
        self.etags: dict[str, str] = {}  # a fixed ETag for a key (e.g. a multipart-style one)
        self.other_etags: dict[str, str] = {}  # the same for the ``other`` version
        self.part1_sizes: dict[str, int] = {}  # HEAD ?partNumber=1: part 1's length
        self.parts_counts: dict[str, int] = {}  # HEAD ?partNumber=1: x-amz-mp-parts-count
        self.head_status: int | None = None  # answer every HEAD with this status instead
        self.heads: list[tuple[str, str | None]] = []  # (target, If-Match) of each HEAD
        self.policy: Callable[[int, int | None, int | None], str] = lambda n, s, e: "normal"
        self.endless_limit = 256 * 1024 * 1024
        self.hold_bytes = 0
        self.hold_seconds = 30.0
        self.hold_create: asyncio.Event | None = None
        self.create_arrived = asyncio.Event()
        self.uploads: dict[str, str] = {}  # upload id -> key
        self.aborted: list[str] = []
        self.gets = 0
        self.body_bytes_sent: list[int] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self.port = 0

    def put(self, key: str, data: bytes, other: bytes | None = None) -> None:
        """Store ``data`` at ``key`` (and ``other`` as the version ``"swap"`` answers from)."""
        self.objects[key] = data
        if other is not None:
            self.other[key] = other

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def client_kwargs(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "access_key_id": "test-key",
            "secret_access_key": "test-secret",
            "max_retries": 0,
        }

    async def __aenter__(self) -> ObjectServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._handlers):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            for _ in range(10_000):  # bounded keep-alive
                head = await self._read_head(reader)
                if head is None:
                    return
                method, target, headers = head
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                if not await self._answer(method, target, headers, body, reader, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._writers.discard(writer)
            self._handlers.discard(task)
            writer.close()

    async def _read_head(
        self, reader: asyncio.StreamReader
    ) -> tuple[str, str, dict[str, str]] | None:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return None
        if len(raw) > _MAX_HEAD:
            return None
        lines = raw.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        return method, target, headers

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        headers: dict[str, str],
        body: bytes = b"",
    ) -> None:
        reason = {200: "OK", 204: "No Content", 206: "Partial Content", 404: "Not Found"}
        lines = [f"HTTP/1.1 {status} {reason.get(status, 'Error')}"]
        if "transfer-encoding" not in headers and "content-length" not in headers:
            headers = {"content-length": str(len(body)), **headers}
        if 200 <= status < 300 and "last-modified" not in headers:
            # R2 sends it with every object (r2async refuses an object answer without it).
            headers = {**headers, "last-modified": LAST_MODIFIED}
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        # In slices: the server's own buffers stay small (tests measure the client's memory).
        view = memoryview(body)
        for offset in range(0, len(view), 256 * 1024):  # bounded by the body
            writer.write(view[offset : offset + 256 * 1024])
            await writer.drain()
        await writer.drain()

    async def _answer(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        path, _, query = target.partition("?")
        key = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        if method == "POST" and query.startswith("uploads"):
            upload_id = uuid.uuid4().hex
            self.uploads[upload_id] = key
            self.create_arrived.set()
            if self.hold_create is not None:
                await self.hold_create.wait()
            xml = (
                "<InitiateMultipartUploadResult><Bucket>b</Bucket>"
                f"<Key>{key}</Key><UploadId>{upload_id}</UploadId>"
                "</InitiateMultipartUploadResult>"
            )
            await self._send(writer, 200, {"content-type": "application/xml"}, xml.encode())
            return True
        if method == "PUT" and "uploadId=" in query:
            await self._send(writer, 200, {"etag": etag_of(body)})
            return True
        if method == "DELETE" and "uploadId=" in query:
            upload_id = query.split("uploadId=")[1].split("&")[0]
            self.uploads.pop(upload_id, None)
            self.aborted.append(upload_id)
            await self._send(writer, 204, {})
            return True
        if method == "POST" and "uploadId=" in query:
            upload_id = query.split("uploadId=")[1].split("&")[0]
            self.uploads.pop(upload_id, None)
            xml = (
                "<CompleteMultipartUploadResult>"
                f"<ETag>{etag_of(b'')}</ETag></CompleteMultipartUploadResult>"
            )
            await self._send(writer, 200, {"content-type": "application/xml"}, xml.encode())
            return True
        if method == "PUT" and not query:  # PutObject: stored as sent
            self.objects[key] = body
            await self._send(writer, 200, {"etag": etag_of(body)})
            return True
        if method == "GET":
            return await self._get(key, headers, reader, writer)
        if method == "HEAD":
            await self._head(key, query, headers, writer)
            return True
        await self._send(writer, 404, {})
        return True

    async def _get(
        self,
        key: str,
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        self.gets += 1
        n = self.gets
        data = self.objects.get(key)
        if data is None:
            await self._send(writer, 404, {})
            return True
        m = _RANGE.match(headers.get("range", ""))
        start = int(m.group(1)) if m else None
        end = (int(m.group(2)) if m.group(2) else len(data) - 1) if m else None
        action = self.policy(n, start, end)
        etag = self.etags.get(key) or etag_of(data)
        if action == "swap":
            data = self.other.get(key, data)
            etag = self.other_etags.get(key) or self.etags.get(key) or etag_of(data)
        if action == "full200" or start is None:
            self.body_bytes_sent.append(len(data))
            await self._send(writer, 200, {"etag": etag}, data)
            return True
        assert end is not None
        end = min(end, len(data) - 1)
        span = {"etag": etag, "content-range": f"bytes {start}-{end}/{len(data)}"}
        if action == "endless":
            await self._endless(writer, span)
            return False
        piece = data[start : end + 1]
        if action == "hold":
            sent = min(self.hold_bytes, len(piece))
            head = {"content-length": str(len(piece)), **span}
            await self._send(writer, 206, head, piece[:sent])
            self.body_bytes_sent.append(sent)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(reader.read(1), self.hold_seconds)  # EOF: it hung up
            return False
        self.body_bytes_sent.append(len(piece))
        await self._send(writer, 206, span, piece)
        return True

    async def _head(
        self, key: str, query: str, headers: dict[str, str], writer: asyncio.StreamWriter
    ) -> None:
        self.heads.append((f"{key}?{query}" if query else key, headers.get("if-match")))
        data = self.objects.get(key)
        if self.head_status is not None or data is None:
            await self._send(writer, self.head_status or 404, {})
            return
        length = len(data)
        if "partNumber=" in query:
            length = self.part1_sizes.get(key, length)
        # A HEAD's Content-Length is the GET's, with no body after the head (_send adds the
        # Last-Modified R2 always sends).
        answer = {"content-length": str(length), "etag": self.etags.get(key) or etag_of(data)}
        if "partNumber=" in query and key in self.parts_counts:
            answer["x-amz-mp-parts-count"] = str(self.parts_counts[key])
        await self._send(writer, 200, answer)

    async def _endless(self, writer: asyncio.StreamWriter, span: dict[str, str]) -> None:
        await self._send(writer, 206, {**span, "transfer-encoding": "chunked"})
        chunk = b"x" * (256 * 1024)
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        sent = 0
        try:
            while sent < self.endless_limit:  # bounded, and stops when the client hangs up
                writer.write(frame)
                await writer.drain()
                sent += len(chunk)
        finally:
            self.body_bytes_sent.append(sent)


def busy_connections(client: Any) -> int:
    """Connections a client's transport holds for a response not yet closed (either transport)."""
    transport = client._shared.transport
    pool = getattr(transport, "pool", None)
    if pool is not None:  # the default transport: r2async's own pool
        return int(pool.in_use)
    session = getattr(transport, "_session", None)
    if session is None or session.connector is None:  # aiohttp, before its first request
        return 0
    return len(session.connector._acquired)


def open_fds(under: str | None = None) -> set[str]:
    """The descriptors this process has open (Linux), or only those of files ``under`` a path."""
    import os

    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile (the listing's own descriptor)
            continue
        if under is None or target.startswith(under):
            found.add(f"{fd} -> {target}")
    return found

"""A minimal S3-shaped HTTP/1.1 server for benchmarks: answers fast so client cost shows alone.

Run: ``python benchmarks/sink.py [--port 0] [--tls-cert PEM --tls-key PEM]``; it prints
``PORT <n>`` once listening and serves until killed (over TLS with the two files: R2 speaks
only HTTPS, and the benchmark runs every row both ways). The benchmark runner starts it in
its own process, so its CPU time never counts as client CPU.

What it answers (no authentication is checked; signatures are the clients' cost, not its):

* ``PUT /bucket/key``: reads and discards the body, remembers only its length, answers
  200 with an ``ETag``. ``PUT /bucket`` (create bucket) answers 200.
* ``GET /bucket/key`` and ``HEAD``: the remembered length of zero bytes (objects never PUT
  are 1 KiB), with ``Content-Length``, ``ETag``, ``Last-Modified`` and ``Content-Type``.
* ``GET /bucket?list-type=2`` (or any GET of a bucket): one canned page of 1,000 keys
  (``ListObjectsV2``, or V1 without ``list-type``), the same bytes every time.
* ``GET /bucket?location``: a ``LocationConstraint`` document (some clients ask first).
* Multipart uploads (``POST ?uploads``, ``PUT ?partNumber&uploadId``, ``POST ?uploadId``):
  the part lengths add up to the object's.
* A GET of ``key~w<N>`` serves ``key``'s object written in ``N``-byte pieces instead of the
  default 1 MiB ones: the server's write pattern changes what a client's reads see (many
  small TLS records and segments, as from a server that writes 16-32 KiB at a time).
* ``DELETE``: 204. Any other ``POST``: 200 with an empty ``<Result/>`` document.

It speaks HTTP/1.1 keep-alive with ``Content-Length`` or chunked request bodies, answers
``Expect: 100-continue``, and writes large bodies under transport flow control, so serving
a 64 MiB object holds one shared buffer, never a copy per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import socket
import ssl
import sys
from typing import ClassVar

LIST_KEYS = 1000
DEFAULT_SIZE = 1024
MAX_SIZE = 1 << 31
# One shared read-only buffer serves every GET; slices of a memoryview cost no copy.
_ZEROS = bytearray(64 * 1024 * 1024)
_ZEROS_VIEW = memoryview(_ZEROS)
_WRITE_PIECE = 1024 * 1024
_LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
_ETAG_OF_SIZE: dict[int, str] = {}


def _etag(size: int) -> str:
    """The MD5 of what a GET serves (``size`` zero bytes), as R2's single-part ETag is.

    Clients compare a whole-object read with it (r2async does by default), so it must be
    the real digest; computed once per size (zeros hash at ~1 GB/s).
    """
    etag = _ETAG_OF_SIZE.get(size)
    if etag is None:
        digest = hashlib.md5(usedforsecurity=False)
        left = size
        while left > 0:  # bounded: size <= MAX_SIZE
            take = min(left, len(_ZEROS_VIEW))
            digest.update(_ZEROS_VIEW[:take])
            left -= take
        etag = '"' + digest.hexdigest() + '"'
        _ETAG_OF_SIZE[size] = etag
    return etag


def _listing(bucket: str, v2: bool, encoded: bool = False) -> bytes:
    items = []
    for i in range(LIST_KEYS):
        items.append(
            f"<Contents><Key>data/2025/01/01/object-{i:06d}.json</Key>"
            f"<LastModified>2025-01-01T00:00:{i % 60:02d}.000Z</LastModified>"
            f'<ETag>"{hashlib.md5(str(i).encode()).hexdigest()}"</ETag>'
            f"<Size>{1000 + i}</Size><StorageClass>STANDARD</StorageClass></Contents>"
        )
    # Keys here need no escaping, so an encoding-type=url answer only says so.
    encoding = "<EncodingType>url</EncodingType>" if encoded else ""
    if v2:
        head = (
            f"<Name>{bucket}</Name>{encoding}<Prefix></Prefix><KeyCount>{LIST_KEYS}</KeyCount>"
            f"<MaxKeys>{LIST_KEYS}</MaxKeys><IsTruncated>false</IsTruncated>"
        )
    else:
        head = (
            f"<Name>{bucket}</Name>{encoding}<Prefix></Prefix><Marker></Marker>"
            f"<MaxKeys>{LIST_KEYS}</MaxKeys><IsTruncated>false</IsTruncated>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        + head
        + "".join(items)
        + "</ListBucketResult>"
    ).encode()


def _has_flag(query: str, name: str) -> bool:
    return any(part.partition("=")[0] == name for part in query.split("&"))


def _param(query: str, name: str) -> str:
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == name:
            return value
    return ""


_LISTINGS: dict[tuple[str, bool, bool], bytes] = {}
_LOCATION = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">auto'
    b"</LocationConstraint>"
)


class SinkProtocol(asyncio.Protocol):
    """One connection: parse requests from a byte buffer, answer from memory."""

    # Object sizes by path, shared by all connections (the one process serves one run).
    sizes: ClassVar[dict[str, int]] = {}

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        # Body state of the request being read: bytes still to discard, or chunked.
        self.remaining = 0
        self.chunked = False
        self.request: tuple[str, str, dict[str, str]] | None = None
        self.received = 0
        self.can_write = asyncio.Event()
        self.can_write.set()
        self.writer_busy = False
        self.pending: list[tuple[bytes, int, int]] = []
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def pause_writing(self) -> None:
        self.can_write.clear()

    def resume_writing(self) -> None:
        self.can_write.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.can_write.set()

    def data_received(self, data: bytes) -> None:
        if self.request is not None and not self.chunked and not self.buf:
            # Fast path for large bodies: count bytes, keep nothing.
            take = min(self.remaining, len(data))
            self.remaining -= take
            self.received += take
            if self.remaining:
                return
            data = data[take:]
            self._finish()
            if not data:
                return
        self.buf += data
        self._process()

    def _process(self) -> None:
        for _ in range(10_000):  # bounded: one pass per pipelined request in the buffer
            if self.request is None:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buf) > 65536:
                        self._bad()
                    return
                head = bytes(self.buf[:end]).decode("latin-1")
                del self.buf[: end + 4]
                lines = head.split("\r\n")
                try:
                    method, target, _ = lines[0].split(" ", 2)
                except ValueError:
                    self._bad()
                    return
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.request = (method, target, headers)
                self.received = 0
                self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()
                self.remaining = 0 if self.chunked else int(headers.get("content-length") or 0)
                if headers.get("expect", "").lower() == "100-continue" and self.transport:
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            if self.chunked:
                if not self._read_chunks():
                    return
            else:
                take = min(self.remaining, len(self.buf))
                if take:
                    del self.buf[:take]
                    self.remaining -= take
                    self.received += take
                if self.remaining:
                    return
            self._finish()
            if not self.buf:
                return

    def _read_chunks(self) -> bool:
        # Returns True once the last chunk (and trailers) are consumed.
        for _ in range(1_000_000):
            if self.remaining:
                take = min(self.remaining, len(self.buf))
                del self.buf[:take]
                self.remaining -= take
                self.received += take
                if self.remaining:
                    return False
                # The CRLF after the chunk data.
                self.remaining = -2
            if self.remaining == -2:
                if len(self.buf) < 2:
                    return False
                del self.buf[:2]
                self.remaining = 0
            end = self.buf.find(b"\r\n")
            if end < 0:
                return False
            size = int(bytes(self.buf[:end]).split(b";")[0], 16)
            del self.buf[: end + 2]
            if size == 0:
                tail = self.buf.find(b"\r\n")
                # Trailers end with an empty line; usually there are none.
                while tail > 0:
                    del self.buf[: tail + 2]
                    tail = self.buf.find(b"\r\n")
                if tail < 0:
                    return False
                del self.buf[:2]
                return True
            self.remaining = size
        return False

    def _bad(self) -> None:
        if self.transport:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            self.transport.close()

    def _finish(self) -> None:
        assert self.request is not None
        method, target, _ = self.request
        self.request = None
        self.chunked = False
        path, _, query = target.partition("?")
        parts = path.lstrip("/").split("/", 1)
        bucket = parts[0]
        key = parts[1] if len(parts) > 1 and parts[1] else None
        extra = ""
        body: bytes | memoryview = b""
        status = "200 OK"
        ctype = "application/xml"
        length: int | None = None
        if method == "PUT":
            if key is not None and "partNumber=" in query and "uploadId=" in query:
                upload = path + "?" + _param(query, "uploadId")
                self.sizes[upload] = self.sizes.get(upload, 0) + self.received
            elif key is not None:
                self.sizes[path] = self.received
            extra = f"ETag: {_etag(self.received)}\r\n"
        elif method in ("GET", "HEAD") and key is not None:
            piece = _WRITE_PIECE
            if "~w" in path:
                stem, _, tail = path.rpartition("~w")
                if tail.isdigit() and int(tail) > 0:
                    path, piece = stem, int(tail)
            size = self.sizes.get(path, DEFAULT_SIZE)
            length = size
            ctype = "application/octet-stream"
            extra = f"ETag: {_etag(size)}\r\nLast-Modified: {_LAST_MODIFIED}\r\n"
            if method == "GET":
                self._send_object(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nContent-Type: {ctype}\r\n"
                    f"{extra}x-amz-request-id: sink\r\n\r\n".encode(),
                    size,
                    piece,
                )
                return
        elif method == "GET" and bucket and "location" in query:
            body = _LOCATION
        elif method == "GET":
            which = (bucket, "list-type=2" in query, "encoding-type=url" in query)
            body = _LISTINGS.get(which) or _LISTINGS.setdefault(which, _listing(*which))
        elif method == "DELETE":
            status = "204 No Content"
            length = None
        elif method == "POST" and key is not None and _has_flag(query, "uploads"):
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<InitiateMultipartUploadResult>'
                f"<Bucket>{bucket}</Bucket><Key>{key}</Key><UploadId>u{id(self)}</UploadId>"
                "</InitiateMultipartUploadResult>"
            ).encode()
        elif method == "POST" and key is not None and "uploadId=" in query:
            upload = path + "?" + _param(query, "uploadId")
            self.sizes[path] = self.sizes.pop(upload, 0)
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult>'
                f"<Bucket>{bucket}</Bucket><Key>{key}</Key><ETag>{_etag(self.sizes[path])}</ETag>"
                "</CompleteMultipartUploadResult>"
            ).encode()
        elif method == "POST":
            body = b'<?xml version="1.0" encoding="UTF-8"?>\n<Result/>'
        if method == "HEAD" and key is None:
            length = 0
        if length is None:
            length = len(body)
        head = (
            f"HTTP/1.1 {status}\r\n"
            + (f"Content-Length: {length}\r\n" if status != "204 No Content" else "")
            + f"Content-Type: {ctype}\r\n{extra}x-amz-request-id: sink\r\n\r\n"
        ).encode()
        self._write(head + bytes(body) if method != "HEAD" else head, 0)

    def _send_object(self, head: bytes, size: int, piece: int = _WRITE_PIECE) -> None:
        if size <= piece:
            self._write(head + bytes(_ZEROS_VIEW[:size]), 0)
        else:
            self._write(head, size, piece)

    def _write(self, data: bytes, zeros: int, piece: int = _WRITE_PIECE) -> None:
        # Responses leave in request order: behind a large body still being written, queue.
        if not zeros and not self.writer_busy:
            if self.transport is not None:
                self.transport.write(data)
            return
        self.pending.append((data, zeros, piece))
        if not self.writer_busy:
            self.writer_busy = True
            self.task = asyncio.get_running_loop().create_task(self._drain_pending())

    async def _drain_pending(self) -> None:
        try:
            while self.pending and self.transport is not None:
                head, size, piece = self.pending.pop(0)
                self.transport.write(head)
                sent = 0
                while sent < size and self.transport is not None:
                    await self.can_write.wait()
                    n = min(piece, size - sent, len(_ZEROS))
                    self.transport.write(_ZEROS_VIEW[:n])
                    sent += n
        finally:
            self.writer_busy = False


async def serve(host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        SinkProtocol, host, port, backlog=1024, reuse_address=True, ssl=tls
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="S3-shaped benchmark sink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    args = parser.parse_args(argv)
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            parser.error("--tls-cert and --tls-key go together")
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, tls))
    return 0


if __name__ == "__main__":
    sys.exit(main())

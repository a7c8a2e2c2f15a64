"""ObjectStream: an object's body as an async iterator that owns, and closes, its response."""

from __future__ import annotations

import io
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING

import httpx

from ._collect import BodyBuffer, release_view
from ._resume import ObjectBody, Reopen

if TYPE_CHECKING:
    from ._models import ObjectMetadata

# Reads of this size keep per-chunk overhead low without holding much memory.
DEFAULT_CHUNK = 256 * 1024


class ObjectStream:
    """The body of a GET, read incrementally with bounded memory.

    Use as ``async with r2.stream_object(bucket, key) as stream: async for chunk in stream``,
    or open it first with ``stream = await r2.open_object(bucket, key)`` (a missing key raises
    there) and hand it on, for example to a web framework's streaming response. ``metadata``
    describes the object. The stored bytes are yielded exactly (no content decoding), and a
    body shorter than its ``Content-Length`` raises instead of ending early. A body cut partway
    (a reset, a read timeout, a short body) is resumed from the first byte not yet received
    with a ranged GET pinned to the ETag, up to the client's ``max_retries`` times (see
    ``r2async._resume``); ``resumes`` counts those requests. The response is closed when the
    body has been read to the end, when reading it fails, on ``aclose()`` and on leaving
    ``async with``.
    """

    def __init__(
        self,
        opener: Callable[[], Awaitable[httpx.Response]],
        *,
        bucket: str,
        key: str,
        chunk_size: int = DEFAULT_CHUNK,
        reopen: Reopen | None = None,
        max_resumes: int = 0,
    ) -> None:
        """Prepare a stream; nothing is sent until ``async with``.

        Args:
            opener: sends the request and returns the open response.
            bucket: the bucket, for error messages.
            key: the key, for error messages.
            chunk_size: preferred size of yielded chunks in bytes (default 256 KiB).
            reopen: sends the pinned ranged GET that resumes a cut body (default None: a cut
                is raised).
            max_resumes: how many resumed requests may be sent in all (default 0).
        """
        self._opener = opener
        self._reopen = reopen
        self._max_resumes = max_resumes
        self._body: ObjectBody | None = None
        # The first response: its status and headers describe the object whatever resumes.
        self._first: httpx.Response | None = None
        self._metadata: ObjectMetadata | None = None
        self._received = 0
        self._consumed = False
        # The generator handed out by __aiter__, closed by aclose() when a caller stops early
        # (trio warns about async generators left to the garbage collector).
        self._iterator: AsyncGenerator[bytes, None] | None = None
        self.bucket = bucket
        self.key = key
        self.chunk_size = chunk_size

    async def __aenter__(self) -> ObjectStream:
        # Imported here: the result models (and pydantic) load on first use, not at import.
        from ._construct import construct
        from ._models import ObjectMetadata, object_metadata_fields

        if self._body is not None:
            # Already open (``async with await r2.open_object(...)``): nothing more to send.
            return self
        response = await self._opener()
        # Owned from this line: closed by aclose(), also when reading the metadata fails.
        self._first = response
        self._body = ObjectBody(
            response,
            reopen=self._reopen,
            max_resumes=self._max_resumes,
            bucket=self.bucket,
            key=self.key,
        )
        try:
            # Built without a validator, as get_object's result (see _construct).
            self._metadata = construct(
                ObjectMetadata, object_metadata_fields(response.headers, "GetObject")
            )
        except BaseException:
            # __aexit__ never runs when __aenter__ raises: the open response is closed here
            # (shielded from cancellation, bounded in time, by ObjectBody.aclose).
            await self._body.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying response (safe to call more than once)."""
        iterator, self._iterator = self._iterator, None
        try:
            if iterator is not None:
                await iterator.aclose()
        finally:
            if self._body is not None:
                await self._body.aclose()

    @property
    def metadata(self) -> ObjectMetadata:
        """The object's metadata (content length, type, ETag, user metadata...)."""
        if self._metadata is None:
            raise RuntimeError("use 'async with r2.stream_object(...) as stream' first")
        return self._metadata

    @property
    def status_code(self) -> int:
        """The response status: 200, or 206 for a range."""
        if self._first is None:
            raise RuntimeError("use 'async with r2.stream_object(...) as stream' first")
        return self._first.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response headers as received."""
        if self._first is None:
            raise RuntimeError("use 'async with r2.stream_object(...) as stream' first")
        return self._first.headers

    @property
    def bytes_received(self) -> int:
        """How many body bytes have been yielded so far."""
        return self._received

    @property
    def resumes(self) -> int:
        """How many requests were sent to resume a cut body (0 when it was never cut)."""
        return self._body.resumes if self._body is not None else 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._iterator = self.iter_bytes()
        return self._iterator

    async def iter_bytes(self, chunk_size: int | None = None) -> AsyncGenerator[bytes, None]:
        """Yield the body in chunks of about ``chunk_size`` bytes (default: the stream's).

        Args:
            chunk_size: preferred chunk size in bytes.
        """
        if self._body is None:
            raise RuntimeError("use 'async with r2.stream_object(...) as stream' first")
        if self._consumed:
            raise RuntimeError("the stream was already read; open a new one")
        self._consumed = True
        body = self._body
        size = chunk_size or self.chunk_size
        chunks: AsyncIterator[bytes] = (
            _FilledChunks(body, size) if body.direct_reads else _Rechunker(body, size)
        )
        try:
            async for chunk in chunks:
                self._received += len(chunk)
                yield chunk
        finally:
            # Read to the end, or failed: the connection goes back to the pool (or is
            # dropped) now, not when the caller gets round to aclose().
            await body.aclose()

    async def read(self) -> bytes:
        """Read the whole remaining body into memory."""
        body = self._body
        if body is None:
            raise RuntimeError("use 'async with r2.stream_object(...) as stream' first")
        remaining = body.remaining
        out = BodyBuffer(remaining)
        if remaining and not self._consumed:
            # Into one buffer, in place (the same ownership as iter_bytes).
            self._consumed = True
            try:
                await out.fill(body.readinto)
            finally:
                await body.aclose()
            self._received += out.received
            return out.value()
        async for chunk in self.iter_bytes():
            out.add(chunk)
        return out.value()


class _FilledChunks:
    """The body in chunks of exactly ``size`` bytes (the last one may be shorter), each
    received in place by the transport (``ObjectBody.readinto``).

    Each chunk is a ``bytes`` object allocated at its size and filled through a writable
    view (``BytesIO.getbuffer()`` of the only reference: no copy), so no byte is copied
    by Python on the way and no join is needed. A class rather than an async generator,
    like ``_Rechunker``.
    """

    def __init__(self, body: ObjectBody, size: int) -> None:
        self._body = body
        self._size = size

    def __aiter__(self) -> _FilledChunks:
        return self

    async def __anext__(self) -> bytes:
        body = self._body
        remaining = body.remaining
        want = self._size if remaining is None else min(self._size, remaining)
        if not want:
            # Declared length reached: the body confirms its end (no I/O when complete).
            tail = bytearray(1)
            if not await body.readinto(memoryview(tail)):
                raise StopAsyncIteration
            return bytes(tail)
        buf = io.BytesIO(bytes(want))
        whole = buf.getbuffer()
        pos = 0
        try:
            while pos < want:  # each pass places at least one byte, or ends
                view = whole[pos:]
                try:
                    n = await body.readinto(view)
                finally:
                    release_view(view)
                if not n:
                    break
                pos += n
        finally:
            release_view(whole)
        if not pos:
            raise StopAsyncIteration
        if pos < want:
            try:
                buf.truncate(pos)
            except BufferError:  # pragma: no cover - a view held by a failed read's frames
                return bytes(buf.getbuffer()[:pos])
        return buf.getvalue()


class _Rechunker:
    """The bytes of ``source`` in chunks of exactly ``size`` (the last one may be shorter).

    httpx's own re-chunking (``aiter_raw(chunk_size)``) copies every byte two or three times
    through a BytesIO, about 0.5 CPU-s per GiB streamed. Here a chunk that already has the
    size passes through untouched, and each output chunk is one join of the pieces it
    spans, the piece cut at its end only viewed (memoryview), so a byte is copied at most
    once. A class rather than an async generator: one abandoned mid-stream needs no
    finalising (trio warns about an async generator collected unexhausted).
    """

    def __init__(self, source: AsyncIterator[bytes], size: int) -> None:
        self._source = source
        self._size = size
        self._pieces: deque[bytes | memoryview] = deque()
        self._held = 0
        self._done = False

    def __aiter__(self) -> _Rechunker:
        return self

    async def __anext__(self) -> bytes:
        size = self._size
        while self._held < size and not self._done:  # bounded by the source's chunks
            try:
                chunk = await self._source.__anext__()
            except StopAsyncIteration:
                self._done = True
                break
            if not chunk:
                continue
            if not self._held and len(chunk) == size:
                return chunk
            self._pieces.append(chunk)
            self._held += len(chunk)
        if not self._held:
            raise StopAsyncIteration
        return self._take(min(size, self._held))

    def _take(self, count: int) -> bytes:
        pieces = self._pieces
        out: list[bytes | memoryview] = []
        need = count
        while need:  # bounded by the pieces held
            piece = pieces[0]
            if len(piece) <= need:
                out.append(pieces.popleft())
                need -= len(piece)
            else:
                view = memoryview(piece)
                out.append(view[:need])
                pieces[0] = view[need:]
                need = 0
        self._held -= count
        first = out[0]
        return first if len(out) == 1 and isinstance(first, bytes) else b"".join(out)

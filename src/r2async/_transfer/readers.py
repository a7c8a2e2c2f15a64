"""Upload sources: bytes, a caller's file object or an (async) iterable, read part by part."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import IO, Any

import anyio

from .._limits import MAX_OBJECT_SIZE
from .files import IO_CHUNK
from .options import _int_arg


class Reader:
    """A sequential source of bytes read part by part."""

    size: int | None = None

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the data."""
        raise NotImplementedError

    async def at_eof(self) -> bool:
        """Whether all data has been read."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release resources owned by the reader."""


class _BytesReader(Reader):
    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._view = memoryview(data).cast("B")
        self._pos = 0
        self.size = len(self._view)

    async def read(self, n: int) -> bytes:
        chunk = bytes(self._view[self._pos : self._pos + n])
        self._pos += len(chunk)
        return chunk

    async def at_eof(self) -> bool:
        return self._pos >= len(self._view)


class _FileReader(Reader):
    """A caller's binary file object, read in worker threads."""

    def __init__(self, file: IO[bytes], size: int | None) -> None:
        self._file = file
        self.size = size
        self._peeked = b""
        self._eof = False

    async def _read_some(self, n: int) -> bytes:
        data = await anyio.to_thread.run_sync(self._file.read, n)
        if data is None:  # a non-blocking file with nothing available: treat as a stall
            raise OSError("the file object returned None (non-blocking mode is not supported)")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("the file object must be opened in binary mode ('rb')")
        return bytes(data)

    async def read(self, n: int) -> bytes:
        parts = [self._peeked] if self._peeked else []
        have = len(self._peeked)
        self._peeked = b""
        # Bounded: each pass reads at least one byte or ends at EOF.
        while have < n and not self._eof:
            data = await self._read_some(min(IO_CHUNK, n - have))
            if not data:
                self._eof = True
                break
            parts.append(data)
            have += len(data)
        return b"".join(parts)

    async def at_eof(self) -> bool:
        if not self._peeked and not self._eof:
            self._peeked = await self._read_some(1)
            self._eof = not self._peeked
        return not self._peeked and self._eof


class _IterReader(Reader):
    """An (async) iterable of bytes, re-chunked into parts."""

    def __init__(self, source: AsyncIterable[bytes] | Iterable[bytes], size: int | None) -> None:
        self._source = source
        self._aiter: AsyncIterator[bytes] | None = None
        self._iter: Any = None
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self.size = size

    async def _next(self) -> bytes | None:
        if self._aiter is None and self._iter is None:
            if isinstance(self._source, AsyncIterable):
                self._aiter = self._source.__aiter__()
            else:
                self._iter = iter(self._source)
        try:
            if self._aiter is not None:
                chunk: object = await self._aiter.__anext__()
            else:
                chunk = next(self._iter)
        except (StopAsyncIteration, StopIteration):
            return None
        if isinstance(chunk, bytes):
            return chunk
        if isinstance(chunk, (bytearray, memoryview)):
            return bytes(chunk)
        raise TypeError(f"the stream must yield bytes, got {type(chunk).__name__}")

    async def _fill(self, n: int) -> None:
        # Bounded by the source: each pass consumes one item or ends.
        while self._buffered < n and not self._eof:
            chunk = await self._next()
            if chunk is None:
                self._eof = True
            elif chunk:
                self._buffer.append(chunk)
                self._buffered += len(chunk)

    async def read(self, n: int) -> bytes:
        await self._fill(n)
        data = b"".join(self._buffer)
        self._buffer = [data[n:]] if len(data) > n else []
        self._buffered = len(data) - n if len(data) > n else 0
        return data[:n]

    async def at_eof(self) -> bool:
        await self._fill(1)
        return self._buffered == 0

    async def close(self) -> None:
        aclose = getattr(self._aiter, "aclose", None)
        if aclose is not None:
            await aclose()


def make_reader(data: object, content_length: int | None, *, what: str) -> tuple[Reader, bool]:
    """A reader for ``upload_stream``/``upload_file`` data, and whether it is in memory."""
    if content_length is not None:
        _int_arg("content_length", content_length, 0, MAX_OBJECT_SIZE)
    if isinstance(data, str):
        raise TypeError(f"{what} takes bytes, not str: encode the text first")
    if isinstance(data, (bytes, bytearray, memoryview)):
        reader = _BytesReader(data)
        if content_length is not None and content_length != reader.size:
            raise ValueError(
                f"content_length={content_length} but the data has {reader.size} bytes; "
                "omit content_length for bytes"
            )
        return reader, True
    if hasattr(data, "read"):
        import io

        if isinstance(data, io.TextIOBase):
            raise TypeError("the file object must be opened in binary mode ('rb'), not text mode")
        size = content_length if content_length is not None else _remaining(data)
        return _FileReader(data, size), False  # type: ignore[arg-type]
    if isinstance(data, (AsyncIterable, Iterable)) and not isinstance(data, (dict, set)):
        return _IterReader(data, content_length), False
    raise TypeError(
        f"{what}: unsupported data type {type(data).__name__}; pass bytes, a binary file "
        "object, or an (async) iterable of bytes"
    )


def _remaining(f: Any) -> int | None:
    # Only a seekable regular file has a trustworthy size; pipes and sockets are unknown.
    try:
        if not f.seekable():
            return None
        pos = f.tell()
        end = f.seek(0, os.SEEK_END)
        f.seek(pos)
        return max(0, int(end) - int(pos))
    except (AttributeError, OSError, ValueError):
        return None

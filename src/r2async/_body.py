"""Request bodies: normalise what callers pass into something httpx can send, once or again."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import IO, Any

# Large enough that per-chunk overhead is negligible, small enough to keep memory flat.
FILE_CHUNK = 1024 * 1024

BodyLike = bytes | bytearray | memoryview | str | IO[bytes] | AsyncIterable[bytes] | Iterable[bytes]


class StreamLengthError(ValueError):
    """A streamed body produced a different number of bytes than its declared length."""


class Body:
    """A prepared request body of known length.

    ``content`` is set for in-memory bodies (signed with their SHA-256 and replayable);
    otherwise ``open()`` yields the bytes as an async iterator, once per attempt when
    ``replayable`` is true, only once otherwise.
    """

    __slots__ = (
        "_file",
        "_iterable",
        "_opened",
        "_start",
        "content",
        "length",
        "replayable",
        "why_not_replayable",
    )

    def __init__(
        self,
        *,
        length: int,
        content: bytes | None = None,
        file: IO[bytes] | None = None,
        iterable: AsyncIterable[bytes] | Iterable[bytes] | None = None,
        replayable: bool = True,
        why_not_replayable: str | None = None,
    ) -> None:
        self.length = length
        self.content = content
        self._file = file
        self._iterable = iterable
        self.replayable = replayable
        self.why_not_replayable = why_not_replayable
        self._opened = False
        self._start = 0
        if file is not None and replayable:
            self._start = file.tell()

    def open(self) -> bytes | AsyncIterator[bytes]:
        """The body for one attempt: bytes, or a fresh async iterator over the data."""
        if self.content is not None:
            return self.content
        if self._opened and not self.replayable:
            raise RuntimeError("this body is a one-shot stream and was already sent")
        first = not self._opened
        self._opened = True
        if self._file is not None:
            if not first:
                self._file.seek(self._start)
            return _checked(_read_file(self._file, self.length), self.length)
        assert self._iterable is not None
        return _checked(_iterate(self._iterable), self.length)


async def _read_file(f: IO[bytes], length: int) -> AsyncIterator[bytes]:
    # Blocking reads go to a worker thread so a slow disk never stalls the event loop.
    from anyio import to_thread

    remaining = length
    while remaining > 0:
        chunk = await to_thread.run_sync(f.read, min(FILE_CHUNK, remaining))
        if not chunk:
            break
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError("the file object must be opened in binary mode ('rb')")
        remaining -= len(chunk)
        yield bytes(chunk)


async def _iterate(source: AsyncIterable[bytes] | Iterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(source, AsyncIterable):
        async for chunk in source:
            yield _chunk_bytes(chunk)
    else:
        for chunk in source:
            yield _chunk_bytes(chunk)


def _chunk_bytes(chunk: object) -> bytes:
    if isinstance(chunk, bytes):
        return chunk
    if isinstance(chunk, (bytearray, memoryview)):
        return bytes(chunk)
    raise TypeError(f"body iterables must yield bytes, got {type(chunk).__name__}")


async def _checked(source: AsyncIterator[bytes], length: int) -> AsyncIterator[bytes]:
    # R2 needs an exact Content-Length: catch a lying stream here with a clear error
    # instead of a protocol error from deep inside the HTTP library.
    sent = 0
    async for chunk in source:
        if not chunk:
            continue
        sent += len(chunk)
        if sent > length:
            raise StreamLengthError(
                f"the body produced more than content_length={length} bytes; pass the exact length"
            )
        yield chunk
    if sent != length:
        raise StreamLengthError(
            f"the body produced {sent} bytes but content_length={length}; pass the exact length"
        )


def _file_length(f: Any) -> int | None:
    try:
        if f.seekable():
            pos = f.tell()
            end = f.seek(0, os.SEEK_END)
            f.seek(pos)
            return int(end - pos)
    except (AttributeError, OSError, ValueError):
        pass
    try:
        st = os.fstat(f.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return int(st.st_size)


def prepare_body(body: object, content_length: int | None) -> Body:
    """Normalise a caller's body.

    Args:
        body: bytes-like, str (sent as UTF-8), a binary file object, or an (async) iterable of
            bytes; None means an empty body.
        content_length: required for iterables, optional otherwise (checked when given).
    """
    if content_length is not None and (
        not isinstance(content_length, int)
        or isinstance(content_length, bool)
        or content_length < 0
    ):
        raise ValueError("content_length must be an int >= 0")
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, (bytes, bytearray, memoryview)):
        data = bytes(body)
        if content_length is not None and content_length != len(data):
            raise ValueError(
                f"content_length={content_length} but the body has {len(data)} bytes; "
                "omit content_length for in-memory bodies"
            )
        return Body(length=len(data), content=data)
    if isinstance(body, (os.PathLike,)):
        raise TypeError(
            "put_object takes the data, not a path: open the file in 'rb' mode, or use "
            "upload_file(bucket, key, path) which also handles multipart"
        )
    if hasattr(body, "read"):
        if isinstance(body, io.TextIOBase):
            raise TypeError("the file object must be opened in binary mode ('rb'), not text mode")
        size = _file_length(body)
        if size is None and content_length is None:
            raise ValueError(
                "cannot tell the length of this file object; pass content_length= "
                "(R2 requires a Content-Length)"
            )
        length = content_length if content_length is not None else size
        assert length is not None
        if size is not None and content_length is not None and content_length > size:
            raise ValueError(
                f"content_length={content_length} is more than the {size} bytes left in the file"
            )
        seekable = False
        try:
            seekable = bool(body.seekable())  # type: ignore[attr-defined]
        except (AttributeError, OSError, ValueError):
            seekable = False
        return Body(
            length=length,
            file=body,  # type: ignore[arg-type]
            replayable=seekable,
            why_not_replayable=None if seekable else "the file object is not seekable",
        )
    if isinstance(body, (AsyncIterable, Iterable)) and not isinstance(body, (dict, set)):
        if content_length is None:
            raise ValueError(
                "a streamed body needs content_length= (R2 requires a Content-Length and does "
                "not accept chunked uploads); for unknown lengths use upload_stream(), which "
                "sends multipart parts"
            )
        if isinstance(body, (list, tuple)):
            # A list of chunks is sized: check it now rather than halfway through sending.
            for chunk in body:
                if not isinstance(chunk, (bytes, bytearray, memoryview)):
                    raise TypeError(f"body iterables must yield bytes, got {type(chunk).__name__}")
            total = sum(memoryview(chunk).nbytes for chunk in body)
            if total != content_length:
                raise ValueError(
                    f"content_length={content_length} but the chunks add up to {total} bytes; "
                    "pass the exact length"
                )
        return Body(
            length=content_length,
            iterable=body,
            replayable=False,
            why_not_replayable="the body is a one-shot stream",
        )
    raise TypeError(
        f"unsupported body type {type(body).__name__}: pass bytes, str, a binary file object, "
        "or an async iterable of bytes with content_length="
    )

"""Transfers: uploads and downloads of any size, with multipart, parallel ranges and progress.

How it works, and why:

Uploads (``upload_file``, ``upload_stream``)
    * At or below ``threshold`` bytes one PutObject is sent; above it a multipart upload.
      Data of unknown length (an iterator, a pipe) is read one part ahead: if it ends within
      ``min(threshold, part_size)`` bytes it goes out as one PutObject, otherwise as parts.
    * R2 requires every part but the last to be exactly the same size (>= 5 MiB, <= 10,000
      parts), checked only at Complete. So the part size is fixed before the first part
      leaves: ``max(part_size, ceil(size / 10000))`` rounded up to a MiB when the size is
      known. For unknown lengths it cannot "grow": once part 1 is sent at size P, every later
      part must also be P, so the largest possible object is ``P * 10,000`` (8 MiB ->
      78.1 GiB). Larger streams must pass a bigger ``part_size`` or ``content_length``.
    * At most ``concurrency`` parts are in memory or in flight: a slot is taken *before* a part
      is read and freed when its upload ends, so memory stays below ``part_size * concurrency``.
      Parts of a file given by path are not buffered at all: each is streamed from its own file
      handle (so the file is read in parallel and only 1 MiB per part is in memory).
    * Any failure (a part failing after the client's retries, a local read error, a stream of
      the wrong length, an exception from the progress callback) or cancellation aborts the
      multipart upload, shielded from cancellation, so no parts linger and the key is left
      unchanged. The original exception is re-raised (same type, so ``except
      PreconditionFailedError`` still works) with a note saying what happened.
    * Conditional arguments (``if_none_match="*"``...) go on CreateMultipartUpload *and*
      CompleteMultipartUpload: R2 evaluates both, so a key created while parts were uploading
      is still protected.

Downloads (``download_file``, ``download_stream``)
    * The first request is a ranged GET for the first part: its ``Content-Range`` tells the
      size and its ETag pins the object. The other parts are fetched in parallel with
      ``If-Match: <etag>``, so a concurrent overwrite fails (412) instead of mixing versions.
    * ``download_file`` writes at offsets into ``.<name>.r2async-<random>.part`` in the
      destination directory, checks the length (and the MD5 when the ETag is a plain MD5),
      optionally fsyncs (``fsync=True``: measured to halve throughput, so off by default; it
      only matters for power loss), and only then renames it over the destination. On any
      failure or cancellation the temporary file is deleted and the destination is untouched.
    * ``download_file(resume=True)`` instead writes ``<dest>.r2async-part`` and keeps it on
      failure, with a sidecar ``<dest>.r2async-part.json`` (bucket, key, ETag, size, part size,
      completed parts; rewritten atomically after each part is fully written). A later
      resumable call GETs the first missing part unpinned: if its Content-Range size and ETag
      match the sidecar, only the missing parts are fetched (pinned with If-Match); otherwise,
      or if the sidecar is unreadable or for another key, it starts over from an empty file.
    * ``download_stream`` yields the bytes in order while up to ``concurrency`` parts are
      fetched ahead (memory <= ``part_size * concurrency``).

Blocking file I/O runs in worker threads (``anyio.to_thread``); everything else uses anyio
primitives, so transfers run under asyncio and trio.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import os
import re
import secrets
import sys
import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

import anyio
import anyio.abc
import sniffio

from ._checksums import ALGORITHMS, ChecksumAlgorithm, new_hasher
from ._exceptions import (
    IntegrityError,
    InvalidRangeError,
    NoSuchUploadError,
    PreconditionFailedError,
)
from ._headers import HeaderMap, check_headers, etag_unquoted, validate_bucket, validate_key

# Limits and defaults live in a small module of their own, so that the client's method
# signatures can use them without importing this one.
from ._limits import (
    DEFAULT_CONCURRENCY,
    DEFAULT_PART_SIZE,
    DEFAULT_THRESHOLD,
    MAX_CONCURRENCY,
    MAX_OBJECT_SIZE,
    MAX_PART_SIZE,
    MAX_PARTS,
    MAX_SINGLE_PUT,
    MIN_PART_SIZE,
    MiB,
)
from ._models import ObjectMetadata, _ChecksumFields
from ._operations.objects import object_write_headers
from ._streaming import ObjectStream

if TYPE_CHECKING:
    from ._client.r2client import R2Client

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PART_SIZE",
    "DEFAULT_THRESHOLD",
    "MAX_OBJECT_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "DownloadResult",
    "DownloadStream",
    "ProgressCallback",
    "UploadResult",
    "part_size_for",
]

# Size of each disk write/read hop to a worker thread: big enough to amortise the thread hop.
IO_CHUNK = 1 * MiB
# How long a shielded AbortMultipartUpload may take (its own retries included) before giving up.
ABORT_TIMEOUT = 30.0

ProgressCallback = Callable[[int, int | None], Awaitable[None] | None]
"""``callback(bytes_transferred, total_or_None)``; may be sync or async."""

_T = TypeVar("_T")
_MD5_ETAG = re.compile(r"^[0-9a-fA-F]{32}$")
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")

# Typed keyword arguments shared with put_object that describe the object to write.
WRITE_ARGS = (
    "content_type",
    "cache_control",
    "content_disposition",
    "content_encoding",
    "content_language",
    "expires",
    "metadata",
    "storage_class",
    "if_match",
    "if_none_match",
    "if_modified_since",
    "if_unmodified_since",
    "create_bucket_if_missing",
    "sse_customer_key",
)
_CONDITIONS = ("if_match", "if_none_match", "if_modified_since", "if_unmodified_since")


# -- results ---------------------------------------------------------------------------------


class UploadResult(_ChecksumFields):
    """Result of ``upload_file`` / ``upload_stream``.

    ``part_count`` is 0 when the object went out as one PutObject (then ``upload_id`` and
    ``part_size`` are None).
    """

    bucket: str
    key: str
    size: int
    etag: str | None = None
    part_count: int = 0
    part_size: int | None = None
    upload_id: str | None = None
    version_id: str | None = None
    request_id: str | None = None


class DownloadResult(ObjectMetadata):
    """Result of ``download_file``: the object's metadata, where it was written, and checks made.

    ``content_length`` is the whole object's size; ``md5_verified`` says whether the file's MD5
    was compared with a single-part ETag (multipart and SSE-C ETags are not MD5s of the data).
    """

    path: str
    md5_verified: bool = False


# -- arguments -------------------------------------------------------------------------------


def _int_arg(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name}={value} is out of range; use {low:,} to {high:,}")
    return value


def check_part_size(part_size: object) -> int:
    """Validate ``part_size=``: R2 needs 5 MiB to 5 GiB - 5 MiB."""
    return _int_arg("part_size", part_size, MIN_PART_SIZE, MAX_PART_SIZE)


def check_concurrency(concurrency: object) -> int:
    """Validate ``concurrency=``: 1 to 64 parallel requests (the connection pool size)."""
    return _int_arg("concurrency", concurrency, 1, MAX_CONCURRENCY)


def check_threshold(threshold: object) -> int:
    """Validate ``threshold=``: 0 to 5 GiB - 5 MiB (the largest single PutObject)."""
    return _int_arg("threshold", threshold, 0, MAX_SINGLE_PUT)


def check_progress(progress: object) -> ProgressCallback | None:
    """Validate ``progress=``: None or a callable taking (bytes_transferred, total)."""
    if progress is not None and not callable(progress):
        raise TypeError("progress must be a callable(bytes_transferred, total) or None")
    return progress


def part_size_for(size: int, part_size: int = DEFAULT_PART_SIZE) -> int:
    """The part size to upload ``size`` bytes: ``part_size``, raised so 10,000 parts suffice.

    Args:
        size: the object's total size in bytes.
        part_size: the preferred part size (default 8 MiB); raised (to a whole MiB) if
            ``size`` would need more than 10,000 parts.
    """
    if size > MAX_OBJECT_SIZE:
        raise ValueError(
            f"the object is {size:,} bytes; R2's largest object is {MAX_OBJECT_SIZE:,} bytes"
        )
    needed = -(-size // MAX_PARTS)
    if needed > part_size:
        part_size = -(-needed // MiB) * MiB
    return min(part_size, MAX_PART_SIZE)


def _checksum_arg(checksum_algorithm: object) -> ChecksumAlgorithm | None:
    if checksum_algorithm is None:
        return None
    alg = checksum_algorithm.upper() if isinstance(checksum_algorithm, str) else ""
    if alg not in ALGORITHMS:
        raise ValueError(
            f"checksum_algorithm={checksum_algorithm!r}; use one of {', '.join(ALGORITHMS)}"
        )
    return cast("ChecksumAlgorithm", alg)


# -- notes, shielding, progress ----------------------------------------------------------------


def add_note(exc: BaseException, note: str) -> None:
    """Attach ``note`` to ``exc`` (shown under the traceback; ``__notes__`` on Python 3.10)."""
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # pragma: no cover - Python 3.10
        notes = getattr(exc, "__notes__", None)
        if not isinstance(notes, list):
            notes = []
        notes.append(note)
        exc.__notes__ = notes  # type: ignore[attr-defined]


async def run_shielded(func: Callable[[], Awaitable[_T]]) -> _T:
    """Run ``func()`` to completion even if the caller is being cancelled.

    anyio's shield stops anyio (and trio) cancellation, but a native ``Task.cancel()`` on
    asyncio pierces it; there the work runs in its own task that we keep waiting for, and a
    cancellation that arrived meanwhile is re-raised afterwards. ``func`` must bound its own
    running time.
    """
    with anyio.CancelScope(shield=True):
        if sniffio.current_async_library() != "asyncio":
            return await func()
        import asyncio

        async def call() -> _T:
            return await func()

        task = asyncio.ensure_future(call())
        cancelled = False
        # Bounded: func bounds its own time, and each pass waits for the same task.
        while not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.cancelled():
                    raise
                cancelled = True
        if cancelled:
            raise asyncio.CancelledError
        return task.result()
    raise AssertionError("unreachable: a shielded scope is never cancelled")  # pragma: no cover


class Progress:
    """Counts transferred bytes and reports them, in increasing order, to the user's callback."""

    def __init__(self, callback: ProgressCallback | None, total: int | None) -> None:
        self._callback = callback
        self.total = total
        self.done = 0
        self._reported: tuple[int, int | None] | None = None
        self._lock = anyio.Lock()

    async def add(self, n: int) -> None:
        """Count ``n`` more bytes and report the new total."""
        self.done += n
        if self._callback is not None and n:
            await self._report(final=False)

    async def finish(self) -> None:
        """Make sure the last report is (size, size); call once the transfer succeeded."""
        self.total = self.done
        if self._callback is not None:
            await self._report(final=True)

    async def _report(self, *, final: bool) -> None:
        # The lock keeps calls from parallel parts in order; values are read inside it, so a
        # call may find its bytes already reported by another (then it says nothing).
        assert self._callback is not None
        async with self._lock:
            value = (self.done, self.total)
            last = self._reported
            if last is not None and (value[0] <= last[0] if not final else value == last):
                return
            self._reported = value
            result = self._callback(*value)
            if inspect.isawaitable(result):
                await result


# -- upload sources --------------------------------------------------------------------------


class _Reader:
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


class _BytesReader(_Reader):
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


class _FileReader(_Reader):
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


class _IterReader(_Reader):
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


@dataclass
class _Part:
    number: int
    offset: int
    length: int
    data: bytes | None = None  # in memory, or streamed from the path below
    path: str | None = None
    file_size: int = 0  # the size of the file at ``path`` when the upload started


# -- uploads ---------------------------------------------------------------------------------


@dataclass
class UploadOptions:
    """Everything about one upload that is not the data."""

    bucket: str
    key: str
    write_args: dict[str, Any]
    checksum_algorithm: ChecksumAlgorithm | None
    part_size: int
    threshold: int
    concurrency: int
    progress: ProgressCallback | None
    headers: HeaderMap | None
    timeout: Any
    what: str  # the public method name, for messages

    @classmethod
    def build(
        cls,
        what: str,
        bucket: str,
        key: str,
        *,
        write_args: Mapping[str, Any],
        checksum_algorithm: str | None,
        part_size: int,
        threshold: int,
        concurrency: int,
        progress: ProgressCallback | None,
        headers: HeaderMap | None,
        timeout: Any,
    ) -> UploadOptions:
        """Validate every argument before any I/O."""
        validate_bucket(bucket)
        validate_key(key)
        args = {k: v for k, v in write_args.items() if k in WRITE_ARGS}
        object_write_headers(**args)  # raises ValueError/TypeError on bad typed arguments
        check_headers(headers, where="headers")
        return cls(
            bucket=bucket,
            key=key,
            write_args=args,
            checksum_algorithm=_checksum_arg(checksum_algorithm),
            part_size=check_part_size(part_size),
            threshold=check_threshold(threshold),
            concurrency=check_concurrency(concurrency),
            progress=check_progress(progress),
            headers=headers,
            timeout=timeout,
            what=what,
        )

    @property
    def conditions(self) -> dict[str, Any]:
        """The conditional arguments, which also go on CompleteMultipartUpload."""
        return {k: self.write_args[k] for k in _CONDITIONS if self.write_args.get(k) is not None}


def _checksum_of_bytes(algorithm: str, data: bytes) -> str:
    import base64

    h = new_hasher(algorithm)
    h.update(data)
    return base64.b64encode(h.digest()).decode()


def _checksum_of_file(
    algorithm: str, path_or_file: str | IO[bytes], offset: int, length: int
) -> str:
    import base64

    h = new_hasher(algorithm)
    f = open(path_or_file, "rb") if isinstance(path_or_file, str) else path_or_file  # noqa: SIM115
    try:
        f.seek(offset)
        remaining = length
        while remaining > 0:
            chunk = f.read(min(IO_CHUNK, remaining))
            if not chunk:
                raise OSError(f"the file ended {remaining} bytes early while checksumming it")
            h.update(chunk)
            remaining -= len(chunk)
    finally:
        if isinstance(path_or_file, str):
            f.close()
    return base64.b64encode(h.digest()).decode()


class Uploader:
    """Runs one upload: a single PutObject or a multipart upload with parallel parts."""

    def __init__(self, client: R2Client, opts: UploadOptions) -> None:
        self.client = client
        self.opts = opts
        self.progress = Progress(opts.progress, None)

    # -- entry points ---------------------------------------------------------------------

    async def upload_path(self, path: str) -> UploadResult:
        """Upload a file by path: single PutObject (streamed) or parts streamed in parallel."""
        opts = self.opts
        f = await anyio.to_thread.run_sync(_open_rb, path)
        try:
            size = os.fstat(f.fileno()).st_size
            self.progress.total = size
            if size <= opts.threshold:
                checksum = None
                if opts.checksum_algorithm is not None:
                    checksum = await anyio.to_thread.run_sync(
                        _checksum_of_file, opts.checksum_algorithm, f, 0, size
                    )
                    await anyio.to_thread.run_sync(f.seek, 0)
                return await self._put(f, size, checksum=checksum)
        finally:
            f.close()
        part_size = part_size_for(size, opts.part_size)

        async def next_part(number: int) -> _Part | None:
            offset = (number - 1) * part_size
            if offset >= size:
                return None
            return _Part(number, offset, min(part_size, size - offset), path=path, file_size=size)

        return await self._multipart(part_size, size, next_part, expected_size=size)

    async def upload_reader(self, reader: _Reader, *, in_memory: bool) -> UploadResult:
        """Upload from a sequential reader (bytes, a file object, an iterable).

        Args:
            reader: the source.
            in_memory: the data is already in memory (bytes), so the single-PUT threshold
                applies as is; otherwise a single PUT is used only within one part's buffer.
        """
        opts = self.opts
        try:
            size = reader.size
            self.progress.total = size
            limit = opts.threshold if in_memory else min(opts.threshold, opts.part_size)
            part_size = part_size_for(size, opts.part_size) if size is not None else opts.part_size
            if size is not None and size > MAX_OBJECT_SIZE:
                raise ValueError(f"content_length={size:,} is above R2's largest object")
            first_len = size if size is not None and size <= limit else part_size
            first = await reader.read(first_len)
            if size is not None and len(first) < min(first_len, size):
                raise ValueError(
                    f"the stream ended after {len(first):,} bytes but content_length={size:,}"
                )
            if len(first) <= limit and await reader.at_eof():
                if size is not None and len(first) != size:
                    raise ValueError(
                        f"the stream produced {len(first):,} bytes but content_length={size:,}"
                    )
                self.progress.total = len(first)
                checksum = None
                if opts.checksum_algorithm is not None:
                    checksum = await anyio.to_thread.run_sync(
                        _checksum_of_bytes, opts.checksum_algorithm, first
                    )
                return await self._put(first, len(first), checksum=checksum)
            pending: list[bytes] = [first]
            # Only ``pending`` may hold part 1: a live local would pin it for the whole upload.
            del first
            offset = 0

            async def next_part(number: int) -> _Part | None:
                nonlocal offset
                if pending:
                    data = pending.pop()
                else:
                    if number > MAX_PARTS:
                        if await reader.at_eof():
                            return None
                        raise ValueError(
                            f"the stream is longer than part_size * 10,000 = "
                            f"{part_size * MAX_PARTS:,} bytes (R2 allows at most 10,000 equal "
                            "parts); pass a larger part_size= or the content_length="
                        )
                    data = await reader.read(part_size)
                if not data:
                    return None
                if size is not None and offset + len(data) > size:
                    raise ValueError(f"the stream produced more than content_length={size:,} bytes")
                part = _Part(number, offset, len(data), data=data)
                offset += len(data)
                # Peeking (one chunk) when a full part was read tells whether it is the last,
                # so the total is known before that part is sent.
                if (
                    len(data) < part_size
                    or (size is not None and offset == size)
                    or (size is None and await reader.at_eof())
                ):
                    # The last part: its size tells the total of an unknown-length stream.
                    if size is not None and offset != size:
                        raise ValueError(
                            f"the stream ended after {offset:,} bytes but content_length={size:,}"
                        )
                    if size is not None and not await reader.at_eof():
                        raise ValueError(
                            f"the stream produced more than content_length={size:,} bytes"
                        )
                    self.progress.total = offset
                    pending.append(b"")  # signal the end to the next call
                return part

            return await self._multipart(part_size, size, next_part, expected_size=size)
        finally:
            await reader.close()

    # -- single PutObject ------------------------------------------------------------------

    async def _put(self, body: object, size: int, *, checksum: str | None) -> UploadResult:
        opts = self.opts
        result = await self.client.put_object(
            opts.bucket,
            opts.key,
            body,
            content_length=size,
            checksum_algorithm=opts.checksum_algorithm,
            checksum=checksum,
            headers=opts.headers,
            timeout=opts.timeout,
            **opts.write_args,
        )
        await self.progress.add(size)
        await self.progress.finish()
        return UploadResult(
            bucket=opts.bucket,
            key=opts.key,
            size=size,
            etag=result.etag,
            version_id=result.version_id,
            request_id=result.request_id,
            **_checksums_of(result),
        )

    # -- multipart -------------------------------------------------------------------------

    async def _multipart(
        self,
        part_size: int,
        size: int | None,
        next_part: Callable[[int], Awaitable[_Part | None]],
        *,
        expected_size: int | None,
    ) -> UploadResult:
        opts = self.opts
        client = self.client
        created = await client.create_multipart_upload(
            opts.bucket,
            opts.key,
            checksum_algorithm=opts.checksum_algorithm,
            headers=opts.headers,
            timeout=opts.timeout,
            **opts.write_args,
        )
        upload_id = created.upload_id
        done: dict[int, Any] = {}
        failure: list[Exception] = []
        slots = anyio.Semaphore(opts.concurrency)
        current = 0
        try:
            async with anyio.create_task_group() as tg:

                async def send(part: _Part) -> None:
                    try:
                        done[part.number] = await self._send_part(upload_id, part)
                        part.data = None  # free the buffer before the progress callback runs
                        await self.progress.add(part.length)
                    except Exception as exc:
                        if not failure:
                            add_note(exc, f"while uploading part {part.number}")
                            failure.append(exc)
                        tg.cancel_scope.cancel()
                    finally:
                        slots.release()

                try:
                    # Bounded: next_part returns None after at most 10,000 parts (or raises).
                    while True:
                        await slots.acquire()
                        part = await next_part(current + 1)
                        if part is None:
                            slots.release()
                            break
                        current = part.number
                        tg.start_soon(send, part)
                except Exception as exc:
                    if not failure:
                        add_note(exc, f"while reading part {current + 1}")
                        failure.append(exc)
                    tg.cancel_scope.cancel()
            if failure:
                raise failure[0]
            total = self.progress.done
            if expected_size is not None and total != expected_size:
                raise IntegrityError(
                    f"{opts.what}: sent {total:,} bytes but the source has {expected_size:,}"
                )
            parts = [done[n] for n in sorted(done)]
            completed = await client.complete_multipart_upload(
                opts.bucket,
                opts.key,
                upload_id,
                parts,
                sse_customer_key=opts.write_args.get("sse_customer_key"),
                headers=opts.headers,
                timeout=opts.timeout,
                **opts.conditions,
            )
        except BaseException as exc:
            await self._abort(upload_id, exc, sent=self.progress.done, parts=len(done))
            raise
        await self.progress.finish()
        return UploadResult(
            bucket=opts.bucket,
            key=opts.key,
            size=self.progress.done,
            etag=completed.etag,
            part_count=len(parts),
            part_size=part_size,
            upload_id=upload_id,
            version_id=completed.version_id,
            request_id=completed.request_id,
            **_checksums_of(completed),
        )

    async def _send_part(self, upload_id: str, part: _Part) -> Any:
        opts = self.opts
        alg = opts.checksum_algorithm
        sse = opts.write_args.get("sse_customer_key")
        if part.data is not None:
            checksum = None
            if alg is not None:
                checksum = await anyio.to_thread.run_sync(_checksum_of_bytes, alg, part.data)
            return await self.client.upload_part(
                opts.bucket,
                opts.key,
                upload_id,
                part.number,
                part.data,
                checksum_algorithm=alg,
                checksum=checksum,
                sse_customer_key=sse,
                timeout=opts.timeout,
            )
        assert part.path is not None
        # Each part streams from its own handle, so parts are read in parallel and never
        # buffered whole; the handle is retried from its start offset by the send loop.
        f = await anyio.to_thread.run_sync(_open_rb, part.path)
        try:
            now = os.fstat(f.fileno()).st_size
            if now != part.file_size:
                # Parts already sent came from the old contents: the object would be a mix.
                raise OSError(
                    f"{part.path!r} changed size during the upload ({part.file_size:,} -> "
                    f"{now:,} bytes)"
                )
            checksum = None
            if alg is not None:
                checksum = await anyio.to_thread.run_sync(
                    _checksum_of_file, alg, f, part.offset, part.length
                )
            await anyio.to_thread.run_sync(f.seek, part.offset)
            return await self.client.upload_part(
                opts.bucket,
                opts.key,
                upload_id,
                part.number,
                f,
                content_length=part.length,
                checksum_algorithm=alg,
                checksum=checksum,
                sse_customer_key=sse,
                timeout=opts.timeout,
            )
        finally:
            f.close()

    async def _abort(self, upload_id: str, exc: BaseException, *, sent: int, parts: int) -> None:
        opts = self.opts
        where = f"{opts.bucket}/{opts.key}"

        async def abort() -> BaseException | None:
            try:
                with anyio.fail_after(ABORT_TIMEOUT):
                    await self.client.abort_multipart_upload(
                        opts.bucket, opts.key, upload_id, timeout=opts.timeout
                    )
            except NoSuchUploadError:
                return None  # already gone (R2 aborts itself when a conditional Complete fails)
            except Exception as abort_exc:
                return abort_exc
            return None

        abort_error = await run_shielded(abort)
        if isinstance(exc, anyio.get_cancelled_exc_class()):
            return  # a cancellation propagates untouched
        if abort_error is None:
            add_note(
                exc,
                f"{opts.what}: multipart upload {upload_id!r} of {where} failed after "
                f"{parts} part(s) ({sent:,} bytes) were sent; the upload was aborted, so no "
                "partial object was written and the key is unchanged",
            )
        else:
            add_note(
                exc,
                f"{opts.what}: multipart upload {upload_id!r} of {where} failed, and aborting "
                f"it also failed ({type(abort_error).__name__}: {abort_error}); its parts "
                "remain until R2's incomplete-upload expiry (7 days by default) or "
                "abort_multipart_upload()",
            )


def _checksums_of(result: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _ChecksumFields.model_fields:
        value = getattr(result, name, None)
        if value is not None:
            out[name] = value
    return out


def _open_rb(path: str) -> IO[bytes]:
    return open(path, "rb")  # closed by the caller


def make_reader(data: object, content_length: int | None, *, what: str) -> tuple[_Reader, bool]:
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


# -- downloads -------------------------------------------------------------------------------


@dataclass
class DownloadOptions:
    """Everything about one download that is not the destination."""

    bucket: str
    key: str
    read_args: dict[str, Any]  # conditions and sse_customer_key for the first request
    part_size: int
    concurrency: int
    progress: ProgressCallback | None
    headers: HeaderMap | None
    timeout: Any

    @classmethod
    def build(
        cls,
        bucket: str,
        key: str,
        *,
        read_args: Mapping[str, Any],
        part_size: int,
        concurrency: int,
        progress: ProgressCallback | None,
        headers: HeaderMap | None,
        timeout: Any,
    ) -> DownloadOptions:
        """Validate every argument before any I/O."""
        from ._operations.objects import read_headers

        validate_bucket(bucket)
        validate_key(key)
        args = {k: v for k, v in read_args.items() if v is not None}
        read_headers(**args)  # raises ValueError/TypeError on bad typed arguments
        check_headers(headers, where="headers")
        return cls(
            bucket=bucket,
            key=key,
            read_args=args,
            part_size=check_part_size(part_size),
            concurrency=check_concurrency(concurrency),
            progress=check_progress(progress),
            headers=headers,
            timeout=timeout,
        )

    def stream(
        self, client: R2Client, span: tuple[int, int] | None, etag: str | None
    ) -> ObjectStream:
        """A ranged GET of ``span`` (inclusive), pinned to ``etag`` when given."""
        args = dict(self.read_args)
        if etag is not None:
            # The object is pinned now: the caller's own conditions were checked by the first
            # request, and If-Match alone makes every later range come from that same object.
            for name in _CONDITIONS:
                args.pop(name, None)
            args["if_match"] = etag
        return client.stream_object(
            self.bucket,
            self.key,
            range=span,
            chunk_size=IO_CHUNK,
            headers=self.headers,
            timeout=self.timeout,
            **args,
        )


def _content_range(meta: ObjectMetadata) -> tuple[int, int, int] | None:
    if meta.content_range is None:
        return None
    m = _CONTENT_RANGE.match(meta.content_range.strip())
    if m is None or m.group(3) == "*":
        raise IntegrityError(f"unreadable Content-Range {meta.content_range!r}")
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


async def _close_shielded(stream: ObjectStream) -> None:
    with anyio.CancelScope(shield=True):
        await stream.aclose()


class _FirstResponse:
    """The opening GET: its stream, the object's size and ETag, and the byte span it covers."""

    def __init__(
        self, stream: ObjectStream, size: int, etag: str | None, end: int, start: int = 0
    ) -> None:
        self.stream = stream
        self.size = size
        self.etag = etag
        self.start = start  # first byte this response carries (not 0 only for a resumed download)
        self.end = end  # last byte (inclusive) this response carries; -1 for an empty object


async def open_first(client: R2Client, opts: DownloadOptions) -> _FirstResponse:
    """Send the first ranged GET and learn the object's size and ETag from it."""
    stream = opts.stream(client, (0, opts.part_size - 1), None)
    try:
        await stream.__aenter__()
    except InvalidRangeError:
        # S3 answers 416 to any range of an empty object: fetch it whole instead.
        stream = opts.stream(client, None, None)
        await stream.__aenter__()
    try:
        meta = stream.metadata
        span = _content_range(meta)
        if span is None:  # a 200: the server sent the whole object
            if meta.content_length is None:
                raise IntegrityError(f"GetObject of {opts.key!r} returned no Content-Length")
            size = meta.content_length
            end = size - 1
        else:
            start, end, size = span
            if start != 0 or end != min(opts.part_size, size) - 1:
                raise IntegrityError(
                    f"asked for bytes 0-{opts.part_size - 1} of {opts.key!r} but got "
                    f"{meta.content_range!r}"
                )
        return _FirstResponse(stream, size, meta.etag, end)
    except BaseException:
        await _close_shielded(stream)
        raise


def _spans(first_end: int, size: int, part_size: int) -> list[tuple[int, int]]:
    return [(off, min(off + part_size, size) - 1) for off in range(first_end + 1, size, part_size)]


def _changed_note(exc: BaseException, key: str, etag: str | None) -> None:
    if isinstance(exc, PreconditionFailedError) and etag is not None:
        add_note(exc, f"{key!r} changed during the download (its ETag is no longer {etag})")


def _pwrite(fd: int, data: bytes, offset: int, lock: threading.Lock) -> None:
    view = memoryview(data)
    if hasattr(os, "pwrite"):
        # Bounded: each pass writes at least one byte (os.pwrite raises rather than write 0).
        while view:
            n = os.pwrite(fd, view, offset)
            view = view[n:]
            offset += n
        return
    with lock:  # pragma: no cover - Windows has no pwrite
        os.lseek(fd, offset, os.SEEK_SET)
        while view:
            n = os.write(fd, view)
            view = view[n:]


def _md5_of_fd(fd: int, size: int) -> str:
    h = hashlib.md5()
    offset = 0
    while offset < size:
        if hasattr(os, "pread"):
            chunk = os.pread(fd, min(4 * IO_CHUNK, size - offset), offset)
        else:  # pragma: no cover - Windows
            os.lseek(fd, offset, os.SEEK_SET)
            chunk = os.read(fd, min(4 * IO_CHUNK, size - offset))
        if not chunk:
            break
        h.update(chunk)
        offset += len(chunk)
    return h.hexdigest()


def _fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_path(path: str, *, resume: bool = False) -> tuple[str, str, str]:
    # The temporary file lives beside the destination so the final rename stays atomic. A
    # resumable download uses a fixed name, so a later call can find it again.
    dest = os.path.abspath(path)
    directory, name = os.path.split(dest)
    if os.path.isdir(dest):
        raise IsADirectoryError(f"{path!r} is a directory; pass the path of the file to write")
    if resume:
        return dest, directory, dest + RESUME_SUFFIX
    return dest, directory, os.path.join(directory, f".{name}.r2async-{secrets.token_hex(4)}.part")


# download_file(resume=True) keeps its partial file at <path>.r2async-part, and which parts of
# it are complete in <path>.r2async-part.json.
RESUME_SUFFIX = ".r2async-part"
RESUME_STATE_SUFFIX = ".json"
_RESUME_VERSION = 1


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class _ResumeState:
    """The sidecar of a resumable download: which object version, and which parts are on disk.

    Part ``i`` is bytes ``i * part_size`` to ``min((i + 1) * part_size, size) - 1``. A part is
    recorded only after all its bytes were written to the partial file, and the sidecar is
    replaced atomically (temporary file + ``os.replace``), so it never claims missing bytes.
    """

    def __init__(self, part_path: str, opts: DownloadOptions) -> None:
        self.part_path = part_path
        self.path = part_path + RESUME_STATE_SUFFIX
        self.bucket = opts.bucket
        self.key = opts.key
        self.part_size = opts.part_size
        self.etag: str | None = None
        self.size = 0
        self.done: set[int] = set()
        self.on_disk = False  # the sidecar file exists and describes the partial file
        self._generation = 0
        self._saved_generation = 0
        self._lock = threading.Lock()

    @property
    def parts(self) -> int:
        return -(-self.size // self.part_size)

    def span(self, index: int) -> tuple[int, int]:
        start = index * self.part_size
        return start, min(start + self.part_size, self.size) - 1

    def missing(self) -> list[int]:
        return [i for i in range(self.parts) if i not in self.done]

    def bytes_done(self) -> int:
        return sum(self.span(i)[1] - self.span(i)[0] + 1 for i in self.done)

    def load(self) -> bool:
        """Read the sidecar (blocking); True if it fits this download and the partial file."""
        try:
            with open(self.path, "rb") as f:
                data = json.loads(f.read(16 * MiB))
            etag, size, done = data["etag"], data["size"], data["done"]
            if (
                data["version"] != _RESUME_VERSION
                or data["bucket"] != self.bucket
                or data["key"] != self.key
                or data["part_size"] != self.part_size
                or not isinstance(etag, str)
                or not etag
                or type(size) is not int
                or size <= 0
                or not isinstance(done, list)
            ):
                return False
            self.etag, self.size = etag, size
            if not all(type(i) is int and 0 <= i < self.parts for i in done):
                return False
            on_disk = os.stat(self.part_path).st_size
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            return False
        self.done = set(done)
        needed = max((self.span(i)[1] + 1 for i in self.done), default=0)
        if not needed <= on_disk <= size:
            return False
        self.on_disk = True
        return True

    def reset(self) -> None:
        """Forget everything and delete the sidecar (blocking)."""
        self.etag, self.size, self.done = None, 0, set()
        self.on_disk = False
        _unlink(self.path)
        _unlink(self.path + ".tmp")

    def start(self, etag: str | None, size: int) -> None:
        """Track a fresh download of the object version ``etag`` of ``size`` bytes."""
        self.etag, self.size, self.done = etag, size, set()

    @property
    def active(self) -> bool:
        # Without an ETag no later call could tell whether the object changed.
        return self.etag is not None and self.size > 0

    def snapshot(self, index: int) -> tuple[int, list[int]]:
        """Mark part ``index`` complete; returns what ``save`` should write."""
        self.done.add(index)
        self._generation += 1
        return self._generation, sorted(self.done)

    def save(self, generation: int, done: list[int], fd: int, fsync: bool) -> None:
        """Write the sidecar atomically (blocking; parts may finish in parallel threads)."""
        with self._lock:
            if generation <= self._saved_generation:
                return  # a newer state (a superset of this one) is already written
            if fsync:
                os.fsync(fd)  # the recorded parts' bytes reach the disk before the claim does
            state = {
                "version": _RESUME_VERSION,
                "bucket": self.bucket,
                "key": self.key,
                "etag": self.etag,
                "size": self.size,
                "part_size": self.part_size,
                "done": done,
            }
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(state, f)
            os.replace(tmp, self.path)
            self._saved_generation = generation
            self.on_disk = True


async def _open_resumed(
    client: R2Client, opts: DownloadOptions, state: _ResumeState
) -> _FirstResponse | None:
    """GET the first missing part, unpinned; None if the object is not the recorded version."""
    missing = state.missing()
    # All parts done (interrupted just before the rename): fetch the last one again, so the
    # download still gets the object's current metadata and proves it unchanged.
    index = missing[0] if missing else state.parts - 1
    state.done.discard(index)
    start, end = state.span(index)
    stream = opts.stream(client, (start, end), None)
    try:
        await stream.__aenter__()
    except InvalidRangeError:
        return None  # the object shrank
    try:
        meta = stream.metadata
        try:
            span = _content_range(meta)
        except IntegrityError:
            span = None
        if span != (start, end, state.size) or meta.etag != state.etag:
            await _close_shielded(stream)
            return None
        return _FirstResponse(stream, state.size, meta.etag, end, start)
    except BaseException:
        await _close_shielded(stream)
        raise


async def download_file(
    client: R2Client,
    opts: DownloadOptions,
    path: str,
    *,
    verify_md5: bool,
    fsync: bool,
    resume: bool = False,
) -> DownloadResult:
    """Download to ``path`` through a temporary file renamed into place when complete."""
    dest, directory, tmp = await anyio.to_thread.run_sync(
        functools.partial(_temp_path, path, resume=resume)
    )
    state = _ResumeState(tmp, opts) if resume else None
    resuming = False
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0)
    if state is None:
        flags |= os.O_EXCL
    else:
        resuming = await anyio.to_thread.run_sync(state.load)
        if not resuming:
            # Start over: no bytes of an unknown or other object version may be reused.
            await anyio.to_thread.run_sync(state.reset)
            flags |= os.O_TRUNC
    out_fd: int = await anyio.to_thread.run_sync(os.open, tmp, flags, 0o666)
    fd: int | None = out_fd
    lock = threading.Lock()
    progress = Progress(opts.progress, None)
    discard = state is None  # delete the partial file on failure
    try:
        first: _FirstResponse | None = None
        if state is not None and resuming:
            first = await _open_resumed(client, opts, state)
            if first is None:  # the object changed since: start over
                resuming = False
                await anyio.to_thread.run_sync(state.reset)
                await anyio.to_thread.run_sync(os.ftruncate, out_fd, 0)
        if first is None:
            first = await open_first(client, opts)
        size, etag = first.size, first.etag
        progress.total = size
        failure: list[Exception] = []
        slots = anyio.Semaphore(opts.concurrency)
        written = 0
        if state is not None and resuming:
            spans = [state.span(i) for i in state.missing() if state.span(i)[0] != first.start]
            written = state.bytes_done()
            await progress.add(written)  # the bytes already on disk, reported first
        else:
            spans = _spans(first.end, size, opts.part_size)
            if state is not None:
                state.start(etag, size)
        track = state is not None and state.active

        async def consume(stream: ObjectStream, start: int, end: int) -> None:
            nonlocal written
            pos = start
            try:
                async for chunk in stream:
                    if pos + len(chunk) > end + 1:
                        raise IntegrityError(f"GetObject sent more than bytes {start}-{end}")
                    await anyio.to_thread.run_sync(_pwrite, out_fd, chunk, pos, lock)
                    pos += len(chunk)
                    written += len(chunk)
                    await progress.add(len(chunk))
            finally:
                await _close_shielded(stream)
            if pos != end + 1:
                raise IntegrityError(
                    f"GetObject of {opts.key!r} bytes {start}-{end} ended after {pos - start} bytes"
                )
            if track:
                assert state is not None
                generation, done = state.snapshot(start // opts.part_size)
                await anyio.to_thread.run_sync(state.save, generation, done, out_fd, fsync)

        async def fetch(start: int, end: int) -> None:
            stream = opts.stream(client, (start, end), etag)
            try:
                await stream.__aenter__()
                span = _content_range(stream.metadata)
                if span is None or span[:2] != (start, end) or span[2] != size:
                    raise IntegrityError(
                        f"asked for bytes {start}-{end}/{size} of {opts.key!r} but got "
                        f"{stream.metadata.content_range!r}"
                    )
            except BaseException:
                await _close_shielded(stream)
                raise
            await consume(stream, start, end)

        async def guarded(
            tg: anyio.abc.TaskGroup, func: Callable[..., Awaitable[None]], *args: Any
        ) -> None:
            try:
                await func(*args)
            except Exception as exc:
                if not failure:
                    failure.append(exc)
                tg.cancel_scope.cancel()
            finally:
                slots.release()

        async with anyio.create_task_group() as tg:
            await slots.acquire()
            tg.start_soon(guarded, tg, consume, first.stream, first.start, first.end)
            try:
                for start, end in spans:
                    await slots.acquire()
                    tg.start_soon(guarded, tg, fetch, start, end)
            except Exception as exc:  # pragma: no cover - defensive
                failure.append(exc)
                tg.cancel_scope.cancel()
        if failure:
            _changed_note(failure[0], opts.key, etag)
            raise failure[0]
        actual = os.fstat(out_fd).st_size
        if written != size or actual != size:
            discard = True  # the bytes on disk are wrong: never resume from them
            raise IntegrityError(
                f"downloaded {written:,} bytes of {opts.key!r} (file has {actual:,}) but the "
                f"object has {size:,}"
            )
        md5_checked = False
        plain = etag_unquoted(etag)
        if (
            verify_md5
            and plain is not None
            and _MD5_ETAG.match(plain)
            and "sse_customer_key" not in opts.read_args
        ):
            digest = await anyio.to_thread.run_sync(_md5_of_fd, out_fd, size)
            if digest.lower() != plain.lower():
                discard = True
                raise IntegrityError(
                    f"the MD5 of the downloaded {opts.key!r} is {digest}, but its ETag is {plain}"
                )
            md5_checked = True
        if fsync:
            await anyio.to_thread.run_sync(os.fsync, out_fd)
        # Reported before the rename, so a callback that raises still leaves ``dest`` alone.
        await progress.finish()
        os.close(out_fd)
        fd = None
        # Synchronous on purpose: a rename is instant, and no cancellation may land between
        # "replaced" and "reported as failed".
        os.replace(tmp, dest)
        if state is not None:
            state.reset()
    except BaseException:
        # No awaits here: cleanup must happen even while being cancelled.
        if fd is not None:
            os.close(fd)
        if discard or state is None or not state.on_disk:
            _unlink(tmp)
            if state is not None:
                state.reset()
        raise
    if fsync:
        await anyio.to_thread.run_sync(_fsync_dir, directory)
    meta = first.stream.metadata
    fields = meta.model_dump()
    fields.update(content_length=size, content_range=None)
    return DownloadResult(path=dest, md5_verified=md5_checked, **fields)


class _Slot:
    """One part of a DownloadStream: filled by a fetch task, emptied by the consumer."""

    __slots__ = ("data", "done", "error")

    def __init__(self) -> None:
        self.data: bytes | None = None
        self.error: Exception | None = None
        self.done = anyio.Event()


class DownloadStream:
    """An object's bytes in order, fetched as parallel ranged GETs pinned to one ETag.

    Use as ``async with r2.download_stream(bucket, key) as stream: async for chunk in stream``.
    Up to ``concurrency`` parts are fetched ahead of the reader, so memory stays below
    ``part_size * concurrency``. ``metadata`` describes the object (``content_length`` is the
    whole size).
    """

    def __init__(self, client: R2Client, opts: DownloadOptions) -> None:
        """Prepare a download; nothing is sent until ``async with``.

        Args:
            client: the client to send with.
            opts: the validated download options.
        """
        self._client = client
        self._opts = opts
        self._first: _FirstResponse | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._slots: list[_Slot] = []
        self._window = anyio.Semaphore(max(1, opts.concurrency - 1))
        self._consumed = False
        self._progress = Progress(opts.progress, None)
        self.bytes_received = 0

    @property
    def metadata(self) -> ObjectMetadata:
        """The object's metadata; ``content_length`` is the size of the whole object."""
        if self._first is None:
            raise RuntimeError("use 'async with r2.download_stream(...) as stream' first")
        meta = self._first.stream.metadata
        return ObjectMetadata(
            **{**meta.model_dump(), "content_length": self._first.size, "content_range": None}
        )

    async def __aenter__(self) -> DownloadStream:
        self._first = await open_first(self._client, self._opts)
        self._progress.total = self._first.size
        spans = _spans(self._first.end, self._first.size, self._opts.part_size)
        self._slots = [_Slot() for _ in spans]
        if spans:
            tg = anyio.create_task_group()
            await tg.__aenter__()
            self._tg = tg
            tg.start_soon(self._schedule, spans)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop fetching and close every response (safe to call more than once)."""
        tg, self._tg = self._tg, None
        try:
            if tg is not None:
                tg.cancel_scope.cancel()
                await tg.__aexit__(None, None, None)
        finally:
            if self._first is not None:
                await _close_shielded(self._first.stream)

    async def _schedule(self, spans: list[tuple[int, int]]) -> None:
        assert self._tg is not None
        for slot, (start, end) in zip(self._slots, spans, strict=True):
            await self._window.acquire()
            self._tg.start_soon(self._fetch, slot, start, end)

    async def _fetch(self, slot: _Slot, start: int, end: int) -> None:
        assert self._first is not None
        try:
            result = await self._client.get_object(
                self._opts.bucket,
                self._opts.key,
                range=(start, end),
                headers=self._opts.headers,
                timeout=self._opts.timeout,
                **{
                    **{k: v for k, v in self._opts.read_args.items() if k not in _CONDITIONS},
                    **({"if_match": self._first.etag} if self._first.etag else {}),
                },
            )
            got = result.content_range
            want = f"bytes {start}-{end}/{self._first.size}"
            if got is None or got.strip() != want or len(result.body) != end - start + 1:
                raise IntegrityError(
                    f"asked for {want} of {self._opts.key!r} but got {got!r} "
                    f"({len(result.body)} bytes)"
                )
            slot.data = result.body
        except Exception as exc:
            _changed_note(exc, self._opts.key, self._first.etag)
            slot.error = exc
        finally:
            slot.done.set()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_bytes()

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the object's bytes in order (the first part in ~1 MiB chunks, then whole parts)."""
        if self._first is None:
            raise RuntimeError("use 'async with r2.download_stream(...) as stream' first")
        if self._consumed:
            raise RuntimeError("the stream was already read; open a new one")
        self._consumed = True
        async for chunk in self._first.stream:
            self.bytes_received += len(chunk)
            await self._progress.add(len(chunk))
            yield chunk
        if self.bytes_received != self._first.end + 1:
            raise IntegrityError(
                f"GetObject of {self._opts.key!r} ended after {self.bytes_received} bytes"
            )
        for slot in self._slots:
            await slot.done.wait()
            if slot.error is not None:
                raise slot.error
            data, slot.data = slot.data, None
            assert data is not None
            self._window.release()
            self.bytes_received += len(data)
            await self._progress.add(len(data))
            yield data
        await self._progress.finish()

    async def read(self) -> bytes:
        """Read the whole object into memory."""
        return b"".join([chunk async for chunk in self.iter_bytes()])

"""download_stream: an object's bytes in order, parts fetched ahead in parallel.

Memory stays within ``part_size * concurrency`` whatever the server sends: each part is
checked (status, Content-Range, Content-Length, ETag) before its body is read, and read in
~1 MiB chunks that may not run past its span; at most ``concurrency - 1`` parts are held
ahead of the reader, plus the chunk of the first response being yielded.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._construct import construct, fields_of
from .._md5_check import INLINE_HASH, comparable_md5, confirm_md5
from .._models import ObjectMetadata
from .cleanup import close_shielded
from .options import DownloadOptions
from .progress import Progress
from .ranges import (
    FirstResponse,
    changed_note,
    check_chunk,
    check_end,
    open_first,
    open_part,
    part_spans,
)

if TYPE_CHECKING:
    from .client import TransferClient


class _Slot:
    """One part of a DownloadStream: filled by a fetch task, emptied by the consumer."""

    __slots__ = ("chunks", "done", "error")

    def __init__(self) -> None:
        self.chunks: list[bytes] | None = None
        self.error: Exception | None = None
        self.done = anyio.Event()


class DownloadStream:
    """An object's bytes in order, fetched as parallel ranged GETs pinned to one ETag.

    Use as ``async with r2.download_stream(bucket, key) as stream: async for chunk in stream``.
    Up to ``concurrency`` parts are fetched ahead of the reader, so memory stays below
    ``part_size * concurrency``. ``metadata`` describes the object (``content_length`` is the
    whole size).

    With ``verify_md5`` the bytes are hashed as they are yielded and, when the ETag is a plain
    MD5 (see ``r2async._md5_check``), compared at the end: a mismatch raises
    ``IntegrityError`` after the last chunk instead of ending the iteration, so a consumer
    must not commit what it received until the iteration has ended. ``md5_verified`` says
    whether the comparison was made and passed.
    """

    def __init__(
        self, client: TransferClient, opts: DownloadOptions, *, verify_md5: bool = True
    ) -> None:
        """Prepare a download; nothing is sent until ``async with``.

        Args:
            client: the client to send with.
            opts: the validated download options.
            verify_md5: compare the MD5 of the bytes with a plain-MD5 ETag at the end.
        """
        self._client = client
        self._opts = opts
        self._verify_md5 = verify_md5
        self.md5_verified = False
        self._first: FirstResponse | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        send, receive = anyio.create_memory_object_stream[_Slot](opts.concurrency)
        self._send: MemoryObjectSendStream[_Slot] = send
        self._receive: MemoryObjectReceiveStream[_Slot] = receive
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
        fields = fields_of(meta)
        fields.update(content_length=self._first.size, content_range=None)
        return construct(ObjectMetadata, fields)

    async def __aenter__(self) -> DownloadStream:
        try:
            self._first = await open_first(self._client, self._opts)
            # From here the first response belongs to aclose(), below on any failure.
            self._progress.total = self._first.size
            spans = part_spans(self._first.end, self._first.size, self._opts.part_size)
            tg = anyio.create_task_group()
            await tg.__aenter__()
            self._tg = tg
            tg.start_soon(self._schedule, tg, spans)
        except BaseException:
            # ``async with`` does not call __aexit__ when __aenter__ fails.
            await self.aclose()
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
        """Stop fetching and close every response (safe to call more than once)."""
        tg, self._tg = self._tg, None
        try:
            if tg is not None:
                tg.cancel_scope.cancel()
                await tg.__aexit__(None, None, None)
        finally:
            self._send.close()
            self._receive.close()
            if self._first is not None:
                await close_shielded(self._first.stream)

    async def _schedule(self, tg: anyio.abc.TaskGroup, spans: Iterator[tuple[int, int]]) -> None:
        # ``tg`` is passed, not read from self: aclose() clears self._tg before this task ends
        # (an uncontended Semaphore.acquire() returns even in a cancelled scope).
        with self._send:
            for start, end in spans:  # bounded: one pass per part of the object
                await self._window.acquire()
                slot = _Slot()
                tg.start_soon(self._fetch, slot, start, end)
                await self._send.send(slot)

    async def _fetch(self, slot: _Slot, start: int, end: int) -> None:
        assert self._first is not None
        key = self._opts.key
        try:
            stream = await open_part(self._client, self._opts, self._first, start, end)
            chunks: list[bytes] = []
            pos = start
            try:
                async for chunk in stream:
                    check_chunk(pos, len(chunk), start, end, key)
                    chunks.append(chunk)
                    pos += len(chunk)
            finally:
                await close_shielded(stream)
            check_end(pos, start, end, key)
            slot.chunks = chunks
        except Exception as exc:
            changed_note(exc, key, self._first.etag)
            slot.error = exc
        finally:
            slot.done.set()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_bytes()

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Yield the object's bytes in order, in chunks of about 1 MiB."""
        first = self._first
        if first is None:
            raise RuntimeError("use 'async with r2.download_stream(...) as stream' first")
        if self._consumed:
            raise RuntimeError("the stream was already read; open a new one")
        self._consumed = True
        key = self._opts.key
        expected = None
        if self._verify_md5:
            expected = comparable_md5(first.etag, sse_c="sse_customer_key" in self._opts.read_args)
        md5 = hashlib.md5(usedforsecurity=False) if expected is not None else None
        async for chunk in first.stream:
            check_chunk(self.bytes_received, len(chunk), 0, first.end, key)
            self.bytes_received += len(chunk)
            await _hash(md5, chunk)
            await self._progress.add(len(chunk))
            yield chunk
        check_end(self.bytes_received, 0, first.end, key)
        async for slot in self._receive:  # ends once every part was scheduled and taken
            await slot.done.wait()
            if slot.error is not None:
                raise slot.error
            chunks, slot.chunks = slot.chunks, None
            assert chunks is not None
            self._window.release()
            while chunks:  # bounded by the part's chunks; each is dropped once yielded
                chunk = chunks.pop(0)
                self.bytes_received += len(chunk)
                await _hash(md5, chunk)
                await self._progress.add(len(chunk))
                yield chunk
        if md5 is not None and expected is not None and first.etag is not None:
            self.md5_verified = await confirm_md5(
                self._client,
                self._opts.bucket,
                key,
                etag=first.etag,
                expected=expected,
                digest=md5.hexdigest(),
                size=first.size,
                headers=self._opts.headers,
                timeout=self._opts.timeout,
            )
        await self._progress.finish()

    async def read(self) -> bytes:
        """Read the whole object into memory."""
        return b"".join([chunk async for chunk in self.iter_bytes()])


async def _hash(md5: hashlib._Hash | None, chunk: bytes) -> None:
    """Add ``chunk`` to ``md5`` (in order), in a worker thread when it is large."""
    if md5 is None:
        return
    if len(chunk) <= INLINE_HASH:
        md5.update(chunk)
    else:
        await anyio.to_thread.run_sync(md5.update, chunk)

"""download_stream: an object's bytes in order, parts fetched ahead in parallel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING

import anyio
import anyio.abc

from .._exceptions import IntegrityError
from .._models import ObjectMetadata
from .cleanup import close_shielded
from .options import CONDITIONS, DownloadOptions
from .progress import Progress
from .ranges import FirstResponse, changed_note, open_first, part_spans

if TYPE_CHECKING:
    from .client import TransferClient


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

    def __init__(self, client: TransferClient, opts: DownloadOptions) -> None:
        """Prepare a download; nothing is sent until ``async with``.

        Args:
            client: the client to send with.
            opts: the validated download options.
        """
        self._client = client
        self._opts = opts
        self._first: FirstResponse | None = None
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
        spans = part_spans(self._first.end, self._first.size, self._opts.part_size)
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
                await close_shielded(self._first.stream)

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
                    **{k: v for k, v in self._opts.read_args.items() if k not in CONDITIONS},
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
            changed_note(exc, self._opts.key, self._first.etag)
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

"""``R2File``: a buffered file over ranged GETs (read) or a multipart upload (write)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
from collections import deque
from types import TracebackType
from typing import TYPE_CHECKING, Any

from fsspec.asyn import sync
from fsspec.spec import AbstractBufferedFile

from r2async import CompletedPart

from .errors import translate_errors
from .options import write_kwargs
from .paths import split_path
from .readahead import PrefetchCache

if TYPE_CHECKING:
    from .objects import ObjectsMixin

__all__ = ["R2File"]

_MODES = ("rb", "wb", "xb")


class R2File(AbstractBufferedFile):  # type: ignore[misc]  # fsspec is untyped
    """A file on R2, from ``fs.open(path, mode)``; modes 'rb', 'wb' and 'xb' (create-only).

    Reading pins every ranged GET to the ETag the file was opened with, so an object
    overwritten meanwhile raises ``ObjectChangedError`` instead of mixing two versions.
    Writing sends one PutObject when the file is small, else a multipart upload of equal
    ``block_size`` parts (R2's rule) with up to ``concurrency`` parts in flight; a file closed
    by an exception (``with`` block) or ``discard()``-ed leaves no object and no upload.
    """

    fs: ObjectsMixin
    buffer: io.BytesIO
    offset: int | None
    closed: bool

    def __init__(
        self,
        fs: ObjectsMixin,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_type: str = PrefetchCache.name,
        cache_options: dict[str, Any] | None = None,
        size: int | None = None,
        **kwargs: Any,
    ) -> None:
        """Open ``path``; prefer ``fs.open(path, mode)``.

        Args:
            fs: the filesystem.
            path: ``bucket/key``.
            mode: 'rb', 'wb' or 'xb' (fails with FileExistsError if the key exists).
            block_size: bytes per ranged GET / per part (default: the filesystem's).
            autocommit: must be True (R2 has no staging area to commit from).
            cache_type: 'r2-readahead' (default: parallel read-ahead) or any fsspec cache.
            cache_options: options for an fsspec cache.
            size: the object's size, if known (skips a HEAD when reading).
            kwargs: R2 write options (``content_type``, ``metadata``, ...) when writing.
        """
        if mode not in _MODES:
            raise ValueError(f"mode {mode!r} is not supported: use 'rb', 'wb' or 'xb'")
        if not autocommit:
            raise ValueError("autocommit=False is not supported: an upload completes on close")
        self.bucket, self.key = split_path(path, need_key=True)
        block_size = block_size or fs.blocksize
        if mode != "rb":
            if block_size < 5 * 1024 * 1024:
                raise ValueError("block_size must be at least 5 MiB when writing (R2 parts)")
            self._write_options = write_kwargs(
                kwargs, self.key, mode="create" if mode == "xb" else "overwrite", what="open"
            )
            kwargs = {}
            if mode == "xb" and fs.exists(path):
                raise FileExistsError(17, "the object already exists", path)
        self._upload_id: str | None = None
        self._parts: list[CompletedPart] = []
        self._inflight: deque[concurrent.futures.Future[Any]] = deque()
        ours = cache_type == PrefetchCache.name
        super().__init__(
            fs,
            path,
            mode=mode,
            block_size=block_size,
            autocommit=True,
            cache_type="none" if ours else cache_type,
            cache_options=cache_options,
            size=size,
            **kwargs,
        )
        if mode == "rb":
            if self.details.get("type") == "directory":
                raise IsADirectoryError(21, "is a directory", path)
            self.etag: str | None = self.details.get("ETag")
            if ours:
                self.cache = PrefetchCache(self.blocksize, self._submit, self.size, fs.read_ahead)

    # -- reading ------------------------------------------------------------------------------

    def _submit(self, start: int, end: int) -> concurrent.futures.Future[bytes]:
        return asyncio.run_coroutine_threadsafe(
            self.fs._fetch_pinned(self.bucket, self.key, start, end, self.etag), self.fs.loop
        )

    def _fetch_range(self, start: int, end: int) -> bytes:
        data: bytes = sync(
            self.fs.loop, self.fs._fetch_pinned, self.bucket, self.key, start, end, self.etag
        )
        return data

    # -- writing ------------------------------------------------------------------------------

    def _initiate_upload(self) -> None:
        # Deferred: a file that never fills one part goes out as one PutObject on close.
        pass

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getbuffer()
        part = self.blocksize
        full = len(data) // part * part
        try:
            if final and self._upload_id is None:
                self._put_whole(bytes(data))
                return True
            if full and self._upload_id is None:
                self._upload_id = sync(self.fs.loop, self._create_upload)
            for begin in range(0, full, part):
                self._send_part(bytes(data[begin : begin + part]))
            rest = bytes(data[full:])
            del data
            if final:
                if rest:
                    self._send_part(rest)
                self._wait_parts(0)
                sync(self.fs.loop, self._complete)
                return True
        except BaseException:
            self._abort()
            raise
        # Keep only the remainder: every part but the last must be exactly ``part`` bytes.
        self.buffer = io.BytesIO(rest)
        self.buffer.seek(0, 2)
        self.offset = (self.offset or 0) + full
        return False

    def _put_whole(self, body: bytes) -> None:
        async def put() -> None:
            client = await self.fs._client()
            with translate_errors(self.path, create=self.mode == "xb"):
                await client.put_object(self.bucket, self.key, body, **self._write_options)

        sync(self.fs.loop, put)

    async def _create_upload(self) -> str:
        client = await self.fs._client()
        with translate_errors(self.path, create=self.mode == "xb"):
            upload = await client.create_multipart_upload(
                self.bucket, self.key, **self._write_options
            )
        return upload.upload_id

    def _send_part(self, body: bytes) -> None:
        # Bounded memory: at most ``concurrency`` parts in flight besides the buffer.
        self._wait_parts(self.fs.concurrency - 1)
        number = len(self._parts) + len(self._inflight) + 1
        self._inflight.append(
            asyncio.run_coroutine_threadsafe(self._upload_part(number, body), self.fs.loop)
        )

    async def _upload_part(self, number: int, body: bytes) -> CompletedPart:
        client = await self.fs._client()
        assert self._upload_id is not None
        with translate_errors(self.path):
            result = await client.upload_part(self.bucket, self.key, self._upload_id, number, body)
        return CompletedPart(part_number=number, etag=result.etag)

    def _wait_parts(self, keep: int) -> None:
        while len(self._inflight) > keep:
            self._parts.append(self._inflight.popleft().result())

    async def _complete(self) -> None:
        client = await self.fs._client()
        assert self._upload_id is not None
        options = self._write_options
        with translate_errors(self.path, create=self.mode == "xb"):
            await client.complete_multipart_upload(
                self.bucket,
                self.key,
                self._upload_id,
                self._parts,
                if_match=options.get("if_match"),
                if_none_match=options.get("if_none_match"),
            )
        self._upload_id = None

    def _abort(self) -> None:
        """Cancel parts in flight and abort the multipart upload (no object, no upload left)."""
        for future in self._inflight:
            future.cancel()
        for future in self._inflight:
            # The upload is abandoned: its parts' outcomes no longer matter.
            with contextlib.suppress(BaseException):
                future.result()
        self._inflight.clear()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is not None:

            async def abort() -> None:
                client = await self.fs._client()
                await client.abort_multipart_upload(self.bucket, self.key, upload_id)

            sync(self.fs.loop, abort)

    def discard(self) -> None:
        """Throw the written data away: abort the upload; nothing is stored."""
        if self.mode == "rb" or self.closed:
            return
        try:
            self._abort()
        finally:
            self.buffer = io.BytesIO()
            self.closed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and self.mode != "rb":
            # A with block that failed must not publish half of what it meant to write.
            self.discard()
        else:
            self.close()

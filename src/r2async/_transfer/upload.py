"""Uploads: one PutObject, or a multipart upload with parallel parts, aborted on failure."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from .._body import BodyLike
from .._construct import construct
from .._exceptions import IntegrityError, NoSuchUploadError
from .._limits import MAX_OBJECT_SIZE, MAX_PARTS
from .cleanup import add_note, open_owned, run_shielded
from .files import checksum_of_bytes, checksum_of_file
from .options import UploadOptions, part_size_for
from .progress import Progress
from .readers import Reader
from .results import UploadResult, checksums_of

if TYPE_CHECKING:
    from .client import TransferClient

# How long a shielded AbortMultipartUpload may take (its own retries included) before giving up.
ABORT_TIMEOUT = 30.0


@dataclass
class _Part:
    number: int
    offset: int
    length: int
    data: bytes | None = None  # in memory, or streamed from the path below
    path: str | None = None
    file_size: int = 0  # the size of the file at ``path`` when the upload started


class Uploader:
    """Runs one upload: a single PutObject or a multipart upload with parallel parts."""

    def __init__(self, client: TransferClient, opts: UploadOptions) -> None:
        self.client = client
        self.opts = opts
        self.progress = Progress(opts.progress, None)

    # -- entry points ---------------------------------------------------------------------

    async def upload_path(self, path: str) -> UploadResult:
        """Upload a file by path: single PutObject (streamed) or parts streamed in parallel."""
        opts = self.opts
        f = await open_owned(path)
        try:
            size = os.fstat(f.fileno()).st_size
            self.progress.total = size
            if size <= opts.threshold:
                checksum = None
                if opts.checksum_algorithm is not None:
                    checksum = await anyio.to_thread.run_sync(
                        checksum_of_file, opts.checksum_algorithm, f, 0, size
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

    async def upload_reader(self, reader: Reader, *, in_memory: bool) -> UploadResult:
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
                        checksum_of_bytes, opts.checksum_algorithm, first
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

    async def _put(self, body: BodyLike, size: int, *, checksum: str | None) -> UploadResult:
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
        return construct(
            UploadResult,
            {
                "bucket": opts.bucket,
                "key": opts.key,
                "size": size,
                "etag": result.etag,
                "version_id": result.version_id,
                "request_id": result.request_id,
                **checksums_of(result),
            },
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
        upload_id = await self._create()
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
        return construct(
            UploadResult,
            {
                "bucket": opts.bucket,
                "key": opts.key,
                "size": self.progress.done,
                "etag": completed.etag,
                "part_count": len(parts),
                "part_size": part_size,
                "upload_id": upload_id,
                "version_id": completed.version_id,
                "request_id": completed.request_id,
                **checksums_of(completed),
            },
        )

    async def _create(self) -> str:
        """CreateMultipartUpload, run to completion even if the caller is cancelled meanwhile.

        Once sent, the server may create the upload even though the caller stopped waiting:
        an abandoned request would leave an upload nobody knows of. So the request is finished
        (shielded; bounded by its own timeout and retries) and, if the caller was cancelled
        in the meantime, the upload it created is aborted before the cancellation goes on.
        """
        opts = self.opts
        created: list[str] = []

        async def create() -> None:
            result = await self.client.create_multipart_upload(
                opts.bucket,
                opts.key,
                checksum_algorithm=opts.checksum_algorithm,
                headers=opts.headers,
                timeout=opts.timeout,
                **opts.write_args,
            )
            created.append(result.upload_id)

        try:
            await run_shielded(create)
            # An anyio cancellation held back by the shield lands here, at the latest.
            await anyio.lowlevel.checkpoint_if_cancelled()
        except BaseException as exc:
            if created:
                await self._abort(created[0], exc, sent=0, parts=0)
            raise
        return created[0]

    async def _send_part(self, upload_id: str, part: _Part) -> Any:
        opts = self.opts
        alg = opts.checksum_algorithm
        sse = opts.write_args.get("sse_customer_key")
        if part.data is not None:
            checksum = None
            if alg is not None:
                checksum = await anyio.to_thread.run_sync(checksum_of_bytes, alg, part.data)
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
        f = await open_owned(part.path)
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
                    checksum_of_file, alg, f, part.offset, part.length
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

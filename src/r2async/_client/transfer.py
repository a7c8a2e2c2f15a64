"""R2Client methods for high-level transfers: upload_file, upload_stream, download_file/stream."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Union

from .. import _limits, _tracing
from .._body import BodyLike
from .._checksums import ChecksumAlgorithm
from .._headers import DateLike, HeaderMap, StorageClass
from .base import NOT_GIVEN, TimeoutTypes, _ClientBase

if TYPE_CHECKING:
    from .._transfer import api as tr
    from .._transfer.client import TransferClient
else:
    from .._lazy import LazyModule

    # Transfers (anyio, result models) load on the first transfer, not at import.
    tr = LazyModule("r2async._transfer.api", globals(), "tr", also=("r2async._transfer.client",))

PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]


class TransferMethods(_ClientBase):
    """High-level transfers of any size: multipart uploads and parallel ranged downloads."""

    @_tracing.transfer("upload_file")
    async def upload_file(
        self: TransferClient,
        bucket: str,
        key: str,
        path_or_file: PathOrFile,
        *,
        part_size: int = _limits.DEFAULT_PART_SIZE,
        threshold: int = _limits.DEFAULT_THRESHOLD,
        concurrency: int = _limits.DEFAULT_CONCURRENCY,
        progress: tr.ProgressCallback | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: DateLike | None = None,
        metadata: Mapping[str, str] | None = None,
        storage_class: StorageClass | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        create_bucket_if_missing: bool = False,
        sse_customer_key: bytes | None = None,
        checksum_algorithm: ChecksumAlgorithm | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> tr.UploadResult:
        """Upload a file of any size: one PutObject up to ``threshold``, else parallel parts.

        A path is read by several workers at once, never buffered whole; a file object is read
        from its current position to its end, one part at a time. On failure or cancellation a
        multipart upload is aborted, so the key keeps its old value (see ``r2async._transfer``).

        Args:
            bucket: the bucket name.
            key: the object key (at most 1,024 UTF-8 bytes).
            path_or_file: a path, or a binary file object (a pipe or socket works too: its
                length is then unknown, as for ``upload_stream``).
            part_size: bytes per part (default 8 MiB, at least 5 MiB); raised automatically
                when the file would need more than 10,000 parts.
            threshold: largest path sent as one PutObject (default 16 MiB); a file object is
                read as a stream (see ``upload_stream``).
            concurrency: parts in flight at once (default 8); memory stays below
                ``part_size * concurrency``.
            progress: ``callback(bytes_sent, total)`` (sync or async), called with increasing
                counts after each part (or the single PUT) and last with (size, size); an
                exception from it aborts the upload (default none).
            content_type: the Content-Type to store (default none; R2 infers one only for
                single PutObjects).
            cache_control: the Cache-Control to store.
            content_disposition: the Content-Disposition to store.
            content_encoding: the Content-Encoding to store (the data is sent as given).
            content_language: the Content-Language to store.
            expires: the Expires to store (datetime or HTTP date).
            metadata: user metadata; non-ASCII values are RFC 2047-encoded (8 KiB max).
            storage_class: 'STANDARD' or 'STANDARD_IA' (default: the bucket's default).
            if_match: write only if the current object's ETag matches (412 otherwise);
                checked at CreateMultipartUpload and again at Complete.
            if_none_match: '*' writes only if the key is absent (412 otherwise); checked at
                Create and at Complete. A conditional upload is not repeated once it may have
                reached the server (as ``put_object`` says).
            if_modified_since: write only if the object changed since then.
            if_unmodified_since: write only if the object did not change since then.
            create_bucket_if_missing: R2 creates the bucket instead of failing (default False).
            sse_customer_key: a 32-byte SSE-C key, sent on every request (default none).
            checksum_algorithm: 'CRC32', 'CRC32C', 'SHA1', 'SHA256' (per part, COMPOSITE for
                multipart) or 'CRC64NVME' for R2 to verify; computed in a worker thread
                (default none).
            headers: extra headers for PutObject, or for CreateMultipartUpload and
                CompleteMultipartUpload (use ``operation_headers=`` for UploadPart).
            timeout: each request's timeout (default: the client's).
        """
        opts = tr.UploadOptions.build(
            "upload_file",
            bucket,
            key,
            write_args=_write_args(locals()),
            checksum_algorithm=checksum_algorithm,
            part_size=part_size,
            threshold=threshold,
            concurrency=concurrency,
            progress=progress,
            headers=headers,
            timeout=timeout,
        )
        uploader = tr.Uploader(self, opts)
        if isinstance(path_or_file, (str, os.PathLike)):
            path = os.fspath(path_or_file)
            if not isinstance(path, str):
                raise TypeError("pass the path as str or os.PathLike[str], not bytes")
            return await uploader.upload_path(path)
        if not hasattr(path_or_file, "read"):
            raise TypeError(
                "upload_file takes a path or a binary file object; for bytes or iterables use "
                "upload_stream()"
            )
        reader, in_memory = tr.make_reader(path_or_file, None, what="upload_file")
        return await uploader.upload_reader(reader, in_memory=in_memory)

    @_tracing.transfer("upload_stream")
    async def upload_stream(
        self: TransferClient,
        bucket: str,
        key: str,
        data: BodyLike,
        *,
        content_length: int | None = None,
        part_size: int = _limits.DEFAULT_PART_SIZE,
        threshold: int = _limits.DEFAULT_THRESHOLD,
        concurrency: int = _limits.DEFAULT_CONCURRENCY,
        progress: tr.ProgressCallback | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: DateLike | None = None,
        metadata: Mapping[str, str] | None = None,
        storage_class: StorageClass | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        create_bucket_if_missing: bool = False,
        sse_customer_key: bytes | None = None,
        checksum_algorithm: ChecksumAlgorithm | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> tr.UploadResult:
        """Upload bytes or a stream of unknown length, buffering at most one part per worker.

        A stream that ends within ``min(threshold, part_size)`` bytes goes out as one
        PutObject; a longer one as parts of exactly ``part_size`` bytes. Without
        ``content_length`` the part size cannot change once part 1 is sent (R2 needs equal
        parts), so the largest object is ``part_size * 10,000`` (78.1 GiB at 8 MiB): pass
        ``content_length`` or a larger ``part_size`` for more.

        Args:
            bucket: the bucket name.
            key: the object key (at most 1,024 UTF-8 bytes).
            data: bytes-like, a binary file object, or an (async) iterable of bytes.
            content_length: the exact total, if known (default unknown); then the part size is
                derived from it and a stream of another length fails (and is aborted).
            part_size: bytes per part (default 8 MiB, at least 5 MiB).
            threshold: largest size sent as one PutObject (default 16 MiB; for streams capped
                at ``part_size``, the most that is buffered before deciding).
            concurrency: parts in flight at once (default 8); memory stays below
                ``part_size * concurrency`` (plus one chunk of the stream).
            progress: ``callback(bytes_sent, total_or_None)`` (sync or async); the total is
                None until the stream's end is read; the last call is (size, size).
            content_type: as for ``upload_file``.
            cache_control: as for ``upload_file``.
            content_disposition: as for ``upload_file``.
            content_encoding: as for ``upload_file``.
            content_language: as for ``upload_file``.
            expires: as for ``upload_file``.
            metadata: as for ``upload_file``.
            storage_class: as for ``upload_file``.
            if_match: as for ``upload_file`` (checked at Create and Complete).
            if_none_match: as for ``upload_file`` (checked at Create and Complete).
            if_modified_since: as for ``upload_file``.
            if_unmodified_since: as for ``upload_file``.
            create_bucket_if_missing: as for ``upload_file``.
            sse_customer_key: as for ``upload_file``.
            checksum_algorithm: as for ``upload_file``.
            headers: as for ``upload_file``.
            timeout: each request's timeout (default: the client's).
        """
        opts = tr.UploadOptions.build(
            "upload_stream",
            bucket,
            key,
            write_args=_write_args(locals()),
            checksum_algorithm=checksum_algorithm,
            part_size=part_size,
            threshold=threshold,
            concurrency=concurrency,
            progress=progress,
            headers=headers,
            timeout=timeout,
        )
        if isinstance(data, os.PathLike):
            raise TypeError("upload_stream takes data; for a path use upload_file()")
        reader, in_memory = tr.make_reader(data, content_length, what="upload_stream")
        return await tr.Uploader(self, opts).upload_reader(reader, in_memory=in_memory)

    @_tracing.transfer("download_file")
    async def download_file(
        self: TransferClient,
        bucket: str,
        key: str,
        path: str | os.PathLike[str],
        *,
        part_size: int = _limits.DEFAULT_PART_SIZE,
        concurrency: int = _limits.DEFAULT_CONCURRENCY,
        progress: tr.ProgressCallback | None = None,
        verify_md5: bool = True,
        fsync: bool = False,
        resume: bool = False,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> tr.DownloadResult:
        """Download an object to ``path`` with parallel ranged GETs; all or nothing.

        Bytes go to ``.<name>.r2async-<random>.part`` beside ``path``, which replaces ``path``
        only once complete and verified; on any failure or cancellation it is deleted and
        ``path`` is untouched. Every range after the first is pinned with ``If-Match`` to the
        first response's ETag, and every answer's ETag and total size are checked, so an object
        overwritten meanwhile fails with ObjectChangedError (a PreconditionFailedError) instead
        of mixing two versions, even through a server or cache that ignores ``If-Match``.

        With ``resume=True`` the partial file is ``<path>.r2async-part`` instead, and it is kept
        on failure or cancellation together with ``<path>.r2async-part.json``, which records the
        object's bucket, key, ETag, size, the part size and the completed parts with the CRC-32
        of each. A later call with ``resume=True`` (same path, bucket, key and ``part_size``)
        fetches only the missing parts (and any part whose bytes on disk no longer match) if
        the object still has that ETag and size, and starts over otherwise, or when anything
        found is unusable (an unreadable or implausible sidecar, a directory or symlink in
        place of a file; a symlink is never followed). Both files are gone once the download
        succeeds.

        Args:
            bucket: the bucket name.
            key: the object key.
            path: the file to write (its folder must exist, else FileNotFoundError before any
                request; an existing file is replaced).
            part_size: bytes per ranged GET (default 8 MiB, at least 5 MiB).
            concurrency: ranged GETs in flight at once (default 8).
            progress: ``callback(bytes_received, total)`` (sync or async), called with
                increasing counts about every MiB and last with (size, size) (default none).
            verify_md5: compare the file's MD5 with the ETag when that is a plain MD5 (32 hex
                digits, no SSE-C) and raise ``IntegrityError`` (nothing written) on a
                mismatch, unless a ``HEAD ?partNumber=1`` shows the object is multipart (R2
                multipart ETags from before 2023-06-21 are 32 hex digits but no MD5 of the
                body: such a download is kept, ``md5_verified=False``); costs one read of
                the file (default True).
            fsync: flush the file (and the directory entry) to disk before and after the
                rename, so even a power loss cannot leave a complete-looking but empty file;
                halves throughput on a typical disk (default False, like curl and the AWS CLI).
            resume: keep a partial download on failure and continue it on the next call with
                ``resume=True``; bytes already on disk are reported to ``progress`` first, in
                one call (default False: the partial file is deleted on failure).
            if_match: download only if the ETag matches (PreconditionFailedError otherwise).
            if_none_match: download only if the ETag differs (NotModifiedError otherwise).
            if_modified_since: download only if changed since then (NotModifiedError).
            if_unmodified_since: download only if unchanged since then.
            sse_customer_key: the 32-byte SSE-C key the object was written with.
            headers: extra headers for every GET of this download.
            timeout: each request's timeout (default: the client's).
        """
        if not isinstance(resume, bool):
            raise TypeError(f"resume must be a bool, got {type(resume).__name__}")
        opts = tr.DownloadOptions.build(
            bucket,
            key,
            read_args={
                "if_match": if_match,
                "if_none_match": if_none_match,
                "if_modified_since": if_modified_since,
                "if_unmodified_since": if_unmodified_since,
                "sse_customer_key": sse_customer_key,
            },
            part_size=part_size,
            concurrency=concurrency,
            progress=progress,
            headers=headers,
            timeout=timeout,
        )
        dest = os.fspath(path)
        if not isinstance(dest, str) or not dest:
            raise TypeError("path must be a non-empty str or os.PathLike[str]")
        # Checked here, before any request: otherwise the failure names the internal
        # temporary file. Not created silently: a typo in the path would scatter folders.
        folder = await _to_thread(_missing_folder, dest)
        if folder is not None:
            raise FileNotFoundError(
                f"download_file: the folder {folder!r} does not exist; create it first, "
                "e.g. os.makedirs(folder, exist_ok=True)"
            )
        return await tr.download_file(
            self,
            opts,
            dest,
            verify_md5=bool(verify_md5),
            fsync=bool(fsync),
            resume=resume,
        )

    def download_stream(
        self: TransferClient,
        bucket: str,
        key: str,
        *,
        part_size: int = _limits.DEFAULT_PART_SIZE,
        concurrency: int = _limits.DEFAULT_CONCURRENCY,
        progress: tr.ProgressCallback | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        verify_md5: bool = True,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> tr.DownloadStream:
        """Stream an object's bytes in order, fetching parts ahead in parallel.

        ``async with r2.download_stream(b, k) as stream: async for chunk in stream: ...``.
        Arguments are validated now; requests start on ``async with``. For one sequential GET
        use ``stream_object``.

        Args:
            bucket: the bucket name.
            key: the object key.
            part_size: bytes per ranged GET (default 8 MiB, at least 5 MiB).
            concurrency: parts fetched at once (default 8); memory stays below
                ``part_size * concurrency``.
            progress: ``callback(bytes_yielded, total)`` (sync or async) (default none).
            if_match: as for ``download_file``.
            if_none_match: as for ``download_file``.
            if_modified_since: as for ``download_file``.
            if_unmodified_since: as for ``download_file``.
            sse_customer_key: as for ``download_file``.
            verify_md5: hash the bytes as they are yielded and compare the MD5 with the ETag
                when that is a plain MD5 (see ``download_file``); a mismatch raises
                ``IntegrityError`` after the last chunk, so commit nothing before the
                iteration ends (default True).
            headers: extra headers for every GET.
            timeout: each request's timeout (default: the client's).
        """
        opts = tr.DownloadOptions.build(
            bucket,
            key,
            read_args={
                "if_match": if_match,
                "if_none_match": if_none_match,
                "if_modified_since": if_modified_since,
                "if_unmodified_since": if_unmodified_since,
                "sse_customer_key": sse_customer_key,
            },
            part_size=part_size,
            concurrency=concurrency,
            progress=progress,
            headers=headers,
            timeout=timeout,
        )
        return tr.DownloadStream(self, opts, verify_md5=bool(verify_md5))


def _write_args(args: Mapping[str, object]) -> dict[str, object]:
    # The typed object arguments of the calling method, by name (locals() of its frame).
    return {name: args[name] for name in tr.WRITE_ARGS}


def _missing_folder(path: str) -> str | None:
    """The folder ``path`` would be written in, if it does not exist; else None."""
    folder = os.path.dirname(os.path.abspath(path))
    return None if os.path.isdir(folder) else folder


async def _to_thread(func: Callable[[str], str | None], arg: str) -> str | None:
    """Run a blocking file-system check in a worker thread (anyio loads on first use)."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(func, arg)

"""R2Client methods for multipart uploads: create, upload parts, complete, abort, list."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING

from .. import _limits
from .._checksums import ChecksumAlgorithm, ChecksumType
from .._exceptions import ResponseParseError
from .._headers import DateLike, HeaderMap, StorageClass
from .._operations.part_sizes import check_part_sizes
from .._paging import PageGuard
from .base import NOT_GIVEN, TimeoutTypes, _ClientBase

if TYPE_CHECKING:
    from .._models_multipart import (
        AbortMultipartUploadResult,
        CompleteMultipartUploadResult,
        CreateMultipartUploadResult,
        ListMultipartUploadsResult,
        ListPartsResult,
        MultipartUpload,
        Part,
        UploadPartCopyResult,
        UploadPartResult,
    )
    from .._operations import multipart as ops
    from .._operations import multipart_list as list_ops
else:
    from .._lazy import LazyModule

    # Builders, parsers and result models (pydantic) load on first use, not at import.
    ops = LazyModule(
        "r2async._operations.multipart", globals(), "ops", also=("r2async._models_multipart",)
    )
    list_ops = LazyModule("r2async._operations.multipart_list", globals(), "list_ops")

# Pages an iterator may fetch before it gives up: 10,000 parts at 1 per page, plus one.
_MAX_PART_PAGES = _limits.MAX_PARTS + 1


class MultipartMethods(_ClientBase):
    """Multipart uploads: create, upload_part(_copy), complete, abort, list_parts/uploads.

    R2 rules to know: every part except the last must have the same size (checked only at
    complete, as ``400 InvalidPart``), parts are 5 MiB to 5 GiB - 5 MiB, at most 10,000 of them;
    incomplete uploads expire after 7 days. ``upload_file`` handles all of this for files.
    """

    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
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
        checksum_type: ChecksumType | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> CreateMultipartUploadResult:
        """Start a multipart upload (CreateMultipartUpload); never retried after a lost answer.

        Args:
            bucket: the bucket name.
            key: the object key (at most 1,024 UTF-8 bytes).
            content_type: the Content-Type to store (default none: R2 does not infer one for
                multipart uploads).
            cache_control: the Cache-Control to store.
            content_disposition: the Content-Disposition to store.
            content_encoding: the Content-Encoding to store.
            content_language: the Content-Language to store.
            expires: the Expires to store (datetime or HTTP date).
            metadata: user metadata; non-ASCII values are RFC 2047-encoded (8 KiB max).
            storage_class: 'STANDARD' or 'STANDARD_IA' (default: the bucket's default).
            if_match: start only if the current object's ETag matches (412 otherwise).
            if_none_match: '*' starts only if the key is absent (412 otherwise).
            if_modified_since: start only if the object changed since then.
            if_unmodified_since: start only if the object did not change since then.
            create_bucket_if_missing: R2 creates the bucket instead of failing (default False).
            sse_customer_key: a 32-byte SSE-C key; pass the same key to every ``upload_part``
                and to ``complete_multipart_upload`` (default none).
            checksum_algorithm: 'CRC32', 'CRC32C', 'SHA1', 'SHA256' (COMPOSITE) or 'CRC64NVME'
                (FULL_OBJECT) that every part will carry (default none).
            checksum_type: 'COMPOSITE' or 'FULL_OBJECT'; R2 allows only FULL_OBJECT with
                CRC64NVME and only COMPOSITE with the others, so another pairing raises
                ValueError (default: not sent, R2 uses the allowed type).
            headers: extra headers for this call (signed; later wins over client headers).
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_create_multipart_upload(
            bucket,
            key,
            checksum_algorithm=checksum_algorithm,
            checksum_type=checksum_type,
            content_type=content_type,
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            content_language=content_language,
            expires=expires,
            metadata=metadata,
            storage_class=storage_class,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            create_bucket_if_missing=create_bucket_if_missing,
            sse_customer_key=sse_customer_key,
        )
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_create_multipart_upload(bucket, key, response.headers, body)

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: object,
        *,
        content_length: int | None = None,
        content_md5: bool | str | None = None,
        checksum_algorithm: ChecksumAlgorithm | None = None,
        checksum: str | None = None,
        sse_customer_key: bytes | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> UploadPartResult:
        """Upload one part (UploadPart); uploading a part number again replaces that part.

        Args:
            bucket: the bucket name.
            key: the object key.
            upload_id: ``create_multipart_upload(...).upload_id``.
            part_number: 1 to 10,000; parts are assembled in part-number order.
            body: bytes, str (UTF-8), a binary file object (read from its current position,
                ``content_length`` bytes), or an (async) iterable of bytes.
            content_length: the part's length; required for iterables, and for a file object
                when the part is only a slice of it.
            content_md5: True to send a Content-MD5 R2 verifies, or the base64 MD5 itself
                (default none).
            checksum_algorithm: 'CRC32', 'CRC32C', 'CRC64NVME', 'SHA1' or 'SHA256' to have R2
                verify the part; use the upload's algorithm (default none).
            checksum: that checksum's base64 value, if already known (required for streams).
            sse_customer_key: the upload's 32-byte SSE-C key (required on every part of an
                SSE-C upload).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_upload_part(
            bucket,
            key,
            upload_id,
            part_number,
            body,
            content_length=content_length,
            content_md5=content_md5,
            checksum_algorithm=checksum_algorithm,
            checksum=checksum,
            sse_customer_key=sse_customer_key,
        )
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        result = ops.parse_upload_part(part_number, response.headers)
        # The size as sent: complete_multipart_upload checks R2's equal-size rule with it.
        return result.model_copy(update={"size": spec.body.length if spec.body else 0})

    async def upload_part_copy(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        source_bucket: str,
        source_key: str,
        *,
        source_range: tuple[int, int] | str | None = None,
        sse_customer_key: bytes | None = None,
        source_sse_customer_key: bytes | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> UploadPartCopyResult:
        """Fill one part with (a byte range of) an existing object (UploadPartCopy).

        A 200 answer whose body is an ``<Error>`` raises, like any other error.

        Args:
            bucket: the destination bucket.
            key: the destination key.
            upload_id: the destination upload.
            part_number: 1 to 10,000.
            source_bucket: the bucket to copy from.
            source_key: the key to copy from.
            source_range: (first_byte, last_byte), inclusive, or 'bytes=FIRST-LAST'
                (default: the whole source object).
            sse_customer_key: the destination upload's 32-byte SSE-C key.
            source_sse_customer_key: the source object's 32-byte SSE-C key.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_upload_part_copy(
            bucket,
            key,
            upload_id,
            part_number,
            source_bucket,
            source_key,
            source_range=source_range,
            sse_customer_key=sse_customer_key,
            source_sse_customer_key=source_sse_customer_key,
        )
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_upload_part_copy(part_number, response.headers, body)

    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[ops.PartLike],
        *,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        checksum_algorithm: ChecksumAlgorithm | None = None,
        checksum: str | None = None,
        checksum_type: ChecksumType | None = None,
        verify_part_sizes: bool = False,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> CompleteMultipartUploadResult:
        """Assemble the uploaded parts into the object (CompleteMultipartUpload).

        A 200 answer whose body is an ``<Error>`` raises. A failed ``if_*`` condition raises
        PreconditionFailedError and R2 aborts the upload.

        R2 requires every part except the last to be exactly the same size (the last no
        larger) and checks it only here. The sizes r2async knows (``UploadPartResult`` from
        ``upload_part``, ``Part`` from ``list_parts``; with ``verify_part_sizes=True``, every
        part, from ``list_parts``) are checked first: a violation is a ``ValueError`` naming
        the part, and nothing is sent. If R2 still refuses the parts, the error is
        ``InvalidPartError``.

        Args:
            bucket: the bucket name.
            key: the object key.
            upload_id: the upload to complete.
            parts: the parts, in any order (sent sorted): UploadPartResult,
                UploadPartCopyResult, Part (from ``list_parts``), CompletedPart or
                ``(part_number, etag)``; non-empty, each part number once.
            if_match: complete only if the current object's ETag matches.
            if_none_match: '*' completes only if the key is still absent.
            if_modified_since: complete only if the current object changed since then.
            if_unmodified_since: complete only if the current object did not change since then.
            sse_customer_key: the upload's 32-byte SSE-C key.
            checksum_algorithm: the algorithm of ``checksum`` (default none).
            checksum: the whole object's base64 checksum for R2 to verify, e.g. the CRC64NVME
                of a FULL_OBJECT upload (default none).
            checksum_type: 'COMPOSITE' or 'FULL_OBJECT' (default: not sent).
            verify_part_sizes: list the upload's parts first to learn the sizes of parts given
                as ``CompletedPart`` or ``(number, etag)`` (default False: check only the
                sizes the given parts carry).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        if not isinstance(verify_part_sizes, bool):
            raise TypeError("verify_part_sizes must be True or False")
        spec = ops.build_complete_multipart_upload(
            bucket,
            key,
            upload_id,
            parts,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
            checksum_algorithm=checksum_algorithm,
            checksum=checksum,
            checksum_type=checksum_type,
        )
        sizes = {p.part_number: p.size for p in parts if isinstance(p, (UploadPartResult, Part))}
        if verify_part_sizes:
            async for listed in self.iter_parts(bucket, key, upload_id, timeout=timeout):
                sizes[listed.part_number] = listed.size
        numbers = [_part_number(p) for p in parts]
        check_part_sizes((n, sizes.get(n)) for n in numbers)
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_complete_multipart_upload(bucket, key, response.headers, body)

    async def abort_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> AbortMultipartUploadResult:
        """Discard an upload and its parts (AbortMultipartUpload); safe to repeat on R2.

        Other S3 servers (SeaweedFS, AWS) answer NoSuchUploadError for an upload that is
        already gone; R2 succeeds.

        Args:
            bucket: the bucket name.
            key: the object key.
            upload_id: the upload to abort.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_abort_multipart_upload(bucket, key, upload_id)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_abort_multipart_upload(response.headers)

    async def list_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        max_parts: int | None = None,
        part_number_marker: int | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> ListPartsResult:
        """One page of an upload's parts (ListParts); ``iter_parts`` walks every page.

        Args:
            bucket: the bucket name.
            key: the object key.
            upload_id: the upload.
            max_parts: parts per page, 1 to 1,000 (default: the server's, 1,000).
            part_number_marker: list parts after this part number (default: from the first).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = list_ops.build_list_parts(
            bucket, key, upload_id, max_parts=max_parts, part_number_marker=part_number_marker
        )
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return list_ops.parse_list_parts(bucket, key, upload_id, response.headers, body)

    def iter_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        *,
        page_size: int | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> AsyncIterator[Part]:
        """Every part of an upload, in part-number order, fetching pages as needed (ListParts).

        ``async for part in r2.iter_parts(bucket, key, upload_id): ...``

        Args:
            bucket: the bucket name.
            key: the object key.
            upload_id: the upload.
            page_size: parts per request, 1 to 1,000 (default: the server's, 1,000).
            headers: extra headers for each request.
            timeout: each request's timeout (default: the client's).
        """
        # Validate now, not at the first iteration: bad input fails where it is written.
        ops.check_page_size(page_size, "page_size")
        spec = list_ops.build_list_parts(bucket, key, upload_id, max_parts=page_size)
        self._merged_headers(spec, headers)
        return self._iter_parts(bucket, key, upload_id, page_size, headers, timeout)

    async def _iter_parts(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        page_size: int | None,
        headers: HeaderMap | None,
        timeout: TimeoutTypes,
    ) -> AsyncIterator[Part]:
        marker: int | None = None
        for _ in range(_MAX_PART_PAGES):
            page = await self.list_parts(
                bucket,
                key,
                upload_id,
                max_parts=page_size,
                part_number_marker=marker,
                headers=headers,
                timeout=timeout,
            )
            for part in page.parts:
                yield part
            if not page.is_truncated:
                return
            nxt = page.next_part_number_marker
            if nxt is None and page.parts:
                nxt = page.parts[-1].part_number
            if nxt is None or (marker is not None and nxt <= marker):
                raise ResponseParseError(
                    "ListParts: the server said the listing is truncated but gave no new "
                    "NextPartNumberMarker; stopping instead of looping"
                )
            marker = nxt
        raise ResponseParseError(f"ListParts: more than {_MAX_PART_PAGES} pages; stopping")

    async def list_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        key_marker: str | None = None,
        upload_id_marker: str | None = None,
        max_uploads: int | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> ListMultipartUploadsResult:
        """One page of a bucket's in-progress uploads (ListMultipartUploads).

        Keys come back decoded (r2async sends ``encoding-type=url``); ``iter_multipart_uploads``
        walks every page.

        Args:
            bucket: the bucket name.
            prefix: only uploads whose key starts with this (default all).
            delimiter: group keys up to this string into ``common_prefixes`` (default none).
            key_marker: list uploads after this key (default: from the start).
            upload_id_marker: with ``key_marker``, list that key's uploads after this id.
            max_uploads: uploads per page, 1 to 1,000 (default: the server's, 1,000).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = list_ops.build_list_multipart_uploads(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            upload_id_marker=upload_id_marker,
            max_uploads=max_uploads,
        )
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return list_ops.parse_list_multipart_uploads(bucket, response.headers, body)

    def iter_multipart_uploads(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        page_size: int | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> AsyncIterator[MultipartUpload]:
        """Every in-progress upload in a bucket, fetching pages as needed.

        ``async for upload in r2.iter_multipart_uploads(bucket, prefix="tmp/"): ...``
        (for grouping by delimiter, page with ``list_multipart_uploads``). A server that
        claims more pages but repeats or cycles its markers, sends 1,000 empty pages in a row,
        or goes past 1,000,000 pages raises ``ResponseParseError`` instead of looping.

        Args:
            bucket: the bucket name.
            prefix: only uploads whose key starts with this (default all).
            page_size: uploads per request, 1 to 1,000 (default: the server's, 1,000).
            headers: extra headers for each request.
            timeout: each request's timeout (default: the client's).
        """
        ops.check_page_size(page_size, "page_size")
        spec = list_ops.build_list_multipart_uploads(bucket, prefix=prefix, max_uploads=page_size)
        self._merged_headers(spec, headers)
        return self._iter_multipart_uploads(bucket, prefix, page_size, headers, timeout)

    async def _iter_multipart_uploads(
        self,
        bucket: str,
        prefix: str | None,
        page_size: int | None,
        headers: HeaderMap | None,
        timeout: TimeoutTypes,
    ) -> AsyncIterator[MultipartUpload]:
        key_marker: str | None = None
        upload_id_marker: str | None = None
        guard = PageGuard(f"ListMultipartUploads (bucket={bucket!r})", "marker pair")
        while True:  # bounded by the guard (MAX_PAGES)
            page = await self.list_multipart_uploads(
                bucket,
                prefix=prefix,
                key_marker=key_marker,
                upload_id_marker=upload_id_marker,
                max_uploads=page_size,
                headers=headers,
                timeout=timeout,
            )
            for upload in page.uploads:
                yield upload
            if not page.is_truncated:
                return
            # S3 pages by (NextKeyMarker, NextUploadIdMarker). SeaweedFS sends only
            # NextUploadIdMarker and pages by upload id alone: follow whichever is given.
            nxt = (page.next_key_marker, page.next_upload_id_marker)
            if nxt == (None, None) or nxt == (key_marker, upload_id_marker):
                raise ResponseParseError(
                    "ListMultipartUploads: the server said the listing is truncated but gave "
                    "no new NextKeyMarker/NextUploadIdMarker; stopping instead of looping"
                )
            # Markers repeated further back (A, B, A, ...) or endless empty pages.
            guard.next(nxt, entries=len(page.uploads) + len(page.common_prefixes))
            key_marker, upload_id_marker = nxt


def _part_number(part: object) -> int:
    # Every PartLike has a part_number but the (number, etag) tuple (validated by the builder).
    if isinstance(part, tuple):
        return int(part[0])
    return int(getattr(part, "part_number"))  # noqa: B009 - any of the PartLike models

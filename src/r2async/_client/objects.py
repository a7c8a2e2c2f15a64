"""R2Client methods for single objects: put, get, stream, head, delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx

from .._body import BodyLike
from .._checksums import ChecksumAlgorithm
from .._headers import DateLike, HeaderMap, StorageClass
from .._md5_check import verify_body
from .._response import collect_capped, refuse_over_cap
from .._resume import ObjectBody, reopener
from .._streaming import DEFAULT_CHUNK, ObjectStream
from .base import NOT_GIVEN, TimeoutTypes, _ClientBase

if TYPE_CHECKING:
    from .._models import DeleteObjectResult, GetObjectResult, HeadObjectResult, PutObjectResult
    from .._operations import objects as ops
else:
    from .._lazy import LazyModule

    # The builders and result models (pydantic) load on the first request, not at import.
    ops = LazyModule("r2async._operations.objects", globals(), "ops", also=("r2async._models",))


class ObjectMethods(_ClientBase):
    """Single-object operations."""

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: BodyLike,
        *,
        content_type: str | None = None,
        content_length: int | None = None,
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
        checksum: str | None = None,
        content_md5: bool | str | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> PutObjectResult:
        """Upload an object in one request (PutObject). For large data prefer ``upload_file``.

        A conditional write (``if_*`` arguments, or ``If-*`` headers at any level) is not
        repeated once it may have reached the server: a connection lost after sending raises
        ``APIConnectionError`` ("not retried"), since the write may have been applied and a
        repeat would fail with 412 on its own write (check with ``head_object``). A failure to
        connect (nothing sent) and error answers such as 503 are still retried.

        Args:
            bucket: the bucket name.
            key: the object key (at most 1,024 UTF-8 bytes).
            body: bytes, str (UTF-8), a binary file object, or an (async) iterable of bytes.
            content_type: the Content-Type to store (default: R2 infers one).
            content_length: the body length; required for iterables (R2 needs a length).
            cache_control: the Cache-Control to store.
            content_disposition: the Content-Disposition to store.
            content_encoding: the Content-Encoding to store (the body is sent as given).
            content_language: the Content-Language to store.
            expires: the Expires to store (datetime or HTTP date).
            metadata: user metadata; non-ASCII values are RFC 2047-encoded (8 KiB max).
            storage_class: 'STANDARD' or 'STANDARD_IA' (default: the bucket's default).
            if_match: write only if the current object's ETag matches (412 otherwise).
            if_none_match: '*' writes only if the key is absent (412 otherwise).
            if_modified_since: write only if the object changed since then.
            if_unmodified_since: write only if the object did not change since then.
            create_bucket_if_missing: R2 creates the bucket instead of failing (default False).
            sse_customer_key: a 32-byte key for SSE-C encryption (default none).
            checksum_algorithm: 'CRC32', 'CRC32C', 'CRC64NVME', 'SHA1' or 'SHA256' to have R2
                verify the body (default none).
            checksum: that checksum's base64 value, if already known (required for streams).
            content_md5: True to send a Content-MD5 R2 verifies, or the base64 MD5 itself.
            headers: extra headers for this call (signed; later wins over client headers).
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_put_object(
            bucket,
            key,
            body,
            content_length=content_length,
            checksum_algorithm=checksum_algorithm,
            checksum=checksum,
            content_md5=content_md5,
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
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_put_object(response.headers)

    async def get_object(
        self,
        bucket: str,
        key: str,
        *,
        range: str | tuple[int, int | None] | None = None,
        part_number: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        checksum_mode: bool = False,
        max_size: int | None = None,
        verify_md5: bool = True,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> GetObjectResult:
        """Download an object into memory (GetObject). For large objects use ``stream_object``.

        A body cut partway is resumed from the first missing byte, pinned to the ETag, up to
        ``max_retries`` times; ``ObjectChangedError`` if the object changed in between.

        Args:
            bucket: the bucket name.
            key: the object key.
            range: 'bytes=START-END' (inclusive), 'bytes=-SUFFIX', or (start, end|None).
            part_number: read one part of a multipart object (1-10000).
            if_match: fail with 412 unless the ETag matches.
            if_none_match: fail with 304 (NotModifiedError) if the ETag matches.
            if_modified_since: fail with 304 unless changed since then.
            if_unmodified_since: fail with 412 if changed since then.
            sse_customer_key: the 32-byte SSE-C key the object was written with.
            checksum_mode: ask for the stored checksums (``x-amz-checksum-mode: ENABLED``).
            max_size: the most bytes to read into memory (default None: no cap); a larger
                body raises ``ResponseTooLargeError`` (checked against Content-Length before
                the body is read, and while it is read), and is not retried.
            verify_md5: on a read of the whole object (no ``range``, ``part_number`` or
                SSE-C) whose ETag is a plain MD5, compare it with the body's MD5 and raise
                ``IntegrityError`` on a mismatch, unless a ``HEAD ?partNumber=1`` shows the
                object is multipart (its ETag is then no MD5 of the body) (default True).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_get_object(
            bucket,
            key,
            max_size=max_size,
            range=range,
            part_number=part_number,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
            checksum_mode=checksum_mode,
        )
        response, _ = await self._send(
            spec, headers=headers, timeout=timeout, stream=True, read_now=True
        )
        # The body is read like stream_object's, so a cut is resumed the same way.
        reader = ObjectBody(
            response,
            reopen=reopener(self, spec, headers, timeout),
            max_resumes=self._max_retries,
            bucket=bucket,
            key=key,
        )
        try:
            cap = spec.max_body
            if cap is not None:
                # max_size=: refused on the declared length before any byte is read, and
                # again as bytes arrive (resumed ones included).
                refuse_over_cap(response.headers, spec, cap)
            remaining = reader.remaining
            if cap is None or (remaining is not None and remaining <= cap):
                # Never more than the declared length (the reader refuses more).
                body = await reader.read()
            else:
                body = await collect_capped(reader, spec, cap, remaining)
        finally:
            await reader.aclose()
        if (
            verify_md5
            and range is None
            and part_number is None
            and sse_customer_key is None
            and response.status_code == 200
        ):
            await verify_body(
                self,
                bucket,
                key,
                etag=response.headers.get("etag"),
                body=body,
                headers=headers,
                timeout=timeout,
            )
        return ops.parse_get_object(response.headers, body)

    def stream_object(
        self,
        bucket: str,
        key: str,
        *,
        range: str | tuple[int, int | None] | None = None,
        part_number: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        checksum_mode: bool = False,
        chunk_size: int = DEFAULT_CHUNK,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> ObjectStream:
        """Stream an object's body with bounded memory: ``async with r2.stream_object(b, k) as s``.

        Arguments are validated now; the request is sent on ``async with``. A body cut partway
        is resumed as for ``get_object``.

        Args:
            bucket: the bucket name.
            key: the object key.
            range: as for ``get_object``.
            part_number: as for ``get_object``.
            if_match: as for ``get_object``.
            if_none_match: as for ``get_object``.
            if_modified_since: as for ``get_object``.
            if_unmodified_since: as for ``get_object``.
            sse_customer_key: as for ``get_object``.
            checksum_mode: as for ``get_object``.
            chunk_size: preferred size of yielded chunks (default 256 KiB).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
            raise ValueError("chunk_size must be a positive int")
        spec = ops.build_get_object(
            bucket,
            key,
            range=range,
            part_number=part_number,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
            checksum_mode=checksum_mode,
        )
        # Validate call headers now, so bad input fails before any I/O as everywhere else.
        self._merged_headers(spec, headers)

        async def opener() -> httpx.Response:
            response, _ = await self._send(spec, headers=headers, timeout=timeout, stream=True)
            return response

        return ObjectStream(
            opener,
            bucket=bucket,
            key=key,
            chunk_size=chunk_size,
            reopen=reopener(self, spec, headers, timeout),
            max_resumes=self._max_retries,
        )

    async def open_object(
        self,
        bucket: str,
        key: str,
        *,
        range: str | tuple[int, int | None] | None = None,
        part_number: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        checksum_mode: bool = False,
        chunk_size: int = DEFAULT_CHUNK,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> ObjectStream:
        """Send a GetObject and return its open stream, the body not yet read.

        A missing key (``NoSuchKeyError``) or any other error is raised here, so a web handler
        can answer 404 before its streaming response starts. The stream closes itself when its
        body is read to the end or fails; otherwise call ``await stream.aclose()`` (or use
        ``async with stream:``), for example as the response's background task.

        Args:
            bucket: the bucket name.
            key: the object key.
            range: as for ``get_object``.
            part_number: as for ``get_object``.
            if_match: as for ``get_object``.
            if_none_match: as for ``get_object``.
            if_modified_since: as for ``get_object``.
            if_unmodified_since: as for ``get_object``.
            sse_customer_key: as for ``get_object``.
            checksum_mode: as for ``get_object``.
            chunk_size: preferred size of yielded chunks (default 256 KiB).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        stream = self.stream_object(
            bucket,
            key,
            range=range,
            part_number=part_number,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
            checksum_mode=checksum_mode,
            chunk_size=chunk_size,
            headers=headers,
            timeout=timeout,
        )
        # __aenter__ closes the response itself if it fails after the request was sent.
        return await stream.__aenter__()

    async def head_object(
        self,
        bucket: str,
        key: str,
        *,
        part_number: int | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: DateLike | None = None,
        if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        checksum_mode: bool = False,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> HeadObjectResult:
        """Read an object's metadata without its body (HeadObject).

        A missing key raises ``NoSuchKeyError`` (HEAD has no body, so a missing bucket looks
        the same).

        Args:
            bucket: the bucket name.
            key: the object key.
            part_number: describe one part of a multipart object (1-10000).
            if_match: as for ``get_object``.
            if_none_match: as for ``get_object``.
            if_modified_since: as for ``get_object``.
            if_unmodified_since: as for ``get_object``.
            sse_customer_key: the 32-byte SSE-C key the object was written with.
            checksum_mode: ask for the stored checksums.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_head_object(
            bucket,
            key,
            part_number=part_number,
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
            sse_customer_key=sse_customer_key,
            checksum_mode=checksum_mode,
        )
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_head_object(response.headers)

    async def delete_object(
        self,
        bucket: str,
        key: str,
        *,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> DeleteObjectResult:
        """Delete one object (DeleteObject); deleting a missing key succeeds.

        Args:
            bucket: the bucket name.
            key: the object key.
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's).
        """
        spec = ops.build_delete_object(bucket, key)
        response, _ = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_delete_object(response.headers)

"""R2Client methods: CopyObject (with R2's MERGE directive and destination conditions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._headers import DateLike, HeaderMap, StorageClass
from .base import NOT_GIVEN, TimeoutTypes, _ClientBase

if TYPE_CHECKING:
    from .._operations import copy as ops
    from .._operations.copy import CopyObjectResult, MetadataDirective
else:
    from .._lazy import LazyModule

    # Builders, parsers and result models (pydantic) load on first use, not at import.
    ops = LazyModule("r2async._operations.copy", globals(), "ops")


class CopyMethods(_ClientBase):
    """CopyObject."""

    async def copy_object(
        self,
        bucket: str,
        key: str,
        *,
        source_key: str,
        source_bucket: str | None = None,
        metadata_directive: MetadataDirective | None = None,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        content_disposition: str | None = None,
        content_encoding: str | None = None,
        content_language: str | None = None,
        expires: DateLike | None = None,
        storage_class: StorageClass | None = None,
        source_if_match: str | None = None,
        source_if_none_match: str | None = None,
        source_if_modified_since: DateLike | None = None,
        source_if_unmodified_since: DateLike | None = None,
        destination_if_match: str | None = None,
        destination_if_none_match: str | None = None,
        destination_if_modified_since: DateLike | None = None,
        destination_if_unmodified_since: DateLike | None = None,
        sse_customer_key: bytes | None = None,
        source_sse_customer_key: bytes | None = None,
        headers: HeaderMap | None = None,
        timeout: TimeoutTypes = NOT_GIVEN,
    ) -> CopyObjectResult:
        """Copy an object server-side to ``bucket``/``key`` (CopyObject), up to 5 GB.

        ``await r2.copy_object("dst-bucket", "new-key", source_key="old-key",
        source_bucket="src-bucket")``. A 200 response carrying an ``<Error>`` is raised like
        any other error. Metadata arguments need ``metadata_directive`` ('REPLACE' or 'MERGE'),
        otherwise ValueError: the default (COPY) would silently ignore them.

        Args:
            bucket: the destination bucket.
            key: the destination key.
            source_key: the key to copy from.
            source_bucket: the bucket to copy from (default: ``bucket``).
            metadata_directive: 'COPY' keeps the source's metadata (the server default),
                'REPLACE' stores only the metadata given here, 'MERGE' (R2 only) overlays the
                given metadata on the source's (default: not sent, i.e. COPY).
            metadata: user metadata to store (needs REPLACE or MERGE); non-ASCII values are
                RFC 2047-encoded.
            content_type: the Content-Type to store (needs REPLACE or MERGE).
            cache_control: the Cache-Control to store (needs REPLACE or MERGE).
            content_disposition: the Content-Disposition to store (needs REPLACE or MERGE).
            content_encoding: the Content-Encoding to store (needs REPLACE or MERGE).
            content_language: the Content-Language to store (needs REPLACE or MERGE).
            expires: the Expires to store, datetime or HTTP date (needs REPLACE or MERGE).
            storage_class: 'STANDARD' or 'STANDARD_IA' for the copy (default: the bucket's).
            source_if_match: copy only if the source's ETag matches (412 otherwise).
            source_if_none_match: copy only if the source's ETag does not match.
            source_if_modified_since: copy only if the source changed since then.
            source_if_unmodified_since: copy only if the source did not change since then.
            destination_if_match: R2 only (beta): write only if the existing destination's
                ETag matches (``cf-copy-destination-if-match``; not atomic with the source
                checks).
            destination_if_none_match: R2 only (beta): '*' writes only if the destination
                is absent.
            destination_if_modified_since: R2 only (beta): only if the destination changed
                since then.
            destination_if_unmodified_since: R2 only (beta): only if the destination did not
                change since then.
            sse_customer_key: 32-byte SSE-C key to encrypt the copy with (default none).
            source_sse_customer_key: 32-byte SSE-C key the source was written with
                (default none).
            headers: extra headers for this call.
            timeout: this call's timeout (default: the client's); large copies take a while.
        """
        spec = ops.build_copy_object(
            bucket,
            key,
            source_bucket=bucket if source_bucket is None else source_bucket,
            source_key=source_key,
            metadata_directive=metadata_directive,
            metadata=metadata,
            content_type=content_type,
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            content_language=content_language,
            expires=expires,
            storage_class=storage_class,
            source_if_match=source_if_match,
            source_if_none_match=source_if_none_match,
            source_if_modified_since=source_if_modified_since,
            source_if_unmodified_since=source_if_unmodified_since,
            destination_if_match=destination_if_match,
            destination_if_none_match=destination_if_none_match,
            destination_if_modified_since=destination_if_modified_since,
            destination_if_unmodified_since=destination_if_unmodified_since,
            sse_customer_key=sse_customer_key,
            source_sse_customer_key=source_sse_customer_key,
        )
        response, body = await self._send(spec, headers=headers, timeout=timeout)
        return ops.parse_copy_object(body, response.headers, bucket=bucket, key=key)

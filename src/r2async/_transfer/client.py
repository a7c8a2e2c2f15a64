"""The client methods transfers call, as a Protocol: transfers never import R2Client itself.

``R2Client`` satisfies :class:`TransferClient` structurally (mypy checks it where the client's
transfer methods pass ``self``), so this package depends on no client module and the client
depends on this package only through a lazy import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .._body import BodyLike
    from .._checksums import ChecksumAlgorithm
    from .._headers import DateLike, HeaderMap, StorageClass
    from .._models import HeadObjectResult, PutObjectResult
    from .._models_multipart import (
        AbortMultipartUploadResult,
        CompleteMultipartUploadResult,
        CreateMultipartUploadResult,
        UploadPartResult,
    )
    from .._streaming import ObjectStream

__all__ = ["TransferClient"]


class TransferClient(Protocol):
    """Exactly the R2Client methods (and keywords) that uploads and downloads use."""

    async def put_object(
        self,
        bucket: str,
        key: str,
        body: BodyLike,
        *,
        content_type: str | None = ...,
        content_length: int | None = ...,
        cache_control: str | None = ...,
        content_disposition: str | None = ...,
        content_encoding: str | None = ...,
        content_language: str | None = ...,
        expires: DateLike | None = ...,
        metadata: Mapping[str, str] | None = ...,
        storage_class: StorageClass | None = ...,
        if_match: str | None = ...,
        if_none_match: str | None = ...,
        if_modified_since: DateLike | None = ...,
        if_unmodified_since: DateLike | None = ...,
        create_bucket_if_missing: bool = ...,
        sse_customer_key: bytes | None = ...,
        checksum_algorithm: ChecksumAlgorithm | None = ...,
        checksum: str | None = ...,
        headers: HeaderMap | None = ...,
        timeout: Any = ...,
    ) -> PutObjectResult:
        """PutObject."""

    async def create_multipart_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = ...,
        cache_control: str | None = ...,
        content_disposition: str | None = ...,
        content_encoding: str | None = ...,
        content_language: str | None = ...,
        expires: DateLike | None = ...,
        metadata: Mapping[str, str] | None = ...,
        storage_class: StorageClass | None = ...,
        if_match: str | None = ...,
        if_none_match: str | None = ...,
        if_modified_since: DateLike | None = ...,
        if_unmodified_since: DateLike | None = ...,
        create_bucket_if_missing: bool = ...,
        sse_customer_key: bytes | None = ...,
        checksum_algorithm: ChecksumAlgorithm | None = ...,
        headers: HeaderMap | None = ...,
        timeout: Any = ...,
    ) -> CreateMultipartUploadResult:
        """CreateMultipartUpload."""

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        part_number: int,
        body: BodyLike,
        *,
        content_length: int | None = ...,
        checksum_algorithm: ChecksumAlgorithm | None = ...,
        checksum: str | None = ...,
        sse_customer_key: bytes | None = ...,
        timeout: Any = ...,
    ) -> UploadPartResult:
        """UploadPart."""

    async def complete_multipart_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        parts: Sequence[UploadPartResult],
        *,
        if_match: str | None = ...,
        if_none_match: str | None = ...,
        if_modified_since: DateLike | None = ...,
        if_unmodified_since: DateLike | None = ...,
        sse_customer_key: bytes | None = ...,
        headers: HeaderMap | None = ...,
        timeout: Any = ...,
    ) -> CompleteMultipartUploadResult:
        """CompleteMultipartUpload."""

    async def abort_multipart_upload(
        self, bucket: str, key: str, upload_id: str, *, timeout: Any = ...
    ) -> AbortMultipartUploadResult:
        """AbortMultipartUpload."""

    async def head_object(
        self,
        bucket: str,
        key: str,
        *,
        part_number: int | None = ...,
        if_match: str | None = ...,
        headers: HeaderMap | None = ...,
        timeout: Any = ...,
    ) -> HeadObjectResult:
        """HeadObject (a download's MD5 mismatch asks whether the object is multipart)."""

    def stream_object(
        self,
        bucket: str,
        key: str,
        *,
        range: tuple[int, int | None] | None = ...,
        if_match: str | None = ...,
        if_none_match: str | None = ...,
        if_modified_since: DateLike | None = ...,
        if_unmodified_since: DateLike | None = ...,
        sse_customer_key: bytes | None = ...,
        chunk_size: int = ...,
        headers: HeaderMap | None = ...,
        timeout: Any = ...,
    ) -> ObjectStream:
        """GetObject as a stream, opened by ``async with``."""

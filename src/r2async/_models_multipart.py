"""Typed, frozen result models for multipart uploads."""

from __future__ import annotations

import datetime as dt

from ._models import R2Model, _ChecksumFields

__all__ = [
    "AbortMultipartUploadResult",
    "CompleteMultipartUploadResult",
    "CompletedPart",
    "CreateMultipartUploadResult",
    "ListMultipartUploadsResult",
    "ListPartsResult",
    "MultipartUpload",
    "Part",
    "UploadPartCopyResult",
    "UploadPartResult",
]


class CreateMultipartUploadResult(R2Model):
    """Result of ``create_multipart_upload``: the upload id every later call needs."""

    bucket: str
    key: str
    upload_id: str
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    request_id: str | None = None


class UploadPartResult(_ChecksumFields):
    """Result of ``upload_part``; pass it (or a list of them) to ``complete_multipart_upload``.

    ``size`` is the part's length in bytes as sent, so that ``complete_multipart_upload`` can
    check R2's equal-part-size rule before sending Complete.
    """

    part_number: int
    etag: str
    size: int | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    request_id: str | None = None


class UploadPartCopyResult(_ChecksumFields):
    """Result of ``upload_part_copy``; pass it to ``complete_multipart_upload`` like a part."""

    part_number: int
    etag: str
    last_modified: dt.datetime | None = None
    copy_source_version_id: str | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    request_id: str | None = None


class CompletedPart(R2Model):
    """One part as listed in a CompleteMultipartUpload request.

    ``etag`` may be given with or without its double quotes. The checksum fields are needed
    only when the upload was created with a COMPOSITE ``checksum_algorithm``.
    """

    part_number: int
    etag: str
    checksum_crc32: str | None = None
    checksum_crc32c: str | None = None
    checksum_crc64nvme: str | None = None
    checksum_sha1: str | None = None
    checksum_sha256: str | None = None


class CompleteMultipartUploadResult(_ChecksumFields):
    """Result of ``complete_multipart_upload``.

    ``etag`` is the multipart ETag (MD5 of the parts' binary MD5s, then ``-<part count>``):
    never compare it with the MD5 of the whole body. It is always set.
    """

    bucket: str
    key: str
    etag: str
    location: str | None = None
    version_id: str | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    request_id: str | None = None


class Part(_ChecksumFields):
    """One uploaded part, as listed by ``list_parts``; ``complete_multipart_upload`` accepts it."""

    part_number: int
    etag: str
    size: int | None = None
    last_modified: dt.datetime | None = None


class ListPartsResult(R2Model):
    """One page of ``list_parts``: keep calling with ``next_part_number_marker`` while truncated."""

    bucket: str
    key: str
    upload_id: str
    parts: tuple[Part, ...] = ()
    is_truncated: bool = False
    part_number_marker: int | None = None
    next_part_number_marker: int | None = None
    max_parts: int | None = None
    storage_class: str | None = None
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    request_id: str | None = None


class MultipartUpload(R2Model):
    """One in-progress multipart upload, as listed by ``list_multipart_uploads``."""

    key: str
    upload_id: str
    initiated: dt.datetime | None = None
    storage_class: str | None = None
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


class ListMultipartUploadsResult(R2Model):
    """One page of ``list_multipart_uploads``.

    Keys, prefixes and markers are already URL-decoded (r2async asks for ``encoding-type=url``
    so that any key survives XML). While ``is_truncated``, call again with ``key_marker=
    next_key_marker`` and ``upload_id_marker=next_upload_id_marker``.
    """

    bucket: str
    uploads: tuple[MultipartUpload, ...] = ()
    common_prefixes: tuple[str, ...] = ()
    is_truncated: bool = False
    prefix: str | None = None
    delimiter: str | None = None
    key_marker: str | None = None
    upload_id_marker: str | None = None
    next_key_marker: str | None = None
    next_upload_id_marker: str | None = None
    max_uploads: int | None = None
    request_id: str | None = None


class AbortMultipartUploadResult(R2Model):
    """Result of ``abort_multipart_upload`` (R2 succeeds even if the upload is already gone)."""

    request_id: str | None = None

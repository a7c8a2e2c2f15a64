"""Sans-IO builders and parsers for listing multipart state: ListParts, ListMultipartUploads."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_plus

from .. import _xml
from .._exceptions import ResponseParseError
from .._headers import (
    validate_bucket,
    validate_key,
)
from .._models import parse_iso_date, request_id
from .._models_multipart import (
    ListMultipartUploadsResult,
    ListPartsResult,
    MultipartUpload,
    Part,
)
from .._spec import RequestSpec
from .multipart_common import (
    MAX_PARTS,
    check_page_size,
    optional_str,
    response_root,
    validate_upload_id,
    xml_checksums,
    xml_int,
)

__all__ = [
    "build_list_multipart_uploads",
    "build_list_parts",
    "parse_list_multipart_uploads",
    "parse_list_parts",
]

# -- ListParts ------------------------------------------------------------------------------------


def build_list_parts(
    bucket: str,
    key: str,
    upload_id: str,
    *,
    max_parts: int | None = None,
    part_number_marker: int | None = None,
) -> RequestSpec:
    """ListParts: ``GET /bucket/key?uploadId=ID[&max-parts=N][&part-number-marker=M]``.

    Args:
        bucket: the bucket.
        key: the key.
        upload_id: the upload.
        max_parts: parts per page, 1 to 1,000 (default: the server's, 1,000).
        part_number_marker: list parts after this part number (0 or None: from the start).
    """
    validate_bucket(bucket)
    validate_key(key)
    validate_upload_id(upload_id)
    query: list[tuple[str, str | None]] = [("uploadId", upload_id)]
    size = check_page_size(max_parts, "max_parts")
    if size is not None:
        query.append(("max-parts", str(size)))
    if part_number_marker is not None:
        if (
            isinstance(part_number_marker, bool)
            or not isinstance(part_number_marker, int)
            or not 0 <= part_number_marker <= MAX_PARTS
        ):
            raise ValueError(f"part_number_marker must be an int from 0 to {MAX_PARTS}")
        query.append(("part-number-marker", str(part_number_marker)))
    return RequestSpec("ListParts", "GET", bucket, key, query=query)


def parse_list_parts(
    bucket: str, key: str, upload_id: str, headers: Mapping[str, str], body: bytes
) -> ListPartsResult:
    """ListPartsResult from the ``<ListPartsResult>`` document.

    Args:
        bucket: the bucket the request addressed.
        key: the key the request addressed.
        upload_id: the upload the request addressed.
        headers: the response headers.
        body: the response body.
    """
    what = "ListParts"
    root = response_root(body, "ListPartsResult", what)
    parts = []
    for el in _xml.children(root, "Part"):
        number = xml_int(_xml.text(el, "PartNumber"), what)
        etag = _xml.text(el, "ETag")
        if number is None or not etag:
            raise ResponseParseError(f"{what}: a <Part> lacks its PartNumber or ETag")
        parts.append(
            Part(
                part_number=number,
                etag=etag,
                size=xml_int(_xml.text(el, "Size"), what),
                last_modified=parse_iso_date(_xml.text(el, "LastModified")),
                **xml_checksums(el),
            )
        )
    return ListPartsResult(
        bucket=bucket,
        key=key,
        upload_id=upload_id,
        parts=tuple(parts),
        is_truncated=_xml.boolean(_xml.text(root, "IsTruncated")),
        part_number_marker=xml_int(_xml.text(root, "PartNumberMarker"), what),
        next_part_number_marker=xml_int(_xml.text(root, "NextPartNumberMarker"), what),
        max_parts=xml_int(_xml.text(root, "MaxParts"), what),
        storage_class=_xml.text(root, "StorageClass") or None,
        checksum_algorithm=_xml.text(root, "ChecksumAlgorithm") or None,
        checksum_type=_xml.text(root, "ChecksumType") or None,
        request_id=request_id(headers),
    )


# -- ListMultipartUploads -------------------------------------------------------------------------


def build_list_multipart_uploads(
    bucket: str,
    *,
    prefix: str | None = None,
    delimiter: str | None = None,
    key_marker: str | None = None,
    upload_id_marker: str | None = None,
    max_uploads: int | None = None,
) -> RequestSpec:
    """ListMultipartUploads: ``GET /bucket?uploads&encoding-type=url&...``.

    ``encoding-type=url`` is always sent (and undone in ``parse_list_multipart_uploads``) so
    that keys with characters XML 1.0 cannot carry still list correctly.

    Args:
        bucket: the bucket.
        prefix: only uploads whose key starts with this.
        delimiter: group keys up to this string into ``common_prefixes``.
        key_marker: list uploads after this key.
        upload_id_marker: with ``key_marker``, list uploads of that key after this upload id
            (S3 ignores it alone; SeaweedFS pages by it alone).
        max_uploads: uploads per page, 1 to 1,000 (default: the server's, 1,000).
    """
    validate_bucket(bucket)
    query: list[tuple[str, str | None]] = [("uploads", None)]
    for name, value in (
        ("delimiter", optional_str(delimiter, "delimiter")),
        ("encoding-type", "url"),
        ("key-marker", optional_str(key_marker, "key_marker")),
        ("max-uploads", check_page_size(max_uploads, "max_uploads")),
        ("prefix", optional_str(prefix, "prefix")),
        ("upload-id-marker", optional_str(upload_id_marker, "upload_id_marker")),
    ):
        if value is not None:
            query.append((name, str(value)))
    return RequestSpec("ListMultipartUploads", "GET", bucket, None, query=query)


def parse_list_multipart_uploads(
    bucket: str, headers: Mapping[str, str], body: bytes
) -> ListMultipartUploadsResult:
    """ListMultipartUploadsResult from the ``<ListMultipartUploadsResult>`` document.

    Args:
        bucket: the bucket the request addressed.
        headers: the response headers.
        body: the response body.
    """
    what = "ListMultipartUploads"
    root = response_root(body, "ListMultipartUploadsResult", what)
    # Decode only what the server says it encoded: a server that ignores encoding-type sends
    # raw keys, and decoding those would corrupt keys containing '%' or '+'.
    encoded = (_xml.text(root, "EncodingType") or "").lower() == "url"

    def dec(value: str | None) -> str | None:
        if value is None or not encoded:
            return value
        return unquote_plus(value)

    uploads = []
    for el in _xml.children(root, "Upload"):
        key = dec(_xml.text(el, "Key"))
        upload_id = _xml.text(el, "UploadId")
        if not key or not upload_id:
            raise ResponseParseError(f"{what}: an <Upload> lacks its Key or UploadId")
        uploads.append(
            MultipartUpload(
                key=key,
                upload_id=upload_id,
                initiated=parse_iso_date(_xml.text(el, "Initiated")),
                storage_class=_xml.text(el, "StorageClass") or None,
                checksum_algorithm=_xml.text(el, "ChecksumAlgorithm") or None,
                checksum_type=_xml.text(el, "ChecksumType") or None,
            )
        )
    prefixes = []
    for el in _xml.children(root, "CommonPrefixes"):
        p = dec(_xml.text(el, "Prefix"))
        if p is not None:
            prefixes.append(p)
    return ListMultipartUploadsResult(
        bucket=bucket,
        uploads=tuple(uploads),
        common_prefixes=tuple(prefixes),
        is_truncated=_xml.boolean(_xml.text(root, "IsTruncated")),
        prefix=dec(_xml.text(root, "Prefix")) or None,
        delimiter=dec(_xml.text(root, "Delimiter")) or None,
        key_marker=dec(_xml.text(root, "KeyMarker")) or None,
        upload_id_marker=_xml.text(root, "UploadIdMarker") or None,
        next_key_marker=dec(_xml.text(root, "NextKeyMarker")) or None,
        next_upload_id_marker=_xml.text(root, "NextUploadIdMarker") or None,
        max_uploads=xml_int(_xml.text(root, "MaxUploads"), what),
        request_id=request_id(headers),
    )

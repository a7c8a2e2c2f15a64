"""Sans-IO builders and parsers for multipart uploads, from creation to completion.

CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload and
AbortMultipartUpload. Listing parts and uploads is in ``multipart_list``; the checks and
helpers every multipart operation shares are in ``multipart_common``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .. import _xml
from .._body import prepare_body
from .._checksums import (
    check_b64_digest,
    checksum_request_headers,
    normalize_algorithm,
    resolve_checksum_type,
)
from .._exceptions import ResponseParseError
from .._headers import (
    DateLike,
    conditional_headers,
    sse_c_headers,
    validate_bucket,
    validate_key,
)
from .._models import checksum_fields, parse_iso_date, request_id, required
from .._models_multipart import (
    AbortMultipartUploadResult,
    CompletedPart,
    CompleteMultipartUploadResult,
    CreateMultipartUploadResult,
    UploadPartCopyResult,
    UploadPartResult,
)
from .._spec import RequestSpec
from .multipart_common import (
    MAX_PARTS,
    XML_CHECKSUMS,
    PartLike,
    check_page_size,
    completed_parts,
    copy_source_header,
    copy_source_range_header,
    quoted_etag,
    response_root,
    validate_part_number,
    validate_upload_id,
    xml_checksums,
)
from .objects import object_write_headers

__all__ = [
    "MAX_PARTS",
    "PartLike",
    "build_abort_multipart_upload",
    "build_complete_multipart_upload",
    "build_create_multipart_upload",
    "build_upload_part",
    "build_upload_part_copy",
    "check_page_size",
    "complete_body",
    "completed_parts",
    "copy_source_header",
    "parse_abort_multipart_upload",
    "parse_complete_multipart_upload",
    "parse_create_multipart_upload",
    "parse_upload_part",
    "parse_upload_part_copy",
    "validate_part_number",
    "validate_upload_id",
]

_COMPOSITE_VALUE = re.compile(r"^(?P<b64>[A-Za-z0-9+/=]+)(?:-(?P<parts>\d+))?$")


# -- CreateMultipartUpload ------------------------------------------------------------------------


def build_create_multipart_upload(
    bucket: str,
    key: str,
    *,
    checksum_algorithm: str | None = None,
    checksum_type: str | None = None,
    **write_args: Any,
) -> RequestSpec:
    """CreateMultipartUpload: ``POST /bucket/key?uploads`` with PutObject's typed headers.

    Args:
        bucket: the bucket.
        key: the key.
        checksum_algorithm: the algorithm every part will carry (default none).
        checksum_type: 'COMPOSITE' or 'FULL_OBJECT'; checked against R2's matrix and sent
            only when given (R2 then uses the one type it allows for the algorithm).
        write_args: the keyword arguments of ``object_write_headers``.
    """
    validate_bucket(bucket)
    validate_key(key)
    headers = object_write_headers(**write_args)
    resolve_checksum_type(checksum_algorithm, checksum_type)
    if checksum_algorithm is not None:
        headers["x-amz-checksum-algorithm"] = normalize_algorithm(checksum_algorithm)
        if checksum_type is not None:
            headers["x-amz-checksum-type"] = checksum_type.upper()
    # Not idempotent: a retry after a lost response would start a second, orphaned upload.
    return RequestSpec(
        "CreateMultipartUpload",
        "POST",
        bucket,
        key,
        query=[("uploads", None)],
        headers=headers,
        idempotent=False,
    )


def parse_create_multipart_upload(
    bucket: str, key: str, headers: Mapping[str, str], body: bytes
) -> CreateMultipartUploadResult:
    """CreateMultipartUploadResult from the ``<InitiateMultipartUploadResult>`` document.

    Args:
        bucket: the bucket the request addressed.
        key: the key the request addressed.
        headers: the response headers.
        body: the response body.
    """
    root = response_root(body, "InitiateMultipartUploadResult", "CreateMultipartUpload")
    upload_id = _xml.text(root, "UploadId")
    if not upload_id:
        raise ResponseParseError("CreateMultipartUpload: the response has no UploadId")
    return CreateMultipartUploadResult(
        bucket=bucket,
        key=key,
        upload_id=upload_id,
        checksum_algorithm=headers.get("x-amz-checksum-algorithm"),
        checksum_type=headers.get("x-amz-checksum-type"),
        sse_customer_algorithm=headers.get("x-amz-server-side-encryption-customer-algorithm"),
        sse_customer_key_md5=headers.get("x-amz-server-side-encryption-customer-key-md5"),
        request_id=request_id(headers),
    )


# -- UploadPart -----------------------------------------------------------------------------------


def _part_query(upload_id: str, part_number: int) -> list[tuple[str, str | None]]:
    return [("partNumber", str(part_number)), ("uploadId", upload_id)]


def build_upload_part(
    bucket: str,
    key: str,
    upload_id: str,
    part_number: int,
    body: object,
    *,
    content_length: int | None = None,
    content_md5: bool | str | None = None,
    checksum_algorithm: str | None = None,
    checksum: str | None = None,
    sse_customer_key: bytes | None = None,
) -> RequestSpec:
    """UploadPart: ``PUT /bucket/key?partNumber=N&uploadId=ID`` with the part's bytes.

    Args:
        bucket: the bucket.
        key: the key.
        upload_id: the upload.
        part_number: 1 to 10,000.
        body: as for PutObject.
        content_length: the body length (required for iterables).
        content_md5: True to compute Content-MD5, or the base64 MD5.
        checksum_algorithm: an ``x-amz-checksum-*`` algorithm to send.
        checksum: that checksum's base64 value (computed from in-memory bodies when omitted).
        sse_customer_key: the upload's 32-byte SSE-C key (required on every part of an SSE-C
            upload).
    """
    validate_bucket(bucket)
    validate_key(key)
    validate_upload_id(upload_id)
    validate_part_number(part_number)
    prepared = prepare_body(body, content_length)
    headers = checksum_request_headers(
        data=prepared.content,
        checksum_algorithm=checksum_algorithm,
        checksum_value=checksum,
        content_md5_arg=content_md5,
    )
    headers.update(sse_c_headers(sse_customer_key))
    # Idempotent: uploading a part number again replaces it.
    return RequestSpec(
        "UploadPart",
        "PUT",
        bucket,
        key,
        query=_part_query(upload_id, part_number),
        headers=headers,
        body=prepared,
    )


def parse_upload_part(part_number: int, headers: Mapping[str, str]) -> UploadPartResult:
    """UploadPartResult from the response headers.

    Args:
        part_number: the part number the request uploaded.
        headers: the response headers.
    """
    etag = headers.get("etag")
    if not etag:
        raise ResponseParseError(
            f"UploadPart: the response for part {part_number} has no ETag, so the upload "
            "could not be completed with it"
        )
    return UploadPartResult(
        part_number=part_number,
        etag=etag,
        sse_customer_algorithm=headers.get("x-amz-server-side-encryption-customer-algorithm"),
        sse_customer_key_md5=headers.get("x-amz-server-side-encryption-customer-key-md5"),
        request_id=request_id(headers),
        **checksum_fields(headers),
    )


# -- UploadPartCopy -------------------------------------------------------------------------------


def build_upload_part_copy(
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
) -> RequestSpec:
    """UploadPartCopy: ``PUT /bucket/key?partNumber=N&uploadId=ID`` with ``x-amz-copy-source``.

    Args:
        bucket: the destination bucket.
        key: the destination key.
        upload_id: the upload.
        part_number: 1 to 10,000.
        source_bucket: the bucket to copy from.
        source_key: the key to copy from.
        source_range: (first, last) byte, inclusive, or 'bytes=first-last'; default the whole
            source object.
        sse_customer_key: the destination upload's 32-byte SSE-C key.
        source_sse_customer_key: the source object's 32-byte SSE-C key.
    """
    validate_bucket(bucket)
    validate_key(key)
    validate_upload_id(upload_id)
    validate_part_number(part_number)
    headers = {"x-amz-copy-source": copy_source_header(source_bucket, source_key)}
    if source_range is not None:
        headers["x-amz-copy-source-range"] = copy_source_range_header(source_range)
    headers.update(sse_c_headers(sse_customer_key))
    headers.update(sse_c_headers(source_sse_customer_key, copy_source=True))
    return RequestSpec(
        "UploadPartCopy",
        "PUT",
        bucket,
        key,
        query=_part_query(upload_id, part_number),
        headers=headers,
        # S3 may answer 200 and then report a failed copy in the body.
        error_in_200=True,
    )


def parse_upload_part_copy(
    part_number: int, headers: Mapping[str, str], body: bytes
) -> UploadPartCopyResult:
    """UploadPartCopyResult from the ``<CopyPartResult>`` document.

    Args:
        part_number: the part number the request wrote.
        headers: the response headers.
        body: the response body.
    """
    root = response_root(body, "CopyPartResult", "UploadPartCopy", also=("CopyObjectResult",))
    etag = _xml.text(root, "ETag")
    if not etag:
        raise ResponseParseError("UploadPartCopy: the response has no ETag")
    fields = checksum_fields(headers)
    fields.update(xml_checksums(root))
    return UploadPartCopyResult(
        part_number=part_number,
        etag=etag,
        last_modified=parse_iso_date(_xml.text(root, "LastModified")),
        copy_source_version_id=headers.get("x-amz-copy-source-version-id"),
        sse_customer_algorithm=headers.get("x-amz-server-side-encryption-customer-algorithm"),
        sse_customer_key_md5=headers.get("x-amz-server-side-encryption-customer-key-md5"),
        request_id=request_id(headers),
        **fields,
    )


# -- CompleteMultipartUpload ----------------------------------------------------------------------


def complete_body(parts: Sequence[CompletedPart]) -> bytes:
    """The ``<CompleteMultipartUpload>`` XML for already-normalised parts."""
    items = []
    for part in parts:
        inner = [
            _xml.element("PartNumber", str(part.part_number)),
            _xml.element("ETag", quoted_etag(part.etag, "parts")),
        ]
        for field, tag in XML_CHECKSUMS.items():
            value = getattr(part, field)
            if value is not None:
                inner.append(_xml.element(tag, value))
        items.append("<Part>" + "".join(inner) + "</Part>")
    return _xml.document("CompleteMultipartUpload", items)


def _object_checksum_header(
    checksum_algorithm: str | None, checksum: str | None, checksum_type: str | None
) -> dict[str, str]:
    if checksum_algorithm is None:
        if checksum is not None or checksum_type is not None:
            raise ValueError(
                "checksum= and checksum_type= need checksum_algorithm= to say which algorithm"
            )
        return {}
    alg = normalize_algorithm(checksum_algorithm)
    ctype = resolve_checksum_type(alg, checksum_type)
    if checksum is None:
        raise ValueError(
            "checksum_algorithm= on complete_multipart_upload needs checksum= (the whole "
            "object's base64 checksum); per-part checksums travel with the parts"
        )
    if not isinstance(checksum, str):
        raise TypeError("checksum must be the base64-encoded checksum as str")
    m = _COMPOSITE_VALUE.match(checksum)
    if m is None or (m.group("parts") is not None and ctype != "COMPOSITE"):
        raise ValueError(
            f"checksum={checksum!r} is not a base64 {alg} (a COMPOSITE value may end in '-N')"
        )
    check_b64_digest(m.group("b64"), alg, name="checksum")
    headers = {"x-amz-checksum-" + alg.lower(): checksum}
    if checksum_type is not None:
        headers["x-amz-checksum-type"] = checksum_type.upper()
    return headers


def build_complete_multipart_upload(
    bucket: str,
    key: str,
    upload_id: str,
    parts: Sequence[PartLike],
    *,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: DateLike | None = None,
    if_unmodified_since: DateLike | None = None,
    sse_customer_key: bytes | None = None,
    checksum_algorithm: str | None = None,
    checksum: str | None = None,
    checksum_type: str | None = None,
) -> RequestSpec:
    """CompleteMultipartUpload: ``POST /bucket/key?uploadId=ID`` with the parts as XML.

    Args:
        bucket: the bucket.
        key: the key.
        upload_id: the upload.
        parts: the parts to assemble (any order; sent sorted ascending).
        if_match: complete only if the current object's ETag matches (else 412, upload aborted).
        if_none_match: '*' completes only if the key is absent (else 412, upload aborted).
        if_modified_since: complete only if the current object changed since then.
        if_unmodified_since: complete only if the current object did not change since then.
        sse_customer_key: the upload's 32-byte SSE-C key.
        checksum_algorithm: the algorithm of ``checksum``.
        checksum: the whole object's base64 checksum for R2 to verify (FULL_OBJECT).
        checksum_type: 'COMPOSITE' or 'FULL_OBJECT', checked against R2's matrix.
    """
    validate_bucket(bucket)
    validate_key(key)
    validate_upload_id(upload_id)
    normalized = completed_parts(parts)
    headers = conditional_headers(
        if_match=if_match,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        if_unmodified_since=if_unmodified_since,
    )
    headers.update(sse_c_headers(sse_customer_key))
    headers.update(_object_checksum_header(checksum_algorithm, checksum, checksum_type))
    return RequestSpec(
        "CompleteMultipartUpload",
        "POST",
        bucket,
        key,
        query=[("uploadId", upload_id)],
        headers=headers,
        body=prepare_body(complete_body(normalized), None),
        # Repeating a Complete whose answer was lost gets NoSuchUpload although the object
        # exists: better to report the lost connection than a misleading error.
        idempotent=False,
        error_in_200=True,
    )


def parse_complete_multipart_upload(
    bucket: str, key: str, headers: Mapping[str, str], body: bytes
) -> CompleteMultipartUploadResult:
    """CompleteMultipartUploadResult from the ``<CompleteMultipartUploadResult>`` document.

    Args:
        bucket: the bucket the request addressed.
        key: the key the request addressed.
        headers: the response headers.
        body: the response body (a 200 ``<Error>`` was already raised by the client).
    """
    root = response_root(body, "CompleteMultipartUploadResult", "CompleteMultipartUpload")
    fields = checksum_fields(headers)
    fields.update(xml_checksums(root))
    ctype = _xml.text(root, "ChecksumType")
    if ctype:
        fields["checksum_type"] = ctype
    etag = _xml.text(root, "ETag") or headers.get("etag") or None
    return CompleteMultipartUploadResult(
        bucket=bucket,
        key=key,
        etag=required(etag, "CompleteMultipartUpload response", "the <ETag> element"),
        location=_xml.text(root, "Location"),
        version_id=headers.get("x-amz-version-id"),
        sse_customer_algorithm=headers.get("x-amz-server-side-encryption-customer-algorithm"),
        sse_customer_key_md5=headers.get("x-amz-server-side-encryption-customer-key-md5"),
        request_id=request_id(headers),
        **fields,
    )


# -- AbortMultipartUpload -------------------------------------------------------------------------


def build_abort_multipart_upload(bucket: str, key: str, upload_id: str) -> RequestSpec:
    """AbortMultipartUpload: ``DELETE /bucket/key?uploadId=ID`` (idempotent on R2)."""
    validate_bucket(bucket)
    validate_key(key)
    validate_upload_id(upload_id)
    return RequestSpec(
        "AbortMultipartUpload", "DELETE", bucket, key, query=[("uploadId", upload_id)]
    )


def parse_abort_multipart_upload(headers: Mapping[str, str]) -> AbortMultipartUploadResult:
    """AbortMultipartUploadResult from the response headers."""
    return AbortMultipartUploadResult(request_id=request_id(headers))

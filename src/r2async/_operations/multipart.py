"""Sans-IO builders and parsers for multipart uploads.

CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload,
AbortMultipartUpload, ListParts and ListMultipartUploads.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias
from urllib.parse import unquote_plus

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
    check_header,
    conditional_headers,
    etag_unquoted,
    sse_c_headers,
    validate_bucket,
    validate_key,
)
from .._models import checksum_fields, parse_iso_date, request_id
from .._models_multipart import (
    AbortMultipartUploadResult,
    CompletedPart,
    CompleteMultipartUploadResult,
    CreateMultipartUploadResult,
    ListMultipartUploadsResult,
    ListPartsResult,
    MultipartUpload,
    Part,
    UploadPartCopyResult,
    UploadPartResult,
)
from .._spec import RequestSpec
from .copy import copy_source
from .objects import object_write_headers

MAX_PARTS = 10_000
# ListParts / ListMultipartUploads page sizes: S3 caps both at 1,000.
MAX_PAGE = 1000

# What complete_multipart_upload accepts as a part.
PartLike: TypeAlias = (
    CompletedPart | UploadPartResult | UploadPartCopyResult | Part | tuple[int, str]
)

# XML element of each checksum in <Part>, CopyPartResult and CompleteMultipartUploadResult.
_XML_CHECKSUMS = {
    "checksum_crc32": "ChecksumCRC32",
    "checksum_crc32c": "ChecksumCRC32C",
    "checksum_crc64nvme": "ChecksumCRC64NVME",
    "checksum_sha1": "ChecksumSHA1",
    "checksum_sha256": "ChecksumSHA256",
}
_COMPOSITE_VALUE = re.compile(r"^(?P<b64>[A-Za-z0-9+/=]+)(?:-(?P<parts>\d+))?$")


# -- argument checks -----------------------------------------------------------------------------


def validate_upload_id(upload_id: object) -> str:
    """Check an upload id: a non-empty str without control characters.

    Args:
        upload_id: the id returned by ``create_multipart_upload``.
    """
    if not isinstance(upload_id, str):
        raise TypeError(
            f"upload_id must be the str from create_multipart_upload(...).upload_id, got "
            f"{type(upload_id).__name__}"
        )
    if not upload_id or not upload_id.isprintable():
        raise ValueError("upload_id must be a non-empty str of printable characters")
    return upload_id


def validate_part_number(part_number: object, *, name: str = "part_number") -> int:
    """Check a part number: an int from 1 to 10,000.

    Args:
        part_number: the part number.
        name: the argument name, for the error message.
    """
    if isinstance(part_number, bool) or not isinstance(part_number, int):
        raise TypeError(f"{name} must be an int from 1 to {MAX_PARTS}")
    if not 1 <= part_number <= MAX_PARTS:
        raise ValueError(f"{name}={part_number}: part numbers run from 1 to {MAX_PARTS}")
    return part_number


def check_page_size(value: object, name: str) -> int | None:
    """Check a page size: None (the server's default) or an int from 1 to 1,000.

    Args:
        value: the page size.
        name: the argument name, for the error message.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int from 1 to {MAX_PAGE}")
    if not 1 <= value <= MAX_PAGE:
        raise ValueError(f"{name}={value}: use 1 to {MAX_PAGE} (S3's page limit)")
    return value


def _optional_str(value: object, name: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    return value


def copy_source_header(source_bucket: str, source_key: str) -> str:
    """``x-amz-copy-source`` as R2 requires it: ``/bucket/key``, the key URL-encoded once.

    Args:
        source_bucket: the bucket to copy from.
        source_key: the key to copy from ('/' kept, every other reserved byte escaped).
    """
    validate_bucket(source_bucket)
    validate_key(source_key)
    return copy_source(source_bucket, source_key)


def copy_source_range_header(source_range: object) -> str:
    """``x-amz-copy-source-range`` from ``(first, last)`` (inclusive) or ``'bytes=first-last'``.

    S3 accepts only a closed range here: no open end, no suffix.

    Args:
        source_range: a (first byte, last byte) tuple, or the header value itself.
    """
    if isinstance(source_range, tuple):
        if len(source_range) != 2:
            raise ValueError("source_range must be (first_byte, last_byte), last inclusive")
        start, end = source_range
        for v in (start, end):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError("source_range bytes must be ints >= 0")
        if end < start:
            raise ValueError(f"source_range={source_range}: the last byte is before the first")
        return f"bytes={start}-{end}"
    if isinstance(source_range, str):
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", source_range.strip())
        if not m:
            raise ValueError(
                f"source_range={source_range!r}: UploadPartCopy needs a closed range "
                "'bytes=FIRST-LAST' (inclusive) or a (first, last) tuple"
            )
        if int(m.group(2)) < int(m.group(1)):
            raise ValueError(f"source_range={source_range!r}: the last byte is before the first")
        return source_range.strip()
    raise TypeError("source_range must be a (first, last) tuple or a 'bytes=FIRST-LAST' str")


def _quoted_etag(etag: object, where: str) -> str:
    if not isinstance(etag, str) or not etag_unquoted(etag):
        raise ValueError(f"{where}: the ETag must be a non-empty str")
    check_header("etag", etag, where=where)
    # R2 accepts ETags with or without quotes; quoting them is what every S3 server accepts.
    return f'"{etag_unquoted(etag)}"'


def completed_parts(parts: object) -> list[CompletedPart]:
    """Normalise the ``parts`` argument of CompleteMultipartUpload, sorted by part number.

    Args:
        parts: a non-empty sequence of CompletedPart, UploadPartResult, UploadPartCopyResult,
            Part, or (part_number, etag) tuples; no part number twice.
    """
    if isinstance(parts, (str, bytes, Mapping)) or not isinstance(parts, Sequence):
        raise TypeError(
            "parts must be a list of UploadPartResult / CompletedPart / (part_number, etag)"
        )
    if not parts:
        raise ValueError("parts is empty: upload at least one part before completing")
    if len(parts) > MAX_PARTS:
        raise ValueError(f"{len(parts)} parts given; a multipart upload has at most {MAX_PARTS}")
    out: list[CompletedPart] = []
    seen: set[int] = set()
    for i, item in enumerate(parts):
        where = f"parts[{i}]"
        if isinstance(item, CompletedPart):
            part = item
        elif isinstance(item, (UploadPartResult, UploadPartCopyResult, Part)):
            part = CompletedPart(
                part_number=item.part_number,
                etag=item.etag,
                **{f: getattr(item, f) for f in _XML_CHECKSUMS if getattr(item, f) is not None},
            )
        elif isinstance(item, tuple) and len(item) == 2:
            number, etag = item
            validate_part_number(number, name=f"{where} part number")
            if not isinstance(etag, str):
                raise TypeError(f"{where}: the ETag must be a str")
            part = CompletedPart(part_number=number, etag=etag)
        else:
            raise TypeError(
                f"{where} is a {type(item).__name__}; use an UploadPartResult, a CompletedPart "
                "or a (part_number, etag) tuple"
            )
        validate_part_number(part.part_number, name=f"{where} part number")
        _quoted_etag(part.etag, where)
        if part.part_number in seen:
            raise ValueError(
                f"part number {part.part_number} is listed twice; list each part once "
                "(the last upload of a part number is the one R2 keeps)"
            )
        seen.add(part.part_number)
        out.append(part)
    out.sort(key=lambda p: p.part_number)
    return out


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


def _root(body: bytes, tag: str, operation: str) -> ET.Element:
    # S3 keeps a slow CompleteMultipartUpload alive with whitespace sent before the document.
    root = _xml.parse(body.lstrip(), what=operation)
    if root.tag != tag:
        raise ResponseParseError(f"{operation}: expected <{tag}>, got <{root.tag}>")
    return root


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
    root = _root(body, "InitiateMultipartUploadResult", "CreateMultipartUpload")
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


def _xml_checksums(el: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, tag in _XML_CHECKSUMS.items():
        value = _xml.text(el, tag)
        if value:
            out[field] = value
    return out


def parse_upload_part_copy(
    part_number: int, headers: Mapping[str, str], body: bytes
) -> UploadPartCopyResult:
    """UploadPartCopyResult from the ``<CopyPartResult>`` document.

    Args:
        part_number: the part number the request wrote.
        headers: the response headers.
        body: the response body.
    """
    root = _root(body, "CopyPartResult", "UploadPartCopy")
    etag = _xml.text(root, "ETag")
    if not etag:
        raise ResponseParseError("UploadPartCopy: the response has no ETag")
    fields = checksum_fields(headers)
    fields.update(_xml_checksums(root))
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
            _xml.element("ETag", _quoted_etag(part.etag, "parts")),
        ]
        for field, tag in _XML_CHECKSUMS.items():
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
    root = _root(body, "CompleteMultipartUploadResult", "CompleteMultipartUpload")
    fields = checksum_fields(headers)
    fields.update(_xml_checksums(root))
    ctype = _xml.text(root, "ChecksumType")
    if ctype:
        fields["checksum_type"] = ctype
    return CompleteMultipartUploadResult(
        bucket=bucket,
        key=key,
        etag=_xml.text(root, "ETag") or headers.get("etag"),
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


# -- ListParts ------------------------------------------------------------------------------------


def _int(value: str | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ResponseParseError(f"{what}: {value!r} is not a number") from None


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
    root = _root(body, "ListPartsResult", what)
    parts = []
    for el in _xml.children(root, "Part"):
        number = _int(_xml.text(el, "PartNumber"), what)
        etag = _xml.text(el, "ETag")
        if number is None or not etag:
            raise ResponseParseError(f"{what}: a <Part> lacks its PartNumber or ETag")
        parts.append(
            Part(
                part_number=number,
                etag=etag,
                size=_int(_xml.text(el, "Size"), what),
                last_modified=parse_iso_date(_xml.text(el, "LastModified")),
                **_xml_checksums(el),
            )
        )
    return ListPartsResult(
        bucket=bucket,
        key=key,
        upload_id=upload_id,
        parts=tuple(parts),
        is_truncated=_xml.boolean(_xml.text(root, "IsTruncated")),
        part_number_marker=_int(_xml.text(root, "PartNumberMarker"), what),
        next_part_number_marker=_int(_xml.text(root, "NextPartNumberMarker"), what),
        max_parts=_int(_xml.text(root, "MaxParts"), what),
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
        ("delimiter", _optional_str(delimiter, "delimiter")),
        ("encoding-type", "url"),
        ("key-marker", _optional_str(key_marker, "key_marker")),
        ("max-uploads", check_page_size(max_uploads, "max_uploads")),
        ("prefix", _optional_str(prefix, "prefix")),
        ("upload-id-marker", _optional_str(upload_id_marker, "upload_id_marker")),
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
    root = _root(body, "ListMultipartUploadsResult", what)
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
        max_uploads=_int(_xml.text(root, "MaxUploads"), what),
        request_id=request_id(headers),
    )


__all__ = [
    "MAX_PARTS",
    "PartLike",
    "build_abort_multipart_upload",
    "build_complete_multipart_upload",
    "build_create_multipart_upload",
    "build_list_multipart_uploads",
    "build_list_parts",
    "build_upload_part",
    "build_upload_part_copy",
    "check_page_size",
    "completed_parts",
    "copy_source_header",
    "parse_abort_multipart_upload",
    "parse_complete_multipart_upload",
    "parse_create_multipart_upload",
    "parse_list_multipart_uploads",
    "parse_list_parts",
    "parse_upload_part",
    "parse_upload_part_copy",
    "validate_part_number",
    "validate_upload_id",
]

"""Sans-IO builders and parsers for single-object operations: Put, Get, Head, Delete."""

from __future__ import annotations

from collections.abc import Mapping

from .._body import prepare_body
from .._checksums import checksum_request_headers
from .._construct import construct
from .._exceptions import NoSuchKeyError
from .._headers import (
    DateLike,
    conditional_headers,
    metadata_headers,
    range_header,
    sse_c_headers,
    storage_class_header,
    system_metadata_headers,
    validate_bucket,
    validate_key,
)
from .._models import (
    DeleteObjectResult,
    GetObjectResult,
    HeadObjectResult,
    PutObjectResult,
    checksum_fields,
    object_metadata_fields,
    request_id,
    required,
)
from .._spec import RequestSpec


def object_write_headers(
    *,
    content_type: str | None = None,
    cache_control: str | None = None,
    content_disposition: str | None = None,
    content_encoding: str | None = None,
    content_language: str | None = None,
    expires: DateLike | None = None,
    metadata: Mapping[str, str] | None = None,
    storage_class: str | None = None,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: DateLike | None = None,
    if_unmodified_since: DateLike | None = None,
    create_bucket_if_missing: bool = False,
    sse_customer_key: bytes | None = None,
) -> dict[str, str]:
    """Headers shared by PutObject and CreateMultipartUpload typed arguments."""
    headers = system_metadata_headers(
        content_type=content_type,
        cache_control=cache_control,
        content_disposition=content_disposition,
        content_encoding=content_encoding,
        content_language=content_language,
        expires=expires,
    )
    headers.update(metadata_headers(metadata))
    headers.update(storage_class_header(storage_class))
    headers.update(
        conditional_headers(
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
        )
    )
    if create_bucket_if_missing:
        headers["cf-create-bucket-if-missing"] = "true"
    headers.update(sse_c_headers(sse_customer_key))
    return headers


def build_put_object(
    bucket: str,
    key: str,
    body: object,
    *,
    content_length: int | None = None,
    checksum_algorithm: str | None = None,
    checksum: str | None = None,
    content_md5: bool | str | None = None,
    **write_args: object,
) -> RequestSpec:
    """PutObject: ``PUT /bucket/key`` with the body and its typed headers."""
    validate_bucket(bucket)
    validate_key(key)
    prepared = prepare_body(body, content_length)
    headers = object_write_headers(**write_args)  # type: ignore[arg-type]
    headers.update(
        checksum_request_headers(
            data=prepared.content,
            checksum_algorithm=checksum_algorithm,
            checksum_value=checksum,
            content_md5_arg=content_md5,
        )
    )
    return RequestSpec("PutObject", "PUT", bucket, key, headers=headers, body=prepared)


def parse_put_object(headers: Mapping[str, str]) -> PutObjectResult:
    """PutObjectResult from the response headers (``ResponseParseError`` without an ETag)."""
    return construct(
        PutObjectResult,
        {
            "etag": required(headers.get("etag") or None, "PutObject response", "the ETag header"),
            "version_id": headers.get("x-amz-version-id"),
            "sse_customer_algorithm": headers.get(
                "x-amz-server-side-encryption-customer-algorithm"
            ),
            "sse_customer_key_md5": headers.get("x-amz-server-side-encryption-customer-key-md5"),
            "request_id": request_id(headers),
            **checksum_fields(headers),
        },
    )


def read_headers(
    *,
    range: str | tuple[int, int | None] | None = None,
    part_number: int | None = None,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: DateLike | None = None,
    if_unmodified_since: DateLike | None = None,
    sse_customer_key: bytes | None = None,
    checksum_mode: bool = False,
) -> tuple[dict[str, str], list[tuple[str, str | None]]]:
    """Headers and query shared by GetObject and HeadObject typed arguments."""
    headers = range_header(range)
    headers.update(
        conditional_headers(
            if_match=if_match,
            if_none_match=if_none_match,
            if_modified_since=if_modified_since,
            if_unmodified_since=if_unmodified_since,
        )
    )
    headers.update(sse_c_headers(sse_customer_key))
    if checksum_mode:
        headers["x-amz-checksum-mode"] = "ENABLED"
    query: list[tuple[str, str | None]] = []
    if part_number is not None:
        if (
            not isinstance(part_number, int)
            or isinstance(part_number, bool)
            or not (1 <= part_number <= 10000)
        ):
            raise ValueError("part_number must be an int from 1 to 10000")
        if range is not None:
            raise ValueError("pass either range= or part_number=, not both")
        query.append(("partNumber", str(part_number)))
    return headers, query


def build_get_object(
    bucket: str, key: str, *, max_size: int | None = None, **read_args: object
) -> RequestSpec:
    """GetObject: ``GET /bucket/key``; ``max_size`` caps the body read into memory."""
    validate_bucket(bucket)
    validate_key(key)
    if max_size is not None:
        if isinstance(max_size, bool) or not isinstance(max_size, int):
            raise TypeError(f"max_size must be an int (bytes) or None, got {max_size!r}")
        if max_size < 0:
            raise ValueError(f"max_size must be >= 0 bytes (or None for no cap), got {max_size}")
    headers, query = read_headers(**read_args)  # type: ignore[arg-type]
    return RequestSpec(
        "GetObject",
        "GET",
        bucket,
        key,
        query=query,
        headers=headers,
        raw_body=True,
        max_body=max_size,
    )


def parse_get_object(headers: Mapping[str, str], body: bytes) -> GetObjectResult:
    """GetObjectResult from the response headers and the raw body."""
    fields = object_metadata_fields(headers, "GetObject")
    fields["body"] = body
    return construct(GetObjectResult, fields)


def build_head_object(bucket: str, key: str, **read_args: object) -> RequestSpec:
    """HeadObject: ``HEAD /bucket/key``; a bodiless 404 is reported as NoSuchKeyError."""
    validate_bucket(bucket)
    validate_key(key)
    headers, query = read_headers(**read_args)  # type: ignore[arg-type]
    return RequestSpec(
        "HeadObject", "HEAD", bucket, key, query=query, headers=headers, not_found=NoSuchKeyError
    )


def parse_head_object(headers: Mapping[str, str]) -> HeadObjectResult:
    """HeadObjectResult from the response headers."""
    return construct(HeadObjectResult, object_metadata_fields(headers, "HeadObject"))


def build_delete_object(bucket: str, key: str) -> RequestSpec:
    """DeleteObject: ``DELETE /bucket/key``."""
    validate_bucket(bucket)
    validate_key(key)
    return RequestSpec("DeleteObject", "DELETE", bucket, key)


def parse_delete_object(headers: Mapping[str, str]) -> DeleteObjectResult:
    """DeleteObjectResult from the response headers."""
    return construct(DeleteObjectResult, {"request_id": request_id(headers)})

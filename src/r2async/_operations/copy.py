"""Sans-IO builder, parser and model for CopyObject (with R2's MERGE and destination conditions)."""

from __future__ import annotations

import datetime as dt

# The XML parser loads with this family, not at its first answer (see _xml.load_parser).
import xml.etree.ElementTree  # noqa: F401
from collections.abc import Mapping
from typing import Literal

from .. import _xml
from .._exceptions import status_error_class
from .._headers import (
    DateLike,
    check_header,
    http_date,
    metadata_headers,
    sse_c_headers,
    storage_class_header,
    system_metadata_headers,
    validate_bucket,
    validate_key,
)
from .._models import _ChecksumFields, checksum_fields, parse_iso_date, request_id, required
from .._signing.sigv4 import encode_key
from .._spec import RequestSpec

__all__ = ["CopyObjectResult", "MetadataDirective", "build_copy_object", "parse_copy_object"]

MetadataDirective = Literal["COPY", "REPLACE", "MERGE"]
_DIRECTIVES = ("COPY", "REPLACE", "MERGE")


class CopyObjectResult(_ChecksumFields):
    """Result of ``copy_object``.

    ``etag`` is quoted, like ``put_object``'s, whatever form the server's XML used;
    ``etag`` and ``last_modified`` are always set (R2's ``<CopyObjectResult>`` has both).
    ``version_id`` and ``copy_source_version_id`` are whatever R2 sends (it has no versioning
    but sends ``x-amz-version-id`` on copies).
    """

    etag: str
    last_modified: dt.datetime
    version_id: str | None = None
    copy_source_version_id: str | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    request_id: str | None = None


def copy_source(source_bucket: str, source_key: str) -> str:
    """The ``x-amz-copy-source`` value: ``/bucket/key`` with the key percent-encoded once.

    R2 requires the leading slash (since 2022-05-03).
    """
    return "/" + source_bucket + "/" + encode_key(source_key)


def _etag_condition(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise TypeError(f"{name} must be a non-empty str (an ETag, a list of ETags, or '*')")
    return check_header(name, value, where=name)[1]


def _conditions(
    prefix: str,
    arg_prefix: str,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: DateLike | None,
    if_unmodified_since: DateLike | None,
) -> dict[str, str]:
    # Built here rather than with _headers.conditional_headers so that error messages name
    # the caller's argument (source_if_match=, destination_if_match=...).
    out: dict[str, str] = {}
    if if_match is not None:
        out[prefix + "if-match"] = _etag_condition(if_match, arg_prefix + "if_match")
    if if_none_match is not None:
        out[prefix + "if-none-match"] = _etag_condition(if_none_match, arg_prefix + "if_none_match")
    if if_modified_since is not None:
        out[prefix + "if-modified-since"] = http_date(
            if_modified_since, name=arg_prefix + "if_modified_since"
        )
    if if_unmodified_since is not None:
        out[prefix + "if-unmodified-since"] = http_date(
            if_unmodified_since, name=arg_prefix + "if_unmodified_since"
        )
    return out


def build_copy_object(
    bucket: str,
    key: str,
    *,
    source_bucket: str,
    source_key: str,
    metadata_directive: MetadataDirective | None = None,
    metadata: Mapping[str, str] | None = None,
    content_type: str | None = None,
    cache_control: str | None = None,
    content_disposition: str | None = None,
    content_encoding: str | None = None,
    content_language: str | None = None,
    expires: DateLike | None = None,
    storage_class: str | None = None,
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
) -> RequestSpec:
    """CopyObject: ``PUT /bucket/key`` with ``x-amz-copy-source: /source_bucket/source_key``.

    Metadata arguments need an explicit directive: with COPY (the server default) S3 would
    silently ignore them, and implying REPLACE would silently drop the source's Content-Type
    and metadata. The caller picks REPLACE (set exactly these) or MERGE (R2 only: overlay).
    """
    validate_bucket(bucket)
    validate_key(key)
    validate_bucket(source_bucket)
    validate_key(source_key)
    if metadata_directive is not None and metadata_directive not in _DIRECTIVES:
        raise ValueError(
            f"metadata_directive={metadata_directive!r}: use 'COPY' (keep the source's "
            "metadata), 'REPLACE' (use only the metadata given) or 'MERGE' (R2 only: overlay "
            "the given metadata on the source's)"
        )
    given = [
        name
        for name, value in (
            ("metadata", metadata),
            ("content_type", content_type),
            ("cache_control", cache_control),
            ("content_disposition", content_disposition),
            ("content_encoding", content_encoding),
            ("content_language", content_language),
            ("expires", expires),
        )
        if value is not None
    ]
    if given and metadata_directive in (None, "COPY"):
        args = ", ".join(f"{n}=" for n in given)
        raise ValueError(
            f"{args} would be ignored: copy_object keeps the source's metadata unless told "
            "otherwise. Pass metadata_directive='REPLACE' to store exactly the metadata given "
            "(anything not given, Content-Type included, is dropped), or "
            "metadata_directive='MERGE' (R2 only) to overlay it on the source's metadata"
        )
    headers = {"x-amz-copy-source": copy_source(source_bucket, source_key)}
    if metadata_directive is not None:
        headers["x-amz-metadata-directive"] = metadata_directive
    headers.update(
        system_metadata_headers(
            content_type=content_type,
            cache_control=cache_control,
            content_disposition=content_disposition,
            content_encoding=content_encoding,
            content_language=content_language,
            expires=expires,
        )
    )
    headers.update(metadata_headers(metadata))
    headers.update(storage_class_header(storage_class))
    headers.update(
        _conditions(
            "x-amz-copy-source-",
            "source_",
            source_if_match,
            source_if_none_match,
            source_if_modified_since,
            source_if_unmodified_since,
        )
    )
    headers.update(
        _conditions(
            "cf-copy-destination-",
            "destination_",
            destination_if_match,
            destination_if_none_match,
            destination_if_modified_since,
            destination_if_unmodified_since,
        )
    )
    headers.update(sse_c_headers(sse_customer_key))
    headers.update(sse_c_headers(source_sse_customer_key, copy_source=True))
    return RequestSpec("CopyObject", "PUT", bucket, key, headers=headers, error_in_200=True)


def _quoted(etag: str | None) -> str | None:
    if not etag or etag.startswith(('"', "W/")):
        return etag or None
    return f'"{etag}"'


def parse_copy_object(
    body: bytes,
    headers: Mapping[str, str],
    *,
    bucket: str | None = None,
    key: str | None = None,
) -> CopyObjectResult:
    """CopyObjectResult from the 200 response: the ``<CopyObjectResult>`` body plus headers.

    Args:
        body: the response body.
        headers: the response headers.
        bucket: the destination bucket, for an error's context (default None).
        key: the destination key, for an error's context (default None).
    """
    root = _xml.parse(body, what="CopyObject response")
    if root.tag == "Error":
        # The send loop already turns a 200 <Error> into an exception; this guards a body whose
        # <Error> starts too late for that check (e.g. after long keep-alive whitespace).
        code, message, req_id, host_id = _xml.parse_error(body)
        raise status_error_class(500, code)(
            message or "CopyObject failed after a 200 response",
            status_code=200,
            code=code,
            request_id=req_id or request_id(headers),
            host_id=host_id,
            bucket=bucket,
            key=key,
            operation="CopyObject",
            headers=headers,
        )
    _xml.expect_root(root, "CopyObjectResult", what="CopyObject response")
    fields = checksum_fields(headers)
    for alg in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"):
        value = _xml.text(root, "Checksum" + alg)
        if value:
            fields["checksum_" + alg.lower()] = value
    ctype = _xml.text(root, "ChecksumType")
    if ctype:
        fields["checksum_type"] = ctype
    what = "CopyObject response"
    etag = _quoted(_xml.text(root, "ETag") or headers.get("etag"))
    modified = parse_iso_date(_xml.text(root, "LastModified"))
    return CopyObjectResult(
        etag=required(etag, what, "the <ETag> element"),
        last_modified=required(modified, what, "the <LastModified> element"),
        version_id=headers.get("x-amz-version-id"),
        copy_source_version_id=headers.get("x-amz-copy-source-version-id"),
        sse_customer_algorithm=headers.get("x-amz-server-side-encryption-customer-algorithm"),
        sse_customer_key_md5=headers.get("x-amz-server-side-encryption-customer-key-md5"),
        request_id=request_id(headers),
        **fields,
    )

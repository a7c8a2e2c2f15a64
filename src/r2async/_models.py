"""Typed, frozen result models for the object operations (other families keep their own)."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._headers import read_metadata
from ._headers import request_id as request_id

__all__ = [
    "DeleteObjectResult",
    "GetObjectResult",
    "HeadObjectResult",
    "ObjectMetadata",
    "PresignedRequest",
    "PutObjectResult",
    "R2Model",
]


class R2Model(BaseModel):
    """Base of every r2async result: immutable, hashable by value where its fields are."""

    # defer_build: each model's validator is built when the model is first used, not at
    # import (about 20 ms of `import r2async` for some 50 models, most of which a given
    # program never touches).
    model_config = ConfigDict(
        frozen=True, extra="forbid", arbitrary_types_allowed=False, defer_build=True
    )


def parse_http_date(value: str | None) -> dt.datetime | None:
    """An aware datetime from an HTTP date header, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def parse_iso_date(value: str | None) -> dt.datetime | None:
    """An aware datetime from an ISO-8601 timestamp as used in S3 XML."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


class _ChecksumFields(R2Model):
    checksum_crc32: str | None = None
    checksum_crc32c: str | None = None
    checksum_crc64nvme: str | None = None
    checksum_sha1: str | None = None
    checksum_sha256: str | None = None
    checksum_type: str | None = None


def checksum_fields(headers: Mapping[str, str]) -> dict[str, Any]:
    """The ``x-amz-checksum-*`` response headers as model fields."""
    out: dict[str, Any] = {}
    for alg in ("crc32", "crc32c", "crc64nvme", "sha1", "sha256"):
        value = headers.get("x-amz-checksum-" + alg)
        if value is not None:
            out["checksum_" + alg] = value
    ctype = headers.get("x-amz-checksum-type")
    if ctype is not None:
        out["checksum_type"] = ctype
    return out


class PutObjectResult(_ChecksumFields):
    """Result of ``put_object``."""

    etag: str | None = None
    version_id: str | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    request_id: str | None = None


class DeleteObjectResult(R2Model):
    """Result of ``delete_object`` (R2 answers 204 whether or not the key existed)."""

    request_id: str | None = None


class ObjectMetadata(_ChecksumFields):
    """What R2 reports about an object on GET and HEAD."""

    content_length: int | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: dt.datetime | None = None
    cache_control: str | None = None
    content_disposition: str | None = None
    content_encoding: str | None = None
    content_language: str | None = None
    expires: str | None = None
    content_range: str | None = None
    accept_ranges: str | None = None
    metadata: dict[str, str] = {}
    missing_meta: int = 0
    storage_class: str | None = None
    version_id: str | None = None
    parts_count: int | None = None
    expiration: str | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    request_id: str | None = None


class HeadObjectResult(ObjectMetadata):
    """Result of ``head_object``."""


class GetObjectResult(ObjectMetadata):
    """Result of ``get_object``: the whole body in memory plus the object's metadata.

    For large objects use ``stream_object`` or ``download_file`` instead.
    """

    body: bytes = b""


def object_metadata_fields(headers: Mapping[str, str]) -> dict[str, Any]:
    """Model fields of ``ObjectMetadata`` read from GET/HEAD response headers.

    Args:
        headers: the response headers (case-insensitive mapping, e.g. ``httpx.Headers``).
    """
    # r2async's response headers keep a dict of lower-cased names (see _transports.indexed_headers):
    # read that directly, it answers as httpx.Headers does for the lower-case names used here.
    lookup = getattr(headers, "_lookup", None)
    if lookup is not None:
        headers = lookup()
    get = headers.get
    fields: dict[str, Any] = {
        "content_length": _int(get("content-length")),
        "content_type": get("content-type"),
        "etag": get("etag"),
        "last_modified": parse_http_date(get("last-modified")),
        "cache_control": get("cache-control"),
        "content_disposition": get("content-disposition"),
        "content_encoding": get("content-encoding"),
        "content_language": get("content-language"),
        "expires": get("expires"),
        "content_range": get("content-range"),
        "accept_ranges": get("accept-ranges"),
        "metadata": read_metadata(headers),
        "missing_meta": _int(get("x-amz-missing-meta")) or 0,
        "storage_class": get("x-amz-storage-class"),
        "version_id": get("x-amz-version-id"),
        "parts_count": _int(get("x-amz-mp-parts-count")),
        "expiration": get("x-amz-expiration"),
        "sse_customer_algorithm": get("x-amz-server-side-encryption-customer-algorithm"),
        "sse_customer_key_md5": get("x-amz-server-side-encryption-customer-key-md5"),
        "request_id": request_id(headers),
    }
    fields.update(checksum_fields(headers))
    return fields


class PresignedRequest(R2Model):
    """A presigned request: anyone holding it can make this one request until ``expires_at``.

    Send ``method`` to ``url`` with exactly ``headers`` (they are signed; R2 refuses the request
    if one is missing or changed), e.g. ``httpx.put(p.url, headers=p.headers, content=data)``.
    The URL and SSE-C headers are credentials: ``repr`` shows neither the signature nor header
    values.

    Attributes:
        method: the HTTP method the signature is for ('GET', 'HEAD', 'PUT', 'DELETE').
        url: the full URL, with the ``X-Amz-*`` signature in its query string.
        headers: headers the requester must send unchanged (besides Host); often empty.
        expires_at: when R2 starts refusing the URL (``ExpiredRequest``).
    """

    method: str
    url: str = Field(repr=False)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    expires_at: dt.datetime

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        yield "method", self.method
        yield "url", self.url.partition("?")[0] + "?X-Amz-...(redacted)"
        yield "signed_headers", sorted(self.headers)
        yield "expires_at", self.expires_at

    def __str__(self) -> str:
        return self.__repr__()

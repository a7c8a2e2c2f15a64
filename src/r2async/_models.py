"""Typed, frozen result models for the object operations (other families keep their own)."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ._exceptions import ResponseParseError
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

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Only what is set: a result has a dozen optional fields (checksums, SSE-C, ...) and
        # a repr full of None hid the few values R2 sent.
        for name, value in super().__repr_args__():
            if value is None:
                continue
            if isinstance(value, (bytes, bytearray)) and len(value) > 64:
                value = _Elided(f"<{len(value)} bytes>")
            yield name, value


class _Elided(str):
    """A placeholder shown without quotes in a repr (a long body is summarised)."""

    def __repr__(self) -> str:
        return str(self)


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


def require(fields: Mapping[str, Any], what: str, sources: Mapping[str, str]) -> None:
    """Raise ``ResponseParseError`` naming each field R2 always sends that ``fields`` lacks.

    The result models declare these fields non-optional, so that callers need no None
    checks; a server that leaves one out (or sends it unreadable) gets this clear error
    rather than a pydantic ``ValidationError`` or a silent None.

    Args:
        fields: the fields read from the response (None where absent or unreadable).
        what: what was read, for the message (e.g. 'HeadObject response').
        sources: each required field's name -> where the response carries it (e.g.
            'the ETag header').
    """
    missing = [where for name, where in sources.items() if fields.get(name) is None]
    if missing:
        raise _missing(what, missing)


_T = TypeVar("_T")


def required(value: _T | None, what: str, where: str) -> _T:
    """``value``, or the ``ResponseParseError`` of ``require`` when it is None.

    Args:
        value: the value read from the response (None where absent or unreadable).
        what: what was read, for the message (e.g. 'PutObject response').
        where: where the response carries it (e.g. 'the ETag header').
    """
    if value is None:
        raise _missing(what, [where])
    return value


def _missing(what: str, missing: list[str]) -> ResponseParseError:
    one = len(missing) == 1
    return ResponseParseError(
        f"{what}: {' and '.join(missing)} {'is' if one else 'are'} missing or unreadable; "
        f"R2 always sends {'it' if one else 'them'}, so this server does not answer as R2 "
        "does (r2async's results never hold None there)"
    )


_RANGE_SPAN = re.compile(r"bytes (\d+)-(\d+)/(?:\d+|\*)")


def _body_length(content_length: str | None, content_range: str | None) -> int | None:
    """The body's length: Content-Length, else the span of Content-Range (a chunked 206)."""
    length = _int(content_length)
    if length is not None or content_range is None:
        return length
    # A ranged answer sent chunked still says which bytes it holds; its readers check the
    # body against this span, so the length is known without the header.
    m = _RANGE_SPAN.fullmatch(content_range.strip())
    if m is None or int(m[2]) < int(m[1]):
        return None
    return int(m[2]) - int(m[1]) + 1


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
    """Result of ``put_object``; ``etag`` is always set (quoted, as R2 sends it)."""

    etag: str
    version_id: str | None = None
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None
    request_id: str | None = None


class DeleteObjectResult(R2Model):
    """Result of ``delete_object`` (R2 answers 204 whether or not the key existed)."""

    request_id: str | None = None


class ObjectMetadata(_ChecksumFields):
    """What R2 reports about an object on GET and HEAD.

    ``content_length``, ``etag`` and ``last_modified`` are always set: R2 sends them on every
    GET and HEAD (a response without one raises ``ResponseParseError``).
    ``content_length`` is the length of the body sent (of the range, on a ranged GET).
    """

    content_length: int
    content_type: str | None = None
    etag: str
    last_modified: dt.datetime
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


# The fields of ObjectMetadata R2 always sends, and the header each comes from.
_OBJECT_REQUIRED = {
    "content_length": "the Content-Length header (or, on a 206, Content-Range)",
    "etag": "the ETag header",
    "last_modified": "the Last-Modified header",
}


def object_metadata_fields(headers: Mapping[str, str], operation: str) -> dict[str, Any]:
    """Model fields of ``ObjectMetadata`` read from GET/HEAD response headers.

    Args:
        headers: the response headers (case-insensitive mapping, e.g. ``httpx.Headers``).
        operation: 'GetObject' or 'HeadObject', for the error naming a missing header.
    """
    # r2async's response headers keep a dict of lower-cased names (see _transports.indexed_headers):
    # read that directly, it answers as httpx.Headers does for the lower-case names used here.
    lookup = getattr(headers, "_lookup", None)
    if lookup is not None:
        headers = lookup()
    get = headers.get
    content_range = get("content-range")
    fields: dict[str, Any] = {
        "content_length": _body_length(get("content-length"), content_range),
        "content_type": get("content-type"),
        "etag": get("etag") or None,
        "last_modified": parse_http_date(get("last-modified")),
        "cache_control": get("cache-control"),
        "content_disposition": get("content-disposition"),
        "content_encoding": get("content-encoding"),
        "content_language": get("content-language"),
        "expires": get("expires"),
        "content_range": content_range,
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
    require(fields, operation + " response", _OBJECT_REQUIRED)
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

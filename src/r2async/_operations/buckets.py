"""Sans-IO builders, parsers and models for bucket operations.

ListBuckets, CreateBucket, DeleteBucket, HeadBucket and GetBucketLocation. The per-bucket
configurations (CORS, lifecycle, encryption) live in ``bucket_config.py``.
"""

from __future__ import annotations

import datetime as dt

# The XML parser loads with this family, not at its first answer (see _xml.load_parser).
import xml.etree.ElementTree  # noqa: F401
from collections.abc import Mapping
from typing import Literal, get_args

from pydantic import Field

from .. import _xml
from .._body import Body
from .._exceptions import NoSuchBucketError, ResponseParseError
from .._headers import check_header, validate_bucket
from .._models import R2Model, parse_iso_date, request_id, required
from .._spec import RequestSpec

__all__ = [
    "LOCATION_HINTS",
    "MAX_LIST_BUCKETS_KEYS",
    "Bucket",
    "CreateBucketResult",
    "DeleteBucketResult",
    "HeadBucketResult",
    "ListBucketsResult",
    "LocationHint",
    "build_create_bucket",
    "build_delete_bucket",
    "build_get_bucket_location",
    "build_head_bucket",
    "build_list_buckets",
    "parse_create_bucket",
    "parse_delete_bucket",
    "parse_get_bucket_location",
    "parse_head_bucket",
    "parse_list_buckets",
]

# R2's location hints (r2-s3-api.md §2.1). Documented in lower case; r2async always sends lower
# case because whether R2 accepts the upper-case form used in one JS example is unverified.
LocationHint = Literal["wnam", "enam", "weur", "eeur", "apac", "oc"]
LOCATION_HINTS: tuple[str, ...] = get_args(LocationHint)

# ListBuckets' cf-max-keys defaults to 1000, which is also R2's maximum (§5).
MAX_LIST_BUCKETS_KEYS = 1000


# ---------------------------------------------------------------------------------------------
# Models


class Bucket(R2Model):
    """One bucket in a ListBuckets page (``name`` and ``creation_date`` always set)."""

    name: str
    creation_date: dt.datetime
    # AWS sends BucketRegion in newer ListBuckets responses; R2 does not (kept when present).
    region: str | None = None


class ListBucketsResult(R2Model):
    """One page of ``list_buckets``.

    ``is_truncated`` and ``next_continuation_token`` come from R2's ``cf-is-truncated`` /
    ``cf-next-continuation-token`` response headers or the XML ``IsTruncated`` /
    ``NextContinuationToken`` elements, whichever the server sent.
    """

    buckets: list[Bucket] = Field(default_factory=list)
    owner_id: str | None = None
    owner_display_name: str | None = None
    prefix: str | None = None
    start_after: str | None = None
    continuation_token: str | None = None
    max_keys: int | None = None
    key_count: int | None = None
    is_truncated: bool = False
    next_continuation_token: str | None = None
    request_id: str | None = None


class CreateBucketResult(R2Model):
    """Result of ``create_bucket``: ``location`` is the ``Location`` header (e.g. ``/name``)."""

    location: str | None = None
    request_id: str | None = None


class DeleteBucketResult(R2Model):
    """Result of ``delete_bucket``."""

    request_id: str | None = None


class HeadBucketResult(R2Model):
    """Result of ``head_bucket``: ``region`` is ``x-amz-bucket-region`` (``auto`` on R2)."""

    region: str | None = None
    request_id: str | None = None


# ---------------------------------------------------------------------------------------------
# ListBuckets


def _paging_value(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str or None, got {type(value).__name__}")
    if value == "":
        return None
    # Sent as an R2 cf-* header, so it must be a valid header value (bucket names are ASCII).
    check_header(name, value, where=name)
    return value


def build_list_buckets(
    *,
    prefix: str | None = None,
    start_after: str | None = None,
    continuation_token: str | None = None,
    max_keys: int | None = None,
) -> RequestSpec:
    """ListBuckets: ``GET /`` with R2's paging in ``cf-*`` request headers.

    R2 also accepts the same parameters as query strings, but documents that the headers win
    when both are sent; headers alone keep the request unambiguous.

    Args:
        prefix: only buckets whose name starts with this (default all).
        start_after: only buckets whose name sorts after this (default none).
        continuation_token: the ``next_continuation_token`` of the previous page.
        max_keys: page size, 1-1000 (default: the server's, 1000 on R2).
    """
    headers: dict[str, str] = {}
    for name, header, value in (
        ("prefix", "cf-prefix", prefix),
        ("start_after", "cf-start-after", start_after),
        ("continuation_token", "cf-continuation-token", continuation_token),
    ):
        checked = _paging_value(name, value)
        if checked is not None:
            headers[header] = checked
    if max_keys is not None:
        if isinstance(max_keys, bool) or not isinstance(max_keys, int):
            raise TypeError(f"max_keys must be an int, got {type(max_keys).__name__}")
        if not 1 <= max_keys <= MAX_LIST_BUCKETS_KEYS:
            raise ValueError(
                f"max_keys={max_keys}: R2 returns 1 to {MAX_LIST_BUCKETS_KEYS} buckets per page; "
                "use iter_buckets() to walk every page"
            )
        headers["cf-max-keys"] = str(max_keys)
    return RequestSpec("ListBuckets", "GET", headers=headers)


def _int_or_none(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        return None


def parse_list_buckets(headers: Mapping[str, str], body: bytes) -> ListBucketsResult:
    """ListBucketsResult from the response headers (R2's ``cf-*``) and the XML body."""
    root = _xml.parse(body, what="ListBuckets response")
    _xml.expect_root(root, "ListAllMyBucketsResult", what="ListBuckets response")
    buckets: list[Bucket] = []
    container = root.find("Buckets")
    if container is not None:
        for el in _xml.children(container, "Bucket"):
            name = _xml.text(el, "Name")
            if not name:
                raise ResponseParseError("ListBuckets response: a <Bucket> has no <Name>")
            created = parse_iso_date(_xml.text(el, "CreationDate"))
            buckets.append(
                Bucket(
                    name=name,
                    creation_date=required(
                        created,
                        f"ListBuckets response, bucket {name!r}",
                        "the <CreationDate> element",
                    ),
                    region=_xml.text(el, "BucketRegion") or None,
                )
            )
    owner = root.find("Owner")
    header_truncated = headers.get("cf-is-truncated")
    xml_truncated = _xml.text(root, "IsTruncated")
    # Either signal means "more pages": R2 sends both, other servers at most one of them.
    is_truncated = _xml.boolean(header_truncated) or _xml.boolean(xml_truncated)
    next_token = headers.get("cf-next-continuation-token") or _xml.text(
        root, "NextContinuationToken"
    )
    return ListBucketsResult(
        buckets=buckets,
        owner_id=_xml.text(owner, "ID") or None,
        owner_display_name=_xml.text(owner, "DisplayName") or None,
        prefix=_xml.text(root, "Prefix") or None,
        start_after=_xml.text(root, "StartAfter") or None,
        continuation_token=_xml.text(root, "ContinuationToken") or None,
        max_keys=_int_or_none(_xml.text(root, "MaxKeys")),
        key_count=_int_or_none(_xml.text(root, "KeyCount")),
        is_truncated=is_truncated,
        next_continuation_token=next_token or None,
        request_id=request_id(headers),
    )


# ---------------------------------------------------------------------------------------------
# CreateBucket / DeleteBucket / HeadBucket / GetBucketLocation


def _location_hint(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"location_hint must be str or None, got {type(value).__name__}")
    hint = value.lower()
    if hint not in LOCATION_HINTS:
        raise ValueError(
            f"location_hint={value!r}: use one of {', '.join(LOCATION_HINTS)} (or None to let R2 "
            "choose); a jurisdiction (eu, fedramp, us) is chosen with R2Client(jurisdiction=...)"
        )
    return hint


def create_bucket_body(location_hint: str) -> bytes:
    """The ``CreateBucketConfiguration`` document carrying a location hint."""
    return _xml.document(
        "CreateBucketConfiguration", [_xml.element("LocationConstraint", location_hint)]
    )


def build_create_bucket(bucket: str, *, location_hint: str | None = None) -> RequestSpec:
    """CreateBucket: ``PUT /bucket``, with a ``LocationConstraint`` body when a hint is given.

    There is no jurisdiction argument: on the S3 API the endpoint host selects the jurisdiction
    (``<account>.eu.r2.cloudflarestorage.com``), so a bucket is created in the jurisdiction of
    the client (``R2Client(jurisdiction="eu")``). ``cf-r2-jurisdiction`` belongs to the
    Cloudflare REST API, not to the S3 endpoint.

    Args:
        bucket: the new bucket's name (3-63 of a-z, 0-9, '-').
        location_hint: one of wnam, enam, weur, eeur, apac, oc (case-insensitive, sent lower
            case); None (default) sends no body and R2 picks a location.
    """
    validate_bucket(bucket)
    body = None
    if location_hint is not None:
        data = create_bucket_body(_location_hint(location_hint))
        body = Body(length=len(data), content=data)
    # Not idempotent: a retry after a lost success would fail with 409 BucketAlreadyOwnedByYou.
    return RequestSpec("CreateBucket", "PUT", bucket, body=body, idempotent=False)


def parse_create_bucket(headers: Mapping[str, str]) -> CreateBucketResult:
    """CreateBucketResult from the response headers."""
    return CreateBucketResult(location=headers.get("location"), request_id=request_id(headers))


def build_delete_bucket(bucket: str) -> RequestSpec:
    """DeleteBucket: ``DELETE /bucket`` (the bucket must be empty: 409 BucketNotEmpty)."""
    validate_bucket(bucket)
    # Not idempotent: a retry after a lost success would fail with 404 NoSuchBucket.
    return RequestSpec("DeleteBucket", "DELETE", bucket, idempotent=False)


def parse_delete_bucket(headers: Mapping[str, str]) -> DeleteBucketResult:
    """DeleteBucketResult from the response headers."""
    return DeleteBucketResult(request_id=request_id(headers))


def build_head_bucket(bucket: str) -> RequestSpec:
    """HeadBucket: ``HEAD /bucket``; a bodiless 404 is reported as NoSuchBucketError."""
    validate_bucket(bucket)
    return RequestSpec("HeadBucket", "HEAD", bucket, not_found=NoSuchBucketError)


def parse_head_bucket(headers: Mapping[str, str]) -> HeadBucketResult:
    """HeadBucketResult from the response headers."""
    return HeadBucketResult(
        region=headers.get("x-amz-bucket-region"), request_id=request_id(headers)
    )


def build_get_bucket_location(bucket: str) -> RequestSpec:
    """GetBucketLocation: ``GET /bucket?location``."""
    validate_bucket(bucket)
    return RequestSpec("GetBucketLocation", "GET", bucket, query=[("location", None)])


def parse_get_bucket_location(body: bytes) -> str:
    """The ``LocationConstraint`` text ('' when empty) from a GetBucketLocation body.

    S3 and R2 answer ``<LocationConstraint>auto</LocationConstraint>``; SeaweedFS wraps it in
    ``<CreateBucketConfiguration>``. Both forms are read.
    """
    root = _xml.parse(body, what="GetBucketLocation response")
    if root.tag == "LocationConstraint":
        return (root.text or "").strip()
    el = root.find(".//LocationConstraint")
    if el is None:
        raise ResponseParseError(
            f"GetBucketLocation response: no <LocationConstraint> in <{root.tag}>"
        )
    return (el.text or "").strip()

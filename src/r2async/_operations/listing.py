"""Sans-IO builders and parsers for object listings: ListObjectsV2 and ListObjects V1.

Results are read by ``listing_fast`` when it takes the document and by ``listing_reference``
(ElementTree) otherwise; the models live in ``listing_models``, DeleteObjects in
``delete_objects``.

Listings always ask for ``encoding-type=url`` so that keys holding characters XML 1.0 cannot
carry (control characters) still arrive intact; r2async decodes them, and callers only ever
see real keys. Servers encode form-style (space as ``+``, ``+`` as ``%2B``; AWS, R2 and
SeaweedFS alike, and botocore decodes with ``unquote_plus`` too), so decoding is
``unquote_plus``. Values the request itself chose (``Prefix``, ``Delimiter``, ``StartAfter``,
``Marker``, ``ContinuationToken``) are reported from the request, not from the response:
SeaweedFS echoes them *without* URL-encoding even under ``encoding-type=url``, so decoding its
echo would corrupt a prefix such as ``"a b+"``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._headers import validate_bucket
from .._spec import RequestSpec
from . import listing_fast as _fast
from . import listing_reference as _reference
from . import listparse as _listparse
from .listing_models import (
    MAX_KEYS_LIMIT,
    ListObjectsResult,
    ListObjectsV1Result,
    ObjectInfo,
    check_listing_size,
)

__all__ = [
    "ListObjectsResult",
    "ListObjectsV1Result",
    "ObjectInfo",
    "build_list_objects",
    "build_list_objects_v1",
    "check_max_keys",
    "parse_list_objects",
    "parse_list_objects_v1",
]


# ---------------------------------------------------------------------------------------------
# Argument checks


def _opt_str(value: object, name: str, *, allow_empty: bool = True) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str or None, got {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty; pass None to leave it out")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} contains lone surrogates and is not valid Unicode") from None
    return value


def check_max_keys(max_keys: object, name: str = "max_keys") -> int | None:
    """Validate a page size: None (the server's default, 1,000) or an int from 1 to 1,000."""
    if max_keys is None:
        return None
    if not isinstance(max_keys, int) or isinstance(max_keys, bool):
        raise TypeError(f"{name} must be an int from 1 to 1000, got {type(max_keys).__name__}")
    if not 1 <= max_keys <= MAX_KEYS_LIMIT:
        raise ValueError(f"{name}={max_keys}: pass an int from 1 to 1000 (R2's page limit)")
    return max_keys


# ---------------------------------------------------------------------------------------------
# ListObjectsV2


def build_list_objects(
    bucket: str,
    *,
    prefix: str | None = None,
    delimiter: str | None = None,
    start_after: str | None = None,
    max_keys: int | None = None,
    continuation_token: str | None = None,
    fetch_owner: bool = False,
) -> RequestSpec:
    """ListObjectsV2: ``GET /bucket?list-type=2&encoding-type=url...`` (documented params only).

    R2 answers 501 to any query parameter it does not know, so nothing else is ever sent.
    Empty strings are left out, as S3 treats them like absent parameters.
    """
    validate_bucket(bucket)
    prefix = _opt_str(prefix, "prefix")
    delimiter = _opt_str(delimiter, "delimiter")
    start_after = _opt_str(start_after, "start_after")
    continuation_token = _opt_str(continuation_token, "continuation_token", allow_empty=False)
    max_keys = check_max_keys(max_keys)
    if not isinstance(fetch_owner, bool):
        raise TypeError("fetch_owner must be a bool")
    query: list[tuple[str, str | None]] = [("list-type", "2")]
    if continuation_token:
        query.append(("continuation-token", continuation_token))
    if delimiter:
        query.append(("delimiter", delimiter))
    query.append(("encoding-type", "url"))
    if fetch_owner:
        query.append(("fetch-owner", "true"))
    if max_keys is not None:
        query.append(("max-keys", str(max_keys)))
    if prefix:
        query.append(("prefix", prefix))
    if start_after:
        query.append(("start-after", start_after))
    return RequestSpec("ListObjectsV2", "GET", bucket, query=query)


def parse_list_objects(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsResult:
    """ListObjectsResult from a ListObjectsV2 response; echoed parameters come from ``spec``."""
    # Bounded before either reader builds anything from the body.
    check_listing_size(body, "ListObjectsV2 response")
    try:
        return _fast.list_objects(body, headers, spec)
    except _listparse.Unsupported:
        pass
    # Outside the except block, so that the fast reader's traceback (and the copies of the
    # body its frames hold) is freed before the reference parses.
    return _reference.list_objects(body, headers, spec)


def build_list_objects_v1(
    bucket: str,
    *,
    prefix: str | None = None,
    delimiter: str | None = None,
    marker: str | None = None,
    max_keys: int | None = None,
) -> RequestSpec:
    """ListObjects V1: ``GET /bucket?encoding-type=url...`` (documented params only)."""
    validate_bucket(bucket)
    prefix = _opt_str(prefix, "prefix")
    delimiter = _opt_str(delimiter, "delimiter")
    marker = _opt_str(marker, "marker")
    max_keys = check_max_keys(max_keys)
    query: list[tuple[str, str | None]] = []
    if delimiter:
        query.append(("delimiter", delimiter))
    query.append(("encoding-type", "url"))
    if marker:
        query.append(("marker", marker))
    if max_keys is not None:
        query.append(("max-keys", str(max_keys)))
    if prefix:
        query.append(("prefix", prefix))
    return RequestSpec("ListObjects", "GET", bucket, query=query)


def parse_list_objects_v1(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsV1Result:
    """ListObjectsV1Result from a ListObjects response; echoed parameters come from ``spec``."""
    check_listing_size(body, "ListObjects response")
    try:
        return _fast.list_objects_v1(body, headers, spec)
    except _listparse.Unsupported:
        pass
    # Outside the except block, so that the fast reader's traceback (and the copies of the
    # body its frames hold) is freed before the reference parses.
    return _reference.list_objects_v1(body, headers, spec)

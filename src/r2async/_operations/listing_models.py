"""Result models of the object listings, and the rules both readers follow to fill them.

``ObjectInfo``, ``ListObjectsResult`` (ListObjectsV2) and ``ListObjectsV1Result``; the
ElementTree reference reader (``listing_reference``) and the fast reader (``listing_fast``)
build them from the same helpers here, so that they cannot disagree on echoed parameters or
on V1's next marker.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, TypeAdapter

from .._exceptions import ResponseParseError
from .._models import R2Model
from .._spec import RequestSpec
from .listparse import MAX_LISTING_TAGS

__all__ = ["ListObjectsResult", "ListObjectsV1Result", "ObjectInfo"]


class ObjectInfo(R2Model):
    """One object in a listing.

    ``etag`` is quoted, as in ``put_object``/``head_object`` results, so they compare equal.
    ``key``, ``last_modified``, ``etag`` and ``size`` are always set (R2 lists them for every
    object; an entry without one raises ``ResponseParseError``).
    ``owner_id``/``owner_display_name`` are set only with ``fetch_owner=True`` (V2) or when
    the server volunteers them (V1).
    """

    key: str
    last_modified: dt.datetime
    etag: str
    size: int
    storage_class: str | None = None
    owner_id: str | None = None
    owner_display_name: str | None = None
    checksum_algorithms: tuple[str, ...] = ()
    checksum_type: str | None = None


class ListObjectsResult(R2Model):
    """One page of ``list_objects`` (ListObjectsV2).

    Keep calling with ``continuation_token=next_continuation_token`` while ``is_truncated``
    (or use ``list_objects_pages``/``iter_objects``): a short page does not mean the end.
    ``key_count`` counts objects plus common prefixes, as R2 reports it.
    """

    bucket: str
    prefix: str | None = None
    delimiter: str | None = None
    start_after: str | None = None
    continuation_token: str | None = None
    max_keys: int | None = None
    key_count: int | None = None
    is_truncated: bool = False
    next_continuation_token: str | None = None
    objects: list[ObjectInfo] = Field(default_factory=list)
    common_prefixes: list[str] = Field(default_factory=list)
    request_id: str | None = None


class ListObjectsV1Result(R2Model):
    """One page of ``list_objects_v1`` (ListObjects V1).

    ``next_marker`` is where the next page starts when ``is_truncated`` (else None): the
    server's ``NextMarker`` when it sends one (URL-decoded only when the response says
    ``EncodingType=url``), else the last key or common prefix of the page (the S3 rule; AWS
    sends ``NextMarker`` only with a delimiter). The server's own marker wins because servers
    differ in what a page holds: s3rver repeats every common prefix on every page, so the
    last prefix can sort after keys not listed yet.
    """

    bucket: str
    prefix: str | None = None
    delimiter: str | None = None
    marker: str | None = None
    max_keys: int | None = None
    is_truncated: bool = False
    next_marker: str | None = None
    objects: list[ObjectInfo] = Field(default_factory=list)
    common_prefixes: list[str] = Field(default_factory=list)
    request_id: str | None = None


_OBJECT_LIST: TypeAdapter[list[ObjectInfo]] | None = None


def object_list() -> TypeAdapter[list[ObjectInfo]]:
    # Built on first use: building a validator costs milliseconds that import should not.
    global _OBJECT_LIST
    if _OBJECT_LIST is None:
        _OBJECT_LIST = TypeAdapter(list[ObjectInfo])
    return _OBJECT_LIST


# Result fields the request chose, by query parameter: reported from the request, not from
# the response (why: the docstring of the listing module).
V2_ECHO = (
    ("prefix", "prefix"),
    ("delimiter", "delimiter"),
    ("start_after", "start-after"),
    ("continuation_token", "continuation-token"),
)
V1_ECHO = (("prefix", "prefix"), ("delimiter", "delimiter"), ("marker", "marker"))


def echoed(spec: RequestSpec, names: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The bucket and the listing parameters ``spec`` sent, as result fields."""
    sent = dict(spec.query)
    return {"bucket": spec.bucket or "", **{field: sent.get(param) for field, param in names}}


# S3's page limit, and its default page size: a page never holds more objects.
MAX_KEYS_LIMIT = 1000


def check_listing_size(body: bytes, what: str) -> None:
    """Refuse a listing document with more tags than any page can need, before parsing it."""
    if len(body) <= MAX_LISTING_TAGS:
        return  # fewer bytes than the bound allows tags: most pages skip the count
    tags = body.count(b"<")
    if tags > MAX_LISTING_TAGS:
        raise ResponseParseError(
            f"{what}: the document holds {tags:,} tags, more than a listing page can need "
            f"(at most {MAX_LISTING_TAGS:,}); refusing it"
        )


def entry_limit(spec: RequestSpec) -> int:
    """The most objects a page may hold: the ``max-keys`` the request sent, else 1,000."""
    for name, value in spec.query:
        if name == "max-keys" and value is not None:
            return int(value)
    return MAX_KEYS_LIMIT


def check_object_count(count: int, spec: RequestSpec, what: str) -> None:
    """Refuse a page with more objects than the request allowed (never truncated silently).

    Truncating would lose entries: the server's next token or marker points past all of them.
    """
    limit = entry_limit(spec)
    if count > limit:
        raise ResponseParseError(
            f"{what}: the server sent {count:,} objects on a page of at most {limit:,} "
            "(max-keys); refusing the page rather than dropping entries"
        )


def v1_next_marker(
    objects: list[ObjectInfo],
    prefixes: list[str],
    server: str | None,
    decoded: str | None,
) -> str | None:
    """A truncated V1 page's marker for the next request.

    Args:
        objects: the page's objects.
        prefixes: the page's common prefixes.
        server: the page's ``NextMarker`` as sent (None or "" when absent).
        decoded: that value URL-decoded when the response echoes ``EncodingType=url`` (else
            ``server`` itself); None when it is not valid URL-encoded UTF-8.
    """
    if server:
        if decoded == server:
            return server
        # SeaweedFS echoes EncodingType=url yet sends NextMarker unencoded: when the value
        # as sent names an entry of the page and its decoding does not, it was not encoded.
        if _names_entry(objects, prefixes, server) and (
            decoded is None or not _names_entry(objects, prefixes, decoded)
        ):
            return server
        if decoded is None:
            raise ResponseParseError(
                f"ListObjects response: the URL-encoded NextMarker {server!r} is not valid UTF-8"
            )
        return decoded
    # No NextMarker: S3's rule, the last key or common prefix returned, whichever sorts last
    # (code-point order of str equals the UTF-8 byte order S3 lists in).
    candidates = [o.key for o in objects[-1:]] + prefixes[-1:]
    return max(candidates) if candidates else None


def _names_entry(objects: list[ObjectInfo], prefixes: list[str], name: str) -> bool:
    # Only reached for a NextMarker whose decoding changed it: rare, so a scan is fine.
    return name in prefixes or any(o.key == name for o in objects)

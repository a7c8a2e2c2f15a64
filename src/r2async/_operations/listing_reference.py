"""The ElementTree reading of ListObjectsV2 and ListObjects V1 responses.

The reference the fast reader (``listing_fast``) must agree with, and the reader that judges
(and rejects, with its own message) every document the fast reader does not take.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from urllib.parse import unquote_plus

from .. import _xml
from .._exceptions import ResponseParseError
from .._models import parse_iso_date, request_id, require
from .._spec import RequestSpec
from .listing_models import (
    V1_ECHO,
    V2_ECHO,
    ListObjectsResult,
    ListObjectsV1Result,
    ObjectInfo,
    check_listing_size,
    check_object_count,
    echoed,
    object_list,
    v1_next_marker,
)

__all__ = ["list_objects", "list_objects_v1"]


def _url_encoded(root: ET.Element) -> bool:
    # Decode only when the server says it encoded: one that ignores encoding-type sends
    # literal keys, and decoding those would corrupt any '+' or '%' in them.
    return _xml.text(root, "EncodingType") == "url"


def _decode(value: str, url_encoded: bool) -> str:
    if not url_encoded or ("%" not in value and "+" not in value):
        return value
    try:
        return unquote_plus(value, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ResponseParseError(
            f"listing: the URL-encoded name {value!r} is not valid UTF-8"
        ) from None


def _int(value: str | None, what: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ResponseParseError(f"listing: {what} is not an integer: {value!r}") from None


def _quoted(etag: str | None) -> str | None:
    # Listings (and CopyObject bodies on some servers) may drop the quotes headers carry.
    if etag is None or etag == "" or etag.startswith(('"', "W/")):
        return etag or None
    return f'"{etag}"'


# What ObjectInfo requires of each entry, and the element it comes from.
_ENTRY_REQUIRED = {
    "last_modified": "<LastModified>",
    "etag": "<ETag>",
    "size": "<Size>",
}


def _objects(root: ET.Element, url_encoded: bool, spec: RequestSpec, what: str) -> list[ObjectInfo]:
    # Counted before any ObjectInfo is built: a page over max-keys is refused, not trimmed.
    check_object_count(sum(1 for _ in root.iterfind("Contents")), spec, what)
    # The hot loop of every listing (1,000 entries a page): findtext() runs in C and answers
    # as _xml.text does ("" for an empty element, None for a missing one), and the whole page
    # is validated in one call instead of one model construction per entry (about 3x faster
    # together).
    rows: list[dict[str, object]] = []
    for el in root.iterfind("Contents"):
        field = el.findtext
        key = field("Key")
        if key is None:
            raise ResponseParseError("listing: a <Contents> entry has no <Key>")
        row: dict[str, object] = {
            "key": _decode(key, url_encoded),
            "last_modified": parse_iso_date(field("LastModified")),
            "etag": _quoted(field("ETag")),
            "size": _int(field("Size"), "Size"),
            "storage_class": field("StorageClass"),
            "checksum_type": field("ChecksumType"),
        }
        if row["last_modified"] is None or row["etag"] is None or row["size"] is None:
            # The message (and its repr of the key) is built only for a refused entry.
            require(row, f"listing: the <Contents> entry for {row['key']!r}", _ENTRY_REQUIRED)
        owner = el.find("Owner")
        if owner is not None:
            row["owner_id"] = owner.findtext("ID") or None
            row["owner_display_name"] = owner.findtext("DisplayName") or None
        if el.find("ChecksumAlgorithm") is not None:
            row["checksum_algorithms"] = tuple(
                c.text for c in _xml.children(el, "ChecksumAlgorithm") if c.text
            )
        rows.append(row)
    return object_list().validate_python(rows)


def _common_prefixes(root: ET.Element, url_encoded: bool) -> list[str]:
    out: list[str] = []
    for el in _xml.children(root, "CommonPrefixes"):
        value = _xml.text(el, "Prefix")
        if value is not None:
            out.append(_decode(value, url_encoded))
    return out


_S3_NS_ATTR = f' xmlns="{_xml.S3_NS}"'.encode()
_ROOT_TAG = b"<ListBucketResult"


def _without_default_namespace(body: bytes) -> bytes:
    """``body`` without the S3 default namespace on its root, when that is the only one.

    Namespaced tags would have to be renamed one by one after parsing (a third of the
    parse time of a 1,000-key page); with the declaration gone there is nothing to rename.
    Any other namespace declaration leaves the body as it is (the renaming handles it).
    """
    at = body.find(_S3_NS_ATTR, 0, 1024)
    if at < 0 or body.rfind(b"<", 0, at) != at - len(_ROOT_TAG):
        return body
    if not body.startswith(_ROOT_TAG, at - len(_ROOT_TAG)):
        return body
    end = at + len(_S3_NS_ATTR)
    if body.find(b"xmlns", end) >= 0:
        return body
    return body[:at] + body[end:]


def _root(body: bytes, what: str) -> ET.Element:
    check_listing_size(body, what)
    root = _xml.parse(_without_default_namespace(body), what=what)
    _xml.expect_root(root, "ListBucketResult", what=what)
    return root


def list_objects(body: bytes, headers: Mapping[str, str], spec: RequestSpec) -> ListObjectsResult:
    # The ElementTree reading: the reference the fast reader must agree with, and the one
    # that judges (and rejects) every document the fast reader does not take.
    what = "ListObjectsV2 response"
    root = _root(body, what)
    url_encoded = _url_encoded(root)
    truncated = _xml.boolean(_xml.text(root, "IsTruncated"))
    token = _xml.text(root, "NextContinuationToken") or None
    return ListObjectsResult(
        **echoed(spec, V2_ECHO),
        max_keys=_int(_xml.text(root, "MaxKeys"), "MaxKeys"),
        key_count=_int(_xml.text(root, "KeyCount"), "KeyCount"),
        is_truncated=truncated,
        # The token is opaque: handed back exactly as received, never decoded.
        next_continuation_token=token if truncated else None,
        objects=_objects(root, url_encoded, spec, what),
        common_prefixes=_common_prefixes(root, url_encoded),
        request_id=request_id(headers),
    )


def list_objects_v1(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsV1Result:
    # The ElementTree reading, as for list_objects.
    what = "ListObjects response"
    root = _root(body, what)
    url_encoded = _url_encoded(root)
    truncated = _xml.boolean(_xml.text(root, "IsTruncated"))
    objects = _objects(root, url_encoded, spec, what)
    prefixes = _common_prefixes(root, url_encoded)

    next_marker = None
    if truncated:
        server = _xml.text(root, "NextMarker") or None
        decoded = server
        if server is not None and url_encoded:
            try:
                decoded = _decode(server, url_encoded)
            except ResponseParseError:
                decoded = None
        next_marker = v1_next_marker(objects, prefixes, server, decoded)
    return ListObjectsV1Result(
        **echoed(spec, V1_ECHO),
        max_keys=_int(_xml.text(root, "MaxKeys"), "MaxKeys"),
        is_truncated=truncated,
        next_marker=next_marker,
        objects=objects,
        common_prefixes=prefixes,
        request_id=request_id(headers),
    )

"""Sans-IO builders, parsers and models for listing and batch deletion.

ListObjectsV2 (``list_objects``), ListObjects V1 (``list_objects_v1``) and DeleteObjects.

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

import base64
import datetime as dt
import hashlib
import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import repeat
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, Field, TypeAdapter
from pydantic_core import PydanticUndefined

from .. import _xml
from .._body import prepare_body
from .._exceptions import ResponseParseError
from .._headers import validate_bucket, validate_key
from .._models import R2Model, parse_iso_date, request_id
from .._spec import RequestSpec
from . import listparse as _listparse

__all__ = [
    "DELETE_BATCH",
    "DeleteFailure",
    "DeleteObjectsResult",
    "ListObjectsResult",
    "ListObjectsV1Result",
    "ObjectInfo",
    "build_delete_objects",
    "build_list_objects",
    "build_list_objects_v1",
    "check_delete_keys",
    "parse_delete_objects",
    "parse_list_objects",
    "parse_list_objects_v1",
]

# DeleteObjects accepts at most this many keys per request (S3 and R2 alike).
DELETE_BATCH = 1000
MAX_KEYS_LIMIT = 1000

# Characters XML 1.0 cannot represent at all, not even as a character reference: the
# complement of its Char production, spelled as the small class it is (the negated class
# with astral ranges costs 5 ms to compile at import).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------------------------------------
# Models


class ObjectInfo(R2Model):
    """One object in a listing.

    ``etag`` is quoted, as in ``put_object``/``head_object`` results, so they compare equal.
    ``owner_id``/``owner_display_name`` are set only with ``fetch_owner=True`` (V2) or when
    the server volunteers them (V1).
    """

    key: str
    last_modified: dt.datetime | None = None
    etag: str | None = None
    size: int = 0
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

    ``next_marker`` is where the next page starts when ``is_truncated`` (else None). r2async
    derives it from the last key or common prefix of the page (the S3 rule), because servers
    send ``NextMarker`` inconsistently (only with a delimiter on AWS; not URL-encoded on
    SeaweedFS even under ``encoding-type=url``).
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


class DeleteFailure(R2Model):
    """A key ``delete_objects`` could not delete (an entry, not an exception)."""

    key: str
    code: str | None = None
    message: str | None = None


class DeleteObjectsResult(R2Model):
    """Result of ``delete_objects`` over all its batches.

    ``deleted`` lists the keys the server reported deleted (always empty with ``quiet=True``;
    deleting a missing key counts as deleted); ``errors`` lists per-key failures, which are
    reported here rather than raised.
    """

    deleted: list[str] = Field(default_factory=list)
    errors: list[DeleteFailure] = Field(default_factory=list)
    request_ids: list[str] = Field(default_factory=list)


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


def _objects(root: ET.Element, url_encoded: bool) -> list[ObjectInfo]:
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
            "size": _int(field("Size"), "Size") or 0,
            "storage_class": field("StorageClass"),
            "checksum_type": field("ChecksumType"),
        }
        owner = el.find("Owner")
        if owner is not None:
            row["owner_id"] = owner.findtext("ID") or None
            row["owner_display_name"] = owner.findtext("DisplayName") or None
        if el.find("ChecksumAlgorithm") is not None:
            row["checksum_algorithms"] = tuple(
                c.text for c in _xml.children(el, "ChecksumAlgorithm") if c.text
            )
        rows.append(row)
    return _object_list().validate_python(rows)


_OBJECT_LIST: TypeAdapter[list[ObjectInfo]] | None = None


def _object_list() -> TypeAdapter[list[ObjectInfo]]:
    # Built on first use: building a validator costs milliseconds that import should not.
    global _OBJECT_LIST
    if _OBJECT_LIST is None:
        _OBJECT_LIST = TypeAdapter(list[ObjectInfo])
    return _OBJECT_LIST


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


# Result fields the request chose, by query parameter: reported from the request, not from
# the response (see the module docstring).
_V2_ECHO = (
    ("prefix", "prefix"),
    ("delimiter", "delimiter"),
    ("start_after", "start-after"),
    ("continuation_token", "continuation-token"),
)
_V1_ECHO = (("prefix", "prefix"), ("delimiter", "delimiter"), ("marker", "marker"))


def _echoed(spec: RequestSpec, names: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The bucket and the listing parameters ``spec`` sent, as result fields."""
    sent = dict(spec.query)
    return {"bucket": spec.bucket or "", **{field: sent.get(param) for field, param in names}}


def _next_marker(
    objects: list[ObjectInfo], prefixes: list[str], server_marker: Callable[[], str | None]
) -> str | None:
    """A truncated V1 page's marker for the next request."""
    # S3's NextMarker is the last key or common prefix returned, whichever sorts last.
    # Code-point order of str equals the UTF-8 byte order S3 lists in. Only an empty page
    # falls back to the server's own NextMarker.
    candidates = [o.key for o in objects[-1:]] + prefixes[-1:]
    return max(candidates) if candidates else server_marker()


def _root(body: bytes, what: str) -> ET.Element:
    root = _xml.parse(_without_default_namespace(body), what=what)
    if root.tag != "ListBucketResult":
        raise ResponseParseError(f"{what}: expected <ListBucketResult>, got <{root.tag}>")
    return root


def parse_list_objects(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsResult:
    """ListObjectsResult from a ListObjectsV2 response; echoed parameters come from ``spec``."""
    try:
        return _fast_list_objects(body, headers, spec)
    except _listparse.Unsupported:
        return _reference_list_objects(body, headers, spec)


def _reference_list_objects(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsResult:
    # The ElementTree reading: the reference the fast reader must agree with, and the one
    # that judges (and rejects) every document the fast reader does not take.
    root = _root(body, "ListObjectsV2 response")
    url_encoded = _url_encoded(root)
    truncated = _xml.boolean(_xml.text(root, "IsTruncated"))
    token = _xml.text(root, "NextContinuationToken") or None
    return ListObjectsResult(
        **_echoed(spec, _V2_ECHO),
        max_keys=_int(_xml.text(root, "MaxKeys"), "MaxKeys"),
        key_count=_int(_xml.text(root, "KeyCount"), "KeyCount"),
        is_truncated=truncated,
        # The token is opaque: handed back exactly as received, never decoded.
        next_continuation_token=token if truncated else None,
        objects=_objects(root, url_encoded),
        common_prefixes=_common_prefixes(root, url_encoded),
        request_id=request_id(headers),
    )


# ---------------------------------------------------------------------------------------------
# ListObjects (V1)


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
    try:
        return _fast_list_objects_v1(body, headers, spec)
    except _listparse.Unsupported:
        return _reference_list_objects_v1(body, headers, spec)


def _reference_list_objects_v1(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsV1Result:
    # The ElementTree reading, as for _reference_list_objects.
    root = _root(body, "ListObjects response")
    url_encoded = _url_encoded(root)
    truncated = _xml.boolean(_xml.text(root, "IsTruncated"))
    objects = _objects(root, url_encoded)
    prefixes = _common_prefixes(root, url_encoded)

    def server_marker() -> str | None:
        server = _xml.text(root, "NextMarker")
        return _decode(server, url_encoded) if server else None

    next_marker = _next_marker(objects, prefixes, server_marker) if truncated else None
    return ListObjectsV1Result(
        **_echoed(spec, _V1_ECHO),
        max_keys=_int(_xml.text(root, "MaxKeys"), "MaxKeys"),
        is_truncated=truncated,
        next_marker=next_marker,
        objects=objects,
        common_prefixes=prefixes,
        request_id=request_id(headers),
    )


# ---------------------------------------------------------------------------------------------
# The fast reading of listings (V1 and V2)
#
# _listparse.scan reads the document as ElementTree would, or raises Unsupported; the
# functions below turn its columns into results exactly as the reference functions above
# turn elements into them, and raise Unsupported wherever those raise ResponseParseError,
# so that the reference produces the error (and its message) itself.


def _fast_int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise _listparse.Unsupported("not an integer") from None


def _fast_decode(values: list[str], url_encoded: bool) -> list[str]:
    """``_decode`` over a column: ``unquote_plus`` of each value (strict UTF-8)."""
    if not url_encoded:
        return values
    joined = "\x00".join(values)
    if "%" not in joined and "+" not in joined:
        return values
    # unquote_plus costs some 4 us a key in Python. The same decoding in C calls, for the
    # whole column: '+' to space, every "%XX" to "\xXX" (backslashes escaped first, so they
    # are the only escapes), bytes from unicode_escape (which maps each byte to the code
    # point of the same value, hence latin-1 back to bytes), and one strict UTF-8 decode.
    # Each value is decoded as unquote_plus decodes it: the NUL between values is a whole
    # character, so no escape, and no UTF-8 sequence, spans two values; and bytes that are
    # invalid on their own stay invalid. Whatever could differ is left to unquote_plus:
    # a '%' that starts no escape (unquote_plus keeps it, unicode_escape refuses it), a
    # decoded NUL (which would split a value), invalid UTF-8 (the error message).
    try:
        decoded = (
            joined.replace("+", " ")
            .replace("\\", "\\\\")
            .replace("%", "\\x")
            .encode("utf-8")
            .decode("unicode_escape")
            .encode("latin-1")
            .decode("utf-8")
        )
    except UnicodeError:
        pass
    else:
        parts = decoded.split("\x00")
        if len(parts) == len(values):
            return parts
    try:
        return [
            unquote_plus(v, encoding="utf-8", errors="strict") if "%" in v or "+" in v else v
            for v in values
        ]
    except UnicodeDecodeError:
        raise _listparse.Unsupported("a URL-encoded name is not valid UTF-8") from None


def _fast_dates(values: list[str | None]) -> list[dt.datetime | None]:
    """``parse_iso_date`` over a column."""
    # Listings often repeat timestamps (objects written in the same second): parse each
    # distinct one once.
    distinct = list(dict.fromkeys(values))
    parsed: list[dt.datetime | None] | None = None
    if None not in distinct and "" not in distinct:
        joined = "\x00".join(distinct)  # type: ignore[arg-type]
        # All in UTC with a "Z" at the end, as S3 writes them: parse_iso_date without a call
        # per value (the offset makes every result aware, so none needs its zone set).
        if joined.endswith("Z") and joined.count("Z\x00") == len(distinct) - 1:
            fromisoformat = dt.datetime.fromisoformat
            try:
                parsed = [fromisoformat(v.replace("Z", "+00:00")) for v in distinct]  # type: ignore[union-attr]
            except ValueError:
                parsed = None
    if parsed is None:
        parsed = [parse_iso_date(v) for v in distinct]
    if len(distinct) == len(values):
        return parsed
    table = dict(zip(distinct, parsed, strict=True))
    return list(map(table.__getitem__, values))


def _fast_sizes(values: list[str | None]) -> list[int]:
    try:
        return list(map(int, values))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        pass  # a missing or empty Size (0, as _int(...) or 0 reads it), or a bad one
    try:
        return [int(v) if v else 0 for v in values]
    except ValueError:
        raise _listparse.Unsupported("Size is not an integer") from None


def _fast_etags(values: list[str | None]) -> list[str | None]:
    """``_quoted`` over a column."""
    if values and None not in values:
        # Usually every ETag is already quoted, which the joined column shows at once.
        joined = "\x00".join(values)  # type: ignore[arg-type]
        if joined[:1] == '"' and joined.count('\x00"') == len(values) - 1:
            return values
    return [
        e if e and (e[0] == '"' or e[:2] == "W/") else (f'"{e}"' if e else None) for e in values
    ]


def _none_if_empty(values: list[str | None]) -> list[str | None]:
    # [v or None for v in values], skipping the copy when no value is empty.
    return [v or None for v in values] if "" in values else values


# ObjectInfo's fields in order, with their types and defaults: what _fast_group_objects
# assumes when it builds instances from values it has already typed.
_OBJECT_FIELDS: dict[str, tuple[object, object]] = {
    "key": (str, PydanticUndefined),
    "last_modified": (dt.datetime | None, None),
    "etag": (str | None, None),
    "size": (int, 0),
    "storage_class": (str | None, None),
    "owner_id": (str | None, None),
    "owner_display_name": (str | None, None),
    "checksum_algorithms": (tuple[str, ...], ()),
    "checksum_type": (str | None, None),
}
_PLAIN_OBJECT_INFO: bool | None = None


def _plain_object_info() -> bool:
    """Whether building an ObjectInfo from typed values without validating is the same.

    It is while ObjectInfo is a plain model: exactly the fields above, no validators, no
    private attributes, no post-init hook. Anything else (a validator added one day) makes
    the fast reader validate its rows like the reference does, rather than skip that code.
    """
    global _PLAIN_OBJECT_INFO
    if _PLAIN_OBJECT_INFO is None:
        fields = {
            name: (info.annotation, info.default) for name, info in ObjectInfo.model_fields.items()
        }
        decorators = ObjectInfo.__pydantic_decorators__
        _PLAIN_OBJECT_INFO = (
            list(fields.items()) == list(_OBJECT_FIELDS.items())
            and not ObjectInfo.__private_attributes__
            and ObjectInfo.__pydantic_post_init__ is None
            and not ObjectInfo.__pydantic_root_model__
            and ObjectInfo.model_config.get("extra") != "allow"
            and not (
                decorators.validators
                or decorators.field_validators
                or decorators.root_validators
                or decorators.model_validators
            )
        )
    return _PLAIN_OBJECT_INFO


# Setters of the slots every pydantic model instance has (what model_construct sets), taken
# from BaseModel once: calling them directly costs less than object.__setattr__.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _consume(iterator: Iterator[object]) -> None:
    deque(iterator, maxlen=0)


_FIELD_INDEX = {name: index for index, name in enumerate(_OBJECT_FIELDS)}


def _fast_group_objects(
    group: _listparse.ContentsGroup, url_encoded: bool, construct: bool
) -> list[ObjectInfo]:
    """The ObjectInfo of the entries of one shape, as _objects would read them."""
    if None in group.key:
        raise _listparse.Unsupported("a <Contents> entry has no <Key>")
    # What _objects puts in each row (so what pydantic would record as set).
    given = ["key", "last_modified", "etag", "size", "storage_class", "checksum_type"]
    owner_ids: Iterable[str | None] = repeat(None)
    owner_names: Iterable[str | None] = repeat(None)
    if group.owner is not None:
        owner_ids = _none_if_empty(group.owner[0])
        owner_names = _none_if_empty(group.owner[1])
        given += ["owner_id", "owner_display_name"]
    algorithms: Iterable[tuple[str, ...]] = repeat(())
    if group.checksum_algorithms is not None:
        algorithms = group.checksum_algorithms
        given.append("checksum_algorithms")
    columns = zip(
        _fast_decode(group.key, url_encoded),  # type: ignore[arg-type]
        _fast_dates(group.last_modified),
        _fast_etags(group.etag),
        _fast_sizes(group.size),
        group.storage_class,
        owner_ids,
        owner_names,
        algorithms,
        group.checksum_type,
        strict=False,  # the repeat()s are endless; the columns have one value per entry
    )
    if not construct:
        return _object_list().validate_python(
            [{name: row[_FIELD_INDEX[name]] for name in given} for row in columns]
        )
    # Every value already has its field's type (str, datetime, int, tuple of str, None),
    # so validating would only copy them: build the instances as model_construct does, in
    # C loops (map) rather than a Python loop: a fifth of the time of validating the page.
    dicts = [
        {
            "key": key,
            "last_modified": modified,
            "etag": etag,
            "size": size,
            "storage_class": storage_class,
            "owner_id": oid,
            "owner_display_name": oname,
            "checksum_algorithms": algs,
            "checksum_type": ctype,
        }
        for key, modified, etag, size, storage_class, oid, oname, algs, ctype in columns
    ]
    count = len(dicts)
    objects: list[ObjectInfo] = list(map(object.__new__, repeat(ObjectInfo, count)))
    _consume(map(_set_dict, objects, dicts))
    _consume(map(_set_fields_set, objects, map(set, repeat(frozenset(given), count))))
    _consume(map(_set_extra, objects, repeat(None)))
    _consume(map(_set_private, objects, repeat(None)))
    return objects


def _fast_objects(page: _listparse.Listing, url_encoded: bool) -> list[ObjectInfo]:
    construct = _plain_object_info()
    if len(page.contents) == 1:
        return _fast_group_objects(page.contents[0], url_encoded, construct)
    # Entries of several shapes: each group's objects go back to their places.
    out: list[ObjectInfo | None] = [None] * page.entries
    for group in page.contents:
        objects = _fast_group_objects(group, url_encoded, construct)
        for position, obj in zip(group.positions, objects, strict=True):
            out[position] = obj
    return out  # type: ignore[return-value]


def _fast_prefixes(page: _listparse.Listing, url_encoded: bool) -> list[str]:
    return _fast_decode([p for p in page.prefixes if p is not None], url_encoded)


def _fast_list_objects(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsResult:
    page = _listparse.scan(body)
    fields = page.fields
    url_encoded = fields.get("EncodingType") == "url"
    truncated = _xml.boolean(fields.get("IsTruncated"))
    token = fields.get("NextContinuationToken") or None
    return ListObjectsResult(
        **_echoed(spec, _V2_ECHO),
        max_keys=_fast_int(fields.get("MaxKeys")),
        key_count=_fast_int(fields.get("KeyCount")),
        is_truncated=truncated,
        next_continuation_token=token if truncated else None,
        objects=_fast_objects(page, url_encoded),
        common_prefixes=_fast_prefixes(page, url_encoded),
        request_id=request_id(headers),
    )


def _fast_list_objects_v1(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsV1Result:
    page = _listparse.scan(body)
    fields = page.fields
    url_encoded = fields.get("EncodingType") == "url"
    truncated = _xml.boolean(fields.get("IsTruncated"))
    max_keys = _fast_int(fields.get("MaxKeys"))
    objects = _fast_objects(page, url_encoded)
    prefixes = _fast_prefixes(page, url_encoded)

    def server_marker() -> str | None:
        server = fields.get("NextMarker")
        return _fast_decode([server], url_encoded)[0] if server else None

    next_marker = _next_marker(objects, prefixes, server_marker) if truncated else None
    return ListObjectsV1Result(
        **_echoed(spec, _V1_ECHO),
        max_keys=max_keys,
        is_truncated=truncated,
        next_marker=next_marker,
        objects=objects,
        common_prefixes=prefixes,
        request_id=request_id(headers),
    )


# ---------------------------------------------------------------------------------------------
# DeleteObjects


def check_delete_keys(keys: object) -> list[str]:
    """Validate every key for ``delete_objects`` before any request is sent.

    Args:
        keys: an iterable of str keys (not a single str, which would iterate characters).
    """
    if isinstance(keys, (str, bytes, bytearray)):
        raise TypeError(
            "keys must be an iterable of keys, not a single str; for one key pass [key] "
            "or use delete_object(bucket, key)"
        )
    if not isinstance(keys, Iterable):
        raise TypeError(f"keys must be an iterable of str, got {type(keys).__name__}")
    out: list[str] = []
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"every key must be a str, got {type(key).__name__}: {key!r}")
        validate_key(key)
        bad = _XML_INVALID.search(key)
        if bad is not None:
            raise ValueError(
                f"key {key!r} contains {bad.group()!r} (U+{ord(bad.group()):04X}), which XML 1.0 "
                "cannot carry, so DeleteObjects cannot name it; delete it with "
                "delete_object(bucket, key) instead"
            )
        out.append(key)
    return out


def _xml_text(value: str) -> str:
    # Escape markup, and write CR as a character reference: XML parsers turn a literal CR
    # (or CRLF) into LF, which would name a different key. Keys are never trimmed.
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def delete_objects_body(keys: list[str], *, quiet: bool) -> bytes:
    """The ``<Delete>`` XML document for one batch of already-validated keys."""
    inner = ["<Quiet>true</Quiet>"] if quiet else []
    inner.extend(f"<Object><Key>{_xml_text(k)}</Key></Object>" for k in keys)
    return _xml.document("Delete", inner)


def build_delete_objects(bucket: str, keys: list[str], *, quiet: bool = False) -> RequestSpec:
    """DeleteObjects: ``POST /bucket?delete`` for one batch of 1 to 1,000 validated keys.

    Content-MD5 is always sent: S3 requires it (or a checksum) on DeleteObjects.
    """
    validate_bucket(bucket)
    if not isinstance(quiet, bool):
        raise TypeError("quiet must be a bool")
    if not 1 <= len(keys) <= DELETE_BATCH:
        raise ValueError(f"a DeleteObjects batch holds 1 to {DELETE_BATCH} keys, got {len(keys)}")
    body = delete_objects_body(keys, quiet=quiet)
    headers = {
        "content-type": "application/xml",
        "content-md5": base64.b64encode(hashlib.md5(body).digest()).decode(),
    }
    return RequestSpec(
        "DeleteObjects",
        "POST",
        bucket,
        query=[("delete", None)],
        headers=headers,
        body=prepare_body(body, None),
    )


def parse_delete_objects(body: bytes) -> tuple[list[str], list[DeleteFailure]]:
    """(deleted keys, failures) from one DeleteObjects response body."""
    root = _xml.parse(body, what="DeleteObjects response")
    if root.tag != "DeleteResult":
        raise ResponseParseError(
            f"DeleteObjects response: expected <DeleteResult>, got <{root.tag}>"
        )
    deleted = [
        key for el in _xml.children(root, "Deleted") if (key := _xml.text(el, "Key")) is not None
    ]
    errors = [
        DeleteFailure(
            key=_xml.text(el, "Key") or "",
            code=_xml.text(el, "Code"),
            message=_xml.text(el, "Message"),
        )
        for el in _xml.children(root, "Error")
    ]
    return deleted, errors

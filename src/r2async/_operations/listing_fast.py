"""The fast reading of listings (V1 and V2).

``listparse.scan`` reads the document as ElementTree would, or raises ``Unsupported``; the
functions below turn its columns into results exactly as ``listing_reference`` turns elements
into them, and raise ``Unsupported`` wherever that raises ``ResponseParseError``, so that the
reference produces the error (and its message) itself.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from itertools import repeat
from urllib.parse import unquote_plus

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .. import _xml
from .._exceptions import ResponseParseError
from .._models import parse_iso_date, request_id
from .._spec import RequestSpec
from . import listparse as _listparse
from .listing_models import (
    V1_ECHO,
    V2_ECHO,
    ListObjectsResult,
    ListObjectsV1Result,
    ObjectInfo,
    echoed,
    entry_limit,
    object_list,
    v1_next_marker,
)

__all__ = ["list_objects", "list_objects_v1"]


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


def _fast_dates(values: list[str | None]) -> list[dt.datetime]:
    """``parse_iso_date`` over a column; ``Unsupported`` if one is missing or unreadable."""
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
        if None in parsed:
            # ObjectInfo requires it: the reference reader names the entry in its error.
            raise _listparse.Unsupported("a LastModified is missing or unreadable")
    if len(distinct) == len(values):
        return parsed  # type: ignore[return-value]  # no None (checked above)
    table = dict(zip(distinct, parsed, strict=True))
    return list(map(table.__getitem__, values))  # type: ignore[arg-type]


def _fast_sizes(values: list[str | None]) -> list[int]:
    try:
        return list(map(int, values))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        # A missing, empty or bad Size: the reference reader names the entry in its error.
        raise _listparse.Unsupported("a Size is missing or not an integer") from None


def _fast_etags(values: list[str | None]) -> list[str]:
    """``_quoted`` over a column; ``Unsupported`` if one is missing or empty."""
    if values and None not in values:
        # Usually every ETag is already quoted, which the joined column shows at once.
        joined = "\x00".join(values)  # type: ignore[arg-type]
        if joined[:1] == '"' and joined.count('\x00"') == len(values) - 1:
            return values  # type: ignore[return-value]  # no None (checked above)
    out: list[str] = []
    for e in values:
        if not e:
            raise _listparse.Unsupported("an ETag is missing or empty")
        out.append(e if e[0] == '"' or e[:2] == "W/" else f'"{e}"')
    return out


def _none_if_empty(values: list[str | None]) -> list[str | None]:
    # [v or None for v in values], skipping the copy when no value is empty.
    return [v or None for v in values] if "" in values else values


# ObjectInfo's fields in order, with their types and defaults: what _fast_group_objects
# assumes when it builds instances from values it has already typed.
_OBJECT_FIELDS: dict[str, tuple[object, object]] = {
    "key": (str, PydanticUndefined),
    "last_modified": (dt.datetime, PydanticUndefined),
    "etag": (str, PydanticUndefined),
    "size": (int, PydanticUndefined),
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
        return object_list().validate_python(
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


def _fast_objects(page: _listparse.Listing, url_encoded: bool, limit: int) -> list[ObjectInfo]:
    if page.entries > limit:
        # More objects than max-keys: the reference refuses the page with its message.
        raise _listparse.Unsupported("more objects than the request's max-keys")
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


def list_objects(body: bytes, headers: Mapping[str, str], spec: RequestSpec) -> ListObjectsResult:
    page = _listparse.scan(body)
    fields = page.fields
    url_encoded = fields.get("EncodingType") == "url"
    truncated = _xml.boolean(fields.get("IsTruncated"))
    token = fields.get("NextContinuationToken") or None
    return ListObjectsResult(
        **echoed(spec, V2_ECHO),
        max_keys=_fast_int(fields.get("MaxKeys")),
        key_count=_fast_int(fields.get("KeyCount")),
        is_truncated=truncated,
        next_continuation_token=token if truncated else None,
        objects=_fast_objects(page, url_encoded, entry_limit(spec)),
        common_prefixes=_fast_prefixes(page, url_encoded),
        request_id=request_id(headers),
    )


def list_objects_v1(
    body: bytes, headers: Mapping[str, str], spec: RequestSpec
) -> ListObjectsV1Result:
    page = _listparse.scan(body)
    fields = page.fields
    url_encoded = fields.get("EncodingType") == "url"
    truncated = _xml.boolean(fields.get("IsTruncated"))
    max_keys = _fast_int(fields.get("MaxKeys"))
    objects = _fast_objects(page, url_encoded, entry_limit(spec))
    prefixes = _fast_prefixes(page, url_encoded)

    next_marker = None
    if truncated:
        server = fields.get("NextMarker") or None
        decoded = server
        if server is not None and url_encoded:
            try:
                decoded = _fast_decode([server], url_encoded)[0]
            except _listparse.Unsupported:
                decoded = None
        try:
            next_marker = v1_next_marker(objects, prefixes, server, decoded)
        except ResponseParseError:
            raise _listparse.Unsupported("NextMarker is not valid URL-encoded UTF-8") from None
    return ListObjectsV1Result(
        **echoed(spec, V1_ECHO),
        max_keys=max_keys,
        is_truncated=truncated,
        next_marker=next_marker,
        objects=objects,
        common_prefixes=prefixes,
        request_id=request_id(headers),
    )

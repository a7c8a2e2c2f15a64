"""The fast listing reader and the ElementTree reference read fixed documents identically.

Every document in the tables below is inside the fast reader's subset: ``listing_fast`` must
take it itself (no ``Unsupported``, which would hide behind the reference in production) and
give exactly what ``listing_reference`` gives, down to which fields each entry set, and what
each case expects (pagination markers, truncation, prefixes, URL decoding, references).
Documents outside the subset must be refused by ``listparse.scan`` and read by ElementTree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from r2async import ObjectInfo, ResponseParseError
from r2async._operations import listing_fast, listing_reference, listparse
from r2async._operations.listing import (
    build_list_objects,
    build_list_objects_v1,
    parse_list_objects,
    parse_list_objects_v1,
)

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
ROOT = f'<ListBucketResult xmlns="{NS}">'
SPEC = build_list_objects("bkt")
SPEC_V1 = build_list_objects_v1("bkt")
HEADERS = {"x-amz-request-id": "rid-1"}
T0 = "2025-01-02T03:04:05.000Z"
D0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
D1 = dt.datetime(2025, 6, 7, 8, 9, 10, 500000, tzinfo=dt.timezone.utc)
URL = "<EncodingType>url</EncodingType>"


def doc(inner: str, *, root: str = ROOT, decl: str = DECL) -> bytes:
    return f"{decl}{root}<Name>bkt</Name>{inner}</ListBucketResult>".encode()


def entry(key: str, *, modified: str = T0, etag: str = "&quot;e&quot;", size: str = "1") -> str:
    return (
        f"<Contents><Key>{key}</Key><LastModified>{modified}</LastModified>"
        f"<ETag>{etag}</ETag><Size>{size}</Size></Contents>"
    )


def agree_v2(body: bytes, spec: Any = SPEC) -> Any:
    fast = listing_fast.list_objects(body, HEADERS, spec)
    reference = listing_reference.list_objects(body, HEADERS, spec)
    _same(fast, reference)
    assert parse_list_objects(body, HEADERS, spec) == fast
    return fast


def agree_v1(body: bytes, spec: Any = SPEC_V1) -> Any:
    fast = listing_fast.list_objects_v1(body, HEADERS, spec)
    reference = listing_reference.list_objects_v1(body, HEADERS, spec)
    _same(fast, reference)
    assert parse_list_objects_v1(body, HEADERS, spec) == fast
    return fast


def _same(fast: Any, reference: Any) -> None:
    assert fast == reference
    assert fast.request_id == "rid-1"
    assert type(fast.objects) is list and type(fast.common_prefixes) is list
    assert [o.model_dump() for o in fast.objects] == [o.model_dump() for o in reference.objects]
    assert [o.model_fields_set for o in fast.objects] == [
        o.model_fields_set for o in reference.objects
    ]
    for obj in fast.objects:
        assert type(obj.size) is int and type(obj.key) is str
        assert obj.last_modified.utcoffset() is not None
        assert obj.__pydantic_extra__ is None and obj.__pydantic_private__ is None


def refused(body: bytes) -> None:
    """Outside the subset: scan and both fast readers refuse it."""
    with pytest.raises(listparse.Unsupported):
        listparse.scan(body)
    with pytest.raises(listparse.Unsupported):
        listing_fast.list_objects(body, HEADERS, SPEC)
    with pytest.raises(listparse.Unsupported):
        listing_fast.list_objects_v1(body, HEADERS, SPEC_V1)


# ---------------------------------------------------------------------------------------------
# ListObjectsV2: pagination


@pytest.mark.parametrize(
    ("inner", "truncated", "token", "max_keys", "key_count"),
    [
        (
            "<MaxKeys>2</MaxKeys><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
            "<NextContinuationToken>tok/en+=</NextContinuationToken>",
            True,
            "tok/en+=",
            2,
            2,
        ),
        (
            "<IsTruncated> TRUE </IsTruncated><NextContinuationToken>t</NextContinuationToken>",
            True,
            "t",
            None,
            None,
        ),
        # A token on a page that is not truncated is not a next page.
        (
            "<IsTruncated>false</IsTruncated><NextContinuationToken>t</NextContinuationToken>",
            False,
            None,
            None,
            None,
        ),
        ("<NextContinuationToken>t</NextContinuationToken>", False, None, None, None),
        (
            "<IsTruncated>true</IsTruncated><NextContinuationToken/><MaxKeys/>",
            True,
            None,
            None,
            None,
        ),
        (
            "<IsTruncated>true</IsTruncated><NextContinuationToken></NextContinuationToken>"
            "<KeyCount></KeyCount><MaxKeys>1000</MaxKeys>",
            True,
            None,
            1000,
            None,
        ),
        # Repeated fields: the first one counts, as ElementTree's findtext reads it.
        (
            "<IsTruncated>true</IsTruncated><IsTruncated>false</IsTruncated>"
            "<NextContinuationToken>a&amp;b</NextContinuationToken>"
            "<NextContinuationToken>c</NextContinuationToken><KeyCount>0</KeyCount>",
            True,
            "a&b",
            None,
            0,
        ),
    ],
)
def test_v2_pagination_fields(
    inner: str, truncated: bool, token: str | None, max_keys: int | None, key_count: int | None
) -> None:
    result = agree_v2(doc(inner + entry("a") + entry("b")))
    assert result.is_truncated is truncated
    assert result.next_continuation_token == token
    assert result.max_keys == max_keys and result.key_count == key_count
    assert result.bucket == "bkt" and [o.key for o in result.objects] == ["a", "b"]


@pytest.mark.parametrize("field", ["MaxKeys", "KeyCount"])
def test_v2_a_field_that_is_not_an_integer_is_left_to_the_reference(field: str) -> None:
    body = doc(f"<{field}>1x</{field}>" + entry("a"))
    with pytest.raises(listparse.Unsupported):
        listing_fast.list_objects(body, HEADERS, SPEC)
    with pytest.raises(ResponseParseError):
        parse_list_objects(body, HEADERS, SPEC)


def test_max_keys_bounds_the_page_in_both_readers() -> None:
    two = build_list_objects("bkt", max_keys=2)
    assert len(agree_v2(doc(entry("a") + entry("b")), two).objects) == 2
    assert (
        len(
            agree_v1(doc(entry("a") + entry("b")), build_list_objects_v1("bkt", max_keys=2)).objects
        )
        == 2
    )
    body = doc(entry("a") + entry("b") + entry("c"))
    with pytest.raises(listparse.Unsupported):
        listing_fast.list_objects(body, HEADERS, two)
    with pytest.raises(ResponseParseError):
        parse_list_objects(body, HEADERS, two)


# ---------------------------------------------------------------------------------------------
# Entries: every field, several shapes on one page


def test_every_entry_field_and_shape() -> None:
    full = (
        "<Contents><Key>f</Key><LastModified>2025-06-07T08:09:10.5Z</LastModified>"
        "<ETag>&quot;x&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
        "<ChecksumAlgorithm/><ChecksumAlgorithm>SHA256</ChecksumAlgorithm>"
        "<ChecksumType>FULL_OBJECT</ChecksumType><Size>42</Size>"
        "<Owner><DisplayName>me</DisplayName><ID>id-1</ID></Owner><Owner><ID>no</ID></Owner>"
        "<StorageClass>STANDARD_IA</StorageClass></Contents>"
    )
    owner_empty_id = (
        f"<Contents><Key>o</Key><LastModified>{T0}</LastModified><ETag>W/&quot;w&quot;</ETag>"
        "<Size>0</Size><Owner><ID/></Owner><StorageClass>STANDARD</StorageClass></Contents>"
    )
    empty_owner = (
        f"<Contents><Key>p</Key><Key>second</Key><LastModified>{T0}</LastModified>"
        "<ETag>bare</ETag><Size>7</Size><Owner/></Contents>"
    )
    body = doc(
        entry("a")
        + full
        + entry("b")
        + owner_empty_id
        + entry("c", etag="unquoted")
        + empty_owner
        + full.replace("<Key>f</Key>", "<Key>g</Key>")
        + entry("d")
    )
    result = agree_v2(body)
    objects = result.objects
    assert [o.key for o in objects] == ["a", "f", "b", "o", "c", "p", "g", "d"]
    a, f, b, o, c, p, g, d = objects
    assert (a.etag, a.size, a.last_modified, a.storage_class) == ('"e"', 1, D0, None)
    assert a.owner_id is None and a.checksum_algorithms == () and a.checksum_type is None
    assert a.model_fields_set == {
        "key",
        "last_modified",
        "etag",
        "size",
        "storage_class",
        "checksum_type",
    }
    assert (f.etag, f.size, f.last_modified) == ('"x"', 42, D1)
    assert (f.owner_id, f.owner_display_name) == ("id-1", "me")
    assert f.checksum_algorithms == ("CRC32", "SHA256") and f.checksum_type == "FULL_OBJECT"
    assert f.storage_class == "STANDARD_IA" and g.model_dump() == {**f.model_dump(), "key": "g"}
    assert "checksum_algorithms" in f.model_fields_set and "owner_id" in f.model_fields_set
    assert (o.etag, o.size, o.owner_id, o.owner_display_name) == ('W/"w"', 0, None, None)
    assert "owner_id" in o.model_fields_set and "checksum_algorithms" not in o.model_fields_set
    assert c.etag == '"unquoted"' and p.etag == '"bare"' and p.size == 7
    assert p.owner_id is None and "owner_display_name" in p.model_fields_set
    assert b.model_fields_set == a.model_fields_set == d.model_fields_set
    assert result.common_prefixes == []


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 17])
def test_runs_of_identical_entries_of_any_length(count: int) -> None:
    keys = [f"k{n:02}" for n in range(count)]
    odd = entry("odd").replace("<Size>", "<StorageClass>S</StorageClass><Size>")
    body = doc("".join(entry(k, size=str(n)) for n, k in enumerate(keys)) + odd + entry("z"))
    result = agree_v2(body)
    assert [o.key for o in result.objects] == [*keys, "odd", "z"]
    assert [o.size for o in result.objects] == [*range(count), 1, 1]
    assert result.objects[-2].storage_class == "S"


def test_entries_of_two_shapes_interleaved() -> None:
    tagged = entry("t").replace("<Size>", "<StorageClass>S</StorageClass><Size>")
    body = doc(entry("a") + tagged + entry("b") + entry("c") + tagged + entry("d") + tagged)
    result = agree_v2(body)
    assert [o.key for o in result.objects] == ["a", "t", "b", "c", "t", "d", "t"]
    assert [o.storage_class for o in result.objects] == [None, "S", None, None, "S", None, "S"]


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        ([T0, T0, T0], [D0, D0, D0]),
        ([T0, "2025-06-07T08:09:10.500Z", T0], [D0, D1, D0]),
        (["2025-01-02T03:04:05Z", "2025-01-02T03:04:05+00:00"], [D0, D0]),
        (["2025-01-02T05:04:05+02:00", T0], [D0, D0]),
        (["2025-01-02T03:04:05", T0], [D0, D0]),  # no zone: read as UTC
        (["2025-01-02T03:04:05.000Z", "2025-06-07T08:09:10.5Z"], [D0, D1]),
    ],
)
def test_last_modified_forms(dates: list[str], expected: list[dt.datetime]) -> None:
    body = doc("".join(entry(f"k{n}", modified=d) for n, d in enumerate(dates)))
    result = agree_v2(body)
    assert [o.last_modified for o in result.objects] == expected
    offsets = [dt.timedelta(hours=2 if "+02:00" in d else 0) for d in dates]
    assert [o.last_modified.utcoffset() for o in result.objects] == offsets


@pytest.mark.parametrize(
    ("etags", "expected"),
    [
        (["&quot;a&quot;", "&quot;b&quot;"], ['"a"', '"b"']),
        (["&quot;a&quot;", "b"], ['"a"', '"b"']),
        (["a", "&quot;b&quot;"], ['"a"', '"b"']),
        (["W/&quot;a&quot;", "&#34;b&#34;"], ['W/"a"', '"b"']),
        (["W", "a&quot;"], ['"W"', '"a""']),
    ],
)
def test_etags_are_quoted_once(etags: list[str], expected: list[str]) -> None:
    result = agree_v2(doc("".join(entry(f"k{n}", etag=e) for n, e in enumerate(etags))))
    assert [o.etag for o in result.objects] == expected


@pytest.mark.parametrize(
    "bad",
    [
        entry("k", etag=""),
        entry("k", size=""),
        entry("k", size="1.5"),
        entry("k", modified=""),
        entry("k", modified="soon"),
        entry("k").replace("<ETag>&quot;e&quot;</ETag>", ""),
        entry("k").replace("<Size>1</Size>", ""),
        entry("k").replace(f"<LastModified>{T0}</LastModified>", ""),
        entry("k").replace("<Key>k</Key>", ""),
    ],
)
def test_an_unreadable_entry_is_left_to_the_reference(bad: str) -> None:
    body = doc(entry("ok") + bad)
    with pytest.raises(listparse.Unsupported):
        listing_fast.list_objects(body, HEADERS, SPEC)
    with pytest.raises(listparse.Unsupported):
        listing_fast.list_objects_v1(body, HEADERS, SPEC_V1)
    with pytest.raises(ResponseParseError):
        parse_list_objects(body, HEADERS, SPEC)


# ---------------------------------------------------------------------------------------------
# Common prefixes


def test_common_prefixes_in_order_skipping_those_without_prefix() -> None:
    body = doc(
        "<CommonPrefixes><Prefix>p1/</Prefix></CommonPrefixes>"
        + entry("a")
        + "<CommonPrefixes/><CommonPrefixes><Prefix/></CommonPrefixes>"
        + "<CommonPrefixes><Other>x</Other></CommonPrefixes>"
        + "<CommonPrefixes><Prefix>p&amp;2/</Prefix><Prefix>no</Prefix></CommonPrefixes>"
        + "<CommonPrefixes><Prefix>p3/</Prefix></CommonPrefixes>"
        + entry("b")
        + "<CommonPrefixes><Prefix>p4/</Prefix></CommonPrefixes>"
    )
    result = agree_v2(body)
    assert result.common_prefixes == ["p1/", "", "p&2/", "p3/", "p4/"]
    assert [o.key for o in result.objects] == ["a", "b"]
    assert agree_v1(body).common_prefixes == result.common_prefixes


def test_a_page_of_only_prefixes_and_an_empty_page() -> None:
    body = doc("<CommonPrefixes><Prefix>a+b%2F</Prefix></CommonPrefixes>" + URL)
    result = agree_v2(body)
    assert result.common_prefixes == ["a b/"] and result.objects == []
    empty = agree_v2(f"{DECL}<ListBucketResult></ListBucketResult>".encode())
    assert empty.objects == [] and empty.common_prefixes == [] and empty.is_truncated is False
    assert empty.bucket == "bkt"


# ---------------------------------------------------------------------------------------------
# encoding-type=url


@pytest.mark.parametrize(
    ("encoded", "keys", "expected"),
    [
        (True, ["a%2Bb+c%25", "plain"], ["a+b c%", "plain"]),
        (True, ["%E2%82%AC", "x+y", "a%20b"], ["\u20ac", "x y", "a b"]),
        (True, ["plain", "other"], ["plain", "other"]),
        (True, ["100%", "a%2"], ["100%", "a%2"]),  # '%' that starts no escape: kept
        (True, ["%zz+", "ok%41"], ["%zz ", "okA"]),
        (True, ["back\\slash%41", "\\x41"], ["back\\slashA", "\\x41"]),
        (True, ["a%00b", "c"], ["a\x00b", "c"]),  # a decoded NUL is still one key
        (True, ["%C3%A9", "%F0%9F%98%80"], ["\u00e9", "\U0001f600"]),
        (False, ["a%2Bb+c%25", "plain"], ["a%2Bb+c%25", "plain"]),
        (False, ["x+y"], ["x+y"]),
    ],
)
def test_keys_are_url_decoded_only_when_the_server_says_so(
    encoded: bool, keys: list[str], expected: list[str]
) -> None:
    prefixes = "".join(f"<CommonPrefixes><Prefix>{k}/</Prefix></CommonPrefixes>" for k in keys)
    body = doc((URL if encoded else "") + "".join(entry(k) for k in keys) + prefixes)
    result = agree_v2(body)
    assert [o.key for o in result.objects] == expected
    assert result.common_prefixes == [f"{k}/" for k in expected]
    assert [o.key for o in agree_v1(body).objects] == expected


def test_encoding_type_other_than_url_is_not_decoding() -> None:
    body = doc("<EncodingType>URL</EncodingType>" + entry("a%41"))
    assert [o.key for o in agree_v2(body).objects] == ["a%41"]


@pytest.mark.parametrize("key", ["%FF", "ok%C3", "%C3%28"])
def test_a_key_that_is_not_utf8_once_decoded_is_left_to_the_reference(key: str) -> None:
    body = doc(URL + entry("fine") + entry(key))
    with pytest.raises(listparse.Unsupported):
        listing_fast.list_objects(body, HEADERS, SPEC)
    with pytest.raises(ResponseParseError, match="not valid UTF-8"):
        parse_list_objects(body, HEADERS, SPEC)
    prefix = doc(URL + f"<CommonPrefixes><Prefix>{key}</Prefix></CommonPrefixes>")
    with pytest.raises(listparse.Unsupported):
        listing_fast.list_objects(prefix, HEADERS, SPEC)


# ---------------------------------------------------------------------------------------------
# ListObjects V1: the NextMarker rule


@pytest.mark.parametrize(
    ("inner", "marker"),
    [
        # Truncated with a NextMarker: that one.
        ("<IsTruncated>true</IsTruncated><NextMarker>m</NextMarker>" + entry("a"), "m"),
        # Truncated without one (no delimiter): the last key.
        ("<IsTruncated>true</IsTruncated>" + entry("a") + entry("b"), "b"),
        ("<IsTruncated>true</IsTruncated><NextMarker/>" + entry("a") + entry("b"), "b"),
        (
            "<IsTruncated>true</IsTruncated>"
            + entry("a")
            + "<CommonPrefixes><Prefix>z/</Prefix></CommonPrefixes>",
            "z/",
        ),
        # Not truncated: no next page, whatever the server sent.
        ("<IsTruncated>false</IsTruncated><NextMarker>m</NextMarker>" + entry("a"), None),
        ("<NextMarker>m</NextMarker>" + entry("a"), None),
        # URL-encoded: decoded.
        (
            URL + "<IsTruncated>true</IsTruncated><NextMarker>a%2Bb+c</NextMarker>" + entry("x"),
            "a+b c",
        ),
        (URL + "<IsTruncated>true</IsTruncated>" + entry("a%2Bb+c"), "a+b c"),
        # SeaweedFS: EncodingType=url echoed, NextMarker sent as is: it names an entry.
        (URL + "<IsTruncated>true</IsTruncated><NextMarker>a b</NextMarker>" + entry("a+b"), "a b"),
        (
            URL + "<IsTruncated>true</IsTruncated><NextMarker>a+b</NextMarker>" + entry("a%2Bb"),
            "a+b",
        ),
        (URL + "<IsTruncated>true</IsTruncated><NextMarker>%</NextMarker>" + entry("x"), "%"),
        ("<IsTruncated>true</IsTruncated><NextMarker>a%41</NextMarker>" + entry("x"), "a%41"),
        ("<IsTruncated>true</IsTruncated><NextMarker>&lt;m&gt;</NextMarker>" + entry("x"), "<m>"),
    ],
)
def test_v1_next_marker(inner: str, marker: str | None) -> None:
    result = agree_v1(doc("<MaxKeys>5</MaxKeys>" + inner))
    assert result.next_marker == marker
    assert result.max_keys == 5
    assert result.is_truncated is ("<IsTruncated>true" in inner)


def test_v1_next_marker_that_is_not_utf8_is_left_to_the_reference() -> None:
    body = doc(URL + "<IsTruncated>true</IsTruncated><NextMarker>%FF</NextMarker>" + entry("x"))
    with pytest.raises(listparse.Unsupported, match="NextMarker"):
        listing_fast.list_objects_v1(body, HEADERS, SPEC_V1)
    with pytest.raises(ResponseParseError):
        listing_reference.list_objects_v1(body, HEADERS, SPEC_V1)
    # Named by an entry as sent: not encoded, so it is the marker.
    named = doc(
        URL + "<IsTruncated>true</IsTruncated><NextMarker>a%FF</NextMarker>" + entry("a%25FF")
    )
    assert agree_v1(named).next_marker == "a%FF"


# ---------------------------------------------------------------------------------------------
# Entities and character references


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("a&amp;b", "a&b"),
        ("&lt;&gt;&quot;&apos;", "<>\"'"),
        ("&#34;&#39;&#x9;&#xA;&#xD;", "\"'\t\n\r"),
        ("&amp;lt;&amp;amp;", "&lt;&amp;"),
        ("&#233;&#xE9;&#xe9;&#0000233;", "\u00e9" * 4),
        ("&#x1F600;&#128512;", "\U0001f600" * 2),
        (
            "&#x20;&#xD7FF;&#xE000;&#xFFFD;&#x10000;&#x10FFFF;",
            " \ud7ff\ue000\ufffd\U00010000\U0010ffff",
        ),
        ("&#x000000041;&#00000065;", "AA"),
        ("a&amp;&#233;", "a&\u00e9"),
        ("&quot;&#65;", '"A'),
    ],
)
def test_references_are_decoded_exactly_once_everywhere(text: str, decoded: str) -> None:
    body = doc(
        f"<IsTruncated>true</IsTruncated><NextContinuationToken>{text}</NextContinuationToken>"
        f"<NextMarker>{text}</NextMarker>"
        f"<Contents><Key>{text}</Key><LastModified>{T0}</LastModified><ETag>{text}</ETag>"
        f"<Size>1</Size><Owner><ID>{text}</ID><DisplayName>{text}</DisplayName></Owner>"
        f"<StorageClass>{text}</StorageClass><ChecksumAlgorithm>{text}</ChecksumAlgorithm>"
        f"<ChecksumType>{text}</ChecksumType></Contents>"
        f"<CommonPrefixes><Prefix>{text}</Prefix></CommonPrefixes>"
    )
    result = agree_v2(body)
    assert result.next_continuation_token == decoded
    (obj,) = result.objects
    assert obj.key == decoded and obj.storage_class == decoded and obj.checksum_type == decoded
    assert obj.owner_id == decoded and obj.owner_display_name == decoded
    assert obj.checksum_algorithms == (decoded,)
    assert obj.etag == (decoded if decoded.startswith(('"', "W/")) else f'"{decoded}"')
    assert result.common_prefixes == [decoded]
    assert agree_v1(body).next_marker == decoded


def test_references_in_the_last_columns_only() -> None:
    # The decoder stops looking once every '&' of the document is accounted for: each column
    # must still be decoded when only it holds references.
    for column in ("StorageClass", "ChecksumType", "LastModified"):
        value = "2025-01-02T03:04:05.000&#x5A;" if column == "LastModified" else "A&amp;B"
        xml = entry("k").replace("<Size>", f"<{column}>{value}</{column}><Size>")
        if column == "LastModified":
            xml = entry("k", modified=value)
        result = agree_v2(doc(xml + "<CommonPrefixes><Prefix>p&lt;</Prefix></CommonPrefixes>"))
        assert result.common_prefixes == ["p<"]
    assert agree_v2(doc(entry("k", size="&#49;&#50;"))).objects[0].size == 12
    assert agree_v2(doc(entry("k&amp;")) + b"").objects[0].key == "k&"


@pytest.mark.parametrize(
    "text",
    [
        "a & b",
        "&bogus;",
        "&amp",
        "&#;",
        "&#x;",
        "&#0;",
        "&#x0;",
        "&#x1F;",
        "&#8;",
        "&#xB;",
        "&#xD800;",
        "&#xFFFE;",
        "&#xFFFF;",
        "&#x110000;",
        "&#12345678;",
        "&#x000000000000FFFE;",
        "&AMP;",
        "&amp;&bogus;",
    ],
)
def test_bad_references_are_refused(text: str) -> None:
    refused(doc(entry(text)))
    refused(doc(entry("k") + f"<Marker>{text}</Marker>"))


# ---------------------------------------------------------------------------------------------
# What scan takes and what it leaves to ElementTree


@pytest.mark.parametrize(
    "body",
    [
        doc(entry("k"), decl=""),
        doc(entry("k"), decl="<?xml version='1.0'?>"),
        doc(entry("k"), decl='<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n\t '),
        doc(entry("k"), decl="<?xml version = '1.0' encoding = 'UTF-8' standalone='no' ?>"),
        doc(entry("k"), root="<ListBucketResult>"),
        b"  \n" + doc(entry("k")) + b" \n\t",
        doc(entry("k!?") + "<Marker>why?not!</Marker>"),
        doc(entry("k") + "<A.b-c_1>x</A.b-c_1><_u/>"),
        doc(f"<Unknown><Nested>deep</Nested></Unknown>{entry('k')}<Unknown><N>2</N></Unknown>"),
        doc(f"<Unknown><N/></Unknown>{entry('k')}<Unknown><N/><M/></Unknown><Last>1</Last>"),
        doc("\n  " + entry("k").replace("><", ">\n    <") + "\n"),
        doc(entry("\u00e9\u4e2d\U0001f600")),
    ],
)
def test_documents_inside_the_subset(body: bytes) -> None:
    assert len(agree_v2(body).objects) == 1
    agree_v1(body)


@pytest.mark.parametrize(
    "body",
    [
        doc(entry("a<!-- c -->b")),
        doc(entry("k"), decl=DECL + "<!-- c -->"),
        doc(entry("k") + "<?pi x?>"),
        doc(entry("k"), decl="<?pi?>"),
        doc(entry("k"), decl='<?xml version="1.1"?>'),
        doc(entry("k"), decl='<?xml version="1.0" encoding="ascii"?>'),
        doc(entry("k"), decl='<?xml version="1.0"?>x'),
        doc(entry("k"), decl='<?xml version="1.0" standalone="maybe"?>'),
        doc(entry("k"), root='<ListBucketResult xmlns="urn:x">'),
        doc(entry("k"), root="<Other>")[: -len("</ListBucketResult>")] + b"</Other>",
        doc(entry("k")) + b"trailing",
        doc(entry("k")) + b"<Extra/>",
        doc(entry("a>b")),
        doc(entry("a\rb")),
        doc(entry("a\x01b")),
        doc(entry("a\x1fb")),
        doc(entry("\ufffe")),
        doc(entry("\uffff")),
        doc(entry("k")).replace(b"<Key>k", b"<Key>\xff"),
        b"\xef\xbb\xbf" + doc(entry("k")),
        b"x" + doc(entry("k"), decl=""),
        b"<ListBucketResult/>",
        b"<ListBucketResult></Other>",
        b"",
        doc("<Contents/>" + entry("k")),
        doc(entry("k") + "<1bad>x</1bad>"),
        doc(entry("k") + "<bad attr='1'/>"),
        doc(entry("k") + "<bad-é>x</bad-é>"),
        doc(entry("k").replace("<Key>k</Key>", "<Key a='1'>k</Key>")),
        doc(entry("k").replace("<Key>k</Key>", "<Key>k</Size>")),
        doc(entry("k").replace("</Contents>", "")),
        doc(entry("k").replace("<Size>1</Size>", "<Size>1</Size></Key><Key>")),
        doc("<Contents><Contents><Key>k</Key></Contents></Contents>"),
        doc("<Unclosed>" + entry("k")),
        doc(entry("k").replace("<Size>1</Size>", "<Size>1")),
        doc(entry("k").replace("<Size>1</Size>", "<Size/><Size>1</Size>") + "<x/ >"),
    ],
)
def test_documents_outside_the_subset_are_refused(body: bytes) -> None:
    refused(body)


def test_elementtree_reads_what_scan_refuses() -> None:
    body = doc(entry("a<!-- c -->b") + entry("a&#62;b") + entry("x"))
    refused(body)
    assert [o.key for o in parse_list_objects(body, HEADERS, SPEC).objects] == ["ab", "a>b", "x"]


def test_the_tag_bound_is_checked_before_parsing() -> None:
    many = doc("<a/>" * (listparse.MAX_LISTING_TAGS + 1))
    with pytest.raises(listparse.Unsupported, match="more tags"):
        listparse.scan(many)
    # Many bytes but few tags: read as usual.
    big = doc(entry("k" * (listparse.MAX_LISTING_TAGS + 10)))
    assert listparse.scan(big).contents[0].key == ["k" * (listparse.MAX_LISTING_TAGS + 10)]


def test_scan_columns() -> None:
    page = listparse.scan(
        doc(
            "<IsTruncated>true</IsTruncated><Marker/>"
            + entry("a")
            + "<CommonPrefixes/><CommonPrefixes><Prefix>p</Prefix></CommonPrefixes>"
            + entry("b").replace("<Size>", "<Owner><ID>i</ID></Owner><Size>")
            + entry("c")
        )
    )
    assert page.fields == {
        "Name": "bkt",
        "IsTruncated": "true",
        "Marker": "",
        "Contents": "",
        "CommonPrefixes": "",
    }
    assert page.entries == 3 and page.prefixes == [None, "p"]
    first, second = page.contents
    assert first.positions == [0, 2] and second.positions == [1]
    assert first.key == ["a", "c"] and first.etag == ['"e"', '"e"'] and first.size == ["1", "1"]
    assert first.last_modified == [T0, T0] and first.storage_class == [None, None]
    assert first.checksum_type == [None, None] and first.owner is None
    assert first.checksum_algorithms is None
    assert second.owner == (["i"], [None]) and second.key == ["b"]


# ---------------------------------------------------------------------------------------------
# Building ObjectInfo without validating: only while that is the same as validating


def _plain_with(monkeypatch: pytest.MonkeyPatch, model: type) -> bool:
    monkeypatch.setattr(listing_fast, "ObjectInfo", model)
    monkeypatch.setattr(listing_fast, "_PLAIN_OBJECT_INFO", None)
    first = listing_fast._plain_object_info()
    assert listing_fast._plain_object_info() is first  # cached
    return first


def _variants() -> dict[str, tuple[type, bool]]:
    import warnings

    from pydantic import ConfigDict, field_validator, model_validator

    class Same(ObjectInfo):
        pass

    class FieldValidated(ObjectInfo):
        @field_validator("key")
        @classmethod
        def _check(cls, value: str) -> str:
            return value

    class ModelValidated(ObjectInfo):
        @model_validator(mode="after")
        def _check(self) -> ModelValidated:
            return self

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydantic import root_validator, validator

        class OldValidated(ObjectInfo):
            @validator("key")
            def _check(cls, value: str) -> str:
                return value

        class OldRootValidated(ObjectInfo):
            @root_validator(skip_on_failure=True)
            def _check(cls, values: dict[str, Any]) -> dict[str, Any]:
                return values

    class MoreFields(ObjectInfo):
        extra_field: int = 0

    class OtherDefault(ObjectInfo):
        storage_class: str | None = "STANDARD"

    class OtherType(ObjectInfo):
        size: float  # type: ignore[assignment]

    class Private(ObjectInfo):
        _cache: int = 0

    class PostInit(ObjectInfo):
        def model_post_init(self, context: Any, /) -> None:
            pass

    class ExtraAllowed(ObjectInfo):
        model_config = ConfigDict(extra="allow")

    class Root(ObjectInfo):
        pass

    Root.__pydantic_root_model__ = True  # type: ignore[misc]
    return {
        "ObjectInfo": (ObjectInfo, True),
        "same": (Same, True),
        "field validator": (FieldValidated, False),
        "model validator": (ModelValidated, False),
        "v1 validator": (OldValidated, False),
        "v1 root validator": (OldRootValidated, False),
        "more fields": (MoreFields, False),
        "other default": (OtherDefault, False),
        "other type": (OtherType, False),
        "private attribute": (Private, False),
        "post-init hook": (PostInit, False),
        "extra allowed": (ExtraAllowed, False),
        "root model": (Root, False),
    }


@pytest.mark.parametrize("name", list(_variants()))
def test_objects_are_built_unvalidated_only_from_a_plain_model(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    model, plain = _variants()[name]
    assert _plain_with(monkeypatch, model) is plain


@pytest.mark.parametrize("construct", [True, False])
def test_built_and_validated_objects_are_the_same(
    monkeypatch: pytest.MonkeyPatch, construct: bool
) -> None:
    monkeypatch.setattr(listing_fast, "_PLAIN_OBJECT_INFO", construct)
    full = (
        "<Contents><Key>f%41</Key><LastModified>2025-06-07T08:09:10.5Z</LastModified>"
        "<ETag>x</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
        "<ChecksumType>COMPOSITE</ChecksumType><Size>42</Size>"
        "<Owner><ID>id</ID><DisplayName/></Owner><StorageClass>S</StorageClass></Contents>"
    )
    body = doc(URL + entry("a") + full + entry("b") + full)
    result = agree_v2(body)
    assert [o.key for o in result.objects] == ["a", "fA", "b", "fA"]
    f = result.objects[1]
    assert (f.owner_id, f.owner_display_name, f.checksum_algorithms) == ("id", None, ("CRC32",))
    assert f.model_fields_set == set(listing_fast._OBJECT_FIELDS)
    assert type(f) is ObjectInfo
    agree_v1(body)


# ---------------------------------------------------------------------------------------------
# scan's refusals, each with its reason (what a reader of a debugging session sees)

LONG = "x" + "y" * 60  # a tag name longer than the 40 characters a message quotes


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (doc(entry("k")).replace(b"<Key>k", b"<Key>\x00"), "refused by check_safe"),
        (doc(entry("a<!-- c -->b")), "comment or CDATA"),
        (doc(entry("k") + "<?pi x?>"), "processing instruction"),
        (doc(entry("k") + "<?pi x?>", decl=""), "processing instruction"),
        (doc(entry("k"), decl='<?xml version="1.0"?><?pi?>'), "processing instruction"),
        (doc("<?pi?>" + entry("k"), decl="<?xml version='1.0'?>"), "processing instruction"),
        (doc(entry("a>b")), "'<' or '>' in text, CR, or a control character"),
        (doc(entry("k")).replace(b"<Key>k", b"<Key>\xff"), "not UTF-8"),
        (doc(entry("\ufffe")), "U+FFFE or U+FFFF"),
        (b"x" + doc(entry("k"), decl=""), "text before the first tag (a byte-order mark?)"),
        (doc(entry("k"), decl='<?xml version="1.1"?>'), "unsupported XML declaration"),
        (doc(entry("k"), decl='<?xml version="1.0"?>\u00a0'), "unsupported XML declaration"),
        (doc(entry("k")) + "\u00a0".encode(), "not a plain <ListBucketResult> document"),
        (b"<ListBucketResult/>", "not a plain <ListBucketResult> document"),
        (doc("<Contents/>" + entry("k")), "an entry without <Key>"),
        (doc(entry("k") + f"<1{LONG}/>"), f"unsupported tag <{('1' + LONG)[:40]}>"),
        (doc(entry("k") + f"<1{LONG}>x</1{LONG}>"), f"unsupported tag <{('1' + LONG)[:40]}>"),
        (doc(f"<Unclosed{LONG}>" + entry("k")), f"no end tag for <{('Unclosed' + LONG)[:40]}>"),
        (
            doc(entry("k").replace("<Size>", f"<1{LONG}/><Size>")),
            f"unsupported tag <{('1' + LONG)[:40]}>",
        ),
        (doc(entry("k").replace("<Key>k</Key>", "<Key>k</Size>")), "mismatched end tag"),
        (doc("<Contents><Contents><Key>k</Key></Contents></Contents>"), "unclosed element"),
        (
            b"<ListBucketResult><ListBucketResult></ListBucketResult>",
            "no end tag for <ListBucketResult>",
        ),
        (doc("&bogus;"), "'&' that starts no predefined entity or character reference"),
        (doc("&#0;"), "character reference to a character XML does not allow"),
        (doc("&#12345678;"), "character reference to a character XML does not allow"),
    ],
)
def test_scan_refuses_with_its_reason(body: bytes, reason: str) -> None:
    with pytest.raises(listparse.Unsupported) as refusal:
        listparse.scan(body)
    assert str(refusal.value) == reason


def test_scan_refuses_too_many_tags_with_its_reason() -> None:
    with pytest.raises(listparse.Unsupported) as refusal:
        listparse.scan(doc("<a/>" * (listparse.MAX_LISTING_TAGS + 1)))
    assert str(refusal.value) == "more tags than a listing page can need"


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        (["A", "/A", "B"], "element ends early"),
        (["A/"], "empty element where one with children was expected"),
        (["A", "B", "/A"], "mismatched end tag"),
        (["A", "/B"], "mismatched end tag"),
        (["/A"], "mismatched end tag"),
        (["A", "B"], "unclosed element"),
        (["A", "B c", "/B c", "/A"], "unsupported tag <B c>"),
    ],
)
def test_shape_refusals(tags: list[str], reason: str) -> None:
    with pytest.raises(listparse.Unsupported) as refusal:
        listparse._shape(tags)
    assert str(refusal.value) == reason


def test_shape_maps_children_and_the_first_owner() -> None:
    shape = listparse._shape(
        [
            "Contents",
            "Key",
            "/Key",
            "Owner",
            "ID",
            "/ID",
            "/Owner",
            "Extra",
            "ID",
            "/ID",
            "DisplayName/",
            "/Extra",
            "Owner",
            "DisplayName",
            "/DisplayName",
            "/Owner",
            "Key/",
            "/Contents",
        ]
    )
    assert shape.length == 18
    assert shape.children == {"Key": [1, -1], "Owner": [3, 12], "Extra": [7]}
    assert shape.owner == {"ID": [4]}
    assert listparse._shape(["C", "Owner/", "X", "ID", "/ID", "/X", "/C"]).owner == {}


@pytest.mark.parametrize("copies", [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33])
@pytest.mark.parametrize("after", [[], ["Other"], ["A", "/A"]])
def test_run_length_counts_every_copy_and_no_more(copies: int, after: list[str]) -> None:
    shape = ["A", "/A"]
    tags = ["R", *shape * copies, *after, "/R"]
    assert listparse._run_length(tags, 1, shape, len(tags) - 1) == copies + (after == shape)
    # The limit is where the root ends: copies past it do not count.
    assert listparse._run_length(tags, 1, shape, 1 + 2 * copies) == copies


def test_a_common_prefix_without_prefix_keeps_the_others_in_their_places() -> None:
    body = doc(
        "<CommonPrefixes/><CommonPrefixes/><CommonPrefixes></CommonPrefixes>"
        "<CommonPrefixes><Prefix>p</Prefix></CommonPrefixes>"
        "<CommonPrefixes><X/></CommonPrefixes><CommonPrefixes><Prefix>q</Prefix></CommonPrefixes>"
    )
    assert listparse.scan(body).prefixes == [None, None, None, "p", None, "q"]
    assert agree_v2(body).common_prefixes == ["p", "q"]


def test_an_entry_with_nested_elements_besides_owner() -> None:
    nested = entry("k").replace(
        "<Size>", "<Owner><DisplayName>d</DisplayName></Owner><X><ID>not owner</ID></X><Size>"
    )
    other = entry("j").replace("<Size>", "<X><ID>x</ID></X><Size>")
    result = agree_v2(doc(nested + other))
    assert [(o.owner_id, o.owner_display_name) for o in result.objects] == [
        (None, "d"),
        (None, None),
    ]


@pytest.mark.parametrize("text", ["&#1000000;", "&#1114111;", "&#0001114111;"])
def test_seven_digit_character_references(text: str) -> None:
    (obj,) = agree_v2(doc(entry(text))).objects
    assert obj.key == chr(int(text[2:-1]))


# ---------------------------------------------------------------------------------------------
# The fast reader's refusals, each with its reason


@pytest.mark.parametrize(
    ("inner", "spec", "reason"),
    [
        ("<MaxKeys>1x</MaxKeys>" + entry("k"), SPEC, "not an integer"),
        (entry("k", modified="soon"), SPEC, "a LastModified is missing or unreadable"),
        (entry("k", modified="soonZ"), SPEC, "a LastModified is missing or unreadable"),
        (
            entry("a") + entry("k", modified="2025-13-01T00:00:00Z"),
            SPEC,
            "a LastModified is missing or unreadable",
        ),
        (entry("k", size="x"), SPEC, "a Size is missing or not an integer"),
        (entry("k", etag=""), SPEC, "an ETag is missing or empty"),
        (entry("k").replace("<Key>k</Key>", ""), SPEC, "a <Contents> entry has no <Key>"),
        (
            entry("a") + entry("b"),
            build_list_objects("bkt", max_keys=1),
            "more objects than the request's max-keys",
        ),
        (URL + entry("%FF"), SPEC, "a URL-encoded name is not valid UTF-8"),
        (
            URL + "<IsTruncated>true</IsTruncated><NextMarker>%FF</NextMarker>" + entry("x"),
            SPEC_V1,
            "NextMarker is not valid URL-encoded UTF-8",
        ),
    ],
)
def test_the_fast_reader_refuses_with_its_reason(inner: str, spec: Any, reason: str) -> None:
    read = listing_fast.list_objects_v1 if spec is SPEC_V1 else listing_fast.list_objects
    with pytest.raises(listparse.Unsupported) as refusal:
        read(doc(inner), HEADERS, spec)
    assert str(refusal.value) == reason


def test_a_column_that_needs_unquote_plus_decodes_every_value() -> None:
    # "100%" defeats the one-pass column decoding: every value is then decoded one by one.
    keys = ["100%", "x+y", "a%41", "plain"]
    result = agree_v2(doc(URL + "".join(entry(k) for k in keys)))
    assert [o.key for o in result.objects] == ["100%", "x y", "aA", "plain"]


def test_a_model_that_is_not_plain_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import field_validator

    class Validated(ObjectInfo):
        @field_validator("key")
        @classmethod
        def _check(cls, value: str) -> str:
            return value

    monkeypatch.setattr(listing_fast, "ObjectInfo", Validated)
    monkeypatch.setattr(listing_fast, "_PLAIN_OBJECT_INFO", None)
    result = agree_v2(doc(entry("a") + entry("b")))
    assert [type(o) for o in result.objects] == [ObjectInfo, ObjectInfo]

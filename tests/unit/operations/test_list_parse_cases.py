"""Explicit documents for the fast listing reader: malformed ones, and valid XML it leaves to
ElementTree.

Malformed documents must raise ``ResponseParseError`` (never a partial result), with the
message ElementTree's reading gives; the fast reader itself must decline them
(``Unsupported``). Valid documents outside its subset (comments, CDATA, CR, prefixes...)
must read exactly as ElementTree reads them.
"""

from __future__ import annotations

import pytest

from r2async import ResponseParseError
from r2async._operations import listing_fast, listing_reference
from r2async._operations.listing import (
    build_list_objects,
    build_list_objects_v1,
    parse_list_objects,
    parse_list_objects_v1,
)
from r2async._operations.listparse import Unsupported, scan

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
SPEC = build_list_objects("bkt")
SPEC_V1 = build_list_objects_v1("bkt")
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
# What R2 lists for every object besides its key (the listing results require them).
SENT = (
    "<LastModified>2025-01-01T00:00:00.000Z</LastModified><ETag>&quot;e&quot;</ETag><Size>1</Size>"
)
ENTRY = f"<Contents><Key>k</Key>{SENT}</Contents>"
S3_SENT = SENT.replace("<", "<s3:").replace("<s3:/", "</s3:")


def doc(inner: str, *, root: str = f'<ListBucketResult xmlns="{NS}">', decl: str = DECL) -> bytes:
    return f"{decl}{root}<Name>bkt</Name>{inner}</ListBucketResult>".encode()


MALFORMED = {
    "mismatched end tag": doc("<Contents><Key>k</Size></Contents>"),
    "unclosed child": doc("<Contents><Key>k</Key>"),
    "crossed nesting": doc("<Contents><Owner><ID>x</Owner></ID><Key>k</Key></Contents>"),
    "truncated": doc(ENTRY * 3)[:-30],
    "text after the root": doc(ENTRY) + b"junk",
    "a second root": doc(ENTRY) + doc(ENTRY)[len(DECL) :],
    "undefined entity": doc("<Contents><Key>a&nbsp;b</Key></Contents>"),
    "bare ampersand": doc("<Contents><Key>a & b</Key></Contents>"),
    "ampersand in an ignored element": doc(f"{ENTRY}<Foo>a&b</Foo>"),
    "reference to NUL": doc("<Contents><Key>&#0;</Key></Contents>"),
    "reference to a surrogate": doc("<Contents><Key>&#xD800;</Key></Contents>"),
    "reference beyond Unicode": doc("<Contents><Key>&#x110000;</Key></Contents>"),
    "reference to U+FFFE": doc("<Contents><Key>&#xFFFE;</Key></Contents>"),
    "huge reference": doc("<Contents><Key>&#99999999999999999999;</Key></Contents>"),
    "uppercase X in a reference": doc("<Contents><Key>&#X41;</Key></Contents>"),
    "unterminated reference": doc("<Contents><Key>&amp</Key></Contents>"),
    "raw control character": doc("<Contents><Key>a\x01b</Key></Contents>"),
    "raw U+FFFE": doc("<Contents><Key>a\ufffeb</Key></Contents>"),
    "CDATA end in text": doc("<Contents><Key>a]]>b</Key></Contents>"),
    "'<' in text": doc("<Contents><Key>a<b</Key></Contents>"),
    "unquoted attribute": doc("<Contents><Key a=1>k</Key></Contents>"),
    "name starting with a digit": doc(f"{ENTRY}<1Foo>x</1Foo>"),
    "empty tag": doc(f"{ENTRY}<>x</>"),
    "unbound prefix": doc(f"{ENTRY}<x:Foo>1</x:Foo>"),
    "unterminated comment": doc(f"{ENTRY}<!-- no end"),
    "unterminated CDATA": doc("<Contents><Key><![CDATA[k</Key></Contents>"),
    "duplicate attribute on the root": doc(ENTRY, root='<ListBucketResult a="1" a="2">'),
    "invalid UTF-8": doc(ENTRY).replace(b"<Key>k", b"<Key>\xff\xfe"),
    "overlong UTF-8": doc(ENTRY).replace(b"<Key>k", b"<Key>\xc0\xaf"),
    "UTF-8 encoded surrogate": doc(ENTRY).replace(b"<Key>k", b"<Key>\xed\xa0\x80"),
    "UTF-16": doc(ENTRY).decode().encode("utf-16"),
    "declared Latin-1": doc(ENTRY, decl='<?xml version="1.0" encoding="ISO-8859-1"?>'),
    "declaration not at the start": doc(ENTRY, decl='<Foo/><?xml version="1.0"?>'),
    "DTD with an entity (billion laughs)": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<ListBucketResult><Contents><Key>&b;</Key></Contents></ListBucketResult>"
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<ListBucketResult><Contents><Key>&x;</Key></Contents></ListBucketResult>"
    ),
    "empty body": b"",
    "whitespace only": b" \n ",
    "not a listing": b"<ListAllMyBucketsResult></ListAllMyBucketsResult>",
    "an empty entry": doc("<Contents/>"),
    "an entry with text only": doc("<Contents>k</Contents>"),
    "an entry without Key": doc("<Contents><Size>1</Size></Contents>"),
    "a bad Size": doc("<Contents><Key>k</Key><Size>1.5</Size></Contents>"),
    "a bad MaxKeys": doc(f"<MaxKeys>many</MaxKeys>{ENTRY}"),
    "a key that is not UTF-8 once decoded": doc(
        "<EncodingType>url</EncodingType><Contents><Key>%C3</Key></Contents>"
    ),
}


V2 = (parse_list_objects, listing_reference.list_objects, SPEC)
V1 = (parse_list_objects_v1, listing_reference.list_objects_v1, SPEC_V1)
CASES = [
    *(pytest.param(body, *V2, id=f"v2-{name}") for name, body in MALFORMED.items()),
    *(pytest.param(body, *V1, id=f"v1-{name}") for name, body in MALFORMED.items()),
    # Only V2 reads KeyCount.
    pytest.param(doc(f"{ENTRY}<KeyCount>-</KeyCount>"), *V2, id="v2-a bad KeyCount"),
]


@pytest.mark.parametrize(("body", "parse", "reference", "spec"), CASES)
def test_malformed_documents_raise_as_elementtree_says(
    body: bytes, parse: object, reference: object, spec: object
) -> None:
    with pytest.raises(Unsupported):
        _fast(parse, body)
    with pytest.raises(ResponseParseError) as expected:
        reference(body, {}, spec)  # type: ignore[operator]
    with pytest.raises(ResponseParseError) as got:
        parse(body, {}, spec)  # type: ignore[operator]
    assert str(got.value) == str(expected.value)


def _fast(parse: object, body: bytes) -> None:
    fast = (
        listing_fast.list_objects if parse is parse_list_objects else listing_fast.list_objects_v1
    )
    fast(body, {}, SPEC if parse is parse_list_objects else SPEC_V1)  # type: ignore[arg-type]


# Valid XML the fast reader declines: ElementTree reads it, with these keys.
EXOTIC = {
    "CDATA": (doc(f"<Contents><Key><![CDATA[a<b&c]]></Key>{SENT}</Contents>"), ["a<b&c"]),
    "comment inside a key": (doc(f"<Contents><Key>a<!-- x -->b</Key>{SENT}</Contents>"), ["ab"]),
    "comment between entries": (doc(f"{ENTRY}<!-- x -->{ENTRY}"), ["k", "k"]),
    "processing instruction": (doc(f"<?pi x?>{ENTRY}"), ["k"]),
    "CRLF in a key": (doc(f"<Contents><Key>a\r\nb\rc</Key>{SENT}</Contents>"), ["a\nb\nc"]),
    "literal '>' in a key": (doc(f"<Contents><Key>a>b</Key>{SENT}</Contents>"), ["a>b"]),
    "attribute on an entry": (doc(f'<Contents id="1"><Key>k</Key>{SENT}</Contents>'), ["k"]),
    "space in an end tag": (doc(f"<Contents><Key>k</Key >{SENT}</Contents >"), ["k"]),
    "prefixed S3 elements": (
        doc(
            f"<s3:Contents><s3:Key>k</s3:Key>{S3_SENT}</s3:Contents>",
            root=f'<s3:ListBucketResult xmlns:s3="{NS}">',
        )[: -len("</ListBucketResult>")]
        + b"</s3:ListBucketResult>",
        ["k"],
    ),
    "another default namespace": (doc(ENTRY, root='<ListBucketResult xmlns="urn:x">'), ["k"]),
    "byte-order mark": (b"\xef\xbb\xbf" + doc(ENTRY), ["k"]),
    "comment before the root": (doc(ENTRY, decl=DECL + "<!-- hi -->"), ["k"]),
    "version 1.1 declaration": (doc(ENTRY, decl='<?xml version="1.1"?>'), ["k"]),
    "non-ASCII tag name": (doc(f"<Fôo>1</Fôo>{ENTRY}"), ["k"]),
}


@pytest.mark.parametrize(("body", "keys"), EXOTIC.values(), ids=EXOTIC.keys())
def test_valid_xml_outside_the_fast_subset_reads_as_elementtree_reads_it(
    body: bytes, keys: list[str]
) -> None:
    with pytest.raises(Unsupported):
        listing_fast.list_objects(body, {}, SPEC)
    result = parse_list_objects(body, {}, SPEC)
    assert result == listing_reference.list_objects(body, {}, SPEC)
    assert [o.key for o in result.objects] == keys
    assert parse_list_objects_v1(body, {}, SPEC_V1) == listing_reference.list_objects_v1(
        body, {}, SPEC_V1
    )


def test_character_references_are_decoded_once() -> None:
    key = "&amp;lt;&#38;lt;&#x26;#60;&lt;&#60;&#x3C;&quot;&#34;&apos;&#39;&#13;&#x9;&#233;&#x1F600;"
    body = doc(
        f"<Contents><Key>{key}</Key><ETag>&amp;quot;x&amp;quot;</ETag><Size>1</Size>"
        "<LastModified>2025-01-01T00:00:00.000Z</LastModified></Contents>"
    )
    page = scan(body)  # taken by the fast reader...
    (obj,) = parse_list_objects(body, {}, SPEC).objects
    assert obj.key == "&lt;&lt;&#60;<<<\"\"''\r\t\u00e9\U0001f600"
    assert obj.etag == '"&quot;x&quot;"'
    assert page.contents[0].key == [obj.key]  # ...and it decodes as ElementTree does
    assert parse_list_objects(body, {}, SPEC) == listing_reference.list_objects(body, {}, SPEC)


def test_whitespace_and_empty_elements_read_as_elementtree_reads_them() -> None:
    body = doc(
        "\n  <Contents>\n    <Key>k</Key>\n    <StorageClass/>\n    <ETag>e</ETag>\n"
        f"    <ChecksumAlgorithm/>\n    <Owner/>\n    {SENT.split('<ETag>')[0]}<Size>0</Size>\n"
        "  </Contents>\n  <CommonPrefixes/>\n"
        "  <CommonPrefixes><Prefix/></CommonPrefixes>\n",
        root="<ListBucketResult >".replace(" >", ">"),
    )
    scan(body)
    result = parse_list_objects(body, {}, SPEC)
    assert result == listing_reference.list_objects(body, {}, SPEC)
    (obj,) = result.objects
    assert obj.storage_class == "" and obj.etag == '"e"' and obj.checksum_algorithms == ()
    assert obj.owner_id is None and "owner_id" in obj.model_fields_set
    assert result.common_prefixes == [""]


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ("<Key>k</Key><ETag></ETag><Size>1</Size>", "<LastModified> and <ETag>"),
        ("<Key>k</Key><LastModified>2025-01-01T00:00:00Z</LastModified><ETag>e</ETag>", "<Size>"),
        ("<Key>k</Key><LastModified>yesterday</LastModified><ETag>e</ETag><Size>1</Size>", "<Last"),
    ],
)
@pytest.mark.parametrize(("parse", "reference", "spec"), [V2, V1], ids=["v2", "v1"])
def test_an_entry_without_what_r2_always_lists_is_refused_naming_it(
    entry: str, named: str, parse: object, reference: object, spec: object
) -> None:
    # R2 lists LastModified, ETag and Size for every object, and ObjectInfo requires them: a
    # server that leaves one out (or empty, or unreadable) gets an error naming the element
    # and the key, from either reader, never a ValidationError or a None in the result.
    body = doc(f"<Contents>{entry}</Contents>")
    with pytest.raises(Unsupported):
        _fast(parse, body)
    with pytest.raises(ResponseParseError, match=f"entry for 'k': {named}.*R2 always sends"):
        parse(body, {}, spec)  # type: ignore[operator]
    with pytest.raises(ResponseParseError, match=f"entry for 'k': {named}"):
        reference(body, {}, spec)  # type: ignore[operator]

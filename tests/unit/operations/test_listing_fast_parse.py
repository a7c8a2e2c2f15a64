"""The listing parser's fast path gives the same results as a field-by-field reading.

``_objects`` reads each ``<Contents>`` in one pass and validates the page in one call, and
``_root`` drops the S3 default namespace before parsing; these check the cases that path
must get right (namespaces, repeated and empty elements, owners, checksums, bad entries).
"""

from __future__ import annotations

import datetime as dt

import pytest

from r2async import ObjectInfo, ResponseParseError
from r2async._operations.listing import build_list_objects, parse_list_objects
from r2async._operations.listing_reference import _without_default_namespace

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
SPEC = build_list_objects("bkt")


# What R2 lists for every object besides its key (ObjectInfo requires them).
SENT = "<LastModified>2025-01-01T00:00:00.000Z</LastModified><ETag>e</ETag><Size>1</Size>"


def page(contents: str, *, root_attrs: str = NS, encoded: bool = True) -> bytes:
    encoding = "<EncodingType>url</EncodingType>" if encoded else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult {root_attrs}>'
        f"<Name>bkt</Name>{encoding}<KeyCount>1</KeyCount><IsTruncated>false</IsTruncated>"
        f"{contents}</ListBucketResult>"
    ).encode()


FULL = (
    "<Contents><Key>a%2Bb+c%25</Key><LastModified>2025-03-04T05:06:07.000Z</LastModified>"
    "<ETag>&quot;abc&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
    "<ChecksumAlgorithm>SHA256</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>"
    "<Size>42</Size><Owner><ID>owner-id</ID><DisplayName>me</DisplayName></Owner>"
    "<StorageClass>STANDARD_IA</StorageClass></Contents>"
)
EXPECTED = ObjectInfo(
    key="a+b c%",
    last_modified=dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc),
    etag='"abc"',
    size=42,
    storage_class="STANDARD_IA",
    owner_id="owner-id",
    owner_display_name="me",
    checksum_algorithms=("CRC32", "SHA256"),
    checksum_type="FULL_OBJECT",
)


@pytest.mark.parametrize(
    "root_attrs",
    [
        NS,  # the usual: stripped before parsing
        "",  # no namespace at all
        f'{NS} xmlns:x="urn:other"',  # another declaration: parsed and renamed instead
        'xmlns="urn:some-other-default"',  # not the S3 namespace: renamed too
    ],
)
def test_every_field_is_read_whatever_the_namespaces(root_attrs: str) -> None:
    result = parse_list_objects(page(FULL, root_attrs=root_attrs), {}, SPEC)
    assert result.objects == [EXPECTED]


def test_only_the_roots_s3_namespace_is_stripped() -> None:
    body = page(FULL)
    stripped = _without_default_namespace(body)
    assert NS.encode() not in stripped and len(stripped) == len(body) - len(NS) - 1
    nested = page(f"<Contents {NS}><Key>k</Key>{SENT}</Contents>")
    assert _without_default_namespace(nested) == nested
    elsewhere = f'<?xml version="1.0"?><Other {NS}/>'.encode()
    assert _without_default_namespace(elsewhere) == elsewhere
    result = parse_list_objects(nested, {}, SPEC)
    assert [o.key for o in result.objects] == ["k"]


def test_first_of_repeated_fields_wins_and_empty_ones_stay_empty() -> None:
    contents = (
        "<Contents><Key>first</Key><Key>second</Key><Size>1</Size><Size>2</Size>"
        "<ETag>a</ETag><ETag></ETag><StorageClass></StorageClass>"
        "<LastModified>2025-01-01T00:00:00Z</LastModified><LastModified></LastModified></Contents>"
    )
    (obj,) = parse_list_objects(page(contents), {}, SPEC).objects
    assert obj.key == "first" and obj.size == 1
    assert obj.etag == '"a"' and obj.last_modified == dt.datetime(
        2025, 1, 1, tzinfo=dt.timezone.utc
    )
    # Present but empty is "" (as for a single find()), absent is None.
    assert obj.storage_class == "" and obj.checksum_type is None
    assert obj.owner_id is None and obj.checksum_algorithms == ()


def test_keys_are_decoded_only_when_the_server_encoded_them() -> None:
    contents = (
        f"<Contents><Key>a+b%20c</Key>{SENT}</Contents><Contents><Key>plain</Key>{SENT}</Contents>"
    )
    encoded = parse_list_objects(page(contents), {}, SPEC).objects
    literal = parse_list_objects(page(contents, encoded=False), {}, SPEC).objects
    assert [o.key for o in encoded] == ["a b c", "plain"]
    assert [o.key for o in literal] == ["a+b%20c", "plain"]


@pytest.mark.parametrize(
    ("contents", "match"),
    [
        ("<Contents><Size>1</Size></Contents>", "no <Key>"),
        ("<Contents><Key>k</Key><Size>big</Size></Contents>", "Size is not an integer"),
        ("<Contents><Key>%FF</Key></Contents>", "not valid UTF-8"),
    ],
)
def test_bad_entries_raise(contents: str, match: str) -> None:
    with pytest.raises(ResponseParseError, match=match):
        parse_list_objects(page(contents), {}, SPEC)


def test_a_thousand_entries_keep_their_order() -> None:
    contents = "".join(
        f"<Contents><Key>k{i:04d}</Key><Size>{i}</Size>{SENT.split('<Size>')[0]}</Contents>"
        for i in range(1000)
    )
    objects = parse_list_objects(page(contents), {}, SPEC).objects
    assert [o.key for o in objects] == [f"k{i:04d}" for i in range(1000)]
    assert [o.size for o in objects] == list(range(1000))
    assert all(isinstance(o, ObjectInfo) for o in objects)

"""Every parser accepts the root S3 documents and its alternates, and refuses any other root.

moto answers ListParts with ``<ListPartsResponse>`` (recorded from moto 5.2), where S3 documents
``<ListPartsResult>``; botocore does not look at the root's name. r2async accepts a
``...Result`` root also as ``...Response``, and an UploadPartCopy answer also as
``<CopyObjectResult>``, so that one server's naming does not fail the whole call.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import respx

from r2async import R2Client, ResponseParseError
from r2async._operations import buckets, copy, delete_objects, multipart, multipart_list
from r2async._operations.listing import (
    build_list_objects,
    build_list_objects_v1,
    parse_list_objects,
    parse_list_objects_v1,
)

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
BASE = "http://127.0.0.1:9"

# Recorded from moto 5.2's ListParts answer.
MOTO_LIST_PARTS = (
    f'<?xml version="1.0" encoding="utf-8"?>\n<ListPartsResponse {NS}><Bucket>probe</Bucket>'
    "<Key>mp</Key><UploadId>92jjzTySrW9DR3wUlkUq</UploadId><PartNumberMarker>0</PartNumberMarker>"
    "<NextPartNumberMarker>1</NextPartNumberMarker><MaxParts>1000</MaxParts>"
    "<IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>"
    "<LastModified>2026-12-03T13:03:47.000Z</LastModified>"
    "<ETag>&quot;0bbc18cdea1c4aaa17777d441214774a&quot;</ETag><Size>10</Size></Part>"
    "<Initiator><ID>75aa</ID><DisplayName>webfile</DisplayName></Initiator>"
    "<Owner><DisplayName>webfile</DisplayName><ID>75aa</ID></Owner>"
    "<StorageClass>STANDARD</StorageClass></ListPartsResponse>"
).encode()


async def test_list_parts_reads_motos_list_parts_response_root() -> None:
    async with R2Client(endpoint_url=BASE, access_key_id="a", secret_access_key="b") as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").mock(
                return_value=httpx.Response(200, content=MOTO_LIST_PARTS)
            )
            result = await r2.list_parts("probe", "mp", "92jjzTySrW9DR3wUlkUq")
    assert [(p.part_number, p.size) for p in result.parts] == [(1, 10)]
    assert result.parts[0].etag == '"0bbc18cdea1c4aaa17777d441214774a"'
    assert result.next_part_number_marker == 1 and not result.is_truncated


def _doc(root: str, inner: str) -> bytes:
    return f"<{root} {NS}>{inner}</{root}>".encode()


# (parser called on a body, the documented root, its alternates, inner XML)
CASES: list[tuple[str, Callable[[bytes], object], str, tuple[str, ...], str]] = [
    (
        "ListParts",
        lambda b: multipart_list.parse_list_parts("b", "k", "u", {}, b),
        "ListPartsResult",
        ("ListPartsResponse",),
        "<IsTruncated>false</IsTruncated>",
    ),
    (
        "ListMultipartUploads",
        lambda b: multipart_list.parse_list_multipart_uploads("b", {}, b),
        "ListMultipartUploadsResult",
        ("ListMultipartUploadsResponse",),
        "<IsTruncated>false</IsTruncated>",
    ),
    (
        "CreateMultipartUpload",
        lambda b: multipart.parse_create_multipart_upload("b", "k", {}, b),
        "InitiateMultipartUploadResult",
        ("InitiateMultipartUploadResponse",),
        "<UploadId>u</UploadId>",
    ),
    (
        "UploadPartCopy",
        lambda b: multipart.parse_upload_part_copy(1, {}, b),
        "CopyPartResult",
        ("CopyPartResponse", "CopyObjectResult"),
        "<ETag>&quot;e&quot;</ETag>",
    ),
    (
        "CompleteMultipartUpload",
        lambda b: multipart.parse_complete_multipart_upload("b", "k", {}, b),
        "CompleteMultipartUploadResult",
        ("CompleteMultipartUploadResponse",),
        "<ETag>&quot;e-2&quot;</ETag>",
    ),
    (
        "DeleteObjects",
        delete_objects.parse_delete_objects,
        "DeleteResult",
        ("DeleteResponse",),
        "<Deleted><Key>k</Key></Deleted>",
    ),
    (
        "CopyObject",
        lambda b: copy.parse_copy_object(b, {}),
        "CopyObjectResult",
        ("CopyObjectResponse",),
        "<ETag>&quot;e&quot;</ETag><LastModified>2025-01-01T00:00:00.000Z</LastModified>",
    ),
    (
        "ListBuckets",
        lambda b: buckets.parse_list_buckets({}, b),
        "ListAllMyBucketsResult",
        ("ListAllMyBucketsResponse",),
        "<Buckets></Buckets>",
    ),
    (
        "ListObjectsV2",
        lambda b: parse_list_objects(b, {}, build_list_objects("bkt")),
        "ListBucketResult",
        ("ListBucketResponse",),
        "<IsTruncated>false</IsTruncated>",
    ),
    (
        "ListObjects",
        lambda b: parse_list_objects_v1(b, {}, build_list_objects_v1("bkt")),
        "ListBucketResult",
        ("ListBucketResponse",),
        "<IsTruncated>false</IsTruncated>",
    ),
]


@pytest.mark.parametrize(
    ("name", "parse", "root", "alternates", "inner"), CASES, ids=[c[0] for c in CASES]
)
def test_each_parser_accepts_its_documented_root_and_alternates(
    name: str,
    parse: Callable[[bytes], object],
    root: str,
    alternates: tuple[str, ...],
    inner: str,
) -> None:
    documented = parse(_doc(root, inner))
    for alternate in alternates:
        assert parse(_doc(alternate, inner)) == documented, alternate


@pytest.mark.parametrize(
    ("name", "parse", "root", "alternates", "inner"), CASES, ids=[c[0] for c in CASES]
)
def test_each_parser_refuses_an_unrelated_root(
    name: str,
    parse: Callable[[bytes], object],
    root: str,
    alternates: tuple[str, ...],
    inner: str,
) -> None:
    for wrong in ("Unrelated", "SomethingResult", root + "s"):
        with pytest.raises(ResponseParseError, match=f"expected <{root}>"):
            parse(_doc(wrong, inner))

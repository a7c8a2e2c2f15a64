"""Wire tests for list_objects (ListObjectsV2), its iterators, and list_objects_v1 (respx).

Each test pins the exact request (method, path, query, signature) and parses a realistic
response in the shape AWS S3 and R2 document.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote_plus

import httpx
import pydantic
import pytest
import respx
from tests.support.sigcheck import assert_signature_valid

from r2async import (
    ListObjectsResult,
    ListObjectsV1Result,
    NoSuchBucketError,
    NotImplementedByR2Error,
    ObjectInfo,
    R2Client,
    ResponseParseError,
)

ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def make_client(**kwargs: object) -> R2Client:
    return R2Client(account_id=ACCOUNT, access_key_id=AKID, secret_access_key=SECRET, **kwargs)  # type: ignore[arg-type]


def verify(request: httpx.Request) -> None:
    assert_signature_valid(request, access_key_id=AKID, secret_access_key=SECRET)


def contents(
    key: str,
    *,
    etag: str = "&quot;fba9dede5f27731c9771645a39863328&quot;",
    size: int = 434234,
    extra: str = "",
) -> str:
    return (
        f"<Contents><Key>{key}</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
        f"<ETag>{etag}</ETag><Size>{size}</Size>{extra}<StorageClass>STANDARD</StorageClass>"
        "</Contents>"
    )


def v2_page(
    items: list[str] | None = None,
    prefixes: list[str] | None = None,
    *,
    truncated: bool = False,
    token: str | None = None,
    key_count: int | None = None,
    encoded: bool = True,
    head: str = "<Prefix></Prefix>",
) -> bytes:
    items = items or []
    prefixes = prefixes or []
    enc = quote_plus if encoded else (lambda s: s)
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult {NS}><Name>bucket</Name>',
        head,
        "<MaxKeys>1000</MaxKeys>",
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>",
        *(contents(enc(k)) for k in items),
        *(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes),
    ]
    if token is not None:
        parts.append(f"<NextContinuationToken>{token}</NextContinuationToken>")
    if encoded:
        parts.append("<EncodingType>url</EncodingType>")
    count = len(items) + len(prefixes) if key_count is None else key_count
    parts.append(f"<KeyCount>{count}</KeyCount></ListBucketResult>")
    return "".join(parts).encode()


# -- list_objects: the wire --------------------------------------------------------------------


async def test_list_objects_minimal_request_is_exact() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(
                200, content=v2_page(["a"]), headers={"x-amz-request-id": "RID1"}
            )
            page = await r2.list_objects("bucket")
    req = route.calls.last.request
    assert req.method == "GET"
    assert req.url.raw_path == b"/bucket?list-type=2&encoding-type=url"
    assert req.content == b""
    verify(req)
    assert page.request_id == "RID1"
    assert [o.key for o in page.objects] == ["a"]


async def test_list_objects_every_parameter_on_the_wire() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(200, content=v2_page())
            page = await r2.list_objects(
                "bucket",
                prefix="photos/2024 é+",
                delimiter="/",
                start_after="photos/2024 é+/a%b",
                max_keys=250,
                continuation_token="1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
                fetch_owner=True,
            )
    req = route.calls.last.request
    # Only documented ListObjectsV2 parameters (R2 answers 501 to any other), each encoded once.
    assert req.url.raw_path == (
        b"/bucket?list-type=2"
        b"&continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D"
        b"&delimiter=%2F&encoding-type=url&fetch-owner=true&max-keys=250"
        b"&prefix=photos%2F2024%20%C3%A9%2B&start-after=photos%2F2024%20%C3%A9%2B%2Fa%25b"
    )
    verify(req)
    # Echoed parameters are what was asked for, exactly.
    assert page.prefix == "photos/2024 é+"
    assert page.delimiter == "/"
    assert page.start_after == "photos/2024 é+/a%b"
    assert page.continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="


async def test_empty_strings_are_left_out_not_sent_empty() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(200, content=v2_page())
            page = await r2.list_objects("bucket", prefix="", delimiter="", start_after="")
    assert route.calls.last.request.url.raw_path == b"/bucket?list-type=2&encoding-type=url"
    assert page.prefix is None and page.delimiter is None


# -- list_objects: parsing ----------------------------------------------------------------------

TRICKY_KEYS = [
    "a b+c",
    "100%",
    "%41",
    "é/NFC",
    "e\u0301/NFD",
    "plus+",
    "  lead",
    "trail ",
    "ctl\x01\x1f",
    "tab\tkey",
    "cr\rlf\n",
    "t&<>\"'",
    "//double",
    "dir/",
    "日本語/κ",
]


async def test_url_encoded_keys_and_prefixes_are_decoded_form_style() -> None:
    # S3, R2 and SeaweedFS encode form-style: space as '+', '+' as '%2B' (quote_plus here).
    prefixes = ["sp ace/", "p+q/", "é/"]
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=v2_page(TRICKY_KEYS, prefixes))
            page = await r2.list_objects("bucket", delimiter="/")
    assert [o.key for o in page.objects] == TRICKY_KEYS
    assert page.common_prefixes == prefixes
    assert page.key_count == len(TRICKY_KEYS) + len(prefixes)


async def test_percent20_style_encoding_also_decodes() -> None:
    # A server encoding like encodeURIComponent (space as %20) must decode the same.
    body = v2_page(["x"]).replace(b"<Key>x</Key>", b"<Key>a%20b%2Bc%25</Key>")
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=body)
            page = await r2.list_objects("bucket")
    assert page.objects[0].key == "a b+c%"


async def test_keys_are_not_decoded_when_the_server_did_not_encode() -> None:
    # No <EncodingType>url</EncodingType>: the keys are literal, '+' and '%' included.
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(
                200, content=v2_page(["a+b", "100%25", "x&amp;y"], encoded=False)
            )
            page = await r2.list_objects("bucket")
    assert [o.key for o in page.objects] == ["a+b", "100%25", "x&y"]


async def test_seaweedfs_style_unencoded_echo_of_prefix_is_ignored() -> None:
    # SeaweedFS echoes <Prefix>a b+</Prefix> unencoded under encoding-type=url; decoding it
    # would give "a b ". The result reports the prefix that was sent.
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(
                200,
                content=v2_page(
                    ["a b+c"], head="<Prefix>a b+</Prefix><StartAfter>100%</StartAfter>"
                ),
            )
            page = await r2.list_objects("bucket", prefix="a b+", start_after="100%")
    assert page.prefix == "a b+"
    assert page.start_after == "100%"
    assert page.objects[0].key == "a b+c"


async def test_object_fields_are_typed() -> None:
    owner = (
        "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>"
        "<DisplayName>mtd@amazon.com</DisplayName></Owner>"
    )
    extra = (
        owner + "<ChecksumAlgorithm>CRC32</ChecksumAlgorithm>"
        "<ChecksumAlgorithm>SHA256</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType>"
    )
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult {NS}><Name>bucket</Name>'
        "<Prefix/><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
        + contents("ExampleObject.txt", extra=extra)
        + contents("my-image.jpg", etag="bf1d737a4d46a19f3bced6905cc8b902-2", size=0)
        + "<EncodingType>url</EncodingType></ListBucketResult>"
    ).encode()
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=body)
            page = await r2.list_objects("bucket", fetch_owner=True)
    first, second = page.objects
    assert first == ObjectInfo(
        key="ExampleObject.txt",
        last_modified=dt.datetime(2009, 10, 12, 17, 50, 30, tzinfo=dt.timezone.utc),
        etag='"fba9dede5f27731c9771645a39863328"',
        size=434234,
        storage_class="STANDARD",
        owner_id="75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a",
        owner_display_name="mtd@amazon.com",
        checksum_algorithms=("CRC32", "SHA256"),
        checksum_type="COMPOSITE",
    )
    # An unquoted ETag is quoted so it compares equal to put_object/head_object ETags.
    assert second.etag == '"bf1d737a4d46a19f3bced6905cc8b902-2"'
    assert second.size == 0 and second.owner_id is None and second.checksum_algorithms == ()
    assert page.max_keys == 1000 and page.key_count == 2 and page.is_truncated is False
    assert page.next_continuation_token is None and page.bucket == "bucket"
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        page.is_truncated = True


async def test_truncated_page_exposes_the_opaque_token_unchanged() -> None:
    token = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(
                200, content=v2_page(["a"], truncated=True, token=token)
            )
            page = await r2.list_objects("bucket", max_keys=1)
    assert page.is_truncated and page.next_continuation_token == token


async def test_list_objects_errors_are_typed() -> None:
    err = (
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code>'
        b"<Message>The specified bucket does not exist.</Message></Error>"
    )
    async with make_client(max_retries=0) as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(404, content=err)
            with pytest.raises(NoSuchBucketError) as info:
                await r2.list_objects("missing")
    assert info.value.bucket == "missing" and info.value.operation == "ListObjectsV2"


async def test_r2_501_for_unknown_list_param_is_final() -> None:
    # R2 answers 501 NotImplemented to list query parameters it does not know; r2async never
    # sends one, but should a 501 come back it is typed and final: never retried.
    err = (
        b"<Error><Code>NotImplemented</Code>"
        b"<Message>Header or param not implemented</Message></Error>"
    )
    async with make_client(max_retries=3) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(501, content=err)
            with pytest.raises(NotImplementedByR2Error):
                await r2.list_objects("bucket")
    assert route.call_count == 1


async def test_malformed_listing_raises_parse_error() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=b"<ListAllMyBucketsResult/>")
            with pytest.raises(ResponseParseError):
                await r2.list_objects("bucket")
            mock.get(url__regex=r".*").respond(
                200, content=v2_page(["x"]).replace(b"<Key>x</Key>", b"<Key>%FF</Key>")
            )
            with pytest.raises(ResponseParseError, match="UTF-8"):
                await r2.list_objects("bucket")


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"max_keys": 0}, ValueError, "1 to 1000"),
        ({"max_keys": 1001}, ValueError, "1 to 1000"),
        ({"max_keys": True}, TypeError, "max_keys"),
        ({"max_keys": "10"}, TypeError, "max_keys"),
        ({"prefix": b"x"}, TypeError, "prefix"),
        ({"prefix": "\ud800"}, ValueError, "surrogates"),
        ({"continuation_token": ""}, ValueError, "continuation_token"),
        ({"fetch_owner": "yes"}, TypeError, "fetch_owner"),
        ({"headers": {"x-bad": "a\r\nb"}}, ValueError, "CR/LF"),
    ],
)
async def test_bad_arguments_fail_before_io(
    kwargs: dict[str, object], exc: type, match: str
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, content=v2_page())
            with pytest.raises(exc, match=match):
                await r2.list_objects("bucket", **kwargs)  # type: ignore[arg-type]
            with pytest.raises(exc, match=match):
                r2.list_objects_pages("bucket", **kwargs)  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="bucket"):
                await r2.list_objects("Bad_Bucket")
    assert route.call_count == 0


# -- iterators --------------------------------------------------------------------------------


async def test_pages_follow_tokens_and_repeat_the_parameters() -> None:
    pages = [
        v2_page(["p/a", "p/b"], truncated=True, token="tok/1+="),
        v2_page(["p/c"], ["p/d/"], truncated=True, token="tok2"),
        v2_page([], truncated=True, token="tok3"),  # an empty page mid-listing is legal
        v2_page(["p/z"]),
    ]
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(
                side_effect=[httpx.Response(200, content=p) for p in pages]
            )
            got = [
                p
                async for p in r2.list_objects_pages(
                    "bucket", prefix="p/", delimiter="/", max_keys=2, start_after="p/0"
                )
            ]
    assert all(isinstance(p, ListObjectsResult) for p in got)
    assert [[o.key for o in p.objects] for p in got] == [["p/a", "p/b"], ["p/c"], [], ["p/z"]]
    assert got[1].common_prefixes == ["p/d/"]
    paths = [c.request.url.raw_path for c in route.calls]
    common = b"&delimiter=%2F&encoding-type=url&max-keys=2&prefix=p%2F&start-after=p%2F0"
    assert paths == [
        b"/bucket?list-type=2" + common,
        b"/bucket?list-type=2&continuation-token=tok%2F1%2B%3D" + common,
        b"/bucket?list-type=2&continuation-token=tok2" + common,
        b"/bucket?list-type=2&continuation-token=tok3" + common,
    ]
    for call in route.calls:
        verify(call.request)


async def test_iter_objects_yields_every_object_across_pages() -> None:
    pages = [v2_page(["a", "b"], truncated=True, token="t1"), v2_page(["c"])]
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(
                side_effect=[httpx.Response(200, content=p) for p in pages]
            )
            keys = [o.key async for o in r2.iter_objects("bucket")]
    assert keys == ["a", "b", "c"]
    assert route.call_count == 2


async def test_pages_resume_from_a_saved_token() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(200, content=v2_page(["x"]))
            got = [p async for p in r2.list_objects_pages("bucket", continuation_token="saved")]
    assert len(got) == 1
    assert route.calls.last.request.url.raw_path == (
        b"/bucket?list-type=2&continuation-token=saved&encoding-type=url"
    )


async def test_iterators_validate_before_io_and_send_nothing_until_iterated() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, content=v2_page())
            with pytest.raises(ValueError, match="1 to 1000"):
                r2.iter_objects("bucket", max_keys=5000)
            r2.list_objects_pages("bucket")  # created, never iterated
    assert route.call_count == 0


async def test_repeated_token_raises_instead_of_looping() -> None:
    pages = [
        v2_page(["a"], truncated=True, token="t1"),
        v2_page(["b"], truncated=True, token="t2"),
        v2_page(["a"], truncated=True, token="t1"),
    ]
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").mock(
                side_effect=[httpx.Response(200, content=p) for p in pages]
            )
            keys: list[str] = []
            with pytest.raises(ResponseParseError, match="repeated a continuation token"):
                async for obj in r2.iter_objects("bucket"):
                    keys.append(obj.key)
    assert keys == ["a", "b", "a"]
    assert route.call_count == 3


async def test_truncated_page_without_token_raises() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(200, content=v2_page(["a"], truncated=True))
            with pytest.raises(ResponseParseError, match="no NextContinuationToken"):
                async for _ in r2.list_objects_pages("bucket"):
                    pass
    assert route.call_count == 1


# -- list_objects_v1 ------------------------------------------------------------------------


def v1_page(
    items: list[str],
    prefixes: list[str] | None = None,
    *,
    truncated: bool = False,
    next_marker: str | None = None,
    encoded: bool = True,
) -> bytes:
    enc = quote_plus if encoded else (lambda s: s)
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult {NS}><Name>bucket</Name>'
        "<Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys>",
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>",
    ]
    if next_marker is not None:
        parts.insert(1, f"<NextMarker>{next_marker}</NextMarker>")
    parts += [contents(enc(k)) for k in items]
    parts += [f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes or []]
    if encoded:
        parts.append("<EncodingType>url</EncodingType>")
    parts.append("</ListBucketResult>")
    return "".join(parts).encode()


async def test_list_objects_v1_request_is_exact() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(200, content=v1_page(["a"]))
            page = await r2.list_objects_v1(
                "bucket", prefix="a b/", delimiter="/", marker="a b/c+d", max_keys=10
            )
    req = route.calls.last.request
    assert req.url.raw_path == (
        b"/bucket?delimiter=%2F&encoding-type=url&marker=a%20b%2Fc%2Bd&max-keys=10&prefix=a%20b%2F"
    )
    verify(req)
    assert isinstance(page, ListObjectsV1Result)
    assert page.marker == "a b/c+d" and page.prefix == "a b/" and page.delimiter == "/"
    assert page.next_marker is None  # not truncated


async def test_list_objects_v1_minimal_request_always_asks_for_url_encoding() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(200, content=v1_page([]))
            page = await r2.list_objects_v1("bucket")
    assert route.calls.last.request.url.raw_path == b"/bucket?encoding-type=url"
    assert page.objects == [] and page.marker is None


async def test_v1_next_marker_is_the_last_key_when_the_server_sends_none() -> None:
    # AWS sends NextMarker only with a delimiter; without one the next marker is the last key.
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=v1_page(["a", "b c+"], truncated=True))
            page = await r2.list_objects_v1("bucket", max_keys=2)
    assert page.is_truncated and page.next_marker == "b c+"


async def test_v1_next_marker_with_delimiter_is_the_last_of_keys_and_prefixes() -> None:
    # With a delimiter the next marker may be a common prefix; SeaweedFS sends NextMarker
    # unencoded ("m/a b") under encoding-type=url, so r2async derives it rather than decode it.
    body = v1_page(["m/a b"], ["m/c d/"], truncated=True, next_marker="m/c d/")
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=body)
            page = await r2.list_objects_v1("bucket", delimiter="/")
    assert page.next_marker == "m/c d/"
    assert page.common_prefixes == ["m/c d/"]
    assert [o.key for o in page.objects] == ["m/a b"]


async def test_v1_owner_is_parsed() -> None:
    extra = "<Owner><ID>admin</ID><DisplayName>admin</DisplayName></Owner>"
    body = v1_page(["x"]).replace(b"<Size>", extra.encode() + b"<Size>", 1)
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=body)
            page = await r2.list_objects_v1("bucket")
    assert page.objects[0].owner_id == "admin"
    assert page.objects[0].owner_display_name == "admin"


async def test_operation_headers_apply_to_the_right_list_operation() -> None:
    client = make_client(
        operation_headers={"ListObjectsV2": {"x-v2": "1"}, "ListObjects": {"x-v1": "1"}}
    )
    async with client as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(200, content=v2_page())
            await r2.list_objects("bucket", headers={"x-call": "c"})
            await r2.list_objects_v1("bucket")
    v2, v1 = (c.request for c in route.calls)
    assert v2.headers["x-v2"] == "1" and "x-v1" not in v2.headers
    assert v2.headers["x-call"] == "c"
    assert v1.headers["x-v1"] == "1" and "x-v2" not in v1.headers
    verify(v2)
    verify(v1)

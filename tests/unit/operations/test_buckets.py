"""Wire-level tests of the bucket operations: exact requests, realistic R2 responses, errors.

R2's ListBuckets paging (``cf-*`` request and response headers) is not implemented by SeaweedFS
(see test_buckets_integration.py), so the tests here are the evidence that r2async speaks it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import httpx
import pytest
import respx
from tests.support.sigcheck import assert_signature_valid, signed_header_names

from r2async import (
    APITimeoutError,
    Bucket,
    BucketEncryption,
    ConflictError,
    CORSRule,
    CreateBucketResult,
    LifecycleRule,
    LifecycleTransition,
    ListBucketsResult,
    NoSuchBucketError,
    NotFoundError,
    NotImplementedByR2Error,
    PermissionDeniedError,
    R2Client,
    ResponseParseError,
)
from r2async._exceptions import BadRequestError
from r2async._headers import OPERATIONS
from r2async._operations import bucket_config as cfg
from r2async._operations import buckets as ops

ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
DECL = '<?xml version="1.0" encoding="UTF-8"?>'


def make_client(**kwargs: object) -> R2Client:
    args: dict[str, object] = {
        "account_id": ACCOUNT,
        "access_key_id": AKID,
        "secret_access_key": SECRET,
        **kwargs,
    }
    return R2Client(**args)  # type: ignore[arg-type]


def verify(request: httpx.Request) -> None:
    assert_signature_valid(request, access_key_id=AKID, secret_access_key=SECRET)


def r2_error(code: str, message: str) -> bytes:
    # R2 error bodies: no namespace, no RequestId (the id is in the cf-ray header).
    return f"{DECL}<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()


XML = {"content-type": "application/xml"}


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def bucket_list_xml(
    names: list[str],
    *,
    truncated: bool | None = None,
    next_token: str | None = None,
    extra: str = "",
) -> bytes:
    buckets = "".join(
        f"<Bucket><CreationDate>2024-05-01T12:00:00.000Z</CreationDate><Name>{n}</Name></Bucket>"
        for n in names
    )
    tail = ""
    if truncated is not None:
        tail += f"<IsTruncated>{str(truncated).lower()}</IsTruncated>"
    if next_token is not None:
        tail += f"<NextContinuationToken>{next_token}</NextContinuationToken>"
    return (
        f"{DECL}<ListAllMyBucketsResult {NS}><Buckets>{buckets}</Buckets>"
        f"<Owner><DisplayName>{ACCOUNT}</DisplayName><ID>{ACCOUNT}</ID></Owner>"
        f"{extra}{tail}</ListAllMyBucketsResult>"
    ).encode()


# -- every builder uses an S3 operation name that operation_headers= accepts ------------------


def test_operation_names_are_s3_names_known_to_operation_headers() -> None:
    rule = CORSRule(allowed_origins=["*"], allowed_methods=["GET"])
    lc = LifecycleRule(expiration_days=1)
    specs = {
        ops.build_list_buckets().operation: "ListBuckets",
        ops.build_create_bucket("b-1").operation: "CreateBucket",
        ops.build_delete_bucket("b-1").operation: "DeleteBucket",
        ops.build_head_bucket("b-1").operation: "HeadBucket",
        ops.build_get_bucket_location("b-1").operation: "GetBucketLocation",
        cfg.build_put_bucket_cors("b-1", [rule]).operation: "PutBucketCors",
        cfg.build_get_bucket_cors("b-1").operation: "GetBucketCors",
        cfg.build_delete_bucket_cors("b-1").operation: "DeleteBucketCors",
        cfg.build_put_bucket_lifecycle_configuration("b-1", [lc]).operation: (
            "PutBucketLifecycleConfiguration"
        ),
        cfg.build_get_bucket_lifecycle_configuration("b-1").operation: (
            "GetBucketLifecycleConfiguration"
        ),
        cfg.build_delete_bucket_lifecycle("b-1").operation: "DeleteBucketLifecycle",
        cfg.build_get_bucket_encryption("b-1").operation: "GetBucketEncryption",
    }
    assert all(built == expected for built, expected in specs.items())
    assert set(specs) <= OPERATIONS


# -- ListBuckets --------------------------------------------------------------------------------


async def test_list_buckets_sends_r2_paging_headers_and_reads_cf_response_headers() -> None:
    body = bucket_list_xml(
        ["logs-a", "logs-b"],
        truncated=True,
        next_token="dG9rZW4tMg==",
        extra=(
            "<ContinuationToken>dG9rZW4tMQ==</ContinuationToken><KeyCount>2</KeyCount>"
            "<MaxKeys>2</MaxKeys><Prefix>logs-</Prefix><StartAfter>logs-0</StartAfter>"
        ),
    )
    headers = {
        **XML,
        "cf-is-truncated": "true",
        "cf-next-continuation-token": "dG9rZW4tMg==",
        "cf-ray": "8f1e2d3c4b5a6978-AMS",
    }
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/").respond(200, headers=headers, content=body)
            page = await r2.list_buckets(
                prefix="logs-",
                start_after="logs-0",
                continuation_token="dG9rZW4tMQ==",
                max_keys=2,
            )
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url.raw_path == b"/"  # paging goes in headers, not in the query
    h = request.headers
    assert h["cf-prefix"] == "logs-"
    assert h["cf-start-after"] == "logs-0"
    assert h["cf-continuation-token"] == "dG9rZW4tMQ=="
    assert h["cf-max-keys"] == "2"
    signed = signed_header_names(request)
    assert {"cf-prefix", "cf-start-after", "cf-continuation-token", "cf-max-keys"} <= set(signed)
    verify(request)
    assert isinstance(page, ListBucketsResult)
    assert page.buckets == [
        Bucket(name="logs-a", creation_date=dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)),
        Bucket(name="logs-b", creation_date=dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)),
    ]
    assert page.is_truncated is True
    assert page.next_continuation_token == "dG9rZW4tMg=="
    assert page.continuation_token == "dG9rZW4tMQ=="
    assert (page.prefix, page.start_after, page.max_keys, page.key_count) == (
        "logs-",
        "logs-0",
        2,
        2,
    )
    assert page.owner_id == ACCOUNT and page.owner_display_name == ACCOUNT
    assert page.request_id == "8f1e2d3c4b5a6978-AMS"


async def test_list_buckets_without_arguments_sends_no_paging_headers() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/").respond(200, headers=XML, content=bucket_list_xml(["a-1"]))
            page = await r2.list_buckets()
    request = route.calls.last.request
    assert not [name for name in request.headers if name.lower().startswith("cf-")]
    assert request.url.query == b""
    verify(request)
    assert [b.name for b in page.buckets] == ["a-1"]
    assert page.is_truncated is False and page.next_continuation_token is None


@pytest.mark.parametrize(
    ("headers", "xml_truncated", "xml_token"),
    [
        ({"cf-is-truncated": "true", "cf-next-continuation-token": "T"}, None, None),
        ({}, True, "T"),
        ({"cf-is-truncated": "true"}, None, "T"),
    ],
    ids=["headers-only", "xml-only", "mixed"],
)
def test_list_buckets_truncation_read_from_headers_or_xml(
    headers: dict[str, str], xml_truncated: bool | None, xml_token: str | None
) -> None:
    body = bucket_list_xml(["a-1"], truncated=xml_truncated, next_token=xml_token)
    page = ops.parse_list_buckets(httpx.Headers(headers), body)
    assert page.is_truncated is True
    assert page.next_continuation_token == "T"


def test_list_buckets_parses_empty_account_and_rejects_other_documents() -> None:
    empty = f"{DECL}<ListAllMyBucketsResult {NS}><Buckets/></ListAllMyBucketsResult>".encode()
    page = ops.parse_list_buckets(httpx.Headers(), empty)
    assert page.buckets == [] and page.owner_id is None
    with pytest.raises(ResponseParseError, match="ListAllMyBucketsResult"):
        ops.parse_list_buckets(httpx.Headers(), b"<ListBucketResult/>")
    with pytest.raises(ResponseParseError, match="no <Name>"):
        ops.parse_list_buckets(
            httpx.Headers(),
            b"<ListAllMyBucketsResult><Buckets><Bucket/></Buckets></ListAllMyBucketsResult>",
        )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_keys": 0}, ValueError),
        ({"max_keys": 1001}, ValueError),
        ({"max_keys": True}, TypeError),
        ({"max_keys": "10"}, TypeError),
        ({"prefix": "a\r\nx-evil: 1"}, ValueError),
        ({"continuation_token": 5}, TypeError),
    ],
)
async def test_list_buckets_bad_arguments_fail_before_io(
    kwargs: dict[str, object], error: type[Exception]
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200)
            with pytest.raises(error):
                await r2.list_buckets(**kwargs)  # type: ignore[arg-type]
    assert route.call_count == 0


async def test_iter_buckets_follows_continuation_tokens_across_pages() -> None:
    pages = [
        httpx.Response(
            200,
            headers={**XML, "cf-is-truncated": "true", "cf-next-continuation-token": "t1"},
            content=bucket_list_xml(["b-1", "b-2"], truncated=True, next_token="t1"),
        ),
        httpx.Response(
            200,
            headers={**XML, "cf-is-truncated": "true", "cf-next-continuation-token": "t2"},
            content=bucket_list_xml(["b-3", "b-4"], truncated=True, next_token="t2"),
        ),
        httpx.Response(
            200,
            headers={**XML, "cf-is-truncated": "false"},
            content=bucket_list_xml(["b-5"], truncated=False),
        ),
    ]
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/").mock(side_effect=pages)
            names = [
                b.name async for b in r2.iter_buckets(prefix="b-", start_after="a", max_keys=2)
            ]
    assert names == ["b-1", "b-2", "b-3", "b-4", "b-5"]
    sent = [c.request.headers for c in route.calls]
    assert [h.get("cf-continuation-token") for h in sent] == [None, "t1", "t2"]
    # start_after only positions the first page; later pages continue from the token.
    assert [h.get("cf-start-after") for h in sent] == ["a", None, None]
    assert all(h["cf-prefix"] == "b-" and h["cf-max-keys"] == "2" for h in sent)


async def test_iter_buckets_refuses_a_repeated_token_instead_of_looping() -> None:
    page = httpx.Response(
        200,
        headers={**XML, "cf-is-truncated": "true", "cf-next-continuation-token": "same"},
        content=bucket_list_xml(["b-1"]),
    )
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/").mock(side_effect=[page, page, page])
            seen = []
            with pytest.raises(ResponseParseError, match="repeated a continuation token"):
                async for b in r2.iter_buckets():
                    seen.append(b.name)
    assert route.call_count == 2
    assert seen == ["b-1", "b-1"]


async def test_iter_buckets_resumes_after_last_name_when_token_is_missing() -> None:
    pages = [
        httpx.Response(200, headers=XML, content=bucket_list_xml(["b-1", "b-2"], truncated=True)),
        httpx.Response(200, headers=XML, content=bucket_list_xml(["b-3"], truncated=False)),
    ]
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/").mock(side_effect=pages)
            names = [b.name async for b in r2.iter_buckets()]
    assert names == ["b-1", "b-2", "b-3"]
    second = route.calls[1].request.headers
    assert second["cf-start-after"] == "b-2" and "cf-continuation-token" not in second


async def test_iter_buckets_stops_with_an_error_when_a_truncated_page_makes_no_progress() -> None:
    page = httpx.Response(200, headers=XML, content=bucket_list_xml([], truncated=True))
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/").mock(side_effect=[page, page])
            with pytest.raises(ResponseParseError, match="no continuation token"):
                async for _ in r2.iter_buckets():
                    pass
    assert route.call_count == 1


async def test_list_buckets_uses_operation_headers_for_list_buckets_only() -> None:
    client = make_client(operation_headers={"ListBuckets": {"cf-max-keys": "5"}})
    async with client as r2:
        with respx.mock(base_url=BASE) as mock:
            lst = mock.get("/").respond(200, headers=XML, content=bucket_list_xml([]))
            head = mock.head("/b-1").respond(200)
            await r2.list_buckets()
            await r2.head_bucket("b-1")
    assert lst.calls.last.request.headers["cf-max-keys"] == "5"
    assert "cf-max-keys" not in head.calls.last.request.headers


# -- CreateBucket / DeleteBucket / HeadBucket / GetBucketLocation -------------------------------


async def test_create_bucket_without_hint_sends_an_empty_put() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put("/new-bucket").respond(
                200, headers={"Location": "/new-bucket", "cf-ray": "RAY1"}
            )
            result = await r2.create_bucket("new-bucket")
    request = route.calls.last.request
    assert request.method == "PUT" and request.url.raw_path == b"/new-bucket"
    assert request.content == b"" and request.headers["content-length"] == "0"
    verify(request)
    assert result == CreateBucketResult(location="/new-bucket", request_id="RAY1")


async def test_create_bucket_sends_location_hint_in_lower_case() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put("/eu-data").respond(200, headers={"Location": "/eu-data"})
            await r2.create_bucket("eu-data", location_hint="WEUR")  # type: ignore[arg-type]
    request = route.calls.last.request
    assert (
        request.content
        == (
            f"{DECL}\n<CreateBucketConfiguration {NS}>"
            "<LocationConstraint>weur</LocationConstraint></CreateBucketConfiguration>"
        ).encode()
    )
    assert request.headers["content-length"] == str(len(request.content))
    verify(request)


@pytest.mark.parametrize("hint", ["wnam", "enam", "weur", "eeur", "apac", "oc"])
def test_create_bucket_accepts_every_documented_hint(hint: str) -> None:
    spec = ops.build_create_bucket("b-1", location_hint=hint)
    assert spec.body is not None and spec.body.content is not None
    assert f"<LocationConstraint>{hint}</LocationConstraint>".encode() in spec.body.content


@pytest.mark.parametrize(
    ("bucket", "kwargs", "error", "match"),
    [
        ("Upper", {}, ValueError, "invalid bucket name"),
        ("with.dot", {}, ValueError, "no dots"),
        ("ab", {}, ValueError, "3-63"),
        ("a" * 64, {}, ValueError, "3-63"),
        ("-lead", {}, ValueError, "starting and ending"),
        ("under_score", {}, ValueError, "invalid bucket name"),
        (123, {}, TypeError, "bucket must be str"),
        ("ok-name", {"location_hint": "eu"}, ValueError, "R2Client\\(jurisdiction"),
        ("ok-name", {"location_hint": "auto"}, ValueError, "location_hint"),
        ("ok-name", {"location_hint": 1}, TypeError, "location_hint"),
    ],
)
async def test_create_bucket_bad_input_fails_before_io(
    bucket: object, kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200)
            with pytest.raises(error, match=match):
                await r2.create_bucket(bucket, **kwargs)  # type: ignore[arg-type]
    assert route.call_count == 0


async def test_create_bucket_has_no_jurisdiction_argument() -> None:
    # The endpoint host selects the jurisdiction on the S3 API; a per-call argument would lie.
    async with make_client() as r2:
        with pytest.raises(TypeError, match="jurisdiction"):
            await r2.create_bucket("b-1", jurisdiction="eu")  # type: ignore[call-arg]
    async with make_client(jurisdiction="eu") as eu:
        with respx.mock(base_url=f"https://{ACCOUNT}.eu.r2.cloudflarestorage.com") as mock:
            route = mock.put("/b-1").respond(200)
            await eu.create_bucket("b-1")
    assert route.calls.last.request.url.host == f"{ACCOUNT}.eu.r2.cloudflarestorage.com"


@pytest.mark.parametrize(
    ("status", "code", "message", "cls"),
    [
        (409, "BucketConflict", "The bucket already exists in this account.", ConflictError),
        (400, "InvalidBucketName", "The specified bucket name is not valid.", BadRequestError),
        (
            400,
            "TooManyBuckets",
            "You have attempted to create more buckets than allowed.",
            BadRequestError,
        ),
        (
            501,
            "NotImplemented",
            "Header 'x-amz-bucket-object-lock-enabled' with value 'true' not implemented",
            NotImplementedByR2Error,
        ),
    ],
)
async def test_create_bucket_errors_are_typed_and_not_retried(
    status: int, code: str, message: str, cls: type[Exception]
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put("/b-1").respond(
                status, headers={**XML, "cf-ray": "RAY9"}, content=r2_error(code, message)
            )
            with pytest.raises(cls) as info:
                await r2.create_bucket("b-1", headers={"x-amz-bucket-object-lock-enabled": "true"})
    err = info.value
    assert err.code == code and err.status_code == status  # type: ignore[attr-defined]
    assert err.bucket == "b-1" and err.operation == "CreateBucket"  # type: ignore[attr-defined]
    assert err.request_id == "RAY9"  # type: ignore[attr-defined]
    assert route.call_count == 1
    assert route.calls.last.request.headers["x-amz-bucket-object-lock-enabled"] == "true"


async def test_create_bucket_is_not_retried_after_a_read_timeout() -> None:
    # A retry after a lost success would turn into a misleading 409 BucketAlreadyOwnedByYou.
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put("/b-1").mock(side_effect=httpx.ReadTimeout("slow"))
            with pytest.raises(APITimeoutError):
                await r2.create_bucket("b-1")
    assert route.call_count == 1


async def test_delete_bucket_wire_and_errors() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.delete("/old-bucket").mock(
                side_effect=[
                    httpx.Response(204, headers={"cf-ray": "R1"}),
                    httpx.Response(
                        409,
                        headers=XML,
                        content=r2_error(
                            "BucketNotEmpty", "The bucket you tried to delete is not empty."
                        ),
                    ),
                    httpx.Response(
                        404,
                        headers=XML,
                        content=r2_error("NoSuchBucket", "The specified bucket does not exist."),
                    ),
                ]
            )
            result = await r2.delete_bucket("old-bucket")
            with pytest.raises(ConflictError) as conflict:
                await r2.delete_bucket("old-bucket")
            with pytest.raises(NoSuchBucketError):
                await r2.delete_bucket("old-bucket")
    assert result.request_id == "R1"
    assert conflict.value.code == "BucketNotEmpty"
    request = route.calls[0].request
    assert request.method == "DELETE" and request.url.raw_path == b"/old-bucket"
    assert request.content == b""
    verify(request)


async def test_head_bucket_reads_region_and_maps_bodiless_errors() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.head("/b-1").mock(
                side_effect=[
                    httpx.Response(200, headers={"x-amz-bucket-region": "auto", "cf-ray": "R"}),
                    httpx.Response(404),
                    httpx.Response(403),
                ]
            )
            result = await r2.head_bucket("b-1")
            with pytest.raises(NoSuchBucketError) as missing:
                await r2.head_bucket("b-1")
            with pytest.raises(PermissionDeniedError):
                await r2.head_bucket("b-1")
    assert result.region == "auto" and result.request_id == "R"
    assert missing.value.code == "NoSuchBucket" and missing.value.bucket == "b-1"
    request = route.calls[0].request
    assert request.method == "HEAD" and request.url.raw_path == b"/b-1"
    verify(request)


async def test_get_bucket_location_r2_answer() -> None:
    body = f"{DECL}<LocationConstraint {NS}>auto</LocationConstraint>".encode()
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/b-1").respond(200, headers=XML, content=body)
            assert await r2.get_bucket_location("b-1") == "auto"
    request = route.calls.last.request
    assert request.url.raw_path == b"/b-1?location"
    verify(request)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"<LocationConstraint {NS}/>", ""),
        ("<LocationConstraint> weur </LocationConstraint>", "weur"),
        (  # SeaweedFS's form
            "<CreateBucketConfiguration><LocationConstraint></LocationConstraint>"
            "</CreateBucketConfiguration>",
            "",
        ),
    ],
)
def test_get_bucket_location_parses_empty_and_wrapped_forms(body: str, expected: str) -> None:
    assert ops.parse_get_bucket_location(body.encode()) == expected


def test_get_bucket_location_rejects_a_document_without_constraint() -> None:
    with pytest.raises(ResponseParseError, match="LocationConstraint"):
        ops.parse_get_bucket_location(b"<Something/>")


# -- CORS ---------------------------------------------------------------------------------------

UPLOAD_RULE = CORSRule(
    id="browser-uploads",
    allowed_origins=["https://app.example.com", "http://localhost:3000"],
    allowed_methods=["put", "GET"],  # type: ignore[list-item]  # methods are upper-cased
    allowed_headers=["content-type", "authorization"],
    expose_headers=["ETag"],
    max_age_seconds=3600,
)
PUBLIC_RULE = CORSRule(allowed_origins="*", allowed_methods=["GET", "HEAD"])


async def test_put_bucket_cors_exact_body_with_content_md5() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put("/site").respond(200, headers={"cf-ray": "R"})
            result = await r2.put_bucket_cors("site", [UPLOAD_RULE, PUBLIC_RULE])
    request = route.calls.last.request
    assert request.url.raw_path == b"/site?cors"
    assert (
        request.content
        == (
            f"{DECL}\n<CORSConfiguration {NS}>"
            "<CORSRule><ID>browser-uploads</ID>"
            "<AllowedHeader>content-type</AllowedHeader><AllowedHeader>authorization</AllowedHeader>"
            "<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>"
            "<AllowedOrigin>https://app.example.com</AllowedOrigin>"
            "<AllowedOrigin>http://localhost:3000</AllowedOrigin>"
            "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule>"
            "<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>"
            "<AllowedOrigin>*</AllowedOrigin></CORSRule>"
            "</CORSConfiguration>"
        ).encode()
    )
    assert request.headers["content-md5"] == md5_b64(request.content)
    # R2 refuses the checksum-algorithm headers on PutBucketCors: never send them.
    assert not [n for n in request.headers if n.lower().startswith("x-amz-checksum")]
    assert "x-amz-sdk-checksum-algorithm" not in request.headers
    verify(request)
    assert result.request_id == "R"


async def test_put_bucket_cors_accepts_dicts_and_escapes_xml() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put("/site").respond(200)
            await r2.put_bucket_cors(
                "site",
                [{"id": "a<b&c", "allowed_origins": ["*"], "allowed_methods": ["DELETE"]}],  # type: ignore[list-item]
            )
    assert b"<ID>a&lt;b&amp;c</ID>" in route.calls.last.request.content


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        ({"allowed_origins": ["https://a.com/"], "allowed_methods": ["GET"]}, "trailing '/'"),
        ({"allowed_origins": ["https://a.com/app"], "allowed_methods": ["GET"]}, "with a path"),
        ({"allowed_origins": ["a.com"], "allowed_methods": ["GET"]}, "scheme://host"),
        ({"allowed_origins": ["https://a.com:99999x"], "allowed_methods": ["GET"]}, "scheme"),
        ({"allowed_origins": [], "allowed_methods": ["GET"]}, "at least one origin"),
        ({"allowed_origins": ["*"], "allowed_methods": []}, "at least one of"),
        ({"allowed_origins": ["*"], "allowed_methods": ["PATCH"]}, "GET"),
        ({"allowed_origins": ["*"], "allowed_methods": ["GET"], "allowed_headers": [""]}, "empty"),
        (
            {"allowed_origins": ["*"], "allowed_methods": ["GET"], "expose_headers": ["a b"]},
            "header name",
        ),
        ({"allowed_origins": ["*"], "allowed_methods": ["GET"], "max_age_seconds": 86401}, "86400"),
        ({"allowed_origins": ["*"], "allowed_methods": ["GET"], "max_age_seconds": -1}, "0 to"),
        ({"allowed_origins": ["*"], "allowed_methods": ["GET"], "id": "x" * 256}, "255"),
        ({"allowed_origins": ["*"], "allowed_methods": ["GET"], "unknown": 1}, "unknown"),
    ],
)
def test_cors_rule_enforces_r2_rules(rule: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CORSRule(**rule)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rules", "error", "match"),
    [
        ([], ValueError, "delete_bucket_cors"),
        ("https://a.com", TypeError, "list of CORSRule"),
        ({"allowed_origins": ["*"]}, TypeError, "list of CORSRule"),
        ([42], TypeError, r"rules\[0\]"),
        ([PUBLIC_RULE.model_copy(update={"id": "x"})] * 2, ValueError, "unique"),
    ],
)
async def test_put_bucket_cors_bad_rule_lists_fail_before_io(
    rules: object, error: type[Exception], match: str
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200)
            with pytest.raises(error, match=match):
                await r2.put_bucket_cors("site", rules)  # type: ignore[arg-type]
    assert route.call_count == 0


def test_put_bucket_cors_revalidates_a_leniently_parsed_rule() -> None:
    # A rule read from a server that allows more (here MaxAgeSeconds above R2's limit) must
    # not slip through to R2 unchecked.
    parsed = cfg.parse_cors_rules(
        b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
        b"<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>999999</MaxAgeSeconds>"
        b"</CORSRule></CORSConfiguration>"
    )
    assert parsed[0].max_age_seconds == 999999
    with pytest.raises(ValueError, match="86400"):
        cfg.build_put_bucket_cors("site", parsed)


async def test_get_bucket_cors_parses_r2_configuration() -> None:
    body = (
        f"{DECL}<CORSConfiguration {NS}>"
        "<CORSRule><AllowedOrigin>https://app.example.com</AllowedOrigin>"
        "<AllowedOrigin>http://localhost:3000</AllowedOrigin>"
        "<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod>"
        "<AllowedHeader>content-type</AllowedHeader><AllowedHeader>authorization</AllowedHeader>"
        "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds>"
        "<ID>browser-uploads</ID></CORSRule>"
        "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
        "<AllowedMethod>HEAD</AllowedMethod></CORSRule>"
        "</CORSConfiguration>"
    ).encode()
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/site").respond(200, headers=XML, content=body)
            rules = await r2.get_bucket_cors("site")
    assert route.calls.last.request.url.raw_path == b"/site?cors"
    verify(route.calls.last.request)
    assert rules == [UPLOAD_RULE, PUBLIC_RULE]


async def test_get_bucket_cors_without_configuration_is_an_empty_list() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get("/site").mock(
                side_effect=[
                    httpx.Response(
                        404,
                        headers=XML,
                        content=r2_error(
                            "NoSuchCORSConfiguration", "The CORS configuration does not exist"
                        ),
                    ),
                    httpx.Response(
                        404,
                        headers=XML,
                        content=r2_error("NoSuchBucket", "The specified bucket does not exist."),
                    ),
                ]
            )
            assert await r2.get_bucket_cors("site") == []
            with pytest.raises(NoSuchBucketError):
                await r2.get_bucket_cors("site")


def test_get_bucket_cors_rejects_unreadable_documents() -> None:
    with pytest.raises(ResponseParseError, match="CORSConfiguration"):
        cfg.parse_cors_rules(b"<Error2/>")
    with pytest.raises(ResponseParseError, match="unreadable rule"):
        cfg.parse_cors_rules(
            b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
            b"<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>soon</MaxAgeSeconds>"
            b"</CORSRule></CORSConfiguration>"
        )
    assert cfg.parse_cors_rules(b"<CORSConfiguration/>") == []


async def test_delete_bucket_cors_wire() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.delete("/site").respond(204, headers={"cf-ray": "R"})
            result = await r2.delete_bucket_cors("site")
    request = route.calls.last.request
    assert request.url.raw_path == b"/site?cors" and request.content == b""
    verify(request)
    assert result.request_id == "R"


# -- lifecycle ----------------------------------------------------------------------------------

LOGS_RULE = LifecycleRule(id="expire-logs", prefix="logs/", expiration_days=30)
ARCHIVE_RULE = LifecycleRule(
    id="archive",
    prefix="archive/",
    transitions=[LifecycleTransition(days=60)],
    expiration_date=dt.date(2030, 1, 1),
)
ABORT_RULE = LifecycleRule(
    id="abort-uploads", abort_incomplete_multipart_upload_days=3, enabled=False
)


async def test_put_bucket_lifecycle_configuration_exact_body_with_content_md5() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put("/data").respond(200, headers={"cf-ray": "R"})
            result = await r2.put_bucket_lifecycle_configuration(
                "data", [LOGS_RULE, ARCHIVE_RULE, ABORT_RULE]
            )
    request = route.calls.last.request
    assert request.url.raw_path == b"/data?lifecycle"
    assert (
        request.content
        == (
            f"{DECL}\n<LifecycleConfiguration {NS}>"
            "<Rule><Expiration><Days>30</Days></Expiration><ID>expire-logs</ID>"
            "<Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status></Rule>"
            "<Rule><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration><ID>archive</ID>"
            "<Filter><Prefix>archive/</Prefix></Filter><Status>Enabled</Status>"
            "<Transition><Days>60</Days><StorageClass>STANDARD_IA</StorageClass></Transition></Rule>"
            "<Rule><ID>abort-uploads</ID><Filter><Prefix></Prefix></Filter><Status>Disabled</Status>"
            "<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation>"
            "</AbortIncompleteMultipartUpload></Rule>"
            "</LifecycleConfiguration>"
        ).encode()
    )
    assert request.headers["content-md5"] == md5_b64(request.content)
    assert not [n for n in request.headers if n.lower().startswith("x-amz-checksum")]
    verify(request)
    assert result.request_id == "R"


def test_lifecycle_transition_by_date_and_datetime_at_midnight() -> None:
    midnight = dt.datetime(2031, 6, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    rule = LifecycleRule(
        transitions=[{"date": midnight}],  # type: ignore[list-item]
        expiration_date="2032-01-01",  # type: ignore[arg-type]
    )
    assert rule.transitions[0].date == dt.date(2031, 6, 1)
    assert rule.expiration_date == dt.date(2032, 1, 1)
    body = cfg.lifecycle_body([rule])
    assert b"<Transition><Date>2031-06-01T00:00:00Z</Date>" in body
    assert b"<Expiration><Date>2032-01-01T00:00:00Z</Date></Expiration>" in body


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        ({"id": "nothing"}, "needs an action"),
        ({"expiration_days": 1, "expiration_date": dt.date(2030, 1, 1)}, "not both"),
        ({"expiration_days": 0}, "at least 1"),
        ({"abort_incomplete_multipart_upload_days": 0}, "at least 1"),
        ({"expiration_date": dt.datetime(2030, 1, 1, 12, tzinfo=dt.timezone.utc)}, "midnight"),
        ({"transitions": [{"days": 30, "storage_class": "GLACIER"}]}, "STANDARD_IA"),
        ({"transitions": [{}]}, "exactly one of"),
        ({"transitions": [{"days": 1, "date": dt.date(2030, 1, 1)}]}, "exactly one of"),
        ({"transitions": [{"days": 0}]}, "at least 1"),
        ({"id": "", "expiration_days": 1}, "1-255"),
        ({"prefix": "p" * 1025, "expiration_days": 1}, "1,024"),
        ({"expiration_days": 1, "status": "Enabled"}, "status"),
    ],
)
def test_lifecycle_rule_enforces_r2_rules(rule: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LifecycleRule(**rule)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rules", "error", "match"),
    [
        ([], ValueError, "delete_bucket_lifecycle"),
        (LOGS_RULE, TypeError, "list of LifecycleRule"),
        ([LOGS_RULE, LOGS_RULE], ValueError, "'expire-logs'"),
        ([LifecycleRule(expiration_days=1)] * 1001, ValueError, "at most 1000"),
        ([UPLOAD_RULE], TypeError, r"rules\[0\] must be a LifecycleRule"),
    ],
)
async def test_put_bucket_lifecycle_bad_rule_lists_fail_before_io(
    rules: object, error: type[Exception], match: str
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200)
            with pytest.raises(error, match=match):
                await r2.put_bucket_lifecycle_configuration("data", rules)  # type: ignore[arg-type]
    assert route.call_count == 0


async def test_get_bucket_lifecycle_configuration_parses_r2_rules() -> None:
    body = (
        f"{DECL}<LifecycleConfiguration {NS}>"
        "<Rule><ID>Default Multipart Abort Rule</ID><Filter><Prefix></Prefix></Filter>"
        "<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>7"
        "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
        "<Rule><ID>expire-logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
        "<Expiration><Days>30</Days></Expiration></Rule>"
        "<Rule><ID>archive</ID><Filter><Prefix>archive/</Prefix></Filter><Status>Enabled</Status>"
        "<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>"
        "<Transition><Days>60</Days><StorageClass>STANDARD_IA</StorageClass></Transition></Rule>"
        "</LifecycleConfiguration>"
    ).encode()
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/data").respond(200, headers=XML, content=body)
            rules = await r2.get_bucket_lifecycle_configuration("data")
    assert route.calls.last.request.url.raw_path == b"/data?lifecycle"
    verify(route.calls.last.request)
    assert rules == [
        LifecycleRule(id="Default Multipart Abort Rule", abort_incomplete_multipart_upload_days=7),
        LOGS_RULE,
        ARCHIVE_RULE,
    ]


@pytest.mark.parametrize(
    ("rule_xml", "expected"),
    [
        (  # legacy form: Prefix directly under Rule
            "<ID>a</ID><Prefix>old/</Prefix><Status>Enabled</Status>"
            "<Expiration><Days>2</Days></Expiration>",
            LifecycleRule(id="a", prefix="old/", expiration_days=2),
        ),
        (  # AWS form with tags: Filter/And/Prefix
            "<ID>b</ID><Filter><And><Prefix>tmp/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
            "</And></Filter><Status>Disabled</Status><Expiration><Days>1</Days></Expiration>",
            LifecycleRule(id="b", prefix="tmp/", enabled=False, expiration_days=1),
        ),
        (  # empty Filter, no ID
            "<Filter></Filter><Status>Enabled</Status><Expiration><Days>3</Days></Expiration>",
            LifecycleRule(expiration_days=3),
        ),
    ],
)
def test_lifecycle_parser_reads_other_rule_shapes(rule_xml: str, expected: LifecycleRule) -> None:
    body = f"<LifecycleConfiguration><Rule>{rule_xml}</Rule></LifecycleConfiguration>"
    assert cfg.parse_lifecycle_rules(body.encode()) == [expected]


def test_lifecycle_parser_is_lenient_about_server_specific_values() -> None:
    # An expiration-delete-marker-only rule (AWS) has no action r2async models; it still parses.
    body = (
        b"<LifecycleConfiguration><Rule><ID>dm</ID><Status>Enabled</Status><Expiration>"
        b"<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>"
        b"<Rule><ID>g</ID><Status>Enabled</Status><Transition><Days>0</Days>"
        b"<StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>"
    )
    rules = cfg.parse_lifecycle_rules(body)
    assert rules[0] == LifecycleRule.model_construct(
        id="dm",
        enabled=True,
        prefix="",
        expiration_days=None,
        expiration_date=None,
        transitions=(),
        abort_incomplete_multipart_upload_days=None,
    )
    assert rules[1].transitions[0].storage_class == "GLACIER"
    assert rules[1].transitions[0].days == 0
    with pytest.raises(ResponseParseError, match="LifecycleConfiguration"):
        cfg.parse_lifecycle_rules(b"<CORSConfiguration/>")


def test_rules_round_trip_through_their_xml() -> None:
    cors = [UPLOAD_RULE, PUBLIC_RULE]
    assert cfg.parse_cors_rules(cfg.cors_body(cors)) == cors
    lifecycle = [LOGS_RULE, ARCHIVE_RULE, ABORT_RULE]
    assert cfg.parse_lifecycle_rules(cfg.lifecycle_body(lifecycle)) == lifecycle


async def test_get_bucket_lifecycle_without_configuration_is_an_empty_list() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get("/data").mock(
                side_effect=[
                    httpx.Response(
                        404,
                        headers=XML,
                        content=r2_error(
                            "NoSuchLifecycleConfiguration",
                            "The lifecycle configuration does not exist",
                        ),
                    ),
                    httpx.Response(
                        404,
                        headers=XML,
                        content=r2_error("NoSuchBucket", "The specified bucket does not exist."),
                    ),
                ]
            )
            assert await r2.get_bucket_lifecycle_configuration("data") == []
            with pytest.raises(NoSuchBucketError):
                await r2.get_bucket_lifecycle_configuration("data")


async def test_delete_bucket_lifecycle_wire_and_not_implemented() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.delete("/data").mock(
                side_effect=[
                    httpx.Response(204, headers={"cf-ray": "R"}),
                    httpx.Response(
                        501,
                        headers=XML,
                        content=r2_error("NotImplemented", "DeleteBucketLifecycle not implemented"),
                    ),
                ]
            )
            result = await r2.delete_bucket_lifecycle("data")
            with pytest.raises(NotImplementedByR2Error):
                await r2.delete_bucket_lifecycle("data")
    request = route.calls[0].request
    assert request.url.raw_path == b"/data?lifecycle" and request.method == "DELETE"
    verify(request)
    assert result.request_id == "R"
    assert route.call_count == 2  # 501 is final: not retried


# -- encryption ---------------------------------------------------------------------------------


async def test_get_bucket_encryption_parses_r2_answer() -> None:
    body = (
        f"{DECL}<ServerSideEncryptionConfiguration {NS}><Rule>"
        "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
        "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled>"
        "</Rule></ServerSideEncryptionConfiguration>"
    ).encode()
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get("/data").respond(200, headers={**XML, "cf-ray": "R"}, content=body)
            enc = await r2.get_bucket_encryption("data")
    assert route.calls.last.request.url.raw_path == b"/data?encryption"
    verify(route.calls.last.request)
    assert enc == BucketEncryption(sse_algorithm="AES256", bucket_key_enabled=False, request_id="R")


async def test_get_bucket_encryption_missing_configuration_is_a_typed_error() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get("/data").respond(
                404,
                headers=XML,
                content=r2_error(
                    "ServerSideEncryptionConfigurationNotFoundError",
                    "The server side encryption configuration was not found",
                ),
            )
            with pytest.raises(NotFoundError) as info:
                await r2.get_bucket_encryption("data")
    assert info.value.code == "ServerSideEncryptionConfigurationNotFoundError"
    assert not isinstance(info.value, NoSuchBucketError)


def test_get_bucket_encryption_parser_edge_cases() -> None:
    enc = cfg.parse_bucket_encryption(
        httpx.Headers(),
        b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
        b"<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>arn:k</KMSMasterKeyID>"
        b"</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>",
    )
    assert (enc.sse_algorithm, enc.kms_master_key_id, enc.bucket_key_enabled) == (
        "aws:kms",
        "arn:k",
        None,
    )
    with pytest.raises(ResponseParseError, match="ServerSideEncryptionConfiguration"):
        cfg.parse_bucket_encryption(httpx.Headers(), b"<Other/>")

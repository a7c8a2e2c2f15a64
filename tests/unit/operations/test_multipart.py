"""Wire tests for the multipart operations (respx).

Each test pins the exact request (method, path, query, headers, body, signature checked by
botocore) and parses a realistic response in the shape AWS S3 and R2 document, including
error bodies and 200 responses that carry an ``<Error>``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

import httpx
import pytest
import respx
from tests.support.sigcheck import assert_signature_valid, signed_header_names

from r2async import (
    APIConnectionError,
    BadDigestError,
    BadRequestError,
    CompletedPart,
    CompleteMultipartUploadResult,
    CreateMultipartUploadResult,
    InternalServerError,
    ListMultipartUploadsResult,
    ListPartsResult,
    MultipartUpload,
    NoSuchKeyError,
    NoSuchUploadError,
    Part,
    PermissionDeniedError,
    PreconditionFailedError,
    R2Client,
    ResponseParseError,
    UploadPartCopyResult,
    UploadPartResult,
)

ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
# An upload id with characters that must be percent-encoded in the query.
UPLOAD_ID = "VXBsb2FkIElE+/=x"
UPLOAD_ID_Q = "VXBsb2FkIElE%2B%2F%3Dx"
SSE_KEY = bytes(range(32))
SSE_KEY_B64 = base64.b64encode(SSE_KEY).decode()
SSE_KEY_MD5 = base64.b64encode(hashlib.md5(SSE_KEY).digest()).decode()


def make_client(**kwargs: Any) -> R2Client:
    return R2Client(account_id=ACCOUNT, access_key_id=AKID, secret_access_key=SECRET, **kwargs)


def verify(request: httpx.Request) -> None:
    assert_signature_valid(request, access_key_id=AKID, secret_access_key=SECRET)


def error_xml(code: str, message: str = "msg") -> bytes:
    return (
        f"{DECL}<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>4442587FB7D0A2F9</RequestId><HostId>host</HostId></Error>"
    ).encode()


# -- CreateMultipartUpload ------------------------------------------------------------------------


INITIATE = (
    f"{DECL}<InitiateMultipartUploadResult {NS}><Bucket>my-bucket</Bucket>"
    f"<Key>dir/a b.bin</Key><UploadId>{UPLOAD_ID}</UploadId></InitiateMultipartUploadResult>"
).encode()


async def test_create_multipart_upload_wire_request() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(
                200,
                content=INITIATE,
                headers={
                    "x-amz-request-id": "R1",
                    "x-amz-checksum-algorithm": "CRC32C",
                    "x-amz-checksum-type": "COMPOSITE",
                    "x-amz-server-side-encryption-customer-algorithm": "AES256",
                    "x-amz-server-side-encryption-customer-key-MD5": SSE_KEY_MD5,
                },
            )
            result = await r2.create_multipart_upload(
                "my-bucket",
                "dir/a b.bin",
                content_type="video/mp4",
                cache_control="no-cache",
                content_disposition='attachment; filename="a.bin"',
                metadata={"Owner": "zoë"},
                storage_class="STANDARD_IA",
                if_none_match="*",
                create_bucket_if_missing=True,
                sse_customer_key=SSE_KEY,
                checksum_algorithm="CRC32C",
                checksum_type="COMPOSITE",
            )
    assert result == CreateMultipartUploadResult(
        bucket="my-bucket",
        key="dir/a b.bin",
        upload_id=UPLOAD_ID,
        checksum_algorithm="CRC32C",
        checksum_type="COMPOSITE",
        sse_customer_algorithm="AES256",
        sse_customer_key_md5=SSE_KEY_MD5,
        request_id="R1",
    )
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url.raw_path == b"/my-bucket/dir/a%20b.bin?uploads"
    h = request.headers
    assert h["content-type"] == "video/mp4"
    assert h["cache-control"] == "no-cache"
    assert h["content-disposition"] == 'attachment; filename="a.bin"'
    assert h["x-amz-meta-owner"] == "=?UTF-8?B?em/Dqw==?="
    assert h["x-amz-storage-class"] == "STANDARD_IA"
    assert h["if-none-match"] == "*"
    assert h["cf-create-bucket-if-missing"] == "true"
    assert h["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert h["x-amz-server-side-encryption-customer-key"] == SSE_KEY_B64
    assert h["x-amz-server-side-encryption-customer-key-md5"] == SSE_KEY_MD5
    assert h["x-amz-checksum-algorithm"] == "CRC32C"
    assert h["x-amz-checksum-type"] == "COMPOSITE"
    assert h["content-length"] == "0" and request.content == b""
    for name in ("if-none-match", "cf-create-bucket-if-missing", "x-amz-checksum-algorithm"):
        assert name in signed_header_names(request)
    verify(request)


async def test_create_sends_no_checksum_headers_by_default() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(200, content=INITIATE)
            await r2.create_multipart_upload("my-bucket", "k")
    h = route.calls.last.request.headers
    assert not [name for name in h if name.startswith("x-amz-checksum")]
    assert "content-md5" not in h


async def test_create_algorithm_alone_leaves_the_type_to_r2() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(200, content=INITIATE)
            await r2.create_multipart_upload("my-bucket", "k", checksum_algorithm="crc64nvme")
    h = route.calls.last.request.headers
    assert h["x-amz-checksum-algorithm"] == "CRC64NVME"
    assert "x-amz-checksum-type" not in h


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"checksum_algorithm": "CRC32", "checksum_type": "FULL_OBJECT"}, "only as COMPOSITE"),
        ({"checksum_algorithm": "CRC32C", "checksum_type": "FULL_OBJECT"}, "only as COMPOSITE"),
        ({"checksum_algorithm": "SHA256", "checksum_type": "FULL_OBJECT"}, "only as COMPOSITE"),
        ({"checksum_algorithm": "CRC64NVME", "checksum_type": "COMPOSITE"}, "only as FULL_OBJECT"),
        ({"checksum_type": "COMPOSITE"}, "needs checksum_algorithm"),
        ({"checksum_algorithm": "MD5"}, "use one of"),
        ({"checksum_algorithm": "CRC32", "checksum_type": "PARTIAL"}, "COMPOSITE' or"),
        ({"storage_class": "GLACIER"}, "STANDARD"),
        ({"sse_customer_key": b"short"}, "32 bytes"),
    ],
)
async def test_create_rejects_bad_input_before_io(kwargs: dict[str, Any], match: str) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, content=INITIATE)
            with pytest.raises(ValueError, match=match):
                await r2.create_multipart_upload("my-bucket", "k", **kwargs)
    assert route.call_count == 0


async def test_create_is_not_retried_after_a_lost_answer() -> None:
    # A read error means the server may have started an upload: a retry would orphan it.
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").mock(side_effect=httpx.ReadError("lost"))
            with pytest.raises(APIConnectionError):
                await r2.create_multipart_upload("my-bucket", "k")
    assert route.call_count == 1


@pytest.mark.parametrize(
    "body",
    [
        f"{DECL}<InitiateMultipartUploadResult {NS}><Bucket>b</Bucket><Key>k</Key>"
        "</InitiateMultipartUploadResult>",
        f"{DECL}<ListPartsResult {NS}></ListPartsResult>",
        "not xml",
    ],
)
async def test_create_unusable_answer_is_a_parse_error(body: str) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.post(url__regex=r".*").respond(200, content=body.encode())
            with pytest.raises(ResponseParseError):
                await r2.create_multipart_upload("my-bucket", "k")


async def test_create_operation_headers_apply() -> None:
    async with make_client(
        operation_headers={"CreateMultipartUpload": {"cf-create-bucket-if-missing": "true"}}
    ) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(200, content=INITIATE)
            await r2.create_multipart_upload("my-bucket", "k")
    assert route.calls.last.request.headers["cf-create-bucket-if-missing"] == "true"


# -- UploadPart -----------------------------------------------------------------------------------


async def test_upload_part_wire_request() -> None:
    body = b"part data " * 100
    md5_b64 = base64.b64encode(hashlib.md5(body).digest()).decode()
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(
                200,
                headers={
                    "ETag": '"b54357faf0632cce46e942fa68356b38"',
                    "x-amz-checksum-crc32c": "yZRlqg==",
                    "x-amz-request-id": "R2",
                },
            )
            result = await r2.upload_part(
                "my-bucket",
                "dir/a b.bin",
                UPLOAD_ID,
                3,
                body,
                content_md5=True,
                checksum_algorithm="CRC32C",
                sse_customer_key=SSE_KEY,
            )
    assert result == UploadPartResult(
        part_number=3,
        etag='"b54357faf0632cce46e942fa68356b38"',
        checksum_crc32c="yZRlqg==",
        request_id="R2",
        size=len(body),
    )
    request = route.calls.last.request
    assert request.method == "PUT"
    assert request.url.raw_path == (
        b"/my-bucket/dir/a%20b.bin?partNumber=3&uploadId=" + UPLOAD_ID_Q.encode()
    )
    assert request.content == body
    h = request.headers
    assert h["content-length"] == str(len(body))
    assert h["content-md5"] == md5_b64
    from r2async._checksums import checksum_b64

    assert h["x-amz-checksum-crc32c"] == checksum_b64("CRC32C", body)
    assert h["x-amz-server-side-encryption-customer-key"] == SSE_KEY_B64
    assert h["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert "content-type" not in h
    assert "content-md5" in signed_header_names(request)
    verify(request)


async def test_upload_part_file_slice_and_stream() -> None:
    import io

    f = io.BytesIO(b"0123456789")
    f.seek(2)

    async def chunks() -> Any:
        yield b"ab"
        yield b"cd"

    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, headers={"ETag": '"e"'})
            await r2.upload_part("b-1", "k", "u", 1, f, content_length=5)
            await r2.upload_part(
                "b-1",
                "k",
                "u",
                2,
                chunks(),
                content_length=4,
                checksum_algorithm="SHA256",
                checksum=base64.b64encode(hashlib.sha256(b"abcd").digest()).decode(),
            )
    first, second = (c.request for c in route.calls)
    assert first.content == b"23456" and first.headers["content-length"] == "5"
    assert second.content == b"abcd" and second.headers["content-length"] == "4"
    assert (
        second.headers["x-amz-checksum-sha256"]
        == base64.b64encode(hashlib.sha256(b"abcd").digest()).decode()
    )
    # A stream cannot be hashed before sending: it is signed as UNSIGNED-PAYLOAD.
    assert second.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (("u", 0), {}, ValueError, "1 to 10000"),
        (("u", 10001), {}, ValueError, "1 to 10000"),
        (("u", True), {}, TypeError, "int"),
        (("u", "1"), {}, TypeError, "int"),
        (("", 1), {}, ValueError, "upload_id"),
        ((None, 1), {}, TypeError, "upload_id"),
        (("u\n", 1), {}, ValueError, "printable"),
        (("u", 1), {"checksum": "AAAAAA=="}, ValueError, "checksum_algorithm"),
        (("u", 1), {"checksum_algorithm": "CRC32", "checksum": "!!"}, ValueError, "base64"),
        (("u", 1), {"checksum_algorithm": "CRC32", "checksum": "AAAAAAAA"}, ValueError, "4 bytes"),
        (("u", 1), {"content_md5": "AAAA"}, ValueError, "16 bytes"),
        (("u", 1), {"content_md5": 5}, TypeError, "content_md5"),
        (("u", 1), {"content_length": 3}, ValueError, "content_length"),
    ],
)
async def test_upload_part_rejects_bad_input_before_io(
    args: tuple[Any, ...], kwargs: dict[str, Any], exc: type[Exception], match: str
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, headers={"ETag": '"e"'})
            with pytest.raises(exc, match=match):
                await r2.upload_part("my-bucket", "k", *args, b"data", **kwargs)
    assert route.call_count == 0


@pytest.mark.parametrize("code", ["BadDigest", "InvalidDigest"])
async def test_upload_part_bad_digest_is_typed_and_not_retried(code: str) -> None:
    async with make_client(max_retries=3) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(400, content=error_xml(code))
            with pytest.raises(BadDigestError) as info:
                await r2.upload_part("my-bucket", "k", "u", 1, b"data", content_md5=True)
    assert route.call_count == 1
    err = info.value
    assert err.code == code and err.status_code == 400 and err.operation == "UploadPart"
    assert err.request_id == "4442587FB7D0A2F9" and err.key == "k"


async def test_upload_part_server_error_is_retried_with_the_same_bytes() -> None:
    async with make_client(max_retries=2) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*")
            route.side_effect = [
                httpx.Response(500, content=error_xml("InternalError")),
                httpx.Response(200, headers={"ETag": '"ok"'}),
            ]
            result = await r2.upload_part("my-bucket", "k", "u", 1, b"data")
    assert result.etag == '"ok"'
    assert route.call_count == 2
    assert [c.request.content for c in route.calls] == [b"data", b"data"]


async def test_upload_part_without_etag_is_a_parse_error() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(200)
            with pytest.raises(ResponseParseError, match="no ETag"):
                await r2.upload_part("my-bucket", "k", "u", 1, b"data")


async def test_upload_part_no_such_upload() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(404, content=error_xml("NoSuchUpload"))
            with pytest.raises(NoSuchUploadError):
                await r2.upload_part("my-bucket", "k", "u", 1, b"data")


# -- UploadPartCopy -------------------------------------------------------------------------------


COPY_PART = (
    f"{DECL}<CopyPartResult {NS}><LastModified>2011-04-11T20:34:56.000Z</LastModified>"
    '<ETag>"9b2cf535f27731c974343645a3985328"</ETag>'
    "<ChecksumCRC32C>yZRlqg==</ChecksumCRC32C></CopyPartResult>"
).encode()


async def test_upload_part_copy_wire_request() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(
                200, content=COPY_PART, headers={"x-amz-request-id": "R3"}
            )
            result = await r2.upload_part_copy(
                "dst-bucket",
                "big.bin",
                UPLOAD_ID,
                2,
                "src-bucket",
                "a b/c+d%.txt",
                source_range=(5242880, 10485759),
                sse_customer_key=SSE_KEY,
                source_sse_customer_key=bytes(32),
            )
    assert result == UploadPartCopyResult(
        part_number=2,
        etag='"9b2cf535f27731c974343645a3985328"',
        last_modified=dt.datetime(2011, 4, 11, 20, 34, 56, tzinfo=dt.timezone.utc),
        checksum_crc32c="yZRlqg==",
        request_id="R3",
    )
    request = route.calls.last.request
    assert request.method == "PUT"
    assert request.url.raw_path == (
        b"/dst-bucket/big.bin?partNumber=2&uploadId=" + UPLOAD_ID_Q.encode()
    )
    h = request.headers
    assert h["x-amz-copy-source"] == "/src-bucket/a%20b/c%2Bd%25.txt"
    assert h["x-amz-copy-source-range"] == "bytes=5242880-10485759"
    assert h["x-amz-server-side-encryption-customer-key"] == SSE_KEY_B64
    assert h["x-amz-copy-source-server-side-encryption-customer-algorithm"] == "AES256"
    assert (
        h["x-amz-copy-source-server-side-encryption-customer-key"]
        == base64.b64encode(bytes(32)).decode()
    )
    assert h["content-length"] == "0" and request.content == b""
    assert "x-amz-copy-source" in signed_header_names(request)
    verify(request)


async def test_upload_part_copy_string_range_and_whole_object() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, content=COPY_PART)
            await r2.upload_part_copy("b-1", "k", "u", 1, "b-2", "s", source_range="bytes=0-9")
            await r2.upload_part_copy("b-1", "k", "u", 2, "b-2", "s")
    first, second = (c.request.headers for c in route.calls)
    assert first["x-amz-copy-source-range"] == "bytes=0-9"
    assert "x-amz-copy-source-range" not in second


@pytest.mark.parametrize(
    "source_range", [(5, 1), (-1, 3), (0,), "bytes=0-", "bytes=-5", "0-5", (True, 5)]
)
async def test_upload_part_copy_rejects_open_or_bad_ranges(source_range: Any) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, content=COPY_PART)
            with pytest.raises(ValueError):
                await r2.upload_part_copy("b-1", "k", "u", 1, "b-2", "s", source_range=source_range)
    assert route.call_count == 0


async def test_upload_part_copy_200_with_error_raises() -> None:
    # S3 may answer 200 and report the failure in the body (the copy ran into trouble).
    async with make_client(max_retries=0) as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(
                200, content=error_xml("AccessDenied", "Access Denied")
            )
            with pytest.raises(PermissionDeniedError) as info:
                await r2.upload_part_copy("b-1", "k", "u", 1, "b-2", "s")
    assert info.value.code == "AccessDenied" and info.value.status_code == 200


async def test_upload_part_copy_missing_source() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(404, content=error_xml("NoSuchKey"))
            with pytest.raises(NoSuchKeyError):
                await r2.upload_part_copy("b-1", "k", "u", 1, "b-2", "s")


# -- CompleteMultipartUpload ----------------------------------------------------------------------


COMPLETE = (
    f"{DECL}<CompleteMultipartUploadResult {NS}>"
    "<Location>https://acct.r2.cloudflarestorage.com/my-bucket/big.bin</Location>"
    "<Bucket>my-bucket</Bucket><Key>big.bin</Key>"
    '<ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>'
    "<ChecksumCRC64NVME>rosUhgp5mIg=</ChecksumCRC64NVME><ChecksumType>FULL_OBJECT</ChecksumType>"
    "</CompleteMultipartUploadResult>"
).encode()


async def test_complete_multipart_upload_wire_request() -> None:
    parts: list[Any] = [
        UploadPartResult(part_number=3, etag='"c3"', checksum_crc64nvme="AAAAAAAAAAM="),
        (1, "a1"),
        CompletedPart(part_number=2, etag='"b2"', checksum_crc64nvme="AAAAAAAAAAI="),
        UploadPartCopyResult(part_number=10, etag="d4"),
        Part(part_number=4, etag='"e5"', size=5 * 1024 * 1024),
    ]
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(
                200, content=COMPLETE, headers={"x-amz-request-id": "R4"}
            )
            result = await r2.complete_multipart_upload(
                "my-bucket",
                "big.bin",
                UPLOAD_ID,
                parts,
                if_none_match="*",
                sse_customer_key=SSE_KEY,
                checksum_algorithm="CRC64NVME",
                checksum="rosUhgp5mIg=",
                checksum_type="FULL_OBJECT",
            )
    assert result == CompleteMultipartUploadResult(
        bucket="my-bucket",
        key="big.bin",
        etag='"3858f62230ac3c915f300c664312c11f-9"',
        location="https://acct.r2.cloudflarestorage.com/my-bucket/big.bin",
        checksum_crc64nvme="rosUhgp5mIg=",
        checksum_type="FULL_OBJECT",
        request_id="R4",
    )
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url.raw_path == b"/my-bucket/big.bin?uploadId=" + UPLOAD_ID_Q.encode()
    assert request.content == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b'<Part><PartNumber>1</PartNumber><ETag>"a1"</ETag></Part>'
        b'<Part><PartNumber>2</PartNumber><ETag>"b2"</ETag>'
        b"<ChecksumCRC64NVME>AAAAAAAAAAI=</ChecksumCRC64NVME></Part>"
        b'<Part><PartNumber>3</PartNumber><ETag>"c3"</ETag>'
        b"<ChecksumCRC64NVME>AAAAAAAAAAM=</ChecksumCRC64NVME></Part>"
        b'<Part><PartNumber>4</PartNumber><ETag>"e5"</ETag></Part>'
        b'<Part><PartNumber>10</PartNumber><ETag>"d4"</ETag></Part>'
        b"</CompleteMultipartUpload>"
    )
    h = request.headers
    assert h["if-none-match"] == "*"
    assert h["x-amz-server-side-encryption-customer-key"] == SSE_KEY_B64
    assert h["x-amz-checksum-crc64nvme"] == "rosUhgp5mIg="
    assert h["x-amz-checksum-type"] == "FULL_OBJECT"
    assert h["content-length"] == str(len(request.content))
    assert h["x-amz-content-sha256"] == hashlib.sha256(request.content).hexdigest()
    assert "if-none-match" in signed_header_names(request)
    verify(request)


async def test_complete_200_with_error_is_an_error() -> None:
    async with make_client(max_retries=0) as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.post(url__regex=r".*").respond(
                200, content=error_xml("InternalError", "We encountered an error")
            )
            with pytest.raises(InternalServerError) as info:
                await r2.complete_multipart_upload("my-bucket", "k", "u", [(1, "e")])
    err = info.value
    assert err.status_code == 200 and err.code == "InternalError"
    assert err.operation == "CompleteMultipartUpload"


async def test_complete_200_internal_error_is_retried_then_succeeds() -> None:
    # AWS documents that a 200-with-InternalError Complete should be retried.
    async with make_client(max_retries=2) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*")
            route.side_effect = [
                httpx.Response(200, content=error_xml("InternalError")),
                # S3 keeps a slow Complete alive by sending whitespace before the document.
                httpx.Response(200, content=b"  \n " + COMPLETE),
            ]
            result = await r2.complete_multipart_upload("my-bucket", "k", "u", [(1, "e")])
    assert result.etag == '"3858f62230ac3c915f300c664312c11f-9"'
    assert route.call_count == 2


async def test_complete_is_not_retried_after_a_lost_answer() -> None:
    async with make_client(max_retries=3) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").mock(side_effect=httpx.ReadError("lost"))
            with pytest.raises(APIConnectionError):
                await r2.complete_multipart_upload("my-bucket", "k", "u", [(1, "e")])
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("code", "status", "exc"),
    [
        ("PreconditionFailed", 412, PreconditionFailedError),
        ("InvalidPart", 400, BadRequestError),
        ("EntityTooSmall", 400, BadRequestError),
        ("NoSuchUpload", 404, NoSuchUploadError),
    ],
)
async def test_complete_errors_are_typed_and_final(
    code: str, status: int, exc: type[Exception]
) -> None:
    async with make_client(max_retries=3) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(status, content=error_xml(code))
            with pytest.raises(exc):
                await r2.complete_multipart_upload("my-bucket", "k", "u", [(1, "e")])
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("parts", "kwargs", "exc", "match"),
    [
        ([], {}, ValueError, "empty"),
        ([(1, "a"), (1, "b")], {}, ValueError, "listed twice"),
        ([(0, "a")], {}, ValueError, "1 to 10000"),
        ([(1, "")], {}, ValueError, "ETag"),
        ([(1, 5)], {}, TypeError, "ETag"),
        ([(1, "a", "b")], {}, TypeError, "part_number, etag"),
        ([{"PartNumber": 1}], {}, TypeError, "CompletedPart"),
        ({1: "a"}, {}, TypeError, "list"),
        ("abc", {}, TypeError, "list"),
        ([(i, "e") for i in range(1, 10002)], {}, ValueError, "at most 10000"),
        ([(1, "a")], {"checksum_algorithm": "CRC32"}, ValueError, "needs checksum="),
        ([(1, "a")], {"checksum": "AAAAAA=="}, ValueError, "checksum_algorithm"),
        ([(1, "a")], {"checksum_type": "COMPOSITE"}, ValueError, "checksum_algorithm"),
        (
            [(1, "a")],
            {"checksum_algorithm": "CRC32", "checksum": "AAAAAA==", "checksum_type": "FULL_OBJECT"},
            ValueError,
            "only as COMPOSITE",
        ),
        (
            [(1, "a")],
            {"checksum_algorithm": "CRC64NVME", "checksum": "AAAAAA=="},
            ValueError,
            "8 bytes",
        ),
        (
            [(1, "a")],
            {"checksum_algorithm": "CRC64NVME", "checksum": "AAAAAAAAAAA=-2"},
            ValueError,
            "COMPOSITE value",
        ),
    ],
)
async def test_complete_rejects_bad_input_before_io(
    parts: Any, kwargs: dict[str, Any], exc: type[Exception], match: str
) -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, content=COMPLETE)
            with pytest.raises(exc, match=match):
                await r2.complete_multipart_upload("my-bucket", "k", "u", parts, **kwargs)
    assert route.call_count == 0


async def test_complete_accepts_a_composite_checksum_value() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.post(url__regex=r".*").respond(200, content=COMPLETE)
            await r2.complete_multipart_upload(
                "my-bucket",
                "k",
                "u",
                [(1, "a"), (2, "b")],
                checksum_algorithm="CRC32C",
                checksum="S7BA4Q==-2",
            )
    h = route.calls.last.request.headers
    assert h["x-amz-checksum-crc32c"] == "S7BA4Q==-2"
    assert "x-amz-checksum-type" not in h


# -- AbortMultipartUpload -------------------------------------------------------------------------


async def test_abort_multipart_upload_wire_request() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.delete(url__regex=r".*").respond(204, headers={"x-amz-request-id": "R5"})
            result = await r2.abort_multipart_upload("my-bucket", "dir/k", UPLOAD_ID)
    assert result.request_id == "R5"
    request = route.calls.last.request
    assert request.method == "DELETE"
    assert request.url.raw_path == b"/my-bucket/dir/k?uploadId=" + UPLOAD_ID_Q.encode()
    assert request.content == b""
    verify(request)


async def test_abort_is_retried_as_idempotent() -> None:
    async with make_client(max_retries=1) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.delete(url__regex=r".*")
            route.side_effect = [httpx.ReadError("lost"), httpx.Response(204)]
            await r2.abort_multipart_upload("my-bucket", "k", "u")
    assert route.call_count == 2


async def test_abort_no_such_upload() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.delete(url__regex=r".*").respond(404, content=error_xml("NoSuchUpload"))
            with pytest.raises(NoSuchUploadError) as info:
                await r2.abort_multipart_upload("my-bucket", "k", "u")
    assert info.value.operation == "AbortMultipartUpload"


# -- ListParts ------------------------------------------------------------------------------------


def parts_page(
    numbers: list[int], *, truncated: bool, marker: int = 0, next_marker: int | None = None
) -> bytes:
    items = "".join(
        f"<Part><PartNumber>{n}</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified>"
        f'<ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><Size>10485760</Size>'
        f"<ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part>"
        for n in numbers
    )
    nxt = ""
    if next_marker is not None:
        nxt = f"<NextPartNumberMarker>{next_marker}</NextPartNumberMarker>"
    return (
        f"{DECL}<ListPartsResult {NS}><Bucket>my-bucket</Bucket><Key>big.bin</Key>"
        f"<UploadId>{UPLOAD_ID}</UploadId>"
        "<Initiator><ID>arn:aws:iam::111122223333:user/some-user</ID><DisplayName>u</DisplayName>"
        "</Initiator><Owner><ID>owner</ID><DisplayName>o</DisplayName></Owner>"
        f"<StorageClass>STANDARD</StorageClass><PartNumberMarker>{marker}</PartNumberMarker>"
        f"{nxt}<MaxParts>2</MaxParts><IsTruncated>{str(truncated).lower()}</IsTruncated>"
        "<ChecksumAlgorithm>CRC32C</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType>"
        f"{items}</ListPartsResult>"
    ).encode()


async def test_list_parts_wire_request_and_parse() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(
                200, content=parts_page([2, 3], truncated=True, marker=1, next_marker=3)
            )
            page = await r2.list_parts(
                "my-bucket", "big.bin", UPLOAD_ID, max_parts=2, part_number_marker=1
            )
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url.raw_path == (
        b"/my-bucket/big.bin?uploadId="
        + UPLOAD_ID_Q.encode()
        + b"&max-parts=2&part-number-marker=1"
    )
    verify(request)
    assert isinstance(page, ListPartsResult)
    assert page.is_truncated and page.part_number_marker == 1
    assert page.next_part_number_marker == 3 and page.max_parts == 2
    assert page.storage_class == "STANDARD"
    assert page.checksum_algorithm == "CRC32C" and page.checksum_type == "COMPOSITE"
    assert page.parts[0] == Part(
        part_number=2,
        etag='"7778aef83f66abc1fa1e8477f296d394"',
        size=10485760,
        last_modified=dt.datetime(2010, 11, 10, 20, 48, 34, tzinfo=dt.timezone.utc),
        checksum_crc32c="AAAAAA==",
    )
    assert [p.part_number for p in page.parts] == [2, 3]


async def test_iter_parts_follows_markers() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*")
            route.side_effect = [
                httpx.Response(200, content=parts_page([1, 2], truncated=True, next_marker=2)),
                httpx.Response(200, content=parts_page([3], truncated=False, marker=2)),
            ]
            numbers = [p.part_number async for p in r2.iter_parts("b-1", "k", "u", page_size=2)]
    assert numbers == [1, 2, 3]
    queries = [c.request.url.query for c in route.calls]
    assert queries == [b"uploadId=u&max-parts=2", b"uploadId=u&max-parts=2&part-number-marker=2"]


async def test_iter_parts_stops_on_a_stuck_marker() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(
                200, content=parts_page([1], truncated=True, next_marker=1)
            )
            with pytest.raises(ResponseParseError, match="NextPartNumberMarker"):
                async for _ in r2.iter_parts("b-1", "k", "u"):
                    pass
    assert route.call_count == 2


async def test_iter_parts_validates_when_called() -> None:
    async with make_client() as r2:
        with pytest.raises(ValueError, match="page_size"):
            r2.iter_parts("b-1", "k", "u", page_size=1001)
        with pytest.raises(ValueError, match="header"):
            r2.iter_parts("b-1", "k", "u", headers={"bad header": "x"})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_parts": 0}, "max_parts"),
        ({"max_parts": 1001}, "max_parts"),
        ({"part_number_marker": -1}, "part_number_marker"),
        ({"part_number_marker": 10001}, "part_number_marker"),
    ],
)
async def test_list_parts_rejects_bad_input(kwargs: dict[str, Any], match: str) -> None:
    async with make_client() as r2:
        with pytest.raises(ValueError, match=match):
            await r2.list_parts("b-1", "k", "u", **kwargs)


async def test_list_parts_no_such_upload() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(404, content=error_xml("NoSuchUpload"))
            with pytest.raises(NoSuchUploadError):
                await r2.list_parts("b-1", "k", "u")


# -- ListMultipartUploads -------------------------------------------------------------------------


def uploads_page(
    uploads: list[tuple[str, str]],
    *,
    prefixes: tuple[str, ...] = (),
    truncated: bool = False,
    next_key: str | None = None,
    next_id: str | None = None,
    encoded: bool = True,
) -> bytes:
    items = "".join(
        f"<Upload><Key>{k}</Key><UploadId>{u}</UploadId>"
        "<Initiator><ID>i</ID></Initiator><Owner><ID>o</ID></Owner>"
        "<StorageClass>STANDARD</StorageClass><Initiated>2010-11-10T20:48:33.000Z</Initiated>"
        "</Upload>"
        for k, u in uploads
    )
    pre = "".join(f"<CommonPrefixes><Prefix>{p}</Prefix></CommonPrefixes>" for p in prefixes)
    nxt = ""
    if next_key is not None:
        nxt += f"<NextKeyMarker>{next_key}</NextKeyMarker>"
    if next_id is not None:
        nxt += f"<NextUploadIdMarker>{next_id}</NextUploadIdMarker>"
    enc = "<EncodingType>url</EncodingType>" if encoded else ""
    return (
        f"{DECL}<ListMultipartUploadsResult {NS}><Bucket>my-bucket</Bucket>"
        f"<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>{nxt}{enc}"
        "<Delimiter>%2F</Delimiter><Prefix>a+b%2B</Prefix>"
        f"<MaxUploads>3</MaxUploads><IsTruncated>{str(truncated).lower()}</IsTruncated>"
        f"{items}{pre}</ListMultipartUploadsResult>"
    ).encode()


async def test_list_multipart_uploads_wire_request_and_url_decoding() -> None:
    body = uploads_page(
        [("a+b%2Bc%25.bin", "id1"), ("a+b%2B%C3%A9", "id2")],
        prefixes=("a+b%2Bdir%2F",),
        truncated=True,
        next_key="a+b%2B%C3%A9",
        next_id="id2",
    )
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(200, content=body)
            page = await r2.list_multipart_uploads(
                "my-bucket",
                prefix="a b+",
                delimiter="/",
                key_marker="k m",
                upload_id_marker="id/0",
                max_uploads=3,
            )
    request = route.calls.last.request
    assert request.method == "GET"
    assert request.url.raw_path == (
        b"/my-bucket?uploads&delimiter=%2F&encoding-type=url&key-marker=k%20m"
        b"&max-uploads=3&prefix=a%20b%2B&upload-id-marker=id%2F0"
    )
    verify(request)
    assert isinstance(page, ListMultipartUploadsResult)
    assert [u.key for u in page.uploads] == ["a b+c%.bin", "a b+é"]
    assert page.uploads[0] == MultipartUpload(
        key="a b+c%.bin",
        upload_id="id1",
        initiated=dt.datetime(2010, 11, 10, 20, 48, 33, tzinfo=dt.timezone.utc),
        storage_class="STANDARD",
    )
    assert page.common_prefixes == ("a b+dir/",)
    assert page.prefix == "a b+" and page.delimiter == "/"
    assert page.is_truncated and page.next_key_marker == "a b+é"
    assert page.next_upload_id_marker == "id2" and page.max_uploads == 3


async def test_list_multipart_uploads_without_encoding_type_is_not_decoded() -> None:
    # A server that ignored encoding-type=url sends raw keys: decoding them would corrupt them.
    body = uploads_page([("100%25+x", "id1")], encoded=False)
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(200, content=body)
            page = await r2.list_multipart_uploads("my-bucket")
    assert page.uploads[0].key == "100%25+x"


async def test_iter_multipart_uploads_follows_s3_markers() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*")
            route.side_effect = [
                httpx.Response(
                    200,
                    content=uploads_page(
                        [("k1", "i1"), ("k1", "i2")], truncated=True, next_key="k1", next_id="i2"
                    ),
                ),
                httpx.Response(200, content=uploads_page([("k2", "i3")])),
            ]
            got = [
                (u.key, u.upload_id)
                async for u in r2.iter_multipart_uploads("my-bucket", prefix="k", page_size=2)
            ]
    assert got == [("k1", "i1"), ("k1", "i2"), ("k2", "i3")]
    queries = [c.request.url.query for c in route.calls]
    assert queries == [
        b"uploads&encoding-type=url&max-uploads=2&prefix=k",
        b"uploads&encoding-type=url&key-marker=k1&max-uploads=2&prefix=k&upload-id-marker=i2",
    ]


async def test_iter_multipart_uploads_follows_upload_id_only_markers() -> None:
    # SeaweedFS sends NextUploadIdMarker without NextKeyMarker and pages by upload id alone.
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*")
            route.side_effect = [
                httpx.Response(
                    200, content=uploads_page([("k1", "i1")], truncated=True, next_id="i1")
                ),
                httpx.Response(200, content=uploads_page([("k0", "i2")])),
            ]
            got = [u.upload_id async for u in r2.iter_multipart_uploads("my-bucket")]
    assert got == ["i1", "i2"]
    assert route.calls.last.request.url.query == b"uploads&encoding-type=url&upload-id-marker=i1"


async def test_iter_multipart_uploads_stops_without_new_markers() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.get(url__regex=r".*").respond(
                200, content=uploads_page([("k1", "i1")], truncated=True)
            )
            with pytest.raises(ResponseParseError, match="NextKeyMarker"):
                async for _ in r2.iter_multipart_uploads("my-bucket"):
                    pass
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"max_uploads": 0}, ValueError),
        ({"max_uploads": 1001}, ValueError),
        ({"prefix": 5}, TypeError),
        ({"delimiter": b"/"}, TypeError),
    ],
)
async def test_list_multipart_uploads_rejects_bad_input(
    kwargs: dict[str, Any], exc: type[Exception]
) -> None:
    async with make_client() as r2:
        with pytest.raises(exc):
            await r2.list_multipart_uploads("my-bucket", **kwargs)
        with pytest.raises(ValueError, match="bucket"):
            await r2.list_multipart_uploads("My_Bucket")


async def test_list_multipart_uploads_bad_xml_is_a_parse_error() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(
                200,
                content=f"{DECL}<ListMultipartUploadsResult><Upload><Key>k</Key></Upload>"
                "</ListMultipartUploadsResult>".encode(),
            )
            with pytest.raises(ResponseParseError, match="UploadId"):
                await r2.list_multipart_uploads("my-bucket")

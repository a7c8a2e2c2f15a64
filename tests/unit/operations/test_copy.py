"""Wire tests for copy_object (CopyObject) with respx.

R2-only features (the MERGE directive and the ``cf-copy-destination-if-*`` headers) have no
SeaweedFS counterpart (SeaweedFS rejects MERGE and ignores cf-* headers), so the exact wire
requests pinned here are the evidence for them.
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
    CopyObjectResult,
    InternalServerError,
    NoSuchKeyError,
    PermissionDeniedError,
    PreconditionFailedError,
    R2Client,
    RateLimitError,
    ResponseParseError,
)

ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

# The response documented for CopyObject (AWS S3 API reference), as R2 sends it.
COPY_OK = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<LastModified>2009-10-28T22:32:00.000Z</LastModified>"
    b"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag></CopyObjectResult>"
)
OK_HEADERS = {
    "x-amz-version-id": "7e6a6bcb1c1ca1e2ed2d1b0ea7a0b8b8",
    "x-amz-copy-source-version-id": "6c1b2d8c0c6f7b2f0cf2d4b9c52b1a11",
    "x-amz-request-id": "RID",
}


def make_client(**kwargs: object) -> R2Client:
    return R2Client(account_id=ACCOUNT, access_key_id=AKID, secret_access_key=SECRET, **kwargs)  # type: ignore[arg-type]


def error_xml(code: str, message: str = "msg") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message><RequestId>ERRID</RequestId></Error>"
    ).encode()


def interesting(request: httpx.Request) -> dict[str, str]:
    """The request headers r2async chose (not the transport's or the signer's)."""
    skip = {
        "host",
        "accept",
        "accept-encoding",
        "connection",
        "user-agent",
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "content-length",
    }
    return {k: v for k, v in request.headers.items() if k not in skip}


async def test_minimal_copy_request_is_exact() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, content=COPY_OK, headers=OK_HEADERS)
            result = await r2.copy_object(
                "dst-bucket", "new key", source_bucket="src-bucket", source_key="dir/a b+c%é"
            )
    req = route.calls.last.request
    assert req.method == "PUT"
    assert req.url.raw_path == b"/dst-bucket/new%20key"
    assert req.content == b"" and req.headers["content-length"] == "0"
    # Leading slash required by R2; the key percent-encoded exactly once, '/' kept.
    assert interesting(req) == {"x-amz-copy-source": "/src-bucket/dir/a%20b%2Bc%25%C3%A9"}
    assert "x-amz-copy-source" in signed_header_names(req)
    assert_signature_valid(req, access_key_id=AKID, secret_access_key=SECRET)
    assert result == CopyObjectResult(
        etag='"9b2cf535f27731c974343645a3985328"',
        last_modified=dt.datetime(2009, 10, 28, 22, 32, tzinfo=dt.timezone.utc),
        version_id="7e6a6bcb1c1ca1e2ed2d1b0ea7a0b8b8",
        copy_source_version_id="6c1b2d8c0c6f7b2f0cf2d4b9c52b1a11",
        request_id="RID",
    )


async def test_source_bucket_defaults_to_the_destination_bucket() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, content=COPY_OK)
            await r2.copy_object("bucket", "new", source_key="a/../b")
    req = route.calls.last.request
    assert req.headers["x-amz-copy-source"] == "/bucket/a/../b"
    assert req.url.raw_path == b"/bucket/new"


async def test_every_typed_argument_on_the_wire() -> None:
    key1, key2 = bytes(range(32)), bytes(range(32, 64))
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, content=COPY_OK)
            await r2.copy_object(
                "dst-bucket",
                "k",
                source_bucket="src-bucket",
                source_key="s",
                metadata_directive="REPLACE",
                metadata={"Owner": "ünïcode", "plain": "v"},
                content_type="text/html; charset=utf-8",
                cache_control="max-age=60",
                content_disposition='attachment; filename="x.html"',
                content_encoding="gzip",
                content_language="fr",
                expires=when,
                storage_class="STANDARD_IA",
                source_if_match='"abc"',
                source_if_none_match='"def"',
                source_if_modified_since=when,
                source_if_unmodified_since="Wed, 21 Oct 2015 07:28:00 GMT",
                destination_if_match='"d1"',
                destination_if_none_match="*",
                destination_if_modified_since=when,
                destination_if_unmodified_since=when,
                sse_customer_key=key1,
                source_sse_customer_key=key2,
                headers={"x-extra": "1"},
            )
    req = route.calls.last.request
    http_when = "Tue, 02 Jan 2024 03:04:05 GMT"

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    assert interesting(req) == {
        "x-amz-copy-source": "/src-bucket/s",
        "x-amz-metadata-directive": "REPLACE",
        "content-type": "text/html; charset=utf-8",
        "cache-control": "max-age=60",
        "content-disposition": 'attachment; filename="x.html"',
        "content-encoding": "gzip",
        "content-language": "fr",
        "expires": http_when,
        "x-amz-meta-owner": "=?UTF-8?B?w7xuw69jb2Rl?=",
        "x-amz-meta-plain": "v",
        "x-amz-storage-class": "STANDARD_IA",
        "x-amz-copy-source-if-match": '"abc"',
        "x-amz-copy-source-if-none-match": '"def"',
        "x-amz-copy-source-if-modified-since": http_when,
        "x-amz-copy-source-if-unmodified-since": "Wed, 21 Oct 2015 07:28:00 GMT",
        # R2-only (beta) destination conditions: SeaweedFS ignores them, so this is the proof.
        "cf-copy-destination-if-match": '"d1"',
        "cf-copy-destination-if-none-match": "*",
        "cf-copy-destination-if-modified-since": http_when,
        "cf-copy-destination-if-unmodified-since": http_when,
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": b64(key1),
        "x-amz-server-side-encryption-customer-key-md5": b64(hashlib.md5(key1).digest()),
        "x-amz-copy-source-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-copy-source-server-side-encryption-customer-key": b64(key2),
        "x-amz-copy-source-server-side-encryption-customer-key-md5": b64(
            hashlib.md5(key2).digest()
        ),
        "x-extra": "1",
    }
    signed = set(signed_header_names(req))
    assert {
        "cf-copy-destination-if-match",
        "x-amz-copy-source-if-match",
        "x-amz-metadata-directive",
        "x-amz-meta-owner",
    } <= signed
    assert_signature_valid(req, access_key_id=AKID, secret_access_key=SECRET)


async def test_merge_directive_is_sent_as_is() -> None:
    # R2-only: MERGE overlays the given metadata on the source's. SeaweedFS rejects it
    # (400 InvalidArgument "Unknown metadata directive"), so the wire is the evidence.
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, content=COPY_OK)
            await r2.copy_object(
                "bucket", "k", source_key="k", metadata_directive="MERGE", metadata={"a": "1"}
            )
    req = route.calls.last.request
    assert interesting(req) == {
        "x-amz-copy-source": "/bucket/k",
        "x-amz-metadata-directive": "MERGE",
        "x-amz-meta-a": "1",
    }
    assert_signature_valid(req, access_key_id=AKID, secret_access_key=SECRET)


async def test_explicit_copy_directive_and_storage_class_without_metadata() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, content=COPY_OK)
            await r2.copy_object(
                "bucket",
                "k",
                source_key="k",
                metadata_directive="COPY",
                storage_class="STANDARD_IA",
            )
    assert interesting(route.calls.last.request) == {
        "x-amz-copy-source": "/bucket/k",
        "x-amz-metadata-directive": "COPY",
        "x-amz-storage-class": "STANDARD_IA",
    }


async def test_unquoted_etag_and_checksums_in_the_body() -> None:
    # SeaweedFS writes the ETag without quotes; results always carry the quoted form.
    body = (
        b"<CopyObjectResult><LastModified>2026-11-26T02:17:29.532Z</LastModified>"
        b"<ETag>5d41402abc4b2a76b9719d911017c592</ETag><ChecksumCRC32>NhCmhg==</ChecksumCRC32>"
        b"<ChecksumType>FULL_OBJECT</ChecksumType></CopyObjectResult>"
    )
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(200, content=body)
            result = await r2.copy_object("bucket", "k", source_key="s")
    assert result.etag == '"5d41402abc4b2a76b9719d911017c592"'
    assert result.checksum_crc32 == "NhCmhg==" and result.checksum_type == "FULL_OBJECT"
    assert result.last_modified == dt.datetime(
        2026, 11, 26, 2, 17, 29, 532000, tzinfo=dt.timezone.utc
    )


# -- errors -------------------------------------------------------------------------------------


async def test_200_with_error_body_is_raised_and_retried_when_retryable() -> None:
    async with make_client(max_retries=1) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").mock(
                side_effect=[
                    httpx.Response(200, content=error_xml("InternalError", "try again")),
                    httpx.Response(200, content=COPY_OK),
                ]
            )
            result = await r2.copy_object("bucket", "k", source_key="s")
    assert route.call_count == 2
    assert result.etag == '"9b2cf535f27731c974343645a3985328"'


async def test_200_with_error_body_raises_typed_error() -> None:
    async with make_client(max_retries=0) as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(200, content=error_xml("InternalError", "boom"))
            with pytest.raises(InternalServerError) as info:
                await r2.copy_object("bucket", "k", source_key="s")
            err = info.value
            assert (err.status_code, err.code, err.message) == (200, "InternalError", "boom")
            assert (err.bucket, err.key, err.operation) == ("bucket", "k", "CopyObject")
            assert err.request_id == "ERRID"
            mock.put(url__regex=r".*").respond(200, content=error_xml("AccessDenied"))
            with pytest.raises(PermissionDeniedError):
                await r2.copy_object("bucket", "k", source_key="s")


async def test_200_error_after_long_keepalive_whitespace_is_still_an_error() -> None:
    # S3 may send 200 at once, then whitespace to keep the connection alive, then the <Error>.
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + b" \n" * 600 + error_xml("SlowDown")[39:]
    async with make_client(max_retries=0) as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(200, content=body)
            with pytest.raises(RateLimitError, match="SlowDown") as info:
                await r2.copy_object("bucket", "k", source_key="s")
    assert info.value.code == "SlowDown" and info.value.key == "k"


async def test_failed_source_condition_is_412_and_not_retried() -> None:
    async with make_client(max_retries=3) as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(
                412, content=error_xml("PreconditionFailed", "At least one of the pre-conditions")
            )
            with pytest.raises(PreconditionFailedError):
                await r2.copy_object("bucket", "k", source_key="s", source_if_match='"x"')
    assert route.call_count == 1


async def test_missing_source_is_no_such_key() -> None:
    async with make_client(max_retries=0) as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(404, content=error_xml("NoSuchKey"))
            with pytest.raises(NoSuchKeyError):
                await r2.copy_object("bucket", "k", source_key="missing")


async def test_unexpected_body_is_a_parse_error() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.put(url__regex=r".*").respond(200, content=b"<PutObjectResult/>")
            with pytest.raises(ResponseParseError, match="CopyObjectResult"):
                await r2.copy_object("bucket", "k", source_key="s")


# -- input checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"metadata": {"a": "1"}}, ValueError, "metadata=.*metadata_directive='REPLACE'"),
        ({"content_type": "a/b"}, ValueError, "content_type=.*'MERGE'"),
        (
            {"metadata_directive": "COPY", "cache_control": "no-cache", "expires": "x"},
            ValueError,
            "cache_control=, expires= would be ignored",
        ),
        ({"metadata_directive": "replace"}, ValueError, "'COPY'.*'REPLACE'.*'MERGE'"),
        ({"source_if_match": ""}, TypeError, "source_if_match"),
        ({"destination_if_none_match": 5}, TypeError, "destination_if_none_match"),
        ({"source_if_modified_since": "yesterday"}, ValueError, "source_if_modified_since"),
        ({"destination_if_unmodified_since": 1}, TypeError, "destination_if_unmodified_since"),
        ({"sse_customer_key": b"short"}, ValueError, "32 bytes"),
        ({"source_sse_customer_key": "a" * 32}, TypeError, "bytes"),
        ({"storage_class": "GLACIER"}, ValueError, "STANDARD_IA"),
        ({"source_bucket": "Bad_Bucket"}, ValueError, "bucket"),
        ({"source_key": ""}, ValueError, "empty"),
        ({"source_key": "x" * 1025}, ValueError, "1024"),
        ({"metadata_directive": "REPLACE", "metadata": {"a": "x\r\ny"}}, ValueError, "CR/LF"),
        ({"headers": {"x-amz-copy-source": "/other/key"}}, ValueError, "one way only"),
    ],
)
async def test_bad_arguments_fail_before_io(
    kwargs: dict[str, object], exc: type, match: str
) -> None:
    args: dict[str, object] = {"source_key": "s", **kwargs}
    async with make_client() as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, content=COPY_OK)
            with pytest.raises(exc, match=match):
                await r2.copy_object("bucket", "k", **args)  # type: ignore[arg-type]
    assert route.call_count == 0


async def test_replace_without_metadata_is_allowed_and_clears_it() -> None:
    async with make_client() as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, content=COPY_OK)
            await r2.copy_object("bucket", "k", source_key="k", metadata_directive="REPLACE")
    assert interesting(route.calls.last.request) == {
        "x-amz-copy-source": "/bucket/k",
        "x-amz-metadata-directive": "REPLACE",
    }

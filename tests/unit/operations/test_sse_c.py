"""SSE-C on the wire: every operation that takes a customer key sends algorithm, key and key MD5.

The three headers are signed; the copy-source variant is used for a copy's source object.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import respx
from tests.support.r2_answers import object_headers
from tests.support.sigcheck import signed_header_names

from r2async import R2Client

ACCOUNT = "0123456789abcdef0123456789abcdef"
BASE = f"https://{ACCOUNT}.r2.cloudflarestorage.com"
KEY = bytes(range(100, 132))
KEY_B64 = base64.b64encode(KEY).decode()
KEY_MD5 = base64.b64encode(hashlib.md5(KEY).digest()).decode()
PREFIX = "x-amz-server-side-encryption-customer-"
COPY_PREFIX = "x-amz-copy-source-server-side-encryption-customer-"
XML = {
    "CreateMultipartUpload": b"<InitiateMultipartUploadResult><UploadId>u</UploadId>"
    b"</InitiateMultipartUploadResult>",
    "UploadPartCopy": b'<CopyPartResult><ETag>"e"</ETag></CopyPartResult>',
    "CompleteMultipartUpload": b'<CompleteMultipartUploadResult><ETag>"e-1"</ETag>'
    b"</CompleteMultipartUploadResult>",
}

Call = Callable[[R2Client], Awaitable[Any]]
CALLS: dict[str, Call] = {
    "PutObject": lambda r2: r2.put_object("b-1", "k", b"x", sse_customer_key=KEY),
    "GetObject": lambda r2: r2.get_object("b-1", "k", sse_customer_key=KEY),
    "HeadObject": lambda r2: r2.head_object("b-1", "k", sse_customer_key=KEY),
    "CreateMultipartUpload": lambda r2: r2.create_multipart_upload(
        "b-1", "k", sse_customer_key=KEY
    ),
    "UploadPart": lambda r2: r2.upload_part("b-1", "k", "u", 1, b"x", sse_customer_key=KEY),
    "UploadPartCopy": lambda r2: r2.upload_part_copy(
        "b-1", "k", "u", 1, "b-2", "s", sse_customer_key=KEY
    ),
    "CompleteMultipartUpload": lambda r2: r2.complete_multipart_upload(
        "b-1", "k", "u", [(1, "e")], sse_customer_key=KEY
    ),
}


@pytest.mark.parametrize("operation", sorted(CALLS))
async def test_sse_c_headers_are_sent_and_signed(operation: str) -> None:
    async with R2Client(account_id=ACCOUNT, access_key_id="AKID", secret_access_key="S") as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.route(url__regex=r".*").respond(
                200,
                content=XML.get(operation, b""),
                headers=object_headers(XML.get(operation, b""), etag='"e"'),
            )
            await CALLS[operation](r2)
    request = route.calls.last.request
    assert request.headers[PREFIX + "algorithm"] == "AES256"
    assert request.headers[PREFIX + "key"] == KEY_B64
    assert request.headers[PREFIX + "key-md5"] == KEY_MD5
    signed = signed_header_names(request)
    for suffix in ("algorithm", "key", "key-md5"):
        assert PREFIX + suffix in signed
    assert not [h for h in request.headers if h.startswith(COPY_PREFIX)]


async def test_upload_part_copy_source_key_uses_the_copy_source_headers() -> None:
    async with R2Client(account_id=ACCOUNT, access_key_id="AKID", secret_access_key="S") as r2:
        with respx.mock(base_url=BASE) as mock:
            route = mock.put(url__regex=r".*").respond(200, content=XML["UploadPartCopy"])
            await r2.upload_part_copy("b-1", "k", "u", 1, "b-2", "s", source_sse_customer_key=KEY)
    h = route.calls.last.request.headers
    assert h[COPY_PREFIX + "algorithm"] == "AES256"
    assert h[COPY_PREFIX + "key"] == KEY_B64
    assert h[COPY_PREFIX + "key-md5"] == KEY_MD5
    assert PREFIX + "key" not in h


@pytest.mark.parametrize(
    ("key", "exc", "match"),
    [
        (b"x" * 31, ValueError, "32 bytes"),
        (b"x" * 33, ValueError, "32 bytes"),
        (KEY_B64, TypeError, "raw 32-byte key"),
    ],
)
async def test_bad_keys_are_rejected_before_io(key: Any, exc: type[Exception], match: str) -> None:
    async with R2Client(account_id=ACCOUNT, access_key_id="AKID", secret_access_key="S") as r2:
        with respx.mock(base_url=BASE, assert_all_called=False) as mock:
            route = mock.route(url__regex=r".*").respond(200, headers=object_headers())
            with pytest.raises(exc, match=match):
                await r2.upload_part("b-1", "k", "u", 1, b"x", sse_customer_key=key)
            with pytest.raises(exc, match=match):
                await r2.create_multipart_upload("b-1", "k", sse_customer_key=key)
            with pytest.raises(exc, match=match):
                await r2.upload_part_copy(
                    "b-1", "k", "u", 1, "b-2", "s", source_sse_customer_key=key
                )
    assert route.call_count == 0


async def test_the_key_never_appears_in_errors() -> None:
    async with R2Client(account_id=ACCOUNT, access_key_id="AKID", secret_access_key="S") as r2:
        with respx.mock(base_url=BASE) as mock:
            mock.get(url__regex=r".*").respond(
                403, content=b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"
            )
            with pytest.raises(Exception) as info:
                await r2.get_object("b-1", "k", sse_customer_key=KEY)
    text = str(info.value) + repr(info.value)
    assert KEY_B64 not in text
